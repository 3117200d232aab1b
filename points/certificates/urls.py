from django.urls import path

from . import views

app_name = "certificates"

urlpatterns = [
    path("", views.mine, name="mine"),
    path("issue/", views.issue, name="issue"),
    # Public: what a certificate's QR code opens. The number is printed on the certificate and is not
    # secret; it is never a database id.
    path("verify/", views.verify_form, name="verify_form"),
    path("verify/<str:number>/", views.verify, name="verify"),
    path("<str:number>/pdf/", views.download, name="pdf"),
]
