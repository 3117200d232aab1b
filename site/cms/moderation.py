"""Who drafts, approves and publishes notices in the Wagtail admin.

Community staff draft notices and submit them; street staff (and district administrators) approve them in
the notice workflow, or publish their own. Wagtail's own machinery does the work:

- two groups, "Notice editors" (add pages under the notice index: draft their own notices and submit them)
  and "Notice approvers" (add, change and publish there, and the group of the workflow's approval task);
- a workflow, "通知审核" (notice approval), with one `NoticeApprovalTask`, assigned to every notice index
  page.

A staff member's groups follow their staff posts (as the "Service centre staff" group does, see
volunteers.services.do_appoint_staff): `sync_staff_groups` runs whenever a post is saved or deleted
(receivers.py). The data migration 0004 creates the groups and the workflow; `ensure_groups` here and
workflow.py re-create whatever is missing (a test database that was flushed, an index page created
later), idempotently.

Wagtail's permissions are per page tree, not per place, so the scope rule narrows them: a staff member
works only on notices whose places lie inside their own area (`covers`), checked by the workflow task,
the admin hooks and the form.
"""

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q, QuerySet
from wagtail.models import Collection, GroupCollectionPermission

from volunteers.models import Community, Grid, StaffPost, Street
from volunteers.scopes import Scope, forget_scope, scope_for

from .targeting import NoticeTarget

EDITORS = "Notice editors"
APPROVERS = "Notice approvers"
WORKFLOW = "通知审核"  # names staff read in the editor ("提交给通知审核")
TASK = "街道审核"

EDITOR_PAGE_PERMISSIONS = ("add_page",)
APPROVER_PAGE_PERMISSIONS = ("add_page", "change_page", "publish_page")
DOCUMENT_PERMISSIONS = ("add_document", "choose_document")
APPROVER_LEVELS = {StaffPost.Level.STREET, StaffPost.Level.DISTRICT}


def ensure_groups() -> tuple[Group, Group]:
    editors, _ = Group.objects.get_or_create(name=EDITORS)
    approvers, _ = Group.objects.get_or_create(name=APPROVERS)
    # Attachments are Wagtail documents: both groups upload them and pick them in the notice form.
    documents = ContentType.objects.get_by_natural_key("wagtaildocs", "document")
    root = Collection.get_first_root_node()
    if root is not None:
        permissions = list(
            Permission.objects.filter(content_type=documents, codename__in=DOCUMENT_PERMISSIONS)
        )
        for group in (editors, approvers):
            for permission in permissions:
                GroupCollectionPermission.objects.get_or_create(
                    group=group, collection=root, permission=permission
                )
    return editors, approvers


def sync_staff_groups(person) -> None:
    """Put the person in the notice groups their staff posts call for, and take them out of the others."""
    levels = set(StaffPost.objects.filter(person=person).values_list("level", flat=True))
    editors, approvers = ensure_groups()
    for group, wanted in ((editors, bool(levels)), (approvers, bool(levels & APPROVER_LEVELS))):
        if wanted:
            person.groups.add(group)
        else:
            person.groups.remove(group)
    forget_scope(person)


# --- scope --------------------------------------------------------------------------------------------
def place_within(scope: Scope, place) -> bool:
    """Whether a target place lies inside the staff member's area. A street is inside only for the staff
    of the street (or above): it reaches every community of the street, not just one."""
    if isinstance(place, Grid):
        return (
            place.community_id in scope.community_ids
            or place.community.street_id in scope.street_ids
            or place.community.street.district_id in scope.district_ids
        )
    if isinstance(place, Community):
        return (
            place.pk in scope.community_ids
            or place.street_id in scope.street_ids
            or place.street.district_id in scope.district_ids
        )
    if isinstance(place, Street):
        return place.pk in scope.street_ids or place.district_id in scope.district_ids
    return False


def whole_district(scope: Scope) -> bool:
    return scope.superuser or bool(scope.district_ids)


def covers(user, notice) -> bool:
    """Whether `user` may edit, approve or publish `notice` (an unsaved one included): every place it
    targets lies in their area; a notice without places (public, or for a role district-wide) belongs to
    the area of the staff member who created it."""
    scope = scope_for(user)
    if whole_district(scope):
        return True
    if not scope.is_staff:
        return False
    notice = getattr(notice, "specific", notice)
    places = [row.place for row in notice.targets.all() if row.place is not None]
    if places:
        return all(place_within(scope, place) for place in places)
    owner_id = notice.owner_id
    if owner_id is None or owner_id == user.pk:
        return True
    return StaffPost.objects.filter(person_id=owner_id).filter(_posts_within(scope)).exists()


def _posts_within(scope: Scope) -> Q:
    return (
        Q(community_id__in=scope.community_ids)
        | Q(community__street_id__in=scope.street_ids)
        | Q(street_id__in=scope.street_ids)
    )


def covered_notices(user, notices: QuerySet) -> QuerySet:
    """`notices` narrowed to those `covers` allows, as one filter (admin listings, the review queue).
    It reads the saved targets; a draft's unsaved targets are checked by `covers` when it is opened."""
    scope = scope_for(user)
    if whole_district(scope):
        return notices
    if not scope.is_staff:
        return notices.none()
    my_grids = Grid.objects.filter(
        Q(community_id__in=scope.community_ids) | Q(community__street_id__in=scope.street_ids)
    )
    my_communities = Community.objects.filter(
        Q(pk__in=scope.community_ids) | Q(street_id__in=scope.street_ids)
    )
    outside = NoticeTarget.objects.filter(page=OuterRef("pk")).filter(
        Q(grid__isnull=False) & ~Q(grid__in=my_grids)
        | Q(community__isnull=False) & ~Q(community__in=my_communities)
        | Q(street__isnull=False) & ~Q(street_id__in=scope.street_ids)
    )
    placed = NoticeTarget.objects.filter(page=OuterRef("pk")).exclude(
        street__isnull=True, community__isnull=True, grid__isnull=True
    )
    owners = StaffPost.objects.filter(_posts_within(scope)).values("person_id")
    own = Q(owner_id=user.pk) | Q(owner_id__in=owners) | Q(owner__isnull=True)
    return notices.filter(~Exists(outside)).filter(Q(Exists(placed)) | own)
