from django.urls import path

from . import views

app_name = "cms"
urlpatterns = [path("go/notices/", views.notices, name="notices")]
