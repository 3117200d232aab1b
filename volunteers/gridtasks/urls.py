from django.urls import path

from . import views

app_name = "gridtasks"

urlpatterns = [
    path("tasks/", views.task_list, name="list"),
    # Fixed paths before tasks/<code>/ (a public code is 12 random characters, never one of these words).
    path("tasks/mine/", views.my_tasks, name="mine"),
    path("tasks/manage/", views.manage_list, name="manage"),
    path("tasks/new/", views.task_create, name="create"),
    path("tasks/new-series/", views.series_create, name="create_series"),
    path("tasks/my-qr/", views.my_qr, name="my_qr"),
    path("tasks/my-qr/refresh/", views.my_qr_json, name="my_qr_json"),
    path("tasks/calendar/<str:token>/tasks.ics", views.calendar_feed, name="calendar"),
    path("tasks/<str:code>/", views.task_detail, name="detail"),
    path("tasks/<str:code>/sign-up/", views.sign_up, name="sign_up"),
    path("tasks/<str:code>/cancel-sign-up/", views.cancel_signup, name="cancel_signup"),
    path("tasks/<str:code>/confirm/", views.confirm_offer, name="confirm_offer"),
    path("tasks/<str:code>/decline/", views.decline_offer, name="decline_offer"),
    path("tasks/<str:code>/edit/", views.task_edit, name="edit"),
    path("tasks/<str:code>/publish/", views.task_publish, name="publish"),
    path("tasks/<str:code>/cancel/", views.task_cancel, name="cancel"),
    path("tasks/<str:code>/attendance/", views.attendance, name="attendance"),
    path("tasks/<str:code>/qr/", views.task_qr, name="task_qr"),
    path("tasks/<str:code>/qr/current/", views.task_qr_json, name="task_qr_json"),
    path("tasks/<str:code>/kiosk/", views.kiosk, name="kiosk"),
    # What QR codes open: the task's rotating code (scanned by a volunteer) and a person's code
    # (scanned by an organiser). See qr.py.
    path("c/<str:code>/<str:payload>/", views.scan_task_qr, name="scan_task_qr"),
    path("v/<str:token>/", views.personal_qr, name="personal_qr"),
]
