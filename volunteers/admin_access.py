"""Who may use which back-office screen for places, people, identities, organisations and staff posts, and
the group that carries those permissions for every staff member.

Apart from the screens (admin_viewsets.py) because the services need the group too: appointing someone
staff puts them in it (services.do_appoint_staff).
"""

from django.contrib.auth import get_permission_codename
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from core.admin_kit import ScopedPermissionPolicy, register_policies

from .models import (
    Community,
    District,
    DutyCategory,
    Grid,
    GridWorkerRole,
    IdentityClaim,
    Organisation,
    Skill,
    StaffPost,
    Street,
    User,
)
from .scopes import ANY_STAFF, DISTRICT_ADMIN, STREET_UP, SUPERUSER_ONLY

STAFF_GROUP = "Service centre staff"

_REFERENCE = {"view": ANY_STAFF, "add": DISTRICT_ADMIN, "change": DISTRICT_ADMIN, "delete": DISTRICT_ADMIN}

POLICIES = {
    # Places: staff edit the places of their area; deleting one (it carries people, claims, tasks) is
    # left to superusers.
    District: ScopedPermissionPolicy(
        District,
        actions={
            "view": DISTRICT_ADMIN,
            "change": DISTRICT_ADMIN,
            "add": SUPERUSER_ONLY,
            "delete": SUPERUSER_ONLY,
        },
    ),
    Street: ScopedPermissionPolicy(
        Street,
        actions={"view": STREET_UP, "change": STREET_UP, "add": DISTRICT_ADMIN, "delete": SUPERUSER_ONLY},
    ),
    Community: ScopedPermissionPolicy(
        Community,
        actions={"view": ANY_STAFF, "change": ANY_STAFF, "add": STREET_UP, "delete": SUPERUSER_ONLY},
    ),
    Grid: ScopedPermissionPolicy(
        Grid, actions={"view": ANY_STAFF, "change": ANY_STAFF, "add": ANY_STAFF, "delete": SUPERUSER_ONLY}
    ),
    DutyCategory: ScopedPermissionPolicy(DutyCategory, actions=_REFERENCE, scoped=False),
    GridWorkerRole: ScopedPermissionPolicy(GridWorkerRole, actions=_REFERENCE, scoped=False),
    Skill: ScopedPermissionPolicy(Skill, actions=_REFERENCE, scoped=False),
    # People register themselves (or come from a spreadsheet import), so nobody adds or deletes them
    # here. Staff are deliberately *not* given Django's change_user permission: Wagtail's own Users
    # screen grants everything to holders of that permission, including making someone a superuser.
    # The people screen therefore checks staff role + scope only.
    User: ScopedPermissionPolicy(User, actions={"view": ANY_STAFF, "change": ANY_STAFF}, model_perms=False),
    # "change" on a claim or an application means deciding it, through the services.
    IdentityClaim: ScopedPermissionPolicy(IdentityClaim, actions={"view": ANY_STAFF, "change": ANY_STAFF}),
    Organisation: ScopedPermissionPolicy(Organisation, actions={"view": ANY_STAFF, "change": ANY_STAFF}),
    # Posts are handed out from above (see services.do_appoint_staff); there is no dismissal service yet.
    StaffPost: ScopedPermissionPolicy(StaffPost, actions={"view": STREET_UP, "add": STREET_UP}),
}

# The user model keeps wagtail.users' ModelPermissionPolicy for Wagtail's Users screen (superusers only,
# as staff hold no user permissions); the people screen passes its policy to its views itself.
register_policies(POLICIES, skip={User})


def ensure_staff_group() -> Group:
    """The group every staff member is in: Wagtail admin access plus the model permissions the back
    office needs, which the scope rule then narrows to the member's area. Idempotent."""
    group, _created = Group.objects.get_or_create(name=STAFF_GROUP)
    wanted = Q(content_type__app_label="wagtailadmin", codename="access_admin")
    for model, policy in POLICIES.items():
        if not policy.model_perms:
            continue
        codenames = [
            get_permission_codename(action, model._meta) for action, roles in policy.actions.items() if roles
        ]
        wanted |= Q(content_type=ContentType.objects.get_for_model(model), codename__in=codenames)
    group.permissions.add(*Permission.objects.filter(wanted))
    return group
