"""The inbox over the API: my messages only, paged, unread count, mark one or all read."""

import pytest

from core import notifications
from core.models import Notification
from tests.api.support import assert_error
from tests.factories import UserFactory


def _message(person, n):
    return notifications.notify(
        recipient=person, category="task", title=f"通知 {n}", body="正文", key=f"api:{person.pk}:{n}"
    )


@pytest.fixture
def messages(person):
    person.notify_sms = False
    person.save(update_fields=["notify_sms"])
    return [_message(person, n) for n in range(25)]


@pytest.mark.django_db
def test_the_inbox_lists_my_messages_newest_first_in_pages(app, messages):
    someone_else = UserFactory(notify_sms=False)
    _message(someone_else, 1)

    first = app.get("/api/v1/inbox").json()
    assert first["count"] == 25
    assert len(first["items"]) == 20
    assert [m["id"] for m in first["items"]] == [m.pk for m in reversed(messages)][:20]
    item = first["items"][0]
    assert (item["title"], item["body"], item["category"], item["unread"], item["read_at"]) == (
        "通知 24", "正文", "task", True, None
    )  # fmt: skip
    second = app.get("/api/v1/inbox", {"page": 2}).json()
    assert [m["id"] for m in second["items"]] == [m.pk for m in reversed(messages)][20:]


@pytest.mark.django_db
def test_unread_count_and_marking_read(app, person, messages):
    assert app.get("/api/v1/inbox/unread-count").json() == {"unread": 25}

    response = app.post("/api/v1/inbox/read", {"id": messages[0].pk})
    assert response.json() == {"marked": 1, "unread": 24}
    assert Notification.objects.get(pk=messages[0].pk).read_at is not None
    # Marking it again changes nothing.
    assert app.post("/api/v1/inbox/read", {"id": messages[0].pk}).json() == {"marked": 0, "unread": 24}

    assert app.post("/api/v1/inbox/read", {}).json() == {"marked": 24, "unread": 0}
    assert app.get("/api/v1/inbox/unread-count").json() == {"unread": 0}
    assert app.get("/api/v1/inbox").json()["items"][0]["unread"] is False


@pytest.mark.django_db
def test_mark_all_read_with_an_empty_body(app, messages):
    response = app.client.generic("POST", "/api/v1/inbox/read", b"", headers=app.headers)
    assert response.json() == {"marked": 25, "unread": 0}


@pytest.mark.django_db
def test_someone_elses_message_cannot_be_marked(app, messages):
    theirs = _message(UserFactory(notify_sms=False), 1)
    assert_error(app.post("/api/v1/inbox/read", {"id": theirs.pk}), 404, "not_found")
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert_error(app.post("/api/v1/inbox/read", {"id": 987654}), 404, "not_found")
