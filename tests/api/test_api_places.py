"""GET /api/v1/places (the grid tree) and GET /api/v1/organisations: public, and cheap whatever the size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.api.support import AppClient, assert_error
from tests.factories import CommunityFactory, GridFactory, OrganisationFactory, StreetFactory
from volunteers.models import Grid, Organisation, Street


def _build_tree(streets: int, communities: int, grids: int) -> None:
    for _ in range(streets):
        street = StreetFactory()
        for _ in range(communities):
            community = CommunityFactory(street=street)
            for _ in range(grids):
                GridFactory(
                    community=community, party_org_kind=Grid.PartyOrgKind.BRANCH, party_org_name="党支部"
                )


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_the_tree_costs_a_fixed_number_of_queries(anonymous_app):
    _build_tree(1, 1, 1)
    small = _queries(anonymous_app, "/api/v1/places")
    _build_tree(3, 3, 4)
    assert Grid.objects.count() == 37
    large = _queries(anonymous_app, "/api/v1/places")
    assert small == large
    assert large <= 3  # streets (with their district), communities, grids


@pytest.mark.django_db
def test_the_tree_nests_streets_communities_and_grids(anonymous_app):
    grid = GridFactory(
        name="第一网格",
        households=420,
        party_org_kind=Grid.PartyOrgKind.BRANCH,
        party_org_name="新华社区第一网格党支部",
        community__name="新华社区",
        community__street__name="江浦街道",
    )
    GridFactory(community=grid.community)
    streets = anonymous_app.get("/api/v1/places").json()
    assert [s["name"] for s in streets] == ["江浦街道"]
    street = streets[0]
    assert street["district"]["name"] == grid.community.street.district.name
    (community,) = street["communities"]
    assert community["name"] == "新华社区"
    assert len(community["grids"]) == 2
    first = next(g for g in community["grids"] if g["id"] == grid.pk)
    assert first == {
        "id": grid.pk,
        "name": "第一网格",
        "code": grid.code,
        "households": 420,
        "party_org_kind": "branch",
        "party_org_kind_label": first["party_org_kind_label"],
        "party_org_name": "新华社区第一网格党支部",
    }
    assert first["party_org_kind_label"]


@pytest.mark.django_db
def test_a_signed_in_caller_sees_the_same_tree(app, anonymous_app):
    _build_tree(2, 2, 2)
    assert app.get("/api/v1/places").json() == anonymous_app.get("/api/v1/places").json()
    assert len(Street.objects.all()) == 2


@pytest.mark.django_db
def test_only_approved_organisations_are_listed(anonymous_app):
    approved = OrganisationFactory(name="江浦志愿服务队", contact_phone="13800138000")
    OrganisationFactory(status=Organisation.Status.APPLIED)
    OrganisationFactory(status=Organisation.Status.REJECTED)
    OrganisationFactory(status=Organisation.Status.SUSPENDED)
    body = anonymous_app.get("/api/v1/organisations").json()
    assert body["count"] == 1
    (item,) = body["items"]
    assert (item["id"], item["name"], item["street"]["id"]) == (
        approved.pk,
        "江浦志愿服务队",
        approved.street_id,
    )
    assert item["member_count"] == 0
    assert "contact_phone" not in item  # often a person's own mobile


@pytest.mark.django_db
def test_organisations_are_paged_in_fixed_queries(anonymous_app):
    street = StreetFactory()
    OrganisationFactory.create_batch(3, street=street)
    small = _queries(anonymous_app, "/api/v1/organisations")
    OrganisationFactory.create_batch(30, street=street)
    assert _queries(anonymous_app, "/api/v1/organisations") == small
    page = anonymous_app.get("/api/v1/organisations", {"page": 2, "page_size": 20}).json()
    assert page["count"] == 33
    assert len(page["items"]) == 13


@pytest.mark.django_db
def test_a_page_past_the_end_is_empty_not_an_error():
    OrganisationFactory()
    body = AppClient().get("/api/v1/organisations", {"page": 99}).json()
    assert body == {"items": [], "count": 1}
    assert_error(AppClient().get("/api/v1/organisations", {"page": "zwei"}), 422, "invalid")
