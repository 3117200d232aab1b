"""The staff back office (Wagtail admin): each role sees and acts on its own area only.

The world: one district with street S1 (communities C1, C2) and street S2 (community C3), one grid in each
community, one resident with a pending identity claim in each grid, and an organisation application in
C1 and in C3. Staff are appointed through the service (which puts them in the staff group) and have a
TOTP authenticator, as the back office requires.
"""

from dataclasses import dataclass

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.factories import (
    CommunityFactory,
    DistrictFactory,
    GridFactory,
    MembershipFactory,
    OrganisationFactory,
    StreetFactory,
    UserFactory,
)
from volunteers import admin_viewsets, services
from volunteers.admin_access import POLICIES, STAFF_GROUP, ensure_staff_group
from volunteers.models import (
    DutyCategory,
    Grid,
    IdentityClaim,
    IdentityEvent,
    Membership,
    Organisation,
    OrganisationEvent,
    StaffPost,
    User,
)


@dataclass
class World:
    district: object
    s1: object
    s2: object
    c1: object
    c2: object
    c3: object
    g1: object
    g2: object
    g3: object
    p1: object
    p2: object
    p3: object
    claim1: object
    claim2: object
    claim3: object
    org1: object
    org3: object
    staff: dict


def with_totp(user):
    TOTP.activate(user, generate_totp_secret())
    return user


def appoint(place, phone):
    person = UserFactory(name=f"干部{phone[-2:]}", phone=phone)
    services.do_appoint_staff(person=person, actor=None, place=place)
    return with_totp(User.objects.get(pk=person.pk))


@pytest.fixture
def world(db):
    district = DistrictFactory()
    s1 = StreetFactory(district=district, name="江浦街道")
    s2 = StreetFactory(district=district, name="泰山街道")
    c1 = CommunityFactory(street=s1, name="东门社区")
    c2 = CommunityFactory(street=s1, name="西门社区")
    c3 = CommunityFactory(street=s2, name="南园社区")
    g1 = GridFactory(community=c1, name="东门一网格")
    g2 = GridFactory(community=c2, name="西门二网格")
    g3 = GridFactory(community=c3, name="南园三网格")
    p1 = UserFactory(name="张东门", phone="+8613811110001", home_grid=g1)
    p2 = UserFactory(name="李西门", phone="+8613811110002", home_grid=g2)
    p3 = UserFactory(name="王南园", phone="+8613811110003", home_grid=g3)
    claims = [
        services.do_claim_identity(person=person, kind="party_member", grid=grid)
        for person, grid in ((p1, g1), (p2, g2), (p3, g3))
    ]
    org1 = OrganisationFactory(
        name="东门志愿队", street=s1, community=c1, status=Organisation.Status.APPLIED, applied_by=p1
    )
    MembershipFactory(organisation=org1, person=p1, role=Membership.Role.ADMIN)
    org3 = OrganisationFactory(
        name="南园互助会", street=s2, community=c3, status=Organisation.Status.APPLIED, applied_by=p3
    )
    staff = {
        "community": appoint(c1, "+8613922220001"),
        "street": appoint(s1, "+8613922220002"),
        "district": appoint(district, "+8613922220003"),
    }
    return World(district, s1, s2, c1, c2, c3, g1, g2, g3, p1, p2, p3, *claims, org1, org3, staff)


@pytest.fixture
def as_staff(client, world):
    def login(role):
        client.force_login(world.staff[role])
        return client

    return login


# role → the names that its lists must show; everything else in the world must not appear.
IN_SCOPE = {
    "community": {
        "grids": {"东门一网格"},
        "people": {"张东门"},
        "claims": {"张东门"},
        "orgs": {"东门志愿队"},
    },
    "street": {
        "grids": {"东门一网格", "西门二网格"},
        "people": {"张东门", "李西门"},
        "claims": {"张东门", "李西门"},
        "orgs": {"东门志愿队"},
    },
    "district": {
        "grids": {"东门一网格", "西门二网格", "南园三网格"},
        "people": {"张东门", "李西门", "王南园"},
        "claims": {"张东门", "李西门", "王南园"},
        "orgs": {"东门志愿队", "南园互助会"},
    },
}
ALL = IN_SCOPE["district"]
LISTS = {
    "grids": "grids:index",
    "people": "people:index",
    "claims": "identity_claims:index",
    "orgs": "organisations:index",
}


