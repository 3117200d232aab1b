from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read/", views.inbox_read, name="inbox_read"),
    path("prefs/large-text/", views.toggle_large_text, name="large_text"),
    path("privacy/", views.privacy, name="privacy"),
    path("scan/", views.scan, name="scan"),
]
