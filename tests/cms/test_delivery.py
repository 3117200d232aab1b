"""A notice that goes live reaches the people it targets through the notification service: once each, however
often the Celery tasks run, in batches for large audiences, and for scheduled notices when
`publish_scheduled` makes them live."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from cms import selectors, services, tasks
from cms.models import NoticePage, NoticeTarget
from core.models import Notification
from tests.cms.support import make_notice
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def recipients(notice) -> list[int]:
    return sorted(
        Notification.objects.filter(key__startswith=f"notice:{notice.pk}:").values_list(
            "recipient_id", flat=True
        )
    )


def audience_ids(notice) -> list[int]:
    return sorted(selectors.audience(notice=notice).values_list("pk", flat=True))


def test_publishing_notifies_each_targeted_person_once(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notice = make_notice(
            "星兴社区停水", targets=[{"community": world.c1}, {"role": "identity:party_member"}]
        )
    expected = sorted([world.in_g1.pk, world.in_g2.pk, world.party.pk, world.homeless.pk])
    assert audience_ids(notice) == expected
    assert recipients(notice) == expected
    message = Notification.objects.get(recipient=world.in_g1, key__startswith=f"notice:{notice.pk}:")
    assert message.url == notice.url and message.category == "notice"
    assert "星兴社区停水" in message.title


def test_running_the_delivery_tasks_twice_notifies_nobody_twice(
    world, django_capture_on_commit_callbacks, sms_outbox
):
    with django_capture_on_commit_callbacks(execute=True):
        notice = make_notice("必读：汛期巡查", targets=[{"street": world.s1}], must_read=True)
    messages, texts = Notification.objects.count(), len(sms_outbox)
    assert messages == len(audience_ids(notice)) == 4  # in_g1, in_g2, in_g3, worker
    with django_capture_on_commit_callbacks(execute=True):
        tasks.deliver_notice.delay(notice.pk)
        tasks.deliver_notice(notice.pk)
        for first, last in services.delivery_batches(notice_id=notice.pk):
            tasks.deliver_notice_batch(notice.pk, first, last)
            tasks.deliver_notice_batch(notice.pk, first, last)
    assert Notification.objects.count() == messages
    assert len(sms_outbox) == texts
    assert Notification.objects.filter(title__contains="【必读】").count() == messages


def test_a_large_audience_is_delivered_in_batches(world, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(services, "DELIVERY_BATCH", 4)
    crowd = [UserFactory(home_grid=world.g3) for _ in range(10)]
    notice = make_notice("后圩社区通知", targets=[{"community": world.c2}], publish=False)
    batches = services.delivery_batches(notice_id=notice.pk)
    assert batches == []  # not live: nothing to deliver
    with django_capture_on_commit_callbacks(execute=True):
        notice.get_latest_revision().publish()
    batches = services.delivery_batches(notice_id=NoticePage.objects.get(pk=notice.pk).pk)
    assert len(batches) == 3  # 12 people (10 + in_g3 + worker), 4 a batch
    assert recipients(notice) == sorted([p.pk for p in crowd] + [world.in_g3.pk, world.worker.pk])


def test_a_scheduled_notice_is_delivered_when_it_goes_live(world, django_capture_on_commit_callbacks):
    go_live = timezone.now() + timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        notice = make_notice("元旦安全提示", targets=[{"grid": world.g1}], go_live_at=go_live)
    assert not notice.live
    assert recipients(notice) == []  # scheduled, not yet live: page_published came, nobody was told

    with time_machine.travel(go_live + timedelta(minutes=1), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            tasks.publish_scheduled_pages()  # what Celery beat runs every minute
        notice.refresh_from_db()
        assert notice.live
        assert recipients(notice) == [world.in_g1.pk]
        with django_capture_on_commit_callbacks(execute=True):
            call_command("publish_scheduled")  # the next run of the cron job changes nothing
    assert recipients(notice) == [world.in_g1.pk]


def test_nothing_is_delivered_for_a_notice_unpublished_before_its_batch_runs(world):
    notice = make_notice("撤回的通知", targets=[{"grid": world.g1}])  # callbacks not run: queued only
    batches = services.delivery_batches(notice_id=notice.pk)
    assert batches
    notice.unpublish()
    for first, last in batches:
        assert tasks.deliver_notice_batch(notice.pk, first, last) == 0
    assert recipients(notice) == []


def test_an_expired_notice_is_not_delivered(world):
    notice = make_notice(
        "过期", targets=[{"grid": world.g1}], expire_at=timezone.now() + timedelta(seconds=30)
    )
    NoticePage.objects.filter(pk=notice.pk).update(expire_at=timezone.now() - timedelta(seconds=1))
    assert tasks.deliver_notice(notice.pk) == 0
    assert recipients(notice) == []


def test_republishing_an_edit_notifies_only_people_added(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notice = make_notice("网格通知", targets=[{"grid": world.g1}])
    assert recipients(notice) == [world.in_g1.pk]
    notice = NoticePage.objects.get(pk=notice.pk)
    notice.title = "网格通知（更新）"
    notice.targets.add(NoticeTarget(grid=world.g2))
    with django_capture_on_commit_callbacks(execute=True):
        notice.save_revision().publish()
    assert recipients(notice) == sorted([world.in_g1.pk, world.in_g2.pk])
    assert Notification.objects.filter(recipient=world.in_g1).count() == 1


def test_celery_beat_runs_scheduled_publishing_every_minute():
    from celery.schedules import crontab

    from config.celery import app

    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedule["cms.tasks.publish_scheduled_pages"] == crontab()
    assert "cms.tasks.publish_scheduled_pages" in app.tasks
