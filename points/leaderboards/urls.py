from django.urls import path

from . import views

app_name = "leaderboards"

urlpatterns = [
    path("leaderboards/", views.index, name="index"),
    path("leaderboards/<slug:level>/<slug:code>/", views.board, name="board"),
    path("leaderboard-visibility/", views.visibility, name="visibility"),
]
