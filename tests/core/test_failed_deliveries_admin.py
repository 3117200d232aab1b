"""Staff see the SMS/email that could not be delivered to people in their scope, and can send one again."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Permission
from django.urls import reverse

from core import notifications
from core.models import Delivery
from tests.factories import CommunityFactory, GridFactory, StaffPostFactory, UserFactory
from volunteers.models import StaffPost

pytestmark = pytest.mark.django_db
URL = reverse("core_failed_deliveries")


def _staff(community):
    person = UserFactory(is_staff=True)
    StaffPostFactory(person=person, level=StaffPost.Level.COMMUNITY, community=community)
    person.user_permissions.add(Permission.objects.get(codename="access_admin"))
    TOTP.activate(person, generate_totp_secret())
    return person


def _given_up(person, key):
    notification = notifications.notify(recipient=person, category="task", title=f"提醒 {key}", key=key)
    Delivery.objects.filter(notification=notification).update(
        status=Delivery.Status.FAILED, attempts=notifications.MAX_ATTEMPTS, last_error="gateway down"
    )
    return Delivery.objects.get(notification=notification)


@pytest.fixture
def world():
    here, there = CommunityFactory(), CommunityFactory()
    mine = UserFactory(home_grid=GridFactory(community=here))
    theirs = UserFactory(home_grid=GridFactory(community=there))
    return {"staff": _staff(here), "mine": _given_up(mine, "a"), "theirs": _given_up(theirs, "b")}


def test_staff_see_failures_in_their_scope_only(client, world):
    client.force_login(world["staff"])
    response = client.get(URL)
    page = response.content.decode()
    assert response.status_code == 200
    assert "提醒 a" in page and "gateway down" in page
    assert "提醒 b" not in page


def test_staff_send_a_given_up_delivery_again(client, world, sms_outbox, django_capture_on_commit_callbacks):
    client.force_login(world["staff"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, {"delivery": world["mine"].pk})
    assert response.status_code == 302
    world["mine"].refresh_from_db()
    assert (world["mine"].status, world["mine"].attempts) == (Delivery.Status.SENT, 1)
    assert len(sms_outbox) == 1


@pytest.mark.parametrize("value", ["theirs", "junk", "999999", "²", "9" * 40])
def test_a_delivery_outside_the_scope_or_unknown_is_refused(client, world, value):
    client.force_login(world["staff"])
    raw = str(world["theirs"].pk) if value == "theirs" else value
    response = client.post(URL, {"delivery": raw}, follow=True)
    assert response.status_code == 200
    world["theirs"].refresh_from_db()
    assert world["theirs"].status == Delivery.Status.FAILED


def test_people_who_are_not_staff_cannot_open_the_list(client, world):
    client.force_login(UserFactory())
    assert client.get(URL).status_code in (302, 403)
