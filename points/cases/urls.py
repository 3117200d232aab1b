from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("", views.my_cases, name="mine"),
    path("report/", views.report, name="report"),
    # A case's public code is 12 random characters, never "report".
    path("<str:code>/", views.detail, name="detail"),
    path("<str:code>/appeal/", views.appeal, name="appeal"),
]
