"""A small district for the ordering-loop tests (services, API, scope matrix, races): two streets, three
communities, three grids, organisations of each reach, the people of every role, and two services.

    street s1 ── community c1 ── grid g1   residents r1, r2; grid worker gw; org A (c1) serves here
             └─ community c2 ── grid g2   resident r4; org B serves all of s1
    street s2 ── community c3 ── grid g3   resident r3; org C serves s2
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from services_catalog import services
from services_catalog.models import Beneficiary, Order, Service, Session
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
from tests.services_catalog.factories import ServiceFactory, SessionFactory, SessionServiceFactory
from volunteers.models import IdentityClaim, Membership, StaffPost


@dataclass
class World:
    s1: object
    s2: object
    c1: object
    c2: object
    c3: object
    g1: object
    g2: object
    g3: object
    org_a: object
    org_b: object
    org_c: object
    a_admin: object
    a_member: object
    b_admin: object
    c_admin: object
    gw: object
    staff_c1: object
    staff_c3: object
    staff_s1: object
    r1: object
    r2: object
    r3: object
    r4: object
    # On request, dispatched by the centre, serving street s1, 10 points per delivery.
    centre_service: Service
    # Org A's lunch for community c1: booked sessions, dispatched straight to org A.
    lunch: Service


def build_world() -> World:
    district = DistrictFactory()
    s1, s2 = StreetFactory(district=district), StreetFactory(district=district)
    c1, c2, c3 = CommunityFactory(street=s1), CommunityFactory(street=s1), CommunityFactory(street=s2)
    g1, g2, g3 = GridFactory(community=c1), GridFactory(community=c2), GridFactory(community=c3)
    org_a = OrganisationFactory(street=s1, community=c1, name="星兴助餐队")
    org_b = OrganisationFactory(street=s1, community=None, name="街道志愿服务队")
    org_c = OrganisationFactory(street=s2, community=c3, name="邻街服务社")

    def admin_of(org):
        return MembershipFactory(organisation=org, role=Membership.Role.ADMIN).person

    grid_worker = UserFactory(name="网格员王", home_grid=g1)
    IdentityClaimFactory(
        person=grid_worker, kind="grid_worker_full", grid=g1, status=IdentityClaim.Status.VERIFIED
    )
    world = World(
        s1=s1,
        s2=s2,
        c1=c1,
        c2=c2,
        c3=c3,
        g1=g1,
        g2=g2,
        g3=g3,
        org_a=org_a,
        org_b=org_b,
        org_c=org_c,
        a_admin=admin_of(org_a),
        a_member=MembershipFactory(organisation=org_a, person=UserFactory(name="志愿者李")).person,
        b_admin=admin_of(org_b),
        c_admin=admin_of(org_c),
        gw=grid_worker,
        staff_c1=StaffPostFactory(level=StaffPost.Level.COMMUNITY, community=c1).person,
        staff_c3=StaffPostFactory(level=StaffPost.Level.COMMUNITY, community=c3).person,
        staff_s1=StaffPostFactory(level=StaffPost.Level.STREET, street=s1).person,
        r1=UserFactory(name="张三丰", home_grid=g1),
        r2=UserFactory(name="李四海", home_grid=g1),
        r3=UserFactory(name="王五岳", home_grid=g3),
        r4=UserFactory(name="赵六合", home_grid=g2),
        centre_service=ServiceFactory(title="上门助洁", street=s1, area_streets=[s1], points_per_delivery=10),
        lunch=SessionServiceFactory(
            title="星兴助餐点午餐",
            street=s1,
            organisation=org_a,
            area_communities=[c1],
            points_per_delivery=5,
        ),
    )
    return world


def session_of(service: Service, *, starts_in=dt.timedelta(days=1), capacity: int = 20) -> Session:
    return SessionFactory(service=service, starts_at=timezone.now() + starts_in, capacity=capacity)


def order_for(world: World, resident, *, service: Service | None = None, session: Session | None = None):
    service = service or world.centre_service
    return services.do_place_order(
        actor=resident, service_id=service.pk, resident=resident, session_id=session.pk if session else None
    )


def delivered_order(world: World, resident=None) -> Order:
    """A centre-dispatched request taken all the way to delivery by org A's member (assigned)."""
    order = order_for(world, resident or world.r1)
    services.do_dispatch_order(actor=world.staff_c1, order_id=order.pk, organisation_id=world.org_a.pk)
    services.do_accept_order(actor=world.a_admin, order_id=order.pk)
    services.do_assign_volunteers(actor=world.a_admin, order_id=order.pk, person_ids=[world.a_member.pk])
    services.do_deliver_order(actor=world.a_member, order_id=order.pk)
    order.refresh_from_db()
    return order


def beneficiary(person, **fields) -> Beneficiary:
    found = services.beneficiary_for(person)
    for name, value in fields.items():
        setattr(found, name, value)
    found.save()
    return found
