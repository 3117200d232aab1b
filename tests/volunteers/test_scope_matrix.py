"""The scope rule, as a matrix: role × object (in and out of scope) × read/change.

Each row states what one role may do with one object; the test checks both the single-object answers
(`can_view`/`can_change`) and the list filters (`visible`/`changeable`), which pages, the admin and the
API use.
"""

import pytest

from tests.factories import (
    CommunityFactory,
    DistrictFactory,
    GridFactory,
    IdentityClaimFactory,
    MembershipFactory,
    OrganisationFactory,
    StaffPostFactory,
    StreetFactory,
    UserFactory,
)
from volunteers.models import IdentityClaim, Membership, Organisation, StaffPost
from volunteers.scopes import Role, scope_for


@pytest.fixture
def world(db):
    district = DistrictFactory()
    s1, s2 = StreetFactory(district=district), StreetFactory(district=district)
    c1, c2, c3 = CommunityFactory(street=s1), CommunityFactory(street=s1), CommunityFactory(street=s2)
    g1, g3, g4 = GridFactory(community=c1), GridFactory(community=c2), GridFactory(community=c3)
    o1 = OrganisationFactory(street=s1, community=c1)
    o2 = OrganisationFactory(street=s2, community=c3)
    o3_applied = OrganisationFactory(street=s2, community=c3, status=Organisation.Status.APPLIED)

    p1 = UserFactory(home_grid=g1)
    p4 = UserFactory(home_grid=g4)
    claim1 = IdentityClaimFactory(person=p1, grid=g1, kind="party_member")
    claim4 = IdentityClaimFactory(person=p4, grid=g4, kind="party_member")
    m1 = MembershipFactory(organisation=o1, person=p1)
    m2 = MembershipFactory(organisation=o2, person=p4)

    def verified(person, kind, grid):
        IdentityClaimFactory(person=person, kind=kind, grid=grid, status=IdentityClaim.Status.VERIFIED)
        return person

    roles = {
        Role.RESIDENT: UserFactory(home_grid=g1),
        Role.VOLUNTEER: verified(UserFactory(home_grid=g1), "volunteer", g1),
        Role.ORG_MEMBER: MembershipFactory(organisation=o1).person,
        Role.ORG_ADMIN: MembershipFactory(organisation=o1, role=Membership.Role.ADMIN).person,
        Role.GRID_WORKER: verified(UserFactory(home_grid=g1), "grid_worker_full", g1),
        Role.COMMUNITY_STAFF: StaffPostFactory(level=StaffPost.Level.COMMUNITY, community=c1).person,
        Role.STREET_STAFF: StaffPostFactory(level=StaffPost.Level.STREET, street=s1).person,
        Role.DISTRICT_ADMIN: StaffPostFactory(level=StaffPost.Level.DISTRICT, district=district).person,
    }
    objects = {
        "grid_in": g1,
        "grid_other_street": g4,
        "grid_same_street": g3,
        "person_in": p1,
        "person_out": p4,
        "claim_in": claim1,
        "claim_out": claim4,
        "org_in": o1,
        "org_out": o2,
        "org_applied_out": o3_applied,
        "membership_in": m1,
        "membership_out": m2,
    }
    return roles, objects


R, RW, NONE = "r", "rw", "-"