@pytest.mark.parametrize("role", ["community", "street", "district"])
@pytest.mark.parametrize("listing", ["grids", "people", "claims", "orgs"])
def test_list_views_show_only_rows_in_scope(as_staff, role, listing):
    response = as_staff(role).get(reverse(LISTS[listing]))
    assert response.status_code == 200
    html = response.content.decode()
    for name in ALL[listing]:
        assert (name in html) == (name in IN_SCOPE[role][listing]), (role, listing, name)


def test_staff_see_full_phone_numbers_of_people_in_scope(as_staff, world):
    html = as_staff("community").get(reverse("people:index")).content.decode()
    assert "138 1111 0001" in html
    assert "138 1111 0003" not in html


def test_claim_queue_shows_pending_claims_by_default_and_others_on_request(as_staff, world):
    client = as_staff("district")
    services.do_verify_identity(claim_id=world.claim2.pk, actor=world.staff["district"])
    queue = client.get(reverse("identity_claims:index")).content.decode()
    assert "张东门" in queue and "李西门" not in queue
    assert reverse("identity_claims:edit", args=[world.claim1.pk]) in queue
    assert "审核" in queue  # the row button leads to a decision page, not a form
    everything = client.get(reverse("identity_claims:index"), {"status": "any"}).content.decode()
    assert "张东门" in everything and "李西门" in everything


def test_grid_list_filters_by_street_and_searches(as_staff, world):
    client = as_staff("district")
    by_street = client.get(reverse("grids:index"), {"street": world.s2.pk}).content.decode()
    assert "南园三网格" in by_street and "东门一网格" not in by_street
    by_community = client.get(reverse("grids:index"), {"community": world.c2.pk}).content.decode()
    assert "西门二网格" in by_community and "东门一网格" not in by_community
    searched = client.get(reverse("grids:index"), {"q": "东门"}).content.decode()
    assert "东门一网格" in searched and "南园三网格" not in searched


def test_filter_choices_offer_only_places_in_scope(as_staff, world):
    html = as_staff("community").get(reverse("grids:index")).content.decode()
    assert "江浦街道" in html
    assert "泰山街道" not in html and "南园社区" not in html


@pytest.mark.parametrize(
    "url",
    [
        lambda w: reverse("grids:edit", args=[w.g3.pk]),
        lambda w: reverse("people:edit", args=[w.p3.pk]),
        lambda w: reverse("identity_claims:edit", args=[w.claim3.pk]),
        lambda w: reverse("organisations:edit", args=[w.org3.pk]),
        lambda w: reverse("communities:edit", args=[w.c2.pk]),
    ],
)
def test_pages_of_objects_out_of_scope_are_not_found(as_staff, world, url):
    response = as_staff("community").get(url(world))
    assert response.status_code == 404


def test_editing_a_grid_out_of_scope_changes_nothing(as_staff, world):
    response = as_staff("community").post(
        reverse("grids:edit", args=[world.g3.pk]),
        {
            "community": world.c1.pk,
            "name": "被改名",
            "code": world.g3.code,
            "households": 1,
            "party_org_kind": "group",
        },
    )
    assert response.status_code == 404
    world.g3.refresh_from_db()
    assert world.g3.name == "南园三网格"


def test_acting_on_a_claim_out_of_scope_is_refused(as_staff, world):
    response = as_staff("street").post(
        reverse("identity_claims:edit", args=[world.claim3.pk]), {"action": "verify", "verify-reason": ""}
    )
    assert response.status_code == 404
    world.claim3.refresh_from_db()
    assert world.claim3.status == IdentityClaim.Status.CLAIMED
    assert world.claim3.events.count() == 1


def test_staff_edit_a_grid_in_scope_but_cannot_move_it_out(as_staff, world):
    client = as_staff("community")
    url = reverse("grids:edit", args=[world.g1.pk])
    data = {
        "community": world.c1.pk,
        "name": "东门新网格",
        "code": world.g1.code,
        "households": 420,
        "party_org_kind": "branch",
    }
    assert client.post(url, data).status_code == 302
    world.g1.refresh_from_db()
    assert (world.g1.name, world.g1.households) == ("东门新网格", 420)

    moved = client.post(url, {**data, "community": world.c3.pk})
    assert moved.status_code == 400
    world.g1.refresh_from_db()
    assert world.g1.community_id == world.c1.pk


