"""The inbox page's "mark as read" form (/inbox/read/)."""

import pytest
from django.urls import reverse

from core.models import Notification
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = reverse("core:inbox_read")


@pytest.fixture
def inbox(client):
    person = UserFactory()
    client.force_login(person)
    return [
        Notification.objects.create(recipient=person, category="task", title=f"通知{n}", key=f"inbox-{n}")
        for n in range(2)
    ]


def _unread() -> int:
    return Notification.objects.filter(read_at__isnull=True).count()


def test_one_message_is_marked_read(client, inbox):
    response = client.post(URL, {"id": inbox[0].pk})
    assert response.status_code == 302 and response["Location"] == "/inbox/"
    assert _unread() == 1


def test_without_an_id_every_message_is_marked_read(client, inbox):
    assert client.post(URL).status_code == 302
    assert _unread() == 0


@pytest.mark.parametrize("raw", ["²", "abc", "-1", "0", "9" * 40, " 1"])
def test_an_id_of_nothing_marks_nothing_and_is_no_error(client, inbox, raw):
    assert client.post(URL, {"id": raw}).status_code == 302
    assert _unread() == 2


def test_another_persons_message_stays_unread(client, inbox):
    theirs = Notification.objects.create(recipient=UserFactory(), category="task", title="别人的", key="x-1")
    client.post(URL, {"id": theirs.pk})
    theirs.refresh_from_db()
    assert theirs.read_at is None
