"""Business operations on people, identities and organisations. Each takes keyword arguments and the
acting person, checks scope through `scopes`, records who did what, and notifies after commit."""

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.notifications import notify

from . import exceptions
from .admin_access import ensure_staff_group
from .models import (
    GRID_BOUND_KINDS,
    Community,
    District,
    Grid,
    IdentityClaim,
    IdentityEvent,
    IdentityKind,
    Membership,
    Organisation,
    OrganisationEvent,
    StaffPost,
    Street,
    User,
)
from .scopes import forget_scope, scope_for


def _require_change(actor, obj) -> None:
    if not scope_for(actor).can_change(obj):
        raise exceptions.OutOfScope()


# --- profile ---------------------------------------------------------------------------------------
def do_update_profile(*, person: User, actor: User, form) -> User:
    """Save a validated ProfileForm for `person`; the person themselves or staff of their grid."""
    _require_change(actor, person)
    form.save()
    return person


# --- identities ------------------------------------------------------------------------------------
def do_claim_identity(
    *, person: User, kind: str, grid: Grid | None = None, detail: str = ""
) -> IdentityClaim:
    """The person claims a "1+3+N" identity; it counts only after staff verify it."""
    if kind not in IdentityKind.values:
        raise exceptions.GongzhiError(_("Unknown identity."), code="unknown_identity")
    if kind in GRID_BOUND_KINDS and grid is None:
        raise exceptions.GridRequired()
    if grid is None:
        grid = person.home_grid
    try:
        with transaction.atomic():
            claim = IdentityClaim.objects.create(person=person, kind=kind, grid=grid, detail=detail.strip())
            IdentityEvent.objects.create(claim=claim, status=claim.status, actor=person)
    except IntegrityError:
        raise exceptions.DuplicateClaim() from None
    return claim


def _decide_claim(*, claim_id: int, actor: User, status: str, reason: str, from_statuses) -> IdentityClaim:
    with transaction.atomic():
        claim = IdentityClaim.objects.select_for_update().select_related("person").get(pk=claim_id)
        _require_change(actor, claim)
        if claim.status not in from_statuses:
            raise exceptions.ClaimNotPending()
        claim.status = status
        claim.decided_at = timezone.now()
        claim.decided_by = actor
        claim.save(update_fields=["status", "decided_at", "decided_by"])
        IdentityEvent.objects.create(claim=claim, status=status, actor=actor, reason=reason)
        titles = {
            IdentityClaim.Status.VERIFIED: _('Your identity "%(kind)s" has been verified'),
            IdentityClaim.Status.REJECTED: _('Your identity "%(kind)s" was not verified'),
            IdentityClaim.Status.REVOKED: _('Your identity "%(kind)s" has been revoked'),
        }
        notify(
            recipient=claim.person,
            category="identity",
            title=titles[status] % {"kind": claim.get_kind_display()},
            body=reason,
            url=reverse("volunteers:profile"),
            key=f"identity-{status}:{claim.pk}:{claim.decided_at.timestamp()}",
        )
    forget_scope(claim.person)
    return claim


def do_verify_identity(*, claim_id: int, actor: User, reason: str = "") -> IdentityClaim:
    """Staff whose scope covers the claim's grid verify it. Locks the claim; a second decision is refused."""
    return _decide_claim(
        claim_id=claim_id,
        actor=actor,
        status=IdentityClaim.Status.VERIFIED,
        reason=reason,
        from_statuses=[IdentityClaim.Status.CLAIMED],
    )


def do_reject_identity(*, claim_id: int, actor: User, reason: str) -> IdentityClaim:
    if not reason.strip():
        raise exceptions.GongzhiError(_("Give the person a reason."), code="reason_required")
    return _decide_claim(
        claim_id=claim_id,
        actor=actor,
        status=IdentityClaim.Status.REJECTED,
        reason=reason,
        from_statuses=[IdentityClaim.Status.CLAIMED],
    )


def do_revoke_identity(*, claim_id: int, actor: User, reason: str) -> IdentityClaim:
    if not reason.strip():
        raise exceptions.GongzhiError(_("Give the person a reason."), code="reason_required")
    return _decide_claim(
        claim_id=claim_id,
        actor=actor,
        status=IdentityClaim.Status.REVOKED,
        reason=reason,
        from_statuses=[IdentityClaim.Status.VERIFIED],
    )


# --- organisations ---------------------------------------------------------------------------------
def do_apply_organisation(*, actor: User, form) -> Organisation:
    """A person applies to register an organisation; they become its administrator once approved."""
    with transaction.atomic():
        organisation = form.save(commit=False)
        organisation.applied_by = actor
        organisation.status = Organisation.Status.APPLIED
        try:
            with transaction.atomic():
                organisation.save()
        except IntegrityError:
            raise exceptions.Conflict(
                _("An organisation with this name is already registered in this street."),
                code="duplicate_name",
            ) from None
        OrganisationEvent.objects.create(organisation=organisation, status=organisation.status, actor=actor)
        Membership.objects.create(
            organisation=organisation,
            person=actor,
            role=Membership.Role.ADMIN,
            status=Membership.Status.ACTIVE,
            invited_by=actor,
        )
    return organisation