def test_community_staff_add_grids_only_in_their_community(as_staff, world):
    client = as_staff("community")
    data = {"name": "东门五网格", "code": "dongmen-5", "households": 300, "party_org_kind": "group"}
    assert client.post(reverse("grids:add"), {**data, "community": world.c3.pk}).status_code == 400
    assert not Grid.objects.filter(code="dongmen-5").exists()
    assert client.post(reverse("grids:add"), {**data, "community": world.c1.pk}).status_code == 302
    assert Grid.objects.get(code="dongmen-5").community == world.c1


def test_verify_calls_the_service_and_records_an_event(as_staff, world, monkeypatch):
    calls = []
    real = services.do_verify_identity

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setitem(
        admin_viewsets.ClaimReviewView.actions,
        "verify",
        admin_viewsets.Decision(spy, "Verify", "Verified: %(object)s."),
    )
    staff = world.staff["community"]
    response = as_staff("community").post(
        reverse("identity_claims:edit", args=[world.claim1.pk]),
        {"action": "verify", "verify-reason": "核对党员证"},
    )
    assert response.status_code == 302
    assert calls == [{"claim_id": world.claim1.pk, "actor": staff, "reason": "核对党员证"}]
    world.claim1.refresh_from_db()
    assert world.claim1.status == IdentityClaim.Status.VERIFIED
    assert world.claim1.decided_by == staff
    event = world.claim1.events.last()
    assert (event.status, event.actor, event.reason) == (IdentityClaim.Status.VERIFIED, staff, "核对党员证")


def test_reject_needs_a_reason_then_records_it(as_staff, world):
    client = as_staff("street")
    url = reverse("identity_claims:edit", args=[world.claim2.pk])
    empty = client.post(url, {"action": "reject", "reject-reason": "   "})
    assert empty.status_code == 400
    assert "请向对方说明原因。" in empty.content.decode()
    world.claim2.refresh_from_db()
    assert world.claim2.status == IdentityClaim.Status.CLAIMED

    assert client.post(url, {"action": "reject", "reject-reason": "不在本网格"}).status_code == 302
    world.claim2.refresh_from_db()
    assert world.claim2.status == IdentityClaim.Status.REJECTED
    assert IdentityEvent.objects.filter(claim=world.claim2, status="rejected", reason="不在本网格").exists()


def test_revoke_a_verified_identity_with_a_reason(as_staff, world):
    services.do_verify_identity(claim_id=world.claim1.pk, actor=world.staff["community"])
    client = as_staff("community")
    page = client.get(reverse("identity_claims:edit", args=[world.claim1.pk])).content.decode()
    assert 'data-action="revoke"' in page and 'data-action="verify"' not in page
    response = client.post(
        reverse("identity_claims:edit", args=[world.claim1.pk]),
        {"action": "revoke", "revoke-reason": "已迁出"},
    )
    assert response.status_code == 302
    world.claim1.refresh_from_db()
    assert world.claim1.status == IdentityClaim.Status.REVOKED
    assert world.claim1.events.last().reason == "已迁出"


def test_a_second_decision_is_a_conflict_not_an_error(as_staff, world):
    client = as_staff("district")
    url = reverse("identity_claims:edit", args=[world.claim1.pk])
    assert client.post(url, {"action": "verify"}).status_code == 302
    again = client.post(url, {"action": "reject", "reject-reason": "重复"})
    assert again.status_code == 409
    world.claim1.refresh_from_db()
    assert world.claim1.status == IdentityClaim.Status.VERIFIED
    assert world.claim1.events.count() == 2


def test_unknown_action_is_a_bad_request(as_staff, world):
    response = as_staff("district").post(
        reverse("identity_claims:edit", args=[world.claim1.pk]), {"action": "delete"}
    )
    assert response.status_code == 400


def test_organisation_approval_goes_through_the_service(as_staff, world):
    client = as_staff("community")
    page = client.get(reverse("organisations:edit", args=[world.org1.pk])).content.decode()
    assert "张东门" in page  # members, read only
    assert "<input" not in page.split('id="members-section"')[1].split("</section>")[0]
    assert (
        client.post(reverse("organisations:edit", args=[world.org1.pk]), {"action": "approve"}).status_code
        == 302
    )
    world.org1.refresh_from_db()
    assert world.org1.status == Organisation.Status.APPROVED
    event = OrganisationEvent.objects.filter(organisation=world.org1).last()
    assert (event.status, event.actor) == (Organisation.Status.APPROVED, world.staff["community"])


