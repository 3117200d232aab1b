"""Who a notice is for.

A notice has target rows. A row names a place (a street, a community or a grid), a role, or both; it
matches a person when the place contains their home grid (no place: anywhere) and they hold the role (no
role: anyone). A notice targets a person when any of its rows matches them.

Roles are of two kinds, kept apart in the stored value because both lists contain "volunteer":
- "role:<scopes.Role>": what the person does here (grid worker, organisation member, staff…), exactly as
  `volunteers.scopes` derives it;
- "identity:<IdentityKind>": a verified "1+3+N" identity (party member, deputy, legal officer…).

The same rule is written twice, once per direction, and tests/cms/test_targeting.py checks that the two
agree for every kind of person: `rows_matching(person)` filters target rows for one reader (notice lists,
the notice page); `audience_q(rows)` filters people for one notice (delivery, reading rates).

The rows are `NoticeTarget`s, defined here with their rule (and loaded with the app through cms.models).
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, FieldRowPanel
from wagtail.models import Orderable

from volunteers.models import (
    GRID_WORKER_KINDS,
    Grid,
    IdentityClaim,
    IdentityKind,
    Membership,
    Organisation,
    StaffPost,
)
from volunteers.scopes import Role, scope_for

ROLE_PREFIX = "role:"
IDENTITY_PREFIX = "identity:"

ROLE_LABELS = {
    Role.RESIDENT: _("Everyone registered"),
    Role.VOLUNTEER: _("Volunteers (any verified identity)"),
    Role.ORG_MEMBER: _("Organisation members"),
    Role.ORG_ADMIN: _("Organisation administrators"),
    Role.GRID_WORKER: _("Grid workers"),
    Role.COMMUNITY_STAFF: _("Community staff"),
    Role.STREET_STAFF: _("Street staff"),
    Role.DISTRICT_ADMIN: _("District administrators"),
}

ROLE_CHOICES = [
    (_("Roles"), [(f"{ROLE_PREFIX}{role.value}", label) for role, label in ROLE_LABELS.items()]),
    (
        _("“1+3+N” identities"),
        [(f"{IDENTITY_PREFIX}{value}", label) for value, label in IdentityKind.choices],
    ),
]
ROLE_VALUES = {value for _group, options in ROLE_CHOICES for value, _label in options}


def role_label(value: str) -> str:
    for _group, options in ROLE_CHOICES:
        for option, label in options:
            if option == value:
                return str(label)
    return value


def roles_of(person) -> set[str]:
    """The role values a signed-in person holds (one query beyond the cached scope)."""
    scope = scope_for(person)
    roles = {f"{ROLE_PREFIX}{role.value}" for role in scope.roles}
    kinds = IdentityClaim.objects.filter(person=person, status=IdentityClaim.Status.VERIFIED).values_list(
        "kind", flat=True
    )
    return roles | {f"{IDENTITY_PREFIX}{kind}" for kind in kinds}


def home_places(person) -> tuple[int | None, int | None, int | None]:
    """(grid, community, street) ids of the person's home grid, or Nones without one."""
    if person.home_grid_id is None:
        return None, None, None
    row = Grid.objects.filter(pk=person.home_grid_id).values_list(
        "pk", "community_id", "community__street_id"
    )
    return row.first() or (None, None, None)


NO_PLACE = Q(street__isnull=True, community__isnull=True, grid__isnull=True)
EMPTY_ROW = NO_PLACE & Q(role="")


def rows_matching(person) -> Q:
    """A filter on NoticeTarget: the rows that match this signed-in person."""
    grid_id, community_id, street_id = home_places(person)
    place = NO_PLACE
    if grid_id is not None:
        place |= Q(grid_id=grid_id) | Q(community_id=community_id) | Q(street_id=street_id)
    role = Q(role="") | Q(role__in=roles_of(person))
    return place & role & ~EMPTY_ROW


