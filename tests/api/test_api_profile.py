"""GET/PATCH /api/v1/me and POST /api/v1/me/identities."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import GridFactory, IdentityClaimFactory, StaffPostFactory
from volunteers.models import IdentityClaim, IdentityEvent, Skill, StaffPost


@pytest.fixture
def skills(db):
    return [Skill.objects.get_or_create(name=name)[0] for name in ("急救", "法律咨询", "理发")]


@pytest.mark.django_db
def test_me_shows_the_whole_profile(app, person, skills):
    grid = GridFactory(name="第一网格", community__name="新华社区", community__street__name="江浦街道")
    person.home_grid = grid
    person.save()
    person.skills.set(skills[:2])
    IdentityClaimFactory(person=person, kind="party_member", grid=grid, status=IdentityClaim.Status.VERIFIED)
    IdentityClaimFactory(person=person, kind="deputy", grid=None)

    body = app.get("/api/v1/me").json()

    assert body["name"] == "李四"
    assert body["phone"] == "+8613912345678"  # their own number, not masked
    assert body["email"] == "lisi@example.org"
    assert body["home_grid"] == {
        "id": grid.pk,
        "name": "第一网格",
        "code": grid.code,
        "community": {"id": grid.community_id, "name": "新华社区"},
        "street": {"id": grid.community.street_id, "name": "江浦街道"},
    }
    assert sorted(s["name"] for s in body["skills"]) == sorted(["急救", "法律咨询"])
    identities = {i["kind"]: i for i in body["identities"]}
    assert identities["party_member"]["status"] == "verified"
    assert identities["party_member"]["tier"] == "1"
    assert identities["party_member"]["grid"]["id"] == grid.pk
    assert identities["deputy"]["status"] == "claimed"
    assert identities["deputy"]["grid"] is None
    assert body["roles"] == ["resident", "volunteer"]
    assert (body["notify_sms"], body["notify_email"], body["large_text"]) == (True, False, False)


@pytest.mark.django_db
def test_roles_come_from_the_scope_rule(app, person):
    StaffPostFactory(person=person, level=StaffPost.Level.COMMUNITY, community=GridFactory().community)
    assert app.get("/api/v1/me").json()["roles"] == ["community_staff", "resident"]


@pytest.mark.django_db
def test_me_costs_the_same_queries_whatever_the_profile_holds(app, person, skills):
    person.home_grid = GridFactory()
    person.save()

    def queries_for_me() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert app.get("/api/v1/me").status_code == 200
        return len(queries)

    person.skills.set(skills[:1])
    IdentityClaimFactory(person=person, kind="volunteer")
    small = queries_for_me()
    person.skills.set(skills)
    for kind in ("deputy", "local_worthy", "building_head"):
        IdentityClaimFactory(person=person, kind=kind)
    assert queries_for_me() == small


@pytest.mark.django_db
def test_patch_changes_only_the_fields_sent(app, person, skills):
    grid = GridFactory()
    person.home_grid = grid
    person.save()
    person.skills.set(skills[:1])

    response = app.patch("/api/v1/me", {"name": "  李四新  "})
    assert response.status_code == 200, response.content
    person.refresh_from_db()
    assert person.name == "李四新"  # trimmed by the form, as on the profile page
    assert person.email == "lisi@example.org"
    assert person.home_grid == grid
    assert list(person.skills.all()) == skills[:1]
    assert (person.notify_sms, person.notify_email) == (True, False)
    assert response.json()["name"] == "李四新"


@pytest.mark.django_db
def test_patch_changes_grid_skills_and_notification_preferences(app, person, skills):
    grid = GridFactory()
    body = {
        "home_grid": grid.pk,
        "skills": [skills[1].pk, skills[2].pk],
        "notify_sms": False,
        "notify_email": True,
    }
    response = app.patch("/api/v1/me", body)
    assert response.status_code == 200, response.content
    person.refresh_from_db()
    assert person.home_grid == grid
    assert set(person.skills.all()) == {skills[1], skills[2]}
    assert (person.notify_sms, person.notify_email) == (False, True)
    assert response.json()["home_grid"]["id"] == grid.pk

    response = app.patch("/api/v1/me", {"home_grid": None, "skills": [], "email": ""})
    assert response.status_code == 200, response.content
    person.refresh_from_db()
    assert (person.home_grid, person.email, list(person.skills.all())) == (None, "", [])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"home_grid": 987654}, "home_grid"),
        ({"skills": [987654]}, "skills"),
        ({"email": "not an email"}, "email"),
        ({"name": "   "}, "name"),
    ],
)
def test_patch_validates_against_the_database(app, person, body, field):
    response = app.patch("/api/v1/me", body)
    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]
    person.refresh_from_db()
    assert (person.name, person.email, person.home_grid) == ("李四", "lisi@example.org", None)


@pytest.mark.django_db
def test_claiming_an_identity(app, person):
    grid = GridFactory()
    response = app.post(
        "/api/v1/me/identities", {"kind": "party_member", "grid": grid.pk, "detail": "第一党支部"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["status"], body["detail"], body["grid"]["id"]) == (
        "party_member", "claimed", "第一党支部", grid.pk
    )  # fmt: skip
    claim = IdentityClaim.objects.get(pk=body["id"])
    assert claim.person == person
    # The history row records who acted, as the service does for the web page.
    assert list(IdentityEvent.objects.filter(claim=claim).values_list("status", "actor")) == [
        ("claimed", person.pk)
    ]
    assert [i["id"] for i in app.get("/api/v1/me").json()["identities"]] == [claim.pk]


@pytest.mark.django_db
def test_an_identity_without_a_grid_is_placed_in_the_home_grid(app, person):
    person.home_grid = GridFactory()
    person.save()
    response = app.post("/api/v1/me/identities", {"kind": "volunteer"})
    assert response.status_code == 201
    assert response.json()["grid"]["id"] == person.home_grid_id
