from django.urls import path

from . import views

app_name = "redemption"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("items/<str:code>/redeem/", views.redeem, name="redeem"),
    path("mine/", views.mine, name="mine"),
    path("mine/<str:code>/cancel/", views.cancel, name="cancel"),
    # What a redemption QR opens (see qr.py): a signed, expiring token, never an id.
    path("r/<str:token>/", views.collect, name="collect"),
    path("merchant/", views.merchant_home, name="merchant_home"),
    path("merchant/<str:code>/", views.handover, name="handover"),
    path("merchant/<str:code>/statement/", views.statement, name="statement"),
]
