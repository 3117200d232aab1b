"""Reads for the grid-task pages. Each returns a queryset that already joins what its page shows, so a
page's query count stays the same however many tasks or sign-ups it lists (see
tests/gridtasks/test_queries.py)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.search import matching_pks
from volunteers.models import Community, DutyCategory, Grid, Organisation, User
from volunteers.scopes import scope_for

from .models import Attendance, GridTask, Scan, SignUp

LIVE = SignUp.LIVE
# A sign-up that still concerns the person: live, or finished with an attendance record or a no-show.
SHOWN_TO_PERSON = (*LIVE, SignUp.Status.ATTENDED, SignUp.Status.NO_SHOW)
# For counts on organisers' pages: who has (or had) a place, and who is still waiting for one.
HAS_PLACE = (SignUp.Status.CONFIRMED, SignUp.Status.ATTENDED, SignUp.Status.NO_SHOW)
WAITING = (SignUp.Status.WAITLISTED, SignUp.Status.OFFERED)

_TASK_JOINS = ("grid__community", "category", "organisation")


def _viewer_signup(viewer: User | None, field: str = "status"):
    """The viewer's latest sign-up for the outer task (one column of it), as a subquery."""
    return Subquery(
        SignUp.objects.filter(task=OuterRef("pk"), person=viewer, status__in=SHOWN_TO_PERSON)
        .order_by("-created_at", "-id")
        .values(field)[:1]
    )


@dataclass(frozen=True)
class TaskFilters:
    community: Community | None = None
    grid: Grid | None = None
    category: DutyCategory | None = None
    day: date | None = None
    open_only: bool = False
    q: str = ""  # words to find in title, description, place or duty (core.search, Chinese-aware)


def task_list(
    *, viewer: User | None, filters: TaskFilters = TaskFilters(), now: datetime | None = None
) -> QuerySet:
    """Published tasks that have not ended, soonest first, with the viewer's sign-up status
    (`my_status`, None if not signed up) on each row."""
    now = now or timezone.now()
    qs = GridTask.objects.filter(status=GridTask.Status.PUBLISHED, ends_at__gt=now).select_related(
        *_TASK_JOINS
    )
    if filters.community:
        qs = qs.filter(grid__community=filters.community)
    if filters.grid:
        qs = qs.filter(grid=filters.grid)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.day:
        tz = timezone.get_current_timezone()
        start = datetime.combine(filters.day, time.min, tzinfo=tz)
        qs = qs.filter(starts_at__gte=start, starts_at__lt=start + timedelta(days=1))
    if filters.open_only:
        qs = qs.filter(taken__lt=F("capacity"))
    if filters.q:
        # The list keeps its date order; the search only says which of these tasks match.
        qs = qs.filter(pk__in=matching_pks(qs, filters.q))
    if viewer is not None and viewer.is_authenticated:
        qs = qs.annotate(my_status=_viewer_signup(viewer))
    return qs.order_by("starts_at", "id")


def managed_tasks(*, actor: User, now: datetime | None = None) -> QuerySet:
    """Tasks the actor may change (drafts included) that ended at most a week ago, with sign-up counts."""
    now = now or timezone.now()
    return (
        scope_for(actor)
        .changeable(GridTask.objects.all())
        .filter(ends_at__gt=now - timedelta(days=7))
        .select_related(*_TASK_JOINS)
        .annotate(
            n_confirmed=Count("signups", filter=Q(signups__status__in=HAS_PLACE)),
            n_waiting=Count("signups", filter=Q(signups__status__in=WAITING)),
        )
        .order_by("starts_at", "id")
    )


def can_create_tasks(actor: User) -> bool:
    if not actor.is_authenticated:
        return False
    scope = scope_for(actor)
    return bool(scope.superuser or scope.admin_org_ids) or scope.managed_grids().exists()


def task_for_page(*, code: str, viewer: User | None) -> GridTask | None:
    """The task behind a public code, if the viewer may see it, with its sign-up counts."""
    qs = scope_for(viewer).visible(GridTask.objects.all())
    return (
        qs.select_related(*_TASK_JOINS)
        .annotate(
            n_confirmed=Count("signups", filter=Q(signups__status__in=HAS_PLACE), distinct=True),
            n_waiting=Count("signups", filter=Q(signups__status__in=WAITING), distinct=True),
            # Waiting without an offer: an offered place is already counted in `taken`.
            n_queue=Count("signups", filter=Q(signups__status=SignUp.Status.WAITLISTED), distinct=True),
        )
        .filter(public_code=code)
        .first()
    )


def task_by_code(*, code: str, viewer: User | None) -> GridTask | None:
    """The bare task behind a public code, if the viewer may see it (for the scanners' JSON endpoints)."""
    return scope_for(viewer).visible(GridTask.objects.filter(public_code=code)).first()


def signup_of(*, task: GridTask, person: User) -> SignUp | None:
    """The person's current sign-up for the task (live or finished), with its attendance and, when
    waitlisted, `ahead`: how many are before them in the queue."""
    if person is None or not person.is_authenticated:
        return None
    ahead = (
        SignUp.objects.filter(
            task=OuterRef("task"), status=SignUp.Status.WAITLISTED, created_at__lt=OuterRef("created_at")
        )
        .order_by()
        .values("task")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        SignUp.objects.filter(task=task, person=person, status__in=SHOWN_TO_PERSON)
        .select_related("attendance")
        .annotate(ahead=Coalesce(Subquery(ahead, output_field=IntegerField()), 0))
        .order_by("-created_at", "-id")
        .first()
    )