# role → object → expected access ("r" read only, "rw" read and change, "-" neither)
MATRIX = {
    Role.RESIDENT: {
        "grid_in": R,
        "grid_other_street": R,
        "grid_same_street": R,
        "person_in": NONE,
        "person_out": NONE,
        "claim_in": NONE,
        "claim_out": NONE,
        "org_in": R,
        "org_out": R,
        "org_applied_out": NONE,
        "membership_in": NONE,
        "membership_out": NONE,
    },
    Role.VOLUNTEER: {
        "grid_in": R,
        "grid_other_street": R,
        "grid_same_street": R,
        "person_in": NONE,
        "person_out": NONE,
        "claim_in": NONE,
        "claim_out": NONE,
        "org_in": R,
        "org_out": R,
        "org_applied_out": NONE,
        "membership_in": NONE,
        "membership_out": NONE,
    },
    Role.ORG_MEMBER: {
        "grid_in": R,
        "grid_other_street": R,
        "grid_same_street": R,
        "person_in": NONE,
        "person_out": NONE,
        "claim_in": NONE,
        "claim_out": NONE,
        "org_in": R,
        "org_out": R,
        "org_applied_out": NONE,
        "membership_in": R,
        "membership_out": NONE,
    },
    Role.ORG_ADMIN: {
        "grid_in": R,
        "grid_other_street": R,
        "grid_same_street": R,
        "person_in": NONE,
        "person_out": NONE,
        "claim_in": NONE,
        "claim_out": NONE,
        "org_in": RW,
        "org_out": R,
        "org_applied_out": NONE,
        "membership_in": RW,
        "membership_out": NONE,
    },
    Role.GRID_WORKER: {
        "grid_in": R,
        "grid_other_street": R,
        "grid_same_street": R,
        "person_in": R,
        "person_out": NONE,
        "claim_in": R,
        "claim_out": NONE,
        "org_in": R,
        "org_out": R,
        "org_applied_out": NONE,
        "membership_in": NONE,
        "membership_out": NONE,
    },
    Role.COMMUNITY_STAFF: {
        "grid_in": RW,
        "grid_other_street": R,
        "grid_same_street": R,
        "person_in": RW,
        "person_out": NONE,
        "claim_in": RW,
        "claim_out": NONE,
        "org_in": RW,
        "org_out": R,
        "org_applied_out": NONE,
        "membership_in": RW,
        "membership_out": NONE,
    },
    Role.STREET_STAFF: {
        "grid_in": RW,
        "grid_other_street": R,
        "grid_same_street": RW,
        "person_in": RW,
        "person_out": NONE,
        "claim_in": RW,
        "claim_out": NONE,
        "org_in": RW,
        "org_out": R,
        "org_applied_out": NONE,
        "membership_in": RW,
        "membership_out": NONE,
    },
    Role.DISTRICT_ADMIN: {
        "grid_in": RW,
        "grid_other_street": RW,
        "grid_same_street": RW,
        "person_in": RW,
        "person_out": RW,
        "claim_in": RW,
        "claim_out": RW,
        "org_in": RW,
        "org_out": RW,
        "org_applied_out": RW,
        "membership_in": RW,
        "membership_out": RW,
    },
}

CASES = [(role, name, expected) for role, row in MATRIX.items() for name, expected in row.items()]


@pytest.mark.parametrize(("role", "obj_name", "expected"), CASES, ids=[f"{r}-{o}" for r, o, _ in CASES])
def test_scope_matrix(world, role, obj_name, expected):
    roles, objects = world
    person, obj = roles[role], objects[obj_name]
    scope = scope_for(person)
    assert role in scope.roles
    model = type(obj)
    can_read = scope.can_view(obj)
    can_change = scope.can_change(obj)
    assert (can_read, can_change) == ("r" in expected, "w" in expected)
    # The list filters agree with the single-object answers.
    assert scope.visible(model.objects.all()).filter(pk=obj.pk).exists() == can_read
    assert scope.changeable(model.objects.all()).filter(pk=obj.pk).exists() == can_change


def test_every_role_reads_and_changes_its_own_person_but_not_its_own_claims(world):
    roles, _objects = world
    for person in roles.values():
        scope = scope_for(person)
        assert scope.can_view(person) and scope.can_change(person)
        for claim in person.identity_claims.all():
            assert scope.can_view(claim)
            # Only staff change claims (verify, reject): a person cannot verify themselves.
            assert scope.can_change(claim) == scope.is_staff


def test_anonymous_sees_only_public_things(world):
    _roles, objects = world
    scope = scope_for(None)
    assert scope.can_view(objects["grid_in"]) and scope.can_view(objects["org_in"])
    assert not scope.can_view(objects["org_applied_out"])
    assert not scope.can_view(objects["person_in"]) and not scope.can_view(objects["claim_in"])
    assert not scope.can_change(objects["grid_in"])


def test_the_applicant_sees_their_own_pending_organisation(world):
    _roles, objects = world
    applied = objects["org_applied_out"]
    applicant = UserFactory()
    applied.applied_by = applicant
    applied.save()
    assert scope_for(applicant).can_view(applied)
    assert not scope_for(applicant).can_change(applied)
