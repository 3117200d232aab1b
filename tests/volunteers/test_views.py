import pytest
from django.urls import reverse

from tests.factories import GridFactory, MembershipFactory, OrganisationFactory, UserFactory
from volunteers.models import IdentityClaim, Membership, Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(client):
    person = UserFactory(name="李小龙", home_grid=GridFactory())
    client.force_login(person)
    return person


def test_profile_page_shows_identities_and_their_status(client, person):
    IdentityClaim.objects.create(person=person, kind="party_member", grid=person.home_grid)
    response = client.get(reverse("volunteers:profile"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "李小龙" in page and 'data-testid="claims"' in page


def test_profile_requires_sign_in(client):
    response = client.get(reverse("volunteers:profile"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_profile_edit_saves_and_refuses_bad_input(client, person):
    grid = GridFactory()
    response = client.post(
        reverse("volunteers:profile"),
        {"name": "李小龙", "email": "", "home_grid": grid.pk, "notify_sms": "on"},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.home_grid == grid

    response = client.post(
        reverse("volunteers:profile"), {"name": "", "email": "not-an-email", "home_grid": 999999}
    )
    assert response.status_code == 400
    person.refresh_from_db()
    assert person.name == "李小龙" and person.home_grid == grid  # nothing half-written


def test_claiming_for_a_grid_that_does_not_exist_is_a_clear_400(client, person):
    response = client.post(reverse("volunteers:claim_identity"), {"kind": "party_member", "grid": "987654"})
    assert response.status_code == 400
    assert not IdentityClaim.objects.filter(person=person).exists()


def test_claim_identity_from_the_profile_page(client, person):
    response = client.post(
        reverse("volunteers:claim_identity"), {"kind": "deputy", "grid": "", "detail": "区人大代表"}
    )
    assert response.status_code == 302
    claim = IdentityClaim.objects.get(person=person)
    assert claim.kind == "deputy" and claim.status == "claimed" and claim.grid == person.home_grid


def test_unknown_identity_kind_is_refused(client, person):
    response = client.post(reverse("volunteers:claim_identity"), {"kind": "emperor"})
    assert response.status_code == 400


def test_members_see_masked_names_admins_see_full_names(client, person):
    org = OrganisationFactory()
    MembershipFactory(organisation=org, person=person)
    MembershipFactory(organisation=org, person=UserFactory(name="欧阳娜娜"), role=Membership.Role.ADMIN)
    page = client.get(reverse("volunteers:organisation", args=[org.pk])).content.decode()
    assert "欧**娜" in page and "欧阳娜娜" not in page


def test_the_public_sees_no_member_list(client):
    org = OrganisationFactory()
    MembershipFactory(organisation=org, person=UserFactory(name="欧阳娜娜"))
    page = client.get(reverse("volunteers:organisation", args=[org.pk])).content.decode()
    assert "欧阳娜娜" not in page and "欧**娜" not in page


def test_an_unapproved_organisation_is_hidden_from_others(client, person):
    org = OrganisationFactory(status=Organisation.Status.APPLIED)
    assert client.get(reverse("volunteers:organisation", args=[org.pk])).status_code == 404


def test_invite_with_a_malformed_phone_is_a_400(client, person):
    org = OrganisationFactory()
    MembershipFactory(organisation=org, person=person, role=Membership.Role.ADMIN)
    response = client.post(
        reverse("volunteers:invite_member", args=[org.pk]), {"phone": "12345", "role": "member"}
    )
    assert response.status_code == 400
    assert org.memberships.count() == 1


def test_a_member_cannot_invite(client, person):
    org = OrganisationFactory()
    MembershipFactory(organisation=org, person=person)
    invitee = UserFactory()
    response = client.post(
        reverse("volunteers:invite_member", args=[org.pk]), {"phone": invitee.phone[3:], "role": "member"}
    )
    assert response.status_code == 403
    assert not org.memberships.filter(person=invitee).exists()


def test_accepting_an_invitation(client, person):
    membership = MembershipFactory(person=person, status=Membership.Status.INVITED)
    response = client.post(
        reverse("volunteers:answer_invitation", args=[membership.pk]), {"answer": "accept"}
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE


def test_someone_elses_invitation_is_not_found(client, person):
    membership = MembershipFactory(status=Membership.Status.INVITED)
    response = client.post(
        reverse("volunteers:answer_invitation", args=[membership.pk]), {"answer": "accept"}
    )
    assert response.status_code == 404
    membership.refresh_from_db()
    assert membership.status == Membership.Status.INVITED


def test_home_page_renders_with_statistics(client):
    GridFactory()
    response = client.get("/")
    assert response.status_code == 200
    assert 'data-testid="stats"' in response.content.decode()


def test_large_text_mode_is_remembered(client, person):
    client.post(reverse("core:large_text"), {"enabled": "1", "next": "/"})
    person.refresh_from_db()
    assert person.large_text
    assert 'class="large-text"' in client.get("/").content.decode()
