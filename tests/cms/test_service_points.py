"""Service-point pages (a dining point, a day-care centre) and the home page's featured-services block:
they list only published services, live from the catalogue, at a query count that does not grow."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cms.models import HomePage, ServicePointPage
from services_catalog.models import Service
from tests.factories import OrganisationFactory, StreetFactory
from tests.services_catalog.factories import ServiceFactory, SessionFactory, SessionServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def organisation():
    return OrganisationFactory(name="星兴助餐队")


@pytest.fixture
def point(organisation):
    home = HomePage.objects.first()
    page = home.add_child(
        instance=ServicePointPage(
            title="星兴社区长者助餐点",
            slug="dining-point",
            organisation=organisation,
            address="星甸大街 18 号",
            hours="工作日 11:00–12:30",
            contact_phone="025-58811234",
        )
    )
    page.save_revision().publish()
    return page


def _lunch(organisation, title, **fields):
    service = SessionServiceFactory(
        title=title,
        organisation=organisation,
        street=organisation.street,
        area_streets=[organisation.street],
        **fields,
    )
    SessionFactory(service=service, starts_at=timezone.now() + timedelta(days=1), capacity=30, booked=4)
    return service


def test_service_point_lists_the_published_services_of_its_organisation_with_places(
    client, point, organisation
):
    _lunch(organisation, "工作日午餐")
    _lunch(organisation, "暂停的晚餐", status=Service.Status.SUSPENDED)
    ServiceFactory(title="别家的服务", street=StreetFactory())
    page = client.get(point.url).content.decode()
    assert "星甸大街 18 号" in page and "工作日 11:00–12:30" in page
    assert "工作日午餐" in page
    assert "剩余26个名额" in page
    assert "暂停的晚餐" not in page and "别家的服务" not in page


def test_service_point_can_be_narrowed_to_one_category(client, point, organisation):
    from services_catalog.models import ServiceCategory

    other, _ = ServiceCategory.objects.get_or_create(slug="home_help", defaults={"name": "居家帮扶"})
    lunch = _lunch(organisation, "工作日午餐")
    ServiceFactory(title="上门助洁", organisation=organisation, street=organisation.street, category=other)
    point.category = lunch.category
    point.save_revision().publish()
    page = client.get(point.url).content.decode()
    assert "工作日午餐" in page and "上门助洁" not in page


def test_service_point_without_live_services_says_so(client, point):
    page = client.get(point.url).content.decode()
    assert 'data-testid="point-services"' in page
    assert "目前没有开放的服务" in page


def test_service_point_query_count_does_not_grow_with_services(client, point, organisation):
    _lunch(organisation, "午餐一")
    client.get(point.url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(point.url).status_code == 200
    for n in range(6):
        _lunch(organisation, f"更多午餐{n}")
    with CaptureQueriesContext(connection) as many:
        assert client.get(point.url).status_code == 200
    assert len(many) == len(few)


def test_featured_services_block_shows_published_services_only(client, organisation):
    home = HomePage.objects.first()
    home.body = [("featured_services", {"title": "", "category": "", "count": 3})]
    home.save_revision().publish()
    _lunch(organisation, "工作日午餐")
    ServiceFactory(title="待审核的服务", status=Service.Status.PENDING)
    page = client.get("/").content.decode()
    assert 'data-testid="home-services"' in page
    assert "工作日午餐" in page and "待审核的服务" not in page