def test_organisation_rejection_needs_a_reason(as_staff, world):
    client = as_staff("district")
    url = reverse("organisations:edit", args=[world.org3.pk])
    assert client.post(url, {"action": "reject", "reject-reason": ""}).status_code == 400
    assert client.post(url, {"action": "reject", "reject-reason": "材料不全"}).status_code == 302
    world.org3.refresh_from_db()
    assert world.org3.status == Organisation.Status.REJECTED
    assert world.org3.events.last().reason == "材料不全"


def test_people_edit_goes_through_the_profile_service_and_stays_in_scope(as_staff, world, monkeypatch):
    calls = []
    real = services.do_update_profile
    monkeypatch.setattr(services, "do_update_profile", lambda **kw: calls.append(kw) or real(**kw))
    client = as_staff("street")
    url = reverse("people:edit", args=[world.p1.pk])
    assert client.post(url, {"name": "张东门", "home_grid": world.g2.pk}).status_code == 302
    assert calls and calls[0]["actor"] == world.staff["street"]
    world.p1.refresh_from_db()
    assert world.p1.home_grid == world.g2

    out = client.post(url, {"name": "张东门", "home_grid": world.g3.pk})
    assert out.status_code == 400
    world.p1.refresh_from_db()
    assert world.p1.home_grid == world.g2


def test_people_edit_form_offers_only_limited_fields(as_staff, world):
    html = as_staff("community").get(reverse("people:edit", args=[world.p1.pk])).content.decode()
    assert 'name="home_grid"' in html and 'name="name"' in html
    for field in ("phone", "is_superuser", "groups", "password1", "is_active"):
        assert f'name="{field}"' not in html


def test_people_list_filters_by_identity_status(as_staff, world):
    services.do_verify_identity(claim_id=world.claim1.pk, actor=world.staff["district"])
    client = as_staff("district")
    verified = client.get(reverse("people:index"), {"identity": "verified"}).content.decode()
    assert "张东门" in verified and "李西门" not in verified
    pending = client.get(reverse("people:index"), {"identity": "claimed"}).content.decode()
    assert "李西门" in pending and "张东门" not in pending
    by_grid = client.get(reverse("people:index"), {"home_grid": world.g3.pk}).content.decode()
    assert "王南园" in by_grid and "李西门" not in by_grid


def test_reference_data_is_changed_only_by_district_admins(as_staff, world):
    data = {"code": "night-watch", "name": "夜间值守", "description": "", "sort_order": 2}
    client = as_staff("street")
    assert client.get(reverse("duty_categories:index")).status_code == 200
    refused = client.post(reverse("duty_categories:add"), data)
    assert refused.status_code == 302 and refused.url == reverse("wagtailadmin_home")
    assert not DutyCategory.objects.filter(code="night-watch").exists()

    assert as_staff("district").post(reverse("duty_categories:add"), data).status_code == 302
    assert DutyCategory.objects.filter(code="night-watch").exists()


def test_street_staff_appoint_community_staff_of_their_street_only(as_staff, world):
    newcomer = UserFactory(phone="+8613833330001", home_grid=world.g2)
    client = as_staff("street")
    out = client.post(
        reverse("staff_posts:add"), {"phone": "138 3333 0001", "level": "community", "community": world.c3.pk}
    )
    assert out.status_code == 400
    assert not StaffPost.objects.filter(person=newcomer).exists()

    ok = client.post(
        reverse("staff_posts:add"), {"phone": "138 3333 0001", "level": "community", "community": world.c2.pk}
    )
    assert ok.status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.is_staff
    assert newcomer.staff_posts.get().community == world.c2
    assert newcomer.has_perm("wagtailadmin.access_admin")

    again = client.post(
        reverse("staff_posts:add"), {"phone": "13833330001", "level": "community", "community": world.c2.pk}
    )
    assert again.status_code == 400
    assert newcomer.staff_posts.count() == 1


