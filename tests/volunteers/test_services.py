import pytest

from core.exceptions import GongzhiError
from core.models import Notification
from tests.factories import (
    CommunityFactory,
    GridFactory,
    IdentityClaimFactory,
    MembershipFactory,
    OrganisationFactory,
    StaffPostFactory,
    UserFactory,
)
from volunteers import exceptions, services
from volunteers.models import IdentityClaim, IdentityEvent, Membership, Organisation, StaffPost
from volunteers.scopes import Role, scope_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def grid():
    return GridFactory()


@pytest.fixture
def community_staff(grid):
    return StaffPostFactory(level=StaffPost.Level.COMMUNITY, community=grid.community).person


def test_claim_then_verify_makes_the_identity_count(grid, community_staff):
    person = UserFactory(home_grid=grid)
    claim = services.do_claim_identity(person=person, kind="party_member", grid=grid)
    assert claim.status == IdentityClaim.Status.CLAIMED
    assert Role.VOLUNTEER not in scope_for(person).roles

    services.do_verify_identity(claim_id=claim.pk, actor=community_staff)

    claim.refresh_from_db()
    assert claim.status == IdentityClaim.Status.VERIFIED and claim.decided_by == community_staff
    assert list(claim.events.values_list("status", "actor")) == [
        ("claimed", person.pk),
        ("verified", community_staff.pk),
    ]
    person.refresh_from_db()
    assert Role.VOLUNTEER in scope_for(person).roles
    assert Notification.objects.filter(recipient=person, category="identity").count() == 1


def test_a_grid_worker_identity_gives_the_grid_worker_role_for_that_grid(grid, community_staff):
    person = UserFactory(home_grid=grid)
    claim = services.do_claim_identity(person=person, kind="grid_worker_full", grid=grid)
    services.do_verify_identity(claim_id=claim.pk, actor=community_staff)
    person.refresh_from_db()
    scope = scope_for(person)
    assert Role.GRID_WORKER in scope.roles and scope.grid_ids == {grid.pk}


def test_claiming_the_same_identity_twice_is_refused(grid):
    person = UserFactory(home_grid=grid)
    services.do_claim_identity(person=person, kind="party_member", grid=grid)
    with pytest.raises(exceptions.DuplicateClaim):
        services.do_claim_identity(person=person, kind="party_member", grid=grid)
    assert IdentityClaim.objects.filter(person=person).count() == 1


def test_a_grid_bound_identity_needs_a_grid():
    with pytest.raises(exceptions.GridRequired):
        services.do_claim_identity(person=UserFactory(), kind="party_member", grid=None)


def test_staff_cannot_verify_outside_their_community(grid, community_staff):
    other = GridFactory()
    claim = IdentityClaimFactory(grid=other)
    with pytest.raises(exceptions.OutOfScope):
        services.do_verify_identity(claim_id=claim.pk, actor=community_staff)
    claim.refresh_from_db()
    assert claim.status == IdentityClaim.Status.CLAIMED


def test_a_person_cannot_verify_their_own_claim(grid):
    claim = IdentityClaimFactory(grid=grid)
    with pytest.raises(exceptions.OutOfScope):
        services.do_verify_identity(claim_id=claim.pk, actor=claim.person)


def test_a_decided_claim_cannot_be_decided_again(grid, community_staff):
    claim = IdentityClaimFactory(grid=grid)
    services.do_verify_identity(claim_id=claim.pk, actor=community_staff)
    with pytest.raises(exceptions.ClaimNotPending):
        services.do_reject_identity(claim_id=claim.pk, actor=community_staff, reason="重复")
    assert IdentityEvent.objects.filter(claim=claim).count() == 1  # the factory wrote none; verify wrote one


def test_rejecting_needs_a_reason(grid, community_staff):
    claim = IdentityClaimFactory(grid=grid)
    with pytest.raises(GongzhiError) as info:
        services.do_reject_identity(claim_id=claim.pk, actor=community_staff, reason="  ")
    assert info.value.code == "reason_required"


