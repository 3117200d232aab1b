"""The Celery tasks of grid tasks: thin, idempotent, scheduled by beat (run eagerly in tests)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from config.celery import app
from core.models import Notification
from tests.factories import UserFactory
from tests.gridtasks.factories import GridTaskFactory
from volunteers.gridtasks import services, tasks
from volunteers.gridtasks.models import Attendance, GridTask, SignUp

pytestmark = pytest.mark.django_db


def test_beat_runs_the_grid_task_jobs_on_their_schedule():
    schedule = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    assert str(schedule["volunteers.gridtasks.tasks.expire_offers"]._orig_minute) == "*"
    assert schedule["volunteers.gridtasks.tasks.send_reminders"]._orig_minute == "*/5"
    assert schedule["volunteers.gridtasks.tasks.finalise_ended_tasks"]._orig_minute == "*/5"
    for name in (
        "expire_offers",
        "send_reminders",
        "finalise_ended_tasks",
        "finalise_task_attendance",
    ):
        task = app.tasks[f"volunteers.gridtasks.tasks.{name}"]
        assert task.acks_late, name


def test_expire_offers_task_moves_the_place_on_once():
    task = GridTaskFactory(capacity=1, offer_minutes=10)
    holder, first, second = UserFactory(), UserFactory(), UserFactory()
    held, _ = services.do_sign_up(task_id=task.pk, person=holder)
    offered, _ = services.do_sign_up(task_id=task.pk, person=first)
    services.do_sign_up(task_id=task.pk, person=second)
    services.do_cancel_signup(signup_id=held.pk, actor=holder)
    offered.refresh_from_db()

    with time_machine.travel(offered.offered_until + timedelta(seconds=1), tick=False):
        assert tasks.expire_offers.delay().get() == 1
        assert tasks.expire_offers.delay().get() == 0  # delivered twice: nothing more happens
    statuses = dict(task.signups.values_list("person", "status"))
    assert statuses[first.pk] == SignUp.Status.EXPIRED and statuses[second.pk] == SignUp.Status.OFFERED


def test_send_reminders_task_sends_each_reminder_once():
    task = GridTaskFactory(starts_at=timezone.now() + timedelta(minutes=40))
    services.do_sign_up(task_id=task.pk, person=UserFactory())
    tasks.send_reminders.delay().get()
    tasks.send_reminders.delay().get()
    assert Notification.objects.filter(key__startswith="reminder-hour:").count() == 1


def test_finalise_ended_tasks_picks_tasks_past_their_grace_only():
    now = timezone.now()

    def task_ending(ago: timedelta, grace: int = 30) -> GridTask:
        task = GridTaskFactory(starts_at=now - ago - timedelta(hours=2), checkin_grace_minutes=grace)
        task.ends_at = now - ago
        task.save()
        signup = SignUp.objects.create(task=task, person=UserFactory(), status=SignUp.Status.CONFIRMED)
        Attendance.objects.create(signup=signup, checked_in_at=task.starts_at, checked_out_at=task.ends_at)
        return task

    done = task_ending(timedelta(hours=1))
    in_grace = task_ending(timedelta(minutes=10))
    no_grace = task_ending(timedelta(minutes=10), grace=0)
    running = GridTaskFactory(starts_at=now - timedelta(minutes=5))
    SignUp.objects.create(task=running, person=UserFactory(), status=SignUp.Status.CONFIRMED)

    assert tasks.finalise_ended_tasks.delay().get() == 2
    assert tasks.finalise_ended_tasks.delay().get() == 0  # finalised tasks drop out

    def final(task):
        return task.signups.get().status == SignUp.Status.ATTENDED

    assert final(done) and final(no_grace) and not final(in_grace)
    assert running.signups.get().status == SignUp.Status.CONFIRMED
    # A finalisation queued for a task still inside its grace does nothing.
    assert tasks.finalise_task_attendance.delay(in_grace.pk).get() == 0
    assert not final(in_grace)
