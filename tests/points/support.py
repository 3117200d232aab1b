"""Finished attendances to award, without going through check-in (grid tasks test that part)."""

from datetime import datetime, timedelta

from django.utils import timezone

from tests.factories import UserFactory
from tests.gridtasks.factories import GridTaskFactory
from volunteers.gridtasks.models import Attendance, SignUp
from volunteers.models import DutyCategory


def category(code="patrol") -> DutyCategory:
    found, _ = DutyCategory.objects.get_or_create(code=code, defaults={"name": code})
    return found


def finished_attendance(
    person=None, *, start: datetime | None = None, minutes: int = 120, points: int = 20, **task_fields
) -> Attendance:
    """A final, counting attendance of `person` (a new person if None) at a task that has ended."""
    person = person or UserFactory(notify_sms=False)
    start = start or (timezone.now() - timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    task_fields.setdefault("category", category())
    task = GridTaskFactory(
        starts_at=start, ends_at=start + timedelta(minutes=minutes), points=points, **task_fields
    )
    signup = SignUp.objects.create(task=task, person=person, status=SignUp.Status.ATTENDED)
    return Attendance.objects.create(
        signup=signup,
        checked_in_at=start,
        checked_out_at=start + timedelta(minutes=minutes),
        verified_minutes=minutes,
        counts=True,
        status=Attendance.Status.FINAL,
        finalised_at=start + timedelta(minutes=minutes),
    )


def request(attendance: Attendance) -> bool:
    from points.services import request_attendance_award

    task = attendance.signup.task
    return request_attendance_award(
        attendance_id=attendance.pk,
        person_id=attendance.signup.person_id,
        minutes=attendance.verified_minutes,
        points=task.points,
        category_id=task.category_id,
    )