def test_appointing_an_unknown_phone_is_a_clear_error(as_staff, world):
    response = as_staff("district").post(
        reverse("staff_posts:add"), {"phone": "13899998888", "level": "community", "community": world.c1.pk}
    )
    assert response.status_code == 400
    assert 'name="phone"' in response.content.decode()


def test_community_staff_cannot_appoint_anyone(as_staff, world):
    response = as_staff("community").get(reverse("staff_posts:add"))
    assert response.status_code == 302 and response.url == reverse("wagtailadmin_home")


def test_a_plain_resident_gets_no_admin_access(client, world):
    client.force_login(world.p1)
    for url in (
        reverse("wagtailadmin_home"),
        reverse("grids:index"),
        reverse("identity_claims:edit", args=[world.claim1.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("wagtailadmin_login"))
    assert (
        client.post(reverse("identity_claims:edit", args=[world.claim1.pk]), {"action": "verify"}).status_code
        == 302
    )
    world.claim1.refresh_from_db()
    assert world.claim1.status == IdentityClaim.Status.CLAIMED


def test_staff_without_an_authenticator_are_sent_to_set_one_up(client, world):
    staff = world.staff["community"]
    Authenticator.objects.filter(user=staff).delete()
    client.force_login(staff)
    response = client.get(reverse("grids:index"))
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")


def test_a_member_of_the_staff_group_without_a_post_sees_nothing(client, world):
    person = with_totp(UserFactory(is_staff=True, home_grid=world.g1))
    person.groups.add(ensure_staff_group())
    client.force_login(person)
    # Without a post there is no role, so the policy refuses before any object is looked up.
    for url in (reverse("grids:index"), reverse("grids:edit", args=[world.g1.pk])):
        response = client.get(url)
        assert response.status_code == 302 and response.url == reverse("wagtailadmin_home")


def test_policy_answers_follow_the_scope_rule(world):
    policy = POLICIES[IdentityClaim]
    community, street = world.staff["community"], world.staff["street"]
    assert policy.user_has_permission_for_instance(community, "change", world.claim1)
    assert not policy.user_has_permission_for_instance(community, "change", world.claim2)
    assert set(policy.instances_user_has_permission_for(street, "change")) == {world.claim1, world.claim2}
    assert not policy.instances_user_has_permission_for(world.p1, "view").exists()
    assert not policy.user_has_permission_for_instance(world.p1, "change", world.claim1)
    # claims are decided, never added or deleted in the back office
    assert not policy.user_has_permission(UserFactory(is_superuser=True), "add")
    assert set(policy.users_with_permission("change")) >= {community, street, world.staff["district"]}
    assert world.p1 not in policy.users_with_permission("change")


def test_staff_group_has_admin_access_and_model_permissions_but_none_on_people(db):
    group = ensure_staff_group()
    assert ensure_staff_group() == group and Group.objects.filter(name=STAFF_GROUP).count() == 1
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert {"access_admin", "change_identityclaim", "view_grid", "add_grid", "add_staffpost"} <= codenames
    assert not {"change_user", "view_user", "delete_identityclaim", "delete_grid"} & codenames


def test_menu_shows_the_group_to_staff_only(rf, world):
    from wagtail.admin.menu import admin_menu

    def labels(user):
        request = rf.get("/admin/")
        request.user = user
        return [str(item.label) for item in admin_menu.menu_items_for_request(request)]

    group_label = str(admin_viewsets.PlacesAndPeople.menu_label)
    assert group_label in labels(world.staff["community"])
    assert group_label not in labels(world.p1)


def test_deleting_places_is_for_superusers_and_refuses_places_in_use(client, as_staff, world):
    assert as_staff("district").get(reverse("grids:delete", args=[world.g1.pk])).status_code == 404

    admin = with_totp(UserFactory(is_superuser=True, is_staff=True))
    client.force_login(admin)
    assert client.get(reverse("grids:delete", args=[world.g1.pk])).status_code == 200
    response = client.post(reverse("grids:delete", args=[world.g1.pk]))  # claim1 protects it
    assert response.status_code == 302 and response.url == reverse("grids:index")
    assert Grid.objects.filter(pk=world.g1.pk).exists()

    empty = GridFactory(community=world.c1, name="空网格")
    assert client.post(reverse("grids:delete", args=[empty.pk])).status_code == 302
    assert not Grid.objects.filter(pk=empty.pk).exists()
