"""The scope rule: what each person may see and change. Web views, the Wagtail admin and the API all ask here.

A person's scope is read once per request from their staff posts, verified grid-worker identities and
organisation memberships. Each scoped model is registered with the lookups that lead from it to its place
(grid, community, street, district), its organisation and its owner; `visible()` and `changeable()` turn
the scope into one `Q` on those lookups, so a list is filtered in the database and a single object is
checked by the same rule.

| who | sees | changes |
|---|---|---|
| district admin, street or community staff | what is placed in their district, street or community | same |
| grid worker | what is placed in their grid(s) | what the model allows grid workers to change |
| organisation admin | their organisation and what belongs to it | the same |
| organisation member | their organisation and what belongs to it | nothing of it |
| everyone | public objects and their own | their own, where the model allows |
"""

from dataclasses import dataclass, field
from enum import StrEnum

from django.db.models import Model, Q, QuerySet

from .models import (
    GRID_WORKER_KINDS,
    Community,
    District,
    Grid,
    IdentityClaim,
    Membership,
    Organisation,
    StaffPost,
    Street,
    User,
)


class Role(StrEnum):
    RESIDENT = "resident"
    VOLUNTEER = "volunteer"
    ORG_MEMBER = "org_member"
    ORG_ADMIN = "org_admin"
    GRID_WORKER = "grid_worker"
    COMMUNITY_STAFF = "community_staff"
    STREET_STAFF = "street_staff"
    DISTRICT_ADMIN = "district_admin"


STAFF_ROLES = {Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.DISTRICT_ADMIN}

# Who may use a back-office action (core.admin_kit.ScopedPermissionPolicy): sets of staff roles.
ANY_STAFF = frozenset(STAFF_ROLES)
STREET_UP = frozenset({Role.STREET_STAFF, Role.DISTRICT_ADMIN})
DISTRICT_ADMIN = frozenset({Role.DISTRICT_ADMIN})
SUPERUSER_ONLY = frozenset()

_STAFF_LEVEL = {
    Role.COMMUNITY_STAFF: StaffPost.Level.COMMUNITY,
    Role.STREET_STAFF: StaffPost.Level.STREET,
    Role.DISTRICT_ADMIN: StaffPost.Level.DISTRICT,
}


@dataclass(frozen=True)
class Rule:
    """How a model reaches the things a scope is made of. Lookups are ORM paths; "pk" means the row itself."""

    # level ("grid", "community", …) → lookup, or a tuple of lookups any of which may match
    places: dict[str, str | tuple[str, ...]] = field(default_factory=dict)
    organisation: str | None = None
    owner: str | None = None
    public: Q | None = None  # rows anyone may read (EVERY_ROW for all of them)
    grid_worker_changes: bool = False
    owner_changes: bool = False
    org_member_reads: bool = True


# An empty Q() vanishes when OR-ed with another Q, so "all rows" must be spelled out.
EVERY_ROW = Q(pk__isnull=False)

_rules: dict[type[Model], Rule] = {}


def register(model: type[Model], rule: Rule) -> None:
    _rules[model] = rule


def rule_for(model: type[Model]) -> Rule:
    try:
        return _rules[model]
    except KeyError:
        raise LookupError(f"{model.__name__} has no scope rule; register one in its app's scopes") from None


@dataclass(frozen=True)
class Scope:
    person_id: int | None = None
    superuser: bool = False
    district_ids: frozenset[int] = frozenset()
    street_ids: frozenset[int] = frozenset()
    community_ids: frozenset[int] = frozenset()
    grid_ids: frozenset[int] = frozenset()
    admin_org_ids: frozenset[int] = frozenset()
    member_org_ids: frozenset[int] = frozenset()
    has_verified_identity: bool = False

    @property
    def roles(self) -> set[Role]:
        roles = {Role.RESIDENT}
        if self.has_verified_identity:
            roles.add(Role.VOLUNTEER)
        if self.member_org_ids:
            roles.add(Role.ORG_MEMBER)
        if self.admin_org_ids:
            roles.add(Role.ORG_ADMIN)
        if self.grid_ids:
            roles.add(Role.GRID_WORKER)
        if self.community_ids:
            roles.add(Role.COMMUNITY_STAFF)
        if self.street_ids:
            roles.add(Role.STREET_STAFF)
        if self.district_ids:
            roles.add(Role.DISTRICT_ADMIN)
        return roles

    @property
    def is_staff(self) -> bool:
        return self.superuser or bool(self.roles & STAFF_ROLES)

    # --- the rule -------------------------------------------------------------------------------
    @staticmethod
    def _place_q(rule: Rule, level: str, ids) -> Q:
        q = Q(pk__in=[])
        if ids and level in rule.places:
            paths = rule.places[level]
            for path in (paths,) if isinstance(paths, str) else paths:
                q |= Q(**{f"{path}__in": ids})
        return q

    def _staff_q(self, rule: Rule) -> Q:
        return (
            self._place_q(rule, "district", self.district_ids)
            | self._place_q(rule, "street", self.street_ids)
            | self._place_q(rule, "community", self.community_ids)
        )

    def _grid_q(self, rule: Rule) -> Q:
        return self._place_q(rule, "grid", self.grid_ids)

    def _owner_q(self, rule: Rule) -> Q:
        if rule.owner and self.person_id:
            return Q(**{rule.owner: self.person_id})
        return Q(pk__in=[])

    def _org_q(self, rule: Rule, org_ids) -> Q:
        if rule.organisation and org_ids:
            return Q(**{f"{rule.organisation}__in": org_ids})
        return Q(pk__in=[])

    def read_q(self, model: type[Model]) -> Q:
        rule = rule_for(model)
        if self.superuser:
            return Q()
        q = self._staff_q(rule) | self._grid_q(rule) | self._owner_q(rule)
        q |= self._org_q(rule, self.admin_org_ids | (self.member_org_ids if rule.org_member_reads else set()))
        if rule.public is not None:
            q |= rule.public
        return q

    def change_q(self, model: type[Model]) -> Q:
        rule = rule_for(model)
        if self.superuser:
            return Q()
        q = self._staff_q(rule) | self._org_q(rule, self.admin_org_ids)
        if rule.grid_worker_changes:
            q |= self._grid_q(rule)
        if rule.owner_changes:
            q |= self._owner_q(rule)
        return q

    def visible(self, qs: QuerySet) -> QuerySet:
        return qs.filter(self.read_q(qs.model)).distinct() if not self.superuser else qs

    def changeable(self, qs: QuerySet) -> QuerySet:
        return qs.filter(self.change_q(qs.model)).distinct() if not self.superuser else qs

    def can_view(self, obj: Model) -> bool:
        return self.visible(obj._meta.model._default_manager.filter(pk=obj.pk)).exists()

    def can_change(self, obj: Model) -> bool:
        return self.changeable(obj._meta.model._default_manager.filter(pk=obj.pk)).exists()

    # Places this scope manages, used to limit choices in forms (e.g. the grid of a new task).
    def managed_grids(self) -> QuerySet:
        return Grid.objects.filter(self.change_q(Grid) | self._grid_q(rule_for(Grid)))


