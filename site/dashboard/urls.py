"""Mounted at /admin/statistics/ in config/urls.py, before Wagtail's admin URLs: see views.staff_only."""

from django.urls import path

from .views import DashboardView, ExportView, staff_only

app_name = "dashboard"
urlpatterns = [
    path("", staff_only(DashboardView.as_view()), name="index"),
    path("export.xlsx", staff_only(ExportView.as_view()), name="export"),
]