def _role_q(value: str) -> Q:
    """A filter on people: those who hold the role. Mirrors scopes.scope_for and roles_of."""
    verified = IdentityClaim.objects.filter(person=OuterRef("pk"), status=IdentityClaim.Status.VERIFIED)
    if value.startswith(IDENTITY_PREFIX):
        return Q(Exists(verified.filter(kind=value.removeprefix(IDENTITY_PREFIX))))
    role = value.removeprefix(ROLE_PREFIX)
    memberships = Membership.objects.filter(
        person=OuterRef("pk"),
        status=Membership.Status.ACTIVE,
        organisation__status=Organisation.Status.APPROVED,
    )
    posts = StaffPost.objects.filter(person=OuterRef("pk"))
    match role:
        case Role.RESIDENT:
            return Q(pk__isnull=False)
        case Role.VOLUNTEER:
            return Q(Exists(verified))
        case Role.GRID_WORKER:
            return Q(Exists(verified.filter(kind__in=GRID_WORKER_KINDS, grid__isnull=False)))
        case Role.ORG_MEMBER:
            return Q(Exists(memberships))
        case Role.ORG_ADMIN:
            return Q(Exists(memberships.filter(role=Membership.Role.ADMIN)))
        case Role.COMMUNITY_STAFF:
            return Q(Exists(posts.filter(level=StaffPost.Level.COMMUNITY)))
        case Role.STREET_STAFF:
            return Q(Exists(posts.filter(level=StaffPost.Level.STREET)))
        case Role.DISTRICT_ADMIN:
            return Q(Exists(posts.filter(level=StaffPost.Level.DISTRICT)))
    # An unknown value (a role removed from the code) matches nobody rather than everybody.
    return Q(pk__in=[])


def audience_q(rows) -> Q:
    """A filter on people: those any of the target rows (NoticeTarget objects) matches. Subqueries, not
    joins, so each person appears once and counts per grid are plain COUNTs."""
    q = Q(pk__in=[])
    for row in rows:
        match = Q()
        if row.grid_id:
            match &= Q(home_grid_id=row.grid_id)
        elif row.community_id:
            match &= Q(home_grid__community_id=row.community_id)
        elif row.street_id:
            match &= Q(home_grid__community__street_id=row.street_id)
        if row.role:
            match &= _role_q(row.role)
        if match:  # an empty row targets nobody (validation refuses it anyway)
            q |= match
    return q


def describe(row) -> str:
    """A row in words, e.g. "星兴社区 · 党员"."""
    parts = []
    place = row.grid or row.community or row.street
    if place is not None:
        parts.append(str(place))
    if row.role:
        parts.append(role_label(row.role))
    return " · ".join(parts)


class NoticeTarget(Orderable):
    """One row of who a notice is for: a place, a role or both (see the module docstring)."""

    page = ParentalKey("cms.NoticePage", on_delete=models.CASCADE, related_name="targets")
    street = models.ForeignKey(
        "volunteers.Street", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("street")
    )
    community = models.ForeignKey(
        "volunteers.Community",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("community"),
    )
    grid = models.ForeignKey(
        "volunteers.Grid", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("grid")
    )
    role = models.CharField(_("role or identity"), max_length=40, blank=True, choices=ROLE_CHOICES)

    panels = [
        FieldRowPanel([FieldPanel("street"), FieldPanel("community"), FieldPanel("grid")]),
        FieldPanel("role"),
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("notice target")
        verbose_name_plural = _("notice targets")
        constraints = [
            models.CheckConstraint(
                name="notice_target_one_place_at_most",
                condition=(
                    models.Q(street__isnull=True, community__isnull=True)
                    | models.Q(street__isnull=True, grid__isnull=True)
                    | models.Q(community__isnull=True, grid__isnull=True)
                ),
            ),
        ]

    def __str__(self):
        return describe(self)

    @property
    def place(self):
        return self.grid or self.community or self.street

    def clean(self):
        places = [p for p in (self.street_id, self.community_id, self.grid_id) if p]
        if len(places) > 1:
            raise ValidationError(_("Choose one place per target: a street, a community or a grid."))
        if not places and not self.role:
            raise ValidationError(_("Choose a place, a role, or both."))
