"""Factories of the services catalogue, shared by every part's tests (append-only: add yours below)."""

import datetime as dt

import factory
from django.utils import timezone

from services_catalog.models import Service, ServiceCategory, Session
from tests.factories import StreetFactory, UserFactory


def category(slug: str = "elder_dining") -> ServiceCategory:
    # Transactional tests empty the tables after each test, the seeded categories included.
    found, _created = ServiceCategory.objects.get_or_create(slug=slug, defaults={"name": slug})
    return found


class ServiceFactory(factory.django.DjangoModelFactory):
    """A published on-demand service of no organisation (the centre dispatches); pass `area_grids=[…]`
    (or communities/streets) for the area it serves."""

    class Meta:
        model = Service
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"助餐服务{n}")
    category = factory.LazyFunction(category)
    street = factory.SubFactory(StreetFactory)
    created_by = factory.SubFactory(UserFactory)
    status = Service.Status.PUBLISHED
    mode = Service.Mode.ON_DEMAND

    @factory.post_generation
    def area_grids(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.area_grids.set(extracted)

    @factory.post_generation
    def area_communities(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.area_communities.set(extracted)

    @factory.post_generation
    def area_streets(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.area_streets.set(extracted)


class SessionServiceFactory(ServiceFactory):
    """A dining point's weekday lunch: sessions are made by the test (SessionFactory) or ensure_sessions."""

    mode = Service.Mode.SESSIONS
    weekdays = [0, 1, 2, 3, 4, 5, 6]
    session_start = dt.time(11, 0)
    session_end = dt.time(12, 30)
    session_capacity = 20


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    service = factory.SubFactory(SessionServiceFactory)
    starts_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=1))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(hours=1, minutes=30))
    capacity = 20
