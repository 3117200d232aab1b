"""Reads for notices: who may read which (targeting.py has the rule), who a notice reaches, and how far it
has been read. Each returns a queryset or a list built by a fixed number of queries, whatever the number
of notices, targets or people."""

from dataclasses import dataclass

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.models import Notification
from volunteers.models import Community, Grid, User
from volunteers.scopes import Scope, scope_for

from .models import NoticePage, NoticeRead, NoticeTarget
from .moderation import whole_district
from .targeting import NO_PLACE, audience_q, rows_matching


def _staff_rows(scope: Scope) -> Q:
    """Target rows whose audience may live in the staff member's area: those naming a place that overlaps
    it (a street containing their community included) and those naming no place (a role, district-wide)."""
    c, s, d = scope.community_ids, scope.street_ids, scope.district_ids
    return (
        (NO_PLACE & ~Q(role=""))
        | Q(grid__community_id__in=c)
        | Q(grid__community__street_id__in=s)
        | Q(grid__community__street__district_id__in=d)
        | Q(community_id__in=c)
        | Q(community__street_id__in=s)
        | Q(community__street__district_id__in=d)
        | Q(street_id__in=s)
        | Q(street__district_id__in=d)
        | Q(street_id__in=Community.objects.filter(pk__in=c).values("street_id"))
    )


def _readable_q(viewer, matching: Q | None = None) -> Q:
    """Notices the viewer may read: public ones; those with a target matching them; for staff, those whose
    targets reach into their area; for superusers, all."""
    if viewer is None or not viewer.is_authenticated:
        return Q(is_public=True)
    scope = scope_for(viewer)
    if scope.superuser:
        return Q(pk__isnull=False)
    rows = NoticeTarget.objects.filter(page=OuterRef("pk"))
    q = Q(is_public=True) | Q(
        Exists(rows.filter(matching if matching is not None else rows_matching(viewer)))
    )
    if scope.is_staff:
        q |= Q(Exists(rows.filter(_staff_rows(scope))))
    return q


def visible_notices(*, viewer, now=None) -> QuerySet:
    """Live, unexpired notices the viewer may read, with `targets_me`, `my_read` and `my_ack` (booleans)
    for a signed-in viewer. Search and any other list of notices must start from this."""
    now = now or timezone.now()
    qs = NoticePage.objects.live().filter(Q(expire_at__isnull=True) | Q(expire_at__gt=now))
    if viewer is None or not viewer.is_authenticated:
        return qs.filter(_readable_q(viewer))
    matching = rows_matching(viewer)
    mine = NoticeRead.objects.filter(notice=OuterRef("pk"), person=viewer)
    return qs.filter(_readable_q(viewer, matching)).annotate(
        targets_me=Exists(NoticeTarget.objects.filter(page=OuterRef("pk")).filter(matching)),
        my_read=Exists(mine),
        my_ack=Exists(mine.filter(acknowledged_at__isnull=False)),
    )


def latest_notices(*, viewer, limit: int) -> list:
    return list(visible_notices(viewer=viewer).order_by("-first_published_at", "-pk")[:limit])


def can_read(*, viewer, notice) -> bool:
    return visible_notices(viewer=viewer).filter(pk=notice.pk).exists()


def is_targeted(*, person, notice) -> bool:
    """Whether a target of the notice matches the person (being able to read it is not enough: staff and
    the public read notices that do not target them)."""
    if person is None or not person.is_authenticated or notice.pk is None:
        return False
    return NoticeTarget.objects.filter(page=notice).filter(rows_matching(person)).exists()


@dataclass(frozen=True)
class Reading:
    targeted: bool
    read: NoticeRead | None

    @property
    def acknowledged_at(self):
        return self.read.acknowledged_at if self.read else None


def reading_of(*, notice, viewer) -> Reading:
    if viewer is None or not viewer.is_authenticated or notice.pk is None:  # an unsaved preview
        return Reading(targeted=False, read=None)
    return Reading(
        targeted=is_targeted(person=viewer, notice=notice),
        read=NoticeRead.objects.filter(notice=notice, person=viewer).first(),
    )


def audience(*, notice) -> QuerySet:
    """The active people the notice targets, each once."""
    rows = list(notice.targets.all())
    return User.objects.filter(is_active=True).filter(audience_q(rows))


# --- reading rates (staff) -----------------------------------------------------------------------------
def _grids_of(scope: Scope) -> QuerySet:
    return Grid.objects.filter(
        Q(community_id__in=scope.community_ids)
        | Q(community__street_id__in=scope.street_ids)
        | Q(community__street__district_id__in=scope.district_ids)
    )


def notices_for_staff(*, actor) -> QuerySet:
    """Published notices with targets that reach into the staff member's area (expired ones too: the rates
    still matter), newest first, with the reads and acknowledgements of the people in that area."""
    scope = scope_for(actor)
    qs = NoticePage.objects.filter(first_published_at__isnull=False).filter(
        Exists(NoticeTarget.objects.filter(page=OuterRef("pk")))
    )
    reads = NoticeRead.objects.filter(notice=OuterRef("pk"))
    if not whole_district(scope):
        qs = qs.filter(Exists(NoticeTarget.objects.filter(page=OuterRef("pk")).filter(_staff_rows(scope))))
        reads = reads.filter(person__home_grid__in=_grids_of(scope))

    def count(q: QuerySet):
        return Coalesce(
            Subquery(
                q.order_by().values("notice").annotate(n=Count("pk")).values("n"), output_field=IntegerField()
            ),
            0,
        )

    return qs.annotate(
        n_read=count(reads), n_ack=count(reads.filter(acknowledged_at__isnull=False))
    ).order_by("-first_published_at", "-pk")


@dataclass(frozen=True)
class GridRate:
    grid_id: int | None
    grid: str
    community: str
    targeted: int
    read: int
    acknowledged: int

    @property
    def read_percent(self) -> int:
        return round(100 * self.read / self.targeted) if self.targeted else 0

    @property
    def ack_percent(self) -> int:
        return round(100 * self.acknowledged / self.targeted) if self.targeted else 0


def reading_rates(*, notice, actor) -> list[GridRate]:
    """Per home grid in the staff member's area: how many people the notice targets, how many opened it,
    how many acknowledged it. One aggregate query. District-wide staff also get the targeted people
    without a home grid (grid None)."""
    scope = scope_for(actor)
    people = audience(notice=notice)
    if not whole_district(scope):
        people = people.filter(home_grid__in=_grids_of(scope))
    reads = NoticeRead.objects.filter(notice=notice, person=OuterRef("pk"))
    rows = (
        people.order_by()
        .values("home_grid_id", "home_grid__name", "home_grid__community__name")
        .annotate(
            targeted=Count("pk"),
            read=Count("pk", filter=Q(Exists(reads))),
            acknowledged=Count("pk", filter=Q(Exists(reads.filter(acknowledged_at__isnull=False)))),
        )
        # By code, as the place lists are: "第一网格" before "第二网格" (names would sort by code point).
        .order_by("home_grid__community__code", "home_grid__code")
    )
    return [
        GridRate(
            grid_id=row["home_grid_id"],
            grid=row["home_grid__name"] or "",
            community=row["home_grid__community__name"] or "",
            targeted=row["targeted"],
            read=row["read"],
            acknowledged=row["acknowledged"],
        )
        for row in rows
    ]


def delivered_count(*, notice) -> int:
    return Notification.objects.filter(key__startswith=notice_key_prefix(notice.pk)).count()


def notice_key_prefix(notice_id: int) -> str:
    return f"notice:{notice_id}:"
