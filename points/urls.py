from django.urls import path

from .leaderboards import views as leaderboard_views

app_name = "points"

urlpatterns = [
    # The tab bar links to "points:mine": the person's balance, hours, history and rank.
    path("", leaderboard_views.mine, name="mine"),
]
