"""Per-category preferences, quiet hours, the daily digest and the back-off of the notification service.

Times are Beijing time (the site's zone); the test settings have no default quiet hours, so each test
that needs them sets them.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from config.celery import app as celery_app
from core import notifications
from core.models import CategoryPreference, Delivery, Notification, NotificationSettings
from core.sms import BaseBackend, SmsError
from core.tasks import deliver, send_daily_digests, send_due_deliveries
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
BJ = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=BJ)


@pytest.fixture
def quiet_default(settings):
    settings.NOTIFICATION_QUIET_HOURS = ("22:00", "07:00")


def _notify(person, category="task", key="k:1", title=None, **kwargs):
    return notifications.notify(
        recipient=person,
        category=category,
        title=title or f"{category} 消息",
        body="正文",
        url="/inbox/",
        key=key,
        **kwargs,
    )


def _prefer(person, category, *, sms=True, email=True, digest=False):
    CategoryPreference.objects.create(person=person, category=category, sms=sms, email=email, digest=digest)


# --- per-category choices --------------------------------------------------------------------------
def test_each_category_goes_only_to_the_channels_chosen_for_it(
    sms_outbox, django_capture_on_commit_callbacks
):
    person = UserFactory(email="p@example.org", notify_email=True)
    _prefer(person, "task", sms=True, email=False)
    _prefer(person, "points", sms=False, email=True)
    _prefer(person, "cases", sms=False, email=False)
    with django_capture_on_commit_callbacks(execute=True):
        _notify(person, "task", key="a")
        _notify(person, "points", key="b")
        _notify(person, "cases", key="c")
        _notify(person, "identity", key="d")  # no choice made: both channels, as before preferences
    channels = set(Delivery.objects.values_list("notification__category", "channel"))
    assert channels == {("task", "sms"), ("points", "email"), ("identity", "sms"), ("identity", "email")}
    assert sorted(m.text.split(" ")[0] for m in sms_outbox) == ["【共治】identity", "【共治】task"]
    assert sorted(m.subject for m in mail.outbox) == ["identity 消息", "points 消息"]
    # The inbox keeps all four, whatever the channels.
    assert Notification.objects.filter(recipient=person).count() == 4


def test_the_account_wide_switch_turns_a_channel_off_for_every_category(
    sms_outbox, django_capture_on_commit_callbacks
):
    person = UserFactory(notify_sms=False)
    _prefer(person, "task", sms=True)
    with django_capture_on_commit_callbacks(execute=True):
        _notify(person, "task")
    assert not Delivery.objects.exists()
    assert sms_outbox == []
    assert Notification.objects.filter(recipient=person).count() == 1


# --- quiet hours -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "end", "moment", "expected"),
    [
        (time(22), time(7), at(2, 23, 30), at(3, 7)),
        (time(22), time(7), at(3, 6, 59), at(3, 7)),
        (time(22), time(7), at(3, 7), None),
        (time(22), time(7), at(2, 21, 59), None),
        (time(22), time(7), at(2, 22), at(3, 7)),
        (time(13), time(14), at(2, 13, 30), at(2, 14)),
        (time(13), time(14), at(2, 12, 59), None),
    ],
)
def test_quiet_hours_end_where_expected(start, end, moment, expected):
    assert notifications.QuietHours(start, end).until(moment) == expected


def test_sms_in_quiet_hours_waits_for_their_end_and_is_then_sent_once(
    quiet_default, sms_outbox, django_capture_on_commit_callbacks
):
    person = UserFactory()
    with time_machine.travel(at(2, 23, 10), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            _notify(person)
        assert send_due_deliveries() == 0
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.not_before) == (Delivery.Status.PENDING, at(3, 7))
    assert sms_outbox == []
    assert Notification.objects.filter(recipient=person).count() == 1  # the inbox has it at once

    with time_machine.travel(at(3, 6, 59), tick=False):
        deliver.delay(delivery.pk)  # a stray task before the end of the quiet hours sends nothing
        assert send_due_deliveries() == 0
    assert sms_outbox == []

    with time_machine.travel(at(3, 7), tick=False):
        assert send_due_deliveries() == 1
        assert send_due_deliveries() == 0
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SENT
    assert [m.phone for m in sms_outbox] == [person.phone]


def test_own_quiet_hours_replace_the_default_and_can_be_switched_off(
    quiet_default, sms_outbox, django_capture_on_commit_callbacks
):
    night_owl = UserFactory()
    NotificationSettings.objects.create(person=night_owl, quiet_hours=False)
    napper = UserFactory()
    NotificationSettings.objects.create(person=napper, quiet_start=time(13), quiet_end=time(14))
    with time_machine.travel(at(2, 23, 10), tick=False), django_capture_on_commit_callbacks(execute=True):
        _notify(night_owl, key="owl")
        _notify(napper, key="napper-night")  # 23:10 is outside 13:00–14:00
    with time_machine.travel(at(3, 13, 30), tick=False), django_capture_on_commit_callbacks(execute=True):
        _notify(napper, key="napper-nap")
    assert sorted(m.phone for m in sms_outbox) == sorted([night_owl.phone, napper.phone])
    held = Delivery.objects.get(notification__key="napper-nap")
    assert held.not_before == at(3, 14)


def test_urgent_messages_skip_quiet_hours(quiet_default, sms_outbox, django_capture_on_commit_callbacks):
    person = UserFactory()
    with time_machine.travel(at(2, 23, 10), tick=False), django_capture_on_commit_callbacks(execute=True):
        _notify(person, urgent=True)
    assert Delivery.objects.get().status == Delivery.Status.SENT
    assert len(sms_outbox) == 1


def test_a_retry_that_falls_into_quiet_hours_is_put_off_to_their_end(quiet_default, sms_outbox):
    person = UserFactory()
    with time_machine.travel(at(2, 21, 59), tick=False):
        notification = _notify(person)  # not yet quiet; its task was queued but is run late
    delivery = Delivery.objects.get(notification=notification)
    with time_machine.travel(at(2, 22, 30), tick=False):
        deliver.delay(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.not_before) == (Delivery.Status.PENDING, 0, at(3, 7))
    assert sms_outbox == []


# --- failures --------------------------------------------------------------------------------------
class FlakyBackend(BaseBackend):
    failures = 0
    sent: list = []

    def send(self, message):
        if FlakyBackend.failures:
            FlakyBackend.failures -= 1
            raise SmsError("gateway timeout")
        FlakyBackend.sent.append(message)


@pytest.fixture
def flaky(settings):
    settings.SMS_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.failures, FlakyBackend.sent = 0, []
    return FlakyBackend


def test_transient_failures_are_retried_with_growing_back_off_by_the_sweep(
    flaky, django_capture_on_commit_callbacks
):
    flaky.failures = 3
    person = UserFactory()
    start = at(2, 10)
    with time_machine.travel(start, tick=False), django_capture_on_commit_callbacks(execute=True):
        _notify(person)
    delivery = Delivery.objects.get()
    waits = []
    moment = start
    while delivery.status != Delivery.Status.SENT:
        waits.append(delivery.not_before - moment)
        moment = delivery.not_before
        with time_machine.travel(moment, tick=False):
            assert send_due_deliveries() == 1
        delivery.refresh_from_db()
    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert (delivery.attempts, len(flaky.sent)) == (4, 1)


# --- the digest ------------------------------------------------------------------------------------
def test_digest_sends_one_summary_a_day_however_often_the_task_runs(
    sms_outbox, django_capture_on_commit_callbacks
):
    person = UserFactory()
    _prefer(person, "task", digest=True)
    _prefer(person, "points", digest=True)
    other = UserFactory()  # takes messages one by one
    with time_machine.travel(at(2, 9), tick=False), django_capture_on_commit_callbacks(execute=True):
        _notify(person, "task", key="t1", title="周六巡逻报名成功")
        _notify(person, "points", key="p1", title="积分到账 10 分")
        _notify(person, "task", key="t2", title="已读的提醒")
        _notify(person, "cases", key="c1")  # not a digest category: sent at once
        _notify(other, "task", key="o1")
    notifications.mark_read(person=person, notification_id=Notification.objects.get(key="t2").pk)
    assert {m.phone for m in sms_outbox} == {person.phone, other.phone}
    assert len(sms_outbox) == 2
    assert not Delivery.objects.filter(notification__in_digest=True).exists()

    with time_machine.travel(at(2, 20), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert send_daily_digests() == 1
        assert send_daily_digests() == 0  # beat ran twice
        assert notifications.do_send_digests() == 0

    digest = Notification.objects.get(category=notifications.DIGEST_CATEGORY)
    assert digest.recipient == person
    assert digest.key == f"digest:{person.pk}:2026-12-02"
    assert digest.read_at is not None  # adds no unread count: the messages themselves are unread
    assert "2" in digest.title  # two unread messages, the read one left out
    assert "周六巡逻报名成功" in digest.body and "积分到账 10 分" in digest.body
    assert "已读的提醒" not in digest.body
    digest_sms = [m for m in sms_outbox if m.text.startswith(f"【共治】{digest.title}")]
    assert len(digest_sms) == 1
    assert not Notification.objects.filter(in_digest=True, digested_at__isnull=True).exists()
    # The digested messages stay in the inbox, unread (plus "cases", sent at once).
    assert notifications.unread_count(person) == 3


def test_a_message_after_todays_digest_waits_for_tomorrows(sms_outbox, django_capture_on_commit_callbacks):
    person = UserFactory()
    _prefer(person, "task", digest=True)
    with time_machine.travel(at(2, 9), tick=False), django_capture_on_commit_callbacks(execute=True):
        _notify(person, key="morning")
    with time_machine.travel(at(2, 20), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert send_daily_digests() == 1
    with time_machine.travel(at(2, 20, 30), tick=False), django_capture_on_commit_callbacks(execute=True):
        late = _notify(person, key="evening")
        assert send_daily_digests() == 0
    late.refresh_from_db()
    assert late.digested_at is None
    with time_machine.travel(at(3, 20), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert send_daily_digests() == 1
    assert Notification.objects.filter(category=notifications.DIGEST_CATEGORY).count() == 2
    assert len(sms_outbox) == 2


def test_nothing_unread_means_no_digest(sms_outbox, django_capture_on_commit_callbacks):
    person = UserFactory()
    _prefer(person, "task", digest=True)
    message = _notify(person)
    notifications.mark_read(person=person, notification_id=message.pk)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_daily_digests() == 0
    assert not Notification.objects.filter(category=notifications.DIGEST_CATEGORY).exists()
    message.refresh_from_db()
    assert message.digested_at is not None
    assert sms_outbox == []


def test_the_digest_itself_respects_quiet_hours(
    quiet_default, sms_outbox, django_capture_on_commit_callbacks
):
    person = UserFactory()
    _prefer(person, "task", digest=True)
    NotificationSettings.objects.create(person=person, quiet_start=time(19), quiet_end=time(8))
    with time_machine.travel(at(2, 9), tick=False):
        _notify(person)
    with time_machine.travel(at(2, 20), tick=False), django_capture_on_commit_callbacks(execute=True):
        assert send_daily_digests() == 1
    assert sms_outbox == []
    assert Delivery.objects.get().not_before == at(3, 8)


def test_urgent_messages_are_never_held_for_the_digest(sms_outbox, django_capture_on_commit_callbacks):
    person = UserFactory()
    _prefer(person, "task", digest=True)
    with django_capture_on_commit_callbacks(execute=True):
        message = _notify(person, urgent=True)
    assert not message.in_digest
    assert len(sms_outbox) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_digest_runs_at_once_send_one_digest(sms_outbox):
    import threading

    from django.db import connection

    person = UserFactory()
    _prefer(person, "task", digest=True)
    for i in range(3):
        _notify(person, key=f"race:{i}")
    barrier = threading.Barrier(2)
    results = []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(notifications.do_send_digests())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [0, 1]
    assert Notification.objects.filter(category=notifications.DIGEST_CATEGORY).count() == 1
    assert len(sms_outbox) == 1


def test_the_beat_schedule_runs_the_sweeps_and_the_digest():
    schedule = celery_app.conf.beat_schedule
    tasks = {entry["task"] for entry in schedule.values()}
    assert {
        "core.tasks.send_due_deliveries",
        "core.tasks.send_daily_digests",
        "core.tasks.redeliver_pending_notifications",
    } <= tasks
    celery_app.loader.import_default_modules()
    assert tasks <= set(celery_app.tasks)  # every name resolves to a registered task