ANONYMOUS = Scope()


def scope_for(user) -> Scope:
    """Build (and cache on the user object, for the request) the scope of `user`."""
    if user is None or not user.is_authenticated:
        return ANONYMOUS
    cached = getattr(user, "_gongzhi_scope", None)
    if cached is not None:
        return cached
    posts = list(
        StaffPost.objects.filter(person=user).values_list("level", "district_id", "street_id", "community_id")
    )
    grid_ids = IdentityClaim.objects.filter(
        person=user, kind__in=GRID_WORKER_KINDS, status=IdentityClaim.Status.VERIFIED, grid__isnull=False
    ).values_list("grid_id", flat=True)
    memberships = Membership.objects.filter(
        person=user, status=Membership.Status.ACTIVE, organisation__status=Organisation.Status.APPROVED
    ).values_list("organisation_id", "role")
    memberships = list(memberships)
    scope = Scope(
        person_id=user.pk,
        superuser=user.is_superuser,
        district_ids=frozenset(d for level, d, _s, _c in posts if level == StaffPost.Level.DISTRICT),
        street_ids=frozenset(s for level, _d, s, _c in posts if level == StaffPost.Level.STREET),
        community_ids=frozenset(c for level, _d, _s, c in posts if level == StaffPost.Level.COMMUNITY),
        grid_ids=frozenset(grid_ids),
        admin_org_ids=frozenset(o for o, role in memberships if role == Membership.Role.ADMIN),
        member_org_ids=frozenset(o for o, _role in memberships),
        has_verified_identity=IdentityClaim.objects.filter(
            person=user, status=IdentityClaim.Status.VERIFIED
        ).exists(),
    )
    user._gongzhi_scope = scope
    return scope


def staff_holding(roles) -> Q:
    """People with a staff post of any of `roles` (a filter on User)."""
    return Q(staff_posts__level__in=[level for role, level in _STAFF_LEVEL.items() if role in roles])


def forget_scope(user) -> None:
    """Drop the cached scope after a change to the person's posts, identities or memberships."""
    user.__dict__.pop("_gongzhi_scope", None)


_GRID_PLACES = {
    "grid": "pk",
    "community": "community",
    "street": "community__street",
    "district": "community__street__district",
}


def via(*prefixes: str, places: dict[str, str] = _GRID_PLACES) -> dict[str, tuple[str, ...]]:
    """The places of a model placed through a grid (or several: any matches), for its Rule: via("grid")
    for a model with a `grid` foreign key, via("task__grid") for one reached through its task."""
    return {
        level: tuple(prefix if path == "pk" else f"{prefix}__{path}" for prefix in prefixes)
        for level, path in places.items()
    }


register(District, Rule(places={"district": "pk"}, public=EVERY_ROW))
register(Street, Rule(places={"street": "pk", "district": "district"}, public=EVERY_ROW))
register(
    Community,
    Rule(places={"community": "pk", "street": "street", "district": "street__district"}, public=EVERY_ROW),
)
register(Grid, Rule(places=_GRID_PLACES, public=EVERY_ROW))
register(User, Rule(places=via("home_grid"), owner="pk", owner_changes=True))
register(
    IdentityClaim,
    # A claim for a grid is handled by that grid's staff; one without a grid (a deputy, say) by the
    # staff of the person's home grid.
    Rule(places=via("grid", "person__home_grid"), owner="person", org_member_reads=False),
)
register(
    Organisation,
    Rule(
        places={"community": "community", "street": "street", "district": "street__district"},
        organisation="pk",
        owner="applied_by",
        public=Q(status=Organisation.Status.APPROVED),
    ),
)
register(
    Membership,
    Rule(
        places={
            "community": "organisation__community",
            "street": "organisation__street",
            "district": "organisation__street__district",
        },
        organisation="organisation",
        owner="person",
    ),
)
register(
    StaffPost,
    Rule(
        # Posts are managed from above: street staff appoint community staff of their street.
        places={
            "street": "community__street",
            "district": ("community__street__district", "street__district", "district"),
        },
        owner="person",
    ),
)
