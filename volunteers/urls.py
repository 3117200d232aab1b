from django.urls import path

from . import views

app_name = "volunteers"

urlpatterns = [
    path("me/", views.profile, name="profile"),
    path("me/identities/claim/", views.claim_identity, name="claim_identity"),
    path("me/organisations/", views.my_organisations, name="my_organisations"),
    path("me/invitations/<int:membership_pk>/", views.answer_invitation, name="answer_invitation"),
    path("organisations/", views.organisations, name="organisations"),
    path("organisations/apply/", views.apply_organisation, name="apply_organisation"),
    path("organisations/<int:pk>/", views.organisation, name="organisation"),
    path("organisations/<int:pk>/invite/", views.invite_member, name="invite_member"),
    path(
        "organisations/<int:pk>/members/<int:membership_pk>/remove/",
        views.remove_member,
        name="remove_member",
    ),
]
