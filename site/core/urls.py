from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.inbox_read, name="inbox_read"),
    path("me/notifications/", views.notification_settings, name="notification_settings"),
    path("search/", views.site_search, name="search"),
    path("prefs/large-text/", views.toggle_large_text, name="large_text"),
    path("privacy/", views.privacy, name="privacy"),
    path("scan/", views.scan, name="scan"),
]