def _decide_organisation(*, organisation_id: int, actor: User, status: str, reason: str, from_statuses):
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation_id)
        if not scope_for(actor).is_staff:
            raise exceptions.OutOfScope()
        _require_change(actor, organisation)
        if organisation.status not in from_statuses:
            raise exceptions.OrganisationNotPending()
        organisation.status = status
        organisation.save(update_fields=["status"])
        OrganisationEvent.objects.create(organisation=organisation, status=status, actor=actor, reason=reason)
        if organisation.applied_by_id:
            notify(
                recipient=organisation.applied_by,
                category="organisation",
                title=_('Organisation "%(name)s": %(status)s')
                % {"name": organisation.name, "status": organisation.get_status_display()},
                body=reason,
                url=reverse("volunteers:organisation", args=[organisation.pk]),
                key=f"organisation-{status}:{organisation.pk}:{timezone.now().timestamp()}",
            )
    return organisation


def do_approve_organisation(*, organisation_id: int, actor: User, reason: str = "") -> Organisation:
    return _decide_organisation(
        organisation_id=organisation_id,
        actor=actor,
        status=Organisation.Status.APPROVED,
        reason=reason,
        from_statuses=[Organisation.Status.APPLIED, Organisation.Status.SUSPENDED],
    )


def do_reject_organisation(*, organisation_id: int, actor: User, reason: str) -> Organisation:
    if not reason.strip():
        raise exceptions.GongzhiError(_("Give the applicant a reason."), code="reason_required")
    return _decide_organisation(
        organisation_id=organisation_id,
        actor=actor,
        status=Organisation.Status.REJECTED,
        reason=reason,
        from_statuses=[Organisation.Status.APPLIED],
    )


def do_invite_member(*, organisation_id: int, actor: User, phone: str, role: str) -> Membership:
    """An organisation admin (or staff over it) invites a registered person by mobile number."""
    organisation = Organisation.objects.get(pk=organisation_id)
    # Approval first: until then even the applicant is not its administrator, and "not approved yet"
    # is the answer they need.
    if organisation.status != Organisation.Status.APPROVED:
        raise exceptions.OrganisationNotApproved()
    _require_change(actor, organisation)
    person = User.objects.filter(phone=phone, is_active=True).first()
    if person is None:
        raise exceptions.UnknownPhone()
    try:
        with transaction.atomic():
            membership = Membership.objects.create(
                organisation=organisation, person=person, role=role, invited_by=actor
            )
    except IntegrityError:
        raise exceptions.AlreadyMember() from None
    notify(
        recipient=person,
        category="organisation",
        title=_("%(org)s invites you to join") % {"org": organisation.name},
        url=reverse("volunteers:my_organisations"),
        key=f"invitation:{membership.pk}",
    )
    return membership


def do_answer_invitation(*, membership_id: int, actor: User, accept: bool) -> Membership:
    with transaction.atomic():
        membership = Membership.objects.select_for_update().get(pk=membership_id, person=actor)
        if membership.status != Membership.Status.INVITED:
            raise exceptions.Conflict(
                _("This invitation has already been answered."), code="invitation_answered"
            )
        membership.status = Membership.Status.ACTIVE if accept else Membership.Status.DECLINED
        membership.save(update_fields=["status", "changed_at"])
    forget_scope(actor)
    return membership


def do_remove_member(*, membership_id: int, actor: User) -> Membership:
    """Admins remove members (or a member leaves). The last administrator cannot be removed."""
    with transaction.atomic():
        # Lock the organisation first, then its memberships, so two removals of the last two admins
        # cannot both pass the "another admin remains" check.
        membership = Membership.objects.select_related("organisation").get(pk=membership_id)
        Organisation.objects.select_for_update().get(pk=membership.organisation_id)
        membership = Membership.objects.select_for_update().get(pk=membership_id)
        if membership.person_id != actor.pk:
            _require_change(actor, membership.organisation)
        if membership.status not in (Membership.Status.ACTIVE, Membership.Status.INVITED):
            raise exceptions.Conflict(_("This person is no longer a member."), code="not_member")
        if (
            membership.role == Membership.Role.ADMIN
            and membership.status == Membership.Status.ACTIVE
            and not Membership.objects.filter(
                organisation_id=membership.organisation_id,
                role=Membership.Role.ADMIN,
                status=Membership.Status.ACTIVE,
            )
            .exclude(pk=membership.pk)
            .exists()
        ):
            raise exceptions.LastAdmin()
        membership.status = Membership.Status.REMOVED
        membership.save(update_fields=["status", "changed_at"])
    return membership


# --- staff -----------------------------------------------------------------------------------------
def do_appoint_staff(*, person: User, actor: User | None, place: District | Street | Community) -> StaffPost:
    """Give `person` a staff post over `place`. Called by district admins (or a management command)."""
    level = {
        District: StaffPost.Level.DISTRICT,
        Street: StaffPost.Level.STREET,
        Community: StaffPost.Level.COMMUNITY,
    }[type(place)]
    post = StaffPost(person=person, level=level, **{level: place})
    if actor is not None and not scope_for(actor).superuser:
        _require_staff_over(actor, post)
    with transaction.atomic():
        post.save()
        if not person.is_staff:
            person.is_staff = True
            person.save(update_fields=["is_staff"])
        # The group carries Wagtail admin access and the back office's model permissions.
        person.groups.add(ensure_staff_group())
    forget_scope(person)
    return post


def _require_staff_over(actor: User, post: StaffPost) -> None:
    scope = scope_for(actor)
    if post.level == StaffPost.Level.COMMUNITY:
        ok = (
            post.community.street_id in scope.street_ids
            or post.community.street.district_id in scope.district_ids
        )
    elif post.level == StaffPost.Level.STREET:
        ok = post.street.district_id in scope.district_ids
    else:
        ok = False
    if not ok:
        raise exceptions.OutOfScope()
