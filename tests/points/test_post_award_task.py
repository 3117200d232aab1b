"""The post_award task is idempotent and survives a worker dying half-way."""

import pytest

from points import tasks
from points.models import Account, Award, Entry, PointsRule
from points.services import awards
from tests.points.support import category, finished_attendance, request

pytestmark = pytest.mark.django_db


class WorkerDied(Exception):
    pass


@pytest.fixture
def approved_award(django_capture_on_commit_callbacks):
    """An approved award whose post_award task has been queued but not run."""
    attendance = finished_attendance(minutes=45, points=12)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        request(attendance)
    assert len(queued) == 1
    award = Award.objects.get()
    assert award.status == Award.Status.APPROVED
    return award


def test_the_task_is_acknowledged_late_and_retries_transient_errors():
    assert tasks.post_award.acks_late
    assert tasks.post_award.max_retries >= 3


def test_running_the_task_twice_posts_once(approved_award):
    assert tasks.post_award.apply(args=[approved_award.pk]).get() == Award.Status.POSTED
    assert tasks.post_award.apply(args=[approved_award.pk]).get() == Award.Status.POSTED
    assert Entry.objects.count() == 2
    assert dict(Account.objects.values_list("unit", "balance")) == {"points": 12, "minutes": 45}


def test_a_worker_dying_after_posting_points_but_before_marking_the_award_then_rerun_posts_once(
    approved_award, monkeypatch
):
    real_mark = awards._mark_posted

    def die(award):
        raise WorkerDied

    monkeypatch.setattr(awards, "_mark_posted", die)
    with pytest.raises(WorkerDied):
        awards.do_post_award(award_id=approved_award.pk)
    # The points were posted inside the task's transaction, which died with it.
    assert Award.objects.get().status == Award.Status.APPROVED

    monkeypatch.setattr(awards, "_mark_posted", real_mark)
    tasks.post_award.apply(args=[approved_award.pk]).get()
    tasks.post_award.apply(args=[approved_award.pk]).get()
    assert Entry.objects.filter(key=f"award:{approved_award.pk}:points").count() == 1
    assert Entry.objects.count() == 2
    assert Award.objects.get().status == Award.Status.POSTED


def test_an_entry_left_by_an_earlier_run_is_reused_not_doubled(approved_award):
    # As if an earlier run had committed the points entry on its own (e.g. a future change that posts
    # outside the award's transaction): the key derived from the award makes the rerun reuse it.
    awards.do_post(
        person_id=approved_award.person_id,
        amount=12,
        kind=Entry.Kind.ATTENDANCE,
        key=f"award:{approved_award.pk}:points",
        reason="earlier run",
        source=f"award:{approved_award.pk}",
    )
    tasks.post_award.apply(args=[approved_award.pk]).get()
    award = Award.objects.get()
    assert award.status == Award.Status.POSTED
    assert award.points_entry.reason == "earlier run"
    assert Entry.objects.count() == 2
    assert dict(Account.objects.values_list("unit", "balance")) == {"points": 12, "minutes": 45}


def test_the_task_does_nothing_for_a_pending_or_rejected_award(django_capture_on_commit_callbacks):
    PointsRule.objects.create(name="需审核", category=category(), needs_approval=True)
    with django_capture_on_commit_callbacks(execute=True):
        request(finished_attendance())
    award = Award.objects.get()
    assert tasks.post_award.apply(args=[award.pk]).get() == Award.Status.PENDING
    assert not Entry.objects.exists()
