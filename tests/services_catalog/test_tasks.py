"""The Celery tasks of the ordering loop: thin, idempotent, scheduled by beat (run eagerly in tests)."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from config.celery import app
from core.models import Notification
from services_catalog import tasks
from services_catalog.models import Order, OrderEvent, Session
from tests.services_catalog.factories import SessionServiceFactory
from tests.services_catalog.world import build_world, delivered_order, order_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def test_beat_runs_the_ordering_loop_jobs_on_their_schedule():
    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert schedule["services_catalog.tasks.escalate_stalled_orders"]._orig_minute == "*/10"
    daily = schedule["services_catalog.tasks.plan_sessions"]
    assert len(daily.hour) == 1 and len(daily.minute) == 1
    for name in ("escalate_stalled_orders", "plan_sessions"):
        task = app.tasks[f"services_catalog.tasks.{name}"]
        assert task.acks_late, name


def test_running_the_escalation_twice_sends_each_reminder_once(world):
    waiting = order_for(world, world.r1)  # waiting for dispatch: community and street staff
    delivered = delivered_order(world, world.r2)  # waiting for the resident to confirm
    later = max(waiting.stage_started_at, delivered.stage_started_at) + dt.timedelta(hours=25)
    with time_machine.travel(later, tick=False):
        first = tasks.escalate_stalled_orders.delay().get()
        second = tasks.escalate_stalled_orders.delay().get()
    assert first == {"reminded": 2, "escalated": 0, "closed": 0}
    assert second == {"reminded": 0, "escalated": 0, "closed": 0}
    reminders = Notification.objects.filter(key__startswith="order-remind:")
    assert sorted(reminders.values_list("recipient", flat=True)) == sorted(
        [world.staff_c1.pk, world.staff_s1.pk, world.r2.pk]
    )
    assert OrderEvent.objects.filter(kind=OrderEvent.Kind.REMINDED).count() == 2

    with time_machine.travel(later + dt.timedelta(days=1), tick=False):
        assert tasks.escalate_stalled_orders.delay().get()["escalated"] == 2
        assert tasks.escalate_stalled_orders.delay().get()["escalated"] == 0
    assert Notification.objects.filter(key__startswith=f"order-escalate:{waiting.pk}:").count() == 2

    with time_machine.travel(delivered.delivered_at + dt.timedelta(days=8), tick=False):
        assert tasks.escalate_stalled_orders.delay().get()["closed"] == 1
        assert tasks.escalate_stalled_orders.delay().get()["closed"] == 0
    assert Order.objects.get(pk=delivered.pk).status == Order.Status.CLOSED


def test_plan_sessions_keeps_two_weeks_ahead_and_running_it_again_adds_nothing(world):
    lunch = SessionServiceFactory(
        street=world.s1, organisation=world.org_a, area_communities=[world.c1], weekdays=[0, 2, 4]
    )
    today = timezone.localdate()
    made = tasks.plan_sessions.delay().get()
    expected = sum(1 for n in range(14) if (today + dt.timedelta(days=n)).weekday() in (0, 2, 4))
    assert Session.objects.filter(service=lunch).count() == expected
    assert made >= expected  # the world's own lunch service is planned too
    assert tasks.plan_sessions.delay().get() == 0
    first = Session.objects.filter(service=lunch).earliest("starts_at")
    assert timezone.localtime(first.starts_at).time() == lunch.session_start
    assert first.capacity == lunch.session_capacity
