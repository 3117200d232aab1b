"""The notification service: one inbox message per event, SMS/email only after commit, each delivery
sent once however often its task runs, failures retried, stuck deliveries picked up again."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.utils import timezone

from core import notifications
from core.models import Delivery, Notification
from core.sms import BaseBackend, SmsError
from core.tasks import deliver, redeliver_pending_notifications
from tests.factories import UserFactory


class RecordingBackend(BaseBackend):
    """Keeps every message it is asked to send, duplicates included (LocmemBackend hides them), and
    fails the first `failures` sends with SmsError, as a provider outage would."""

    sent: list = []
    failures = 0

    def send(self, message):
        if RecordingBackend.failures > 0:
            RecordingBackend.failures -= 1
            raise SmsError("provider unavailable")
        RecordingBackend.sent.append(message)


@pytest.fixture
def sms(settings):
    # Import path of this module as pytest imported it, so the backend class (and its list) is this one.
    settings.SMS_BACKEND = f"{__name__}.RecordingBackend"
    RecordingBackend.sent = []
    RecordingBackend.failures = 0
    return RecordingBackend


def _notify(person, key="task-reminder:1", **kwargs):
    return notifications.notify(
        recipient=person,
        category="task",
        title="明天 8:00 巡查",
        body="请准时到岗",
        url="/inbox/",
        key=key,
        **kwargs,
    )


@pytest.mark.django_db
def test_same_key_creates_one_message_and_sends_one_sms(sms, django_capture_on_commit_callbacks):
    person = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        first = _notify(person)
        second = _notify(person)
    assert first.pk == second.pk
    assert Notification.objects.filter(recipient=person).count() == 1
    assert Delivery.objects.count() == 1
    assert [m.phone for m in sms.sent] == [person.phone]
    assert "明天 8:00 巡查" in sms.sent[0].text


@pytest.mark.django_db
def test_a_long_title_is_clipped_to_the_inbox_column(sms, django_capture_on_commit_callbacks):
    # PostgreSQL refuses a value longer than the column (SQLite does not): a long organisation name in
    # a title must not break the action that notifies.
    person = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        notification = notifications.notify(
            recipient=person, category="organisation", title="很长的组织名称" * 30, key="long-title:1"
        )
    notification.refresh_from_db()
    assert len(notification.title) == Notification._meta.get_field("title").max_length
    assert len(sms.sent) == 1


@pytest.mark.django_db(transaction=True)
def test_deliveries_wait_for_the_commit(sms):
    person = UserFactory()
    with transaction.atomic():
        _notify(person)
        assert sms.sent == []
        assert Delivery.objects.get().status == Delivery.Status.PENDING
    assert len(sms.sent) == 1
    assert Delivery.objects.get().status == Delivery.Status.SENT


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_action_notifies_nobody(sms):
    person = UserFactory(email="p@example.org", notify_email=True)
    with pytest.raises(RuntimeError), transaction.atomic():
        _notify(person)
        raise RuntimeError("the action failed after notifying")
    assert not Notification.objects.exists()
    assert not Delivery.objects.exists()
    assert sms.sent == []
    assert mail.outbox == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("prefs", "channels"),
    [
        ({"notify_sms": True, "notify_email": False, "email": "a@example.org"}, {"sms"}),
        ({"notify_sms": False, "notify_email": True, "email": "a@example.org"}, {"email"}),
        ({"notify_sms": True, "notify_email": True, "email": "a@example.org"}, {"sms", "email"}),
        ({"notify_sms": False, "notify_email": False, "email": "a@example.org"}, set()),
        # Wanting email without an address, or SMS without a number, sends nothing on that channel.
        ({"notify_sms": False, "notify_email": True, "email": ""}, set()),
        ({"notify_sms": True, "notify_email": False, "email": "", "phone": None}, set()),
    ],
)
def test_channel_preferences_are_respected(sms, django_capture_on_commit_callbacks, prefs, channels):
    person = UserFactory(**prefs)
    with django_capture_on_commit_callbacks(execute=True):
        _notify(person)
    assert Notification.objects.filter(recipient=person).count() == 1  # the inbox always gets it
    assert set(Delivery.objects.values_list("channel", flat=True)) == channels
    assert len(sms.sent) == ("sms" in channels)
    assert len(mail.outbox) == ("email" in channels)
    if "email" in channels:
        assert mail.outbox[0].to == [person.email]
        assert mail.outbox[0].subject == "明天 8:00 巡查"


@pytest.mark.django_db
def test_running_the_task_twice_sends_once(sms, django_capture_on_commit_callbacks):
    person = UserFactory()
    with django_capture_on_commit_callbacks(execute=False):  # queued, not yet run
        _notify(person)
    delivery = Delivery.objects.get()
    deliver.delay(delivery.pk)
    deliver.delay(delivery.pk)
    delivery.refresh_from_db()
    assert len(sms.sent) == 1
    assert sms.sent[0].idempotency_key == f"notification-{delivery.pk}"
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 1)
    assert delivery.sent_at is not None


@pytest.mark.django_db
def test_a_delivery_being_sent_elsewhere_is_not_sent_again(sms, django_capture_on_commit_callbacks):
    person = UserFactory()
    with django_capture_on_commit_callbacks(execute=False):
        _notify(person)
    delivery = Delivery.objects.get()
    assert notifications.claim_delivery(delivery.pk) is not None  # another worker has it
    deliver.delay(delivery.pk)
    assert sms.sent == []
    assert notifications.claim_delivery(delivery.pk) is None


@pytest.mark.django_db
def test_a_failing_provider_marks_the_delivery_failed_and_a_retry_sends_once(
    sms, django_capture_on_commit_callbacks
):
    sms.failures = 1
    person = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        _notify(person)  # the action itself succeeds although the SMS did not go out
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.FAILED, 1)
    assert "provider unavailable" in delivery.last_error
    assert sms.sent == []

    # The retry waits out its back-off: a task arriving early sends nothing.
    assert delivery.not_before > timezone.now()
    deliver.delay(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.FAILED, 1)

    with time_machine.travel(delivery.not_before + timedelta(seconds=1), tick=False):
        deliver.delay(delivery.pk)
        deliver.delay(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 2)
    assert delivery.last_error == ""
    assert len(sms.sent) == 1


@pytest.mark.django_db
def test_a_delivery_is_given_up_after_the_last_attempt(sms, django_capture_on_commit_callbacks):
    sms.failures = 100
    person = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        _notify(person)
    delivery = Delivery.objects.get()
    start = timezone.now()
    for hour in range(1, notifications.MAX_ATTEMPTS + 3):
        with time_machine.travel(start + timedelta(hours=hour), tick=False):
            deliver.delay(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.FAILED, notifications.MAX_ATTEMPTS)
    assert "provider unavailable" in delivery.last_error
    assert list(notifications.given_up()) == [delivery]  # what the staff's list shows
    assert sms.sent == []
    assert Notification.objects.filter(recipient=person).count() == 1  # the inbox still has it


@pytest.mark.django_db
def test_redelivery_picks_up_stuck_deliveries_only(sms, django_capture_on_commit_callbacks):
    now = timezone.now()
    people = UserFactory.create_batch(5)
    with django_capture_on_commit_callbacks(execute=False):  # the queued tasks were "lost"
        for i, person in enumerate(people):
            _notify(person, key=f"k:{i}")
    d_lost_pending, d_worker_died, d_recent_failure, d_sent, d_exhausted = (
        Delivery.objects.get(notification__recipient=p) for p in people
    )
    Delivery.objects.filter(pk=d_lost_pending.pk).update(updated_at=now - timedelta(minutes=10))
    Delivery.objects.filter(pk=d_worker_died.pk).update(
        status=Delivery.Status.SENDING, attempts=1, updated_at=now - timedelta(minutes=20)
    )
    Delivery.objects.filter(pk=d_recent_failure.pk).update(
        status=Delivery.Status.FAILED, attempts=1, updated_at=now - timedelta(minutes=1)
    )
    Delivery.objects.filter(pk=d_sent.pk).update(
        status=Delivery.Status.SENT, attempts=1, updated_at=now - timedelta(hours=1)
    )
    Delivery.objects.filter(pk=d_exhausted.pk).update(
        status=Delivery.Status.FAILED,
        attempts=notifications.MAX_ATTEMPTS,
        updated_at=now - timedelta(hours=1),
    )

    assert redeliver_pending_notifications() == 2
    assert sorted(m.phone for m in sms.sent) == sorted([people[0].phone, people[1].phone])
    statuses = dict(Delivery.objects.values_list("pk", "status"))
    assert statuses[d_lost_pending.pk] == Delivery.Status.SENT
    assert statuses[d_worker_died.pk] == Delivery.Status.SENT
    assert statuses[d_recent_failure.pk] == Delivery.Status.FAILED
    assert statuses[d_exhausted.pk] == Delivery.Status.FAILED
    # A second sweep finds nothing new to send.
    assert redeliver_pending_notifications() == 0
    assert len(sms.sent) == 2


@pytest.mark.django_db
def test_unread_count_and_mark_read():
    person, other = UserFactory(notify_sms=False), UserFactory(notify_sms=False)
    messages = [_notify(person, key=f"m:{i}") for i in range(3)]
    theirs = _notify(other, key="theirs")
    assert notifications.unread_count(person) == 3

    assert notifications.mark_read(person=person, notification_id=messages[0].pk) == 1
    assert notifications.mark_read(person=person, notification_id=messages[0].pk) == 0  # already read
    assert notifications.unread_count(person) == 2
    # Someone else's message is not theirs to mark.
    assert notifications.mark_read(person=person, notification_id=theirs.pk) == 0
    assert notifications.unread_count(other) == 1

    assert notifications.mark_read(person=person) == 2
    assert notifications.unread_count(person) == 0