@dataclass
class MyTasks:
    offers: list
    upcoming: list
    waiting: list
    past: list
    minutes: int
    attended: int


def my_tasks(*, person: User, now: datetime | None = None) -> MyTasks:
    """A person's sign-ups, grouped for "my tasks": offers to confirm, upcoming, waitlisted, and past
    ones with attendance. Two queries whatever the number of sign-ups."""
    now = now or timezone.now()
    ahead = (
        SignUp.objects.filter(
            task=OuterRef("task"), status=SignUp.Status.WAITLISTED, created_at__lt=OuterRef("created_at")
        )
        .order_by()
        .values("task")
        .annotate(n=Count("pk"))
        .values("n")
    )
    signups = list(
        SignUp.objects.filter(person=person, status__in=SHOWN_TO_PERSON)
        .filter(task__ends_at__gt=now - timedelta(days=180))
        .select_related("task__grid__community", "task__category", "attendance")
        .annotate(ahead=Coalesce(Subquery(ahead, output_field=IntegerField()), 0))
        .order_by("task__starts_at", "id")
    )
    groups = MyTasks(offers=[], upcoming=[], waiting=[], past=[], minutes=0, attended=0)
    for signup in signups:
        ended = signup.task.ends_at <= now
        if signup.status == SignUp.Status.OFFERED and not ended:
            groups.offers.append(signup)
        elif signup.status == SignUp.Status.WAITLISTED and not ended:
            groups.waiting.append(signup)
        elif signup.status == SignUp.Status.CONFIRMED and not ended:
            groups.upcoming.append(signup)
        elif signup.status in (SignUp.Status.CONFIRMED, SignUp.Status.ATTENDED, SignUp.Status.NO_SHOW):
            groups.past.append(signup)
    groups.past.reverse()  # most recent first
    totals = Attendance.objects.filter(signup__person=person, counts=True).aggregate(
        minutes=Coalesce(Sum("verified_minutes"), 0), n=Count("pk")
    )
    groups.minutes, groups.attended = totals["minutes"], totals["n"]
    return groups


def attendance_sheet(*, task: GridTask) -> dict:
    """Everything the organiser's attendance sheet shows, in three queries."""
    signups = list(
        SignUp.objects.filter(task=task)
        .exclude(status__in=[SignUp.Status.CANCELLED, SignUp.Status.EXPIRED])
        .select_related("person", "attendance")
        .order_by("created_at", "id")
    )
    conflicts = list(
        Scan.objects.filter(task=task, conflict=True)
        .select_related("signup__person", "actor")
        .order_by("-scanned_at")
    )
    return {
        "present": [s for s in signups if s.status in (SignUp.Status.CONFIRMED, SignUp.Status.ATTENDED)],
        "no_shows": [s for s in signups if s.status == SignUp.Status.NO_SHOW],
        "waiting": [s for s in signups if s.status in (SignUp.Status.WAITLISTED, SignUp.Status.OFFERED)],
        "conflicts": conflicts,
        "checked_in": sum(1 for s in signups if hasattr(s, "attendance") and s.attendance.checked_in_at),
    }


def tasks_managed_for_person(*, actor: User, person: User, now: datetime | None = None) -> list[GridTask]:
    """Tasks around now that `actor` manages and `person` holds a place on: the only case in which a
    scanned personal QR shows the person's name to whoever scanned it."""
    now = now or timezone.now()
    tasks = (
        scope_for(actor)
        .changeable(GridTask.objects.all())
        .filter(
            status=GridTask.Status.PUBLISHED,
            signups__person=person,
            signups__status__in=[SignUp.Status.CONFIRMED, SignUp.Status.ATTENDED],
            starts_at__lt=now + timedelta(hours=12),
            ends_at__gt=now - timedelta(hours=12),
        )
        .select_related(*_TASK_JOINS)
        .order_by("starts_at")
        .distinct()
    )
    return list(tasks)


def calendar_signups(*, person: User, now: datetime | None = None) -> QuerySet:
    """Sign-ups for the person's calendar feed: the last 60 days and everything ahead."""
    now = now or timezone.now()
    return (
        SignUp.objects.filter(person=person, task__ends_at__gt=now - timedelta(days=60))
        .filter(
            Q(status__in=SHOWN_TO_PERSON)
            # A task cancelled by its organiser stays in the feed as cancelled, so calendars drop it.
            | Q(status=SignUp.Status.CANCELLED, task__status=GridTask.Status.CANCELLED)
        )
        .select_related("task__grid__community", "task__category")
        .order_by("task__starts_at", "id")
    )


def filter_choices() -> dict:
    return {
        "communities": list(Community.objects.order_by("street__name", "name").select_related("street")),
        "grids": list(Grid.objects.select_related("community").order_by("community__name", "code")),
        "categories": list(DutyCategory.objects.all()),
    }


def organisations_for(actor: User) -> QuerySet:
    """Organisations in whose name the actor may create tasks (admins, and staff above them)."""
    return (
        scope_for(actor)
        .changeable(Organisation.objects.filter(status=Organisation.Status.APPROVED))
        .order_by("name")
    )
