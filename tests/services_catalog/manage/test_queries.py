"""The workbench's lists cost the same number of queries with 2 rows as with 12: each page is measured
twice and the counts must be equal."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from services_catalog import services
from tests.factories import UserFactory
from tests.services_catalog.manage.conftest import codes
from tests.services_catalog.world import beneficiary, order_for, session_of

pytestmark = pytest.mark.django_db


def queries(client, url, params=None) -> int:
    client.get(url, params)  # warm-up: per-process caches (content types, settings) are not the page's
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx)


def test_inbox_query_count_is_flat(world, client_for):
    client = client_for(world.a_admin)
    url = reverse("services:manage")

    def add(n):
        for _ in range(n):
            resident = UserFactory(home_grid=world.g1)
            session = session_of(world.lunch)
            booked = order_for(world, resident, service=world.lunch, session=session)
            other = UserFactory(home_grid=world.g1)
            accepted = order_for(world, other, service=world.lunch, session=session_of(world.lunch))
            services.do_accept_order(actor=world.a_admin, order_id=accepted.pk)
            services.do_assign_volunteers(
                actor=world.a_admin, order_id=accepted.pk, person_ids=[world.a_member.pk]
            )
            assert booked.status == "dispatched"

    add(1)
    few = queries(client, url)
    add(6)
    many = queries(client, url)
    assert few == many, f"{few} queries with 2 orders, {many} with 14"
    assert len(codes(client.get(url))) == 14


def test_pool_query_count_is_flat(world, client_for):
    client = client_for(world.a_admin)
    url = reverse("services:manage_pool")

    def add(n):
        for _ in range(n):
            order_for(world, UserFactory(home_grid=world.g1))

    add(2)
    few = queries(client, url)
    add(10)
    assert queries(client, url) == few
    assert len(codes(client.get(url))) == 12


def test_residents_list_query_count_is_flat(world, client_for):
    client = client_for(world.gw)
    url = reverse("services:manage_residents")

    def add(n):
        for _ in range(n):
            beneficiary(UserFactory(home_grid=world.g1), subsidy_group="low_income", dietary_notes="少盐")

    add(2)
    few = queries(client, url)
    add(10)
    assert queries(client, url) == few


def test_staff_lists_query_count_is_flat(world, client_for):
    client = client_for(world.staff_s1)
    pages = [
        reverse("services:manage_dispatch"),
        reverse("services:manage"),
        reverse("services:manage_review"),
    ]

    def add(n):
        for _ in range(n):
            order_for(world, UserFactory(home_grid=world.g1))
            service = services.do_save_service(
                actor=world.a_admin,
                organisation=world.org_a,
                title="助浴",
                category=world.centre_service.category,
                area_communities=[world.c1],
            )
            services.do_submit_service(actor=world.a_admin, service_id=service.pk)

    add(2)
    few = [queries(client, url) for url in pages]
    add(10)
    assert [queries(client, url) for url in pages] == few


def test_services_list_query_count_is_flat(world, client_for):
    client = client_for(world.a_admin)
    url = reverse("services:manage_services")

    def add(n):
        for i in range(n):
            services.do_save_service(
                actor=world.a_admin,
                organisation=world.org_a,
                title=f"服务{i}",
                category=world.centre_service.category,
                area_communities=[world.c1],
            )

    add(2)
    few = queries(client, url)
    add(10)
    assert queries(client, url) == few
