"""Who sees which orders, as a matrix: each role against orders in and out of its scope, through the
scope rule itself (`scope_for(...).visible`), the selectors the pages use, and the API's lists and pages.

    order        resident  grid (community, street)  organisation
    a_g1         r1        g1 (c1, s1)               A (dispatched by the centre)
    pool_g1      r2        g1 (c1, s1)               none yet (waiting for dispatch)
    b_g2         r4        g2 (c2, s1)               B (claimed)
    c_g3         r3        g3 (c3, s2)               C (dispatched)
    lunch_g1     r2        g1 (c1, s1)               A (a booked session, straight to A)
"""

import pytest

from services_catalog import selectors, services
from services_catalog.models import Order
from tests.api.support import AppClient, assert_error, session_token_for
from tests.factories import StaffPostFactory, UserFactory
from tests.services_catalog.factories import ServiceFactory
from tests.services_catalog.world import build_world, order_for, session_of
from volunteers.models import StaffPost
from volunteers.scopes import scope_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def orders(world):
    a_g1 = order_for(world, world.r1)
    services.do_dispatch_order(actor=world.staff_c1, order_id=a_g1.pk, organisation_id=world.org_a.pk)
    pool_g1 = order_for(world, world.r2)
    b_g2 = order_for(world, world.r4)
    services.do_claim_order(actor=world.b_admin, order_id=b_g2.pk, organisation_id=world.org_b.pk)
    # The centre's service serves street s1 only; street s2 gets one of its own.
    s2_service = ServiceFactory(street=world.s2, area_streets=[world.s2])
    c_g3 = order_for(world, world.r3, service=s2_service)
    staff_s2 = _street_staff(world.s2)
    services.do_dispatch_order(actor=staff_s2, order_id=c_g3.pk, organisation_id=world.org_c.pk)
    lunch_g1 = order_for(world, world.r2, service=world.lunch, session=session_of(world.lunch))
    return {"a_g1": a_g1, "pool_g1": pool_g1, "b_g2": b_g2, "c_g3": c_g3, "lunch_g1": lunch_g1}


def _street_staff(street):
    return StaffPostFactory(level=StaffPost.Level.STREET, street=street).person


ALL = {"a_g1", "pool_g1", "b_g2", "c_g3", "lunch_g1"}
# role (an attribute of the world) → the orders it sees
MATRIX = {
    "a_admin": {"a_g1", "lunch_g1"},  # organisation A's orders
    "a_member": {"a_g1", "lunch_g1"},  # members see their organisation's orders too
    "b_admin": {"b_g2"},
    "c_admin": {"c_g3"},
    "gw": {"a_g1", "pool_g1", "lunch_g1"},  # everything ordered from grid g1
    "r1": {"a_g1"},  # their own
    "r2": {"pool_g1", "lunch_g1"},
    "r3": {"c_g3"},
    "staff_c1": {"a_g1", "pool_g1", "lunch_g1"},  # community c1
    "staff_c3": {"c_g3"},  # staff of another community: nothing of c1's
    "staff_s1": {"a_g1", "pool_g1", "b_g2", "lunch_g1"},  # the whole street s1
}


def _names(found, orders) -> set[str]:
    by_pk = {order.pk: name for name, order in orders.items()}
    return {by_pk[order.pk] for order in found}


@pytest.mark.parametrize("role", sorted(MATRIX))
def test_each_role_sees_exactly_its_orders_through_the_scope_rule(world, orders, role):
    person = getattr(world, role)
    visible = scope_for(person).visible(Order.objects.all())
    assert _names(visible, orders) == MATRIX[role]
    assert _names(selectors.orders_in_scope(actor=person), orders) == MATRIX[role]
    for name, order in orders.items():
        assert scope_for(person).can_view(order) == (name in MATRIX[role]), name


@pytest.mark.parametrize("role", sorted(MATRIX))
def test_each_role_sees_exactly_its_orders_through_the_api(world, orders, role):
    person = getattr(world, role)
    app = AppClient(session_token_for(person))
    response = app.get("/api/v1/services/orders", {"page_size": 100})
    assert response.status_code == 200, response.content
    codes = {item["code"] for item in response.json()["items"]}
    assert codes == {orders[name].code for name in MATRIX[role]}
    assert response.json()["count"] == len(MATRIX[role])
    for name in ALL:
        detail = app.get(f"/api/v1/services/orders/{orders[name].code}")
        if name in MATRIX[role]:
            assert detail.status_code == 200, (name, detail.content)
        else:
            assert_error(detail, 404, "order_not_found")


@pytest.mark.parametrize("role", sorted(MATRIX))
def test_my_orders_are_only_the_ones_placed_for_me(world, orders, role):
    person = getattr(world, role)
    mine = AppClient(session_token_for(person)).get("/api/v1/services/orders/mine").json()["items"]
    expected = {order.code for order in orders.values() if order.resident_id == person.pk}
    assert {item["code"] for item in mine} == expected


def test_someone_with_no_role_sees_nothing_and_strangers_cannot_act(world, orders):
    stranger = UserFactory(home_grid=world.g1)
    assert not scope_for(stranger).visible(Order.objects.all()).exists()
    app = AppClient(session_token_for(stranger))
    assert app.get("/api/v1/services/orders").json() == {"items": [], "count": 0}
    assert app.get("/api/v1/services/orders/pool").json() == {"items": [], "count": 0}
    code = orders["a_g1"].code
    assert_error(app.post(f"/api/v1/services/orders/{code}/cancel", {}), 403, "out_of_scope")
    assert_error(app.post(f"/api/v1/services/orders/{code}/accept"), 403, "not_org_admin")
    assert_error(app.post(f"/api/v1/services/orders/{code}/deliver", {}), 403, "out_of_scope")
    assert_error(
        app.post(f"/api/v1/services/orders/{code}/dispatch", {"organisation": 1}), 403, "out_of_scope"
    )
    assert Order.objects.get(pk=orders["a_g1"].pk).status == Order.Status.DISPATCHED


def test_the_pool_shows_each_organisation_the_waiting_orders_of_its_area_only(world, orders):
    def pool(person):
        items = AppClient(session_token_for(person)).get("/api/v1/services/orders/pool").json()["items"]
        return {item["code"] for item in items}

    assert pool(world.a_admin) == {orders["pool_g1"].code}  # org A serves community c1
    assert pool(world.b_admin) == {orders["pool_g1"].code}  # org B serves all of street s1
    assert pool(world.c_admin) == set()  # org C serves street s2
    assert pool(world.a_member) == set()  # claiming is for administrators
    assert _names(selectors.claimable_orders(actor=world.a_admin), orders) == {"pool_g1"}