def test_revoking_a_verified_identity_removes_the_role(grid, community_staff):
    person = UserFactory(home_grid=grid)
    claim = services.do_claim_identity(person=person, kind="grid_worker_part", grid=grid)
    services.do_verify_identity(claim_id=claim.pk, actor=community_staff)
    services.do_revoke_identity(claim_id=claim.pk, actor=community_staff, reason="已离任")
    person.refresh_from_db()
    assert Role.GRID_WORKER not in scope_for(person).roles


def _apply(applicant, street, community=None, name="邻里守望队"):
    from volunteers.forms import OrganisationApplicationForm

    form = OrganisationApplicationForm(
        {
            "name": name,
            "kind": "volunteer_team",
            "street": street.pk,
            "community": community.pk if community else "",
            "description": "夜间巡防",
        }
    )
    assert form.is_valid(), form.errors
    return services.do_apply_organisation(actor=applicant, form=form)


def test_organisation_apply_approve_invite_accept_remove():
    community = CommunityFactory()
    street_staff = StaffPostFactory(level=StaffPost.Level.STREET, street=community.street).person
    applicant = UserFactory()
    org = _apply(applicant, community.street, community)
    assert org.status == Organisation.Status.APPLIED
    assert Role.ORG_ADMIN not in scope_for(applicant).roles  # not before approval

    with pytest.raises(exceptions.OrganisationNotApproved):
        services.do_invite_member(
            organisation_id=org.pk, actor=applicant, phone=UserFactory().phone, role="member"
        )

    services.do_approve_organisation(organisation_id=org.pk, actor=street_staff)
    applicant.refresh_from_db()
    assert Role.ORG_ADMIN in scope_for(applicant).roles

    invitee = UserFactory()
    membership = services.do_invite_member(
        organisation_id=org.pk, actor=applicant, phone=invitee.phone, role="member"
    )
    assert membership.status == Membership.Status.INVITED
    with pytest.raises(exceptions.AlreadyMember):
        services.do_invite_member(organisation_id=org.pk, actor=applicant, phone=invitee.phone, role="member")

    services.do_answer_invitation(membership_id=membership.pk, actor=invitee, accept=True)
    invitee.refresh_from_db()
    assert Role.ORG_MEMBER in scope_for(invitee).roles

    # A plain member cannot remove others…
    other = MembershipFactory(organisation=org)
    with pytest.raises(exceptions.OutOfScope):
        services.do_remove_member(membership_id=other.pk, actor=invitee)
    # …the admin can.
    services.do_remove_member(membership_id=other.pk, actor=applicant)
    other.refresh_from_db()
    assert other.status == Membership.Status.REMOVED


def test_the_last_administrator_cannot_be_removed():
    org = OrganisationFactory()
    admin = MembershipFactory(organisation=org, role=Membership.Role.ADMIN)
    with pytest.raises(exceptions.LastAdmin):
        services.do_remove_member(membership_id=admin.pk, actor=admin.person)


def test_inviting_an_unregistered_number_is_refused():
    org = OrganisationFactory()
    admin = MembershipFactory(organisation=org, role=Membership.Role.ADMIN).person
    with pytest.raises(exceptions.UnknownPhone):
        services.do_invite_member(organisation_id=org.pk, actor=admin, phone="+8613999999999", role="member")


def test_only_staff_over_the_street_approve_organisations():
    community = CommunityFactory()
    org = _apply(UserFactory(), community.street, community)
    outsider_staff = StaffPostFactory(level=StaffPost.Level.STREET, street=CommunityFactory().street).person
    with pytest.raises(exceptions.OutOfScope):
        services.do_approve_organisation(organisation_id=org.pk, actor=outsider_staff)
    with pytest.raises(exceptions.OutOfScope):
        services.do_approve_organisation(organisation_id=org.pk, actor=org.applied_by)


def test_duplicate_organisation_name_in_a_street_is_refused():
    from volunteers.forms import OrganisationApplicationForm

    community = CommunityFactory()
    _apply(UserFactory(), community.street, name="同名队")
    form = OrganisationApplicationForm({"name": "同名队", "kind": "mass", "street": community.street.pk})
    assert not form.is_valid()
    assert "already registered" in str(form.errors) or "已" in str(form.errors)
