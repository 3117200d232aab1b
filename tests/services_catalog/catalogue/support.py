"""Helpers of the residents' service page tests."""

import re
from datetime import timedelta

from django.utils import timezone

from services_catalog.models import Order, Service
from tests.services_catalog.factories import SessionFactory


def text(response) -> str:
    """The visible text of the page's <main>."""
    html = response.content.decode()
    start, end = html.find("<main"), html.find("</main>")
    body = html[start:end] if start != -1 else html
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def rated(service: Service, resident, grid, rating: int, comment: str = "") -> Order:
    """A finished order with a rating, written directly: the ratings shown must equal the rows."""
    now = timezone.now()
    return Order.objects.create(
        service=service,
        resident=resident,
        placed_by=resident,
        grid=grid,
        organisation=service.organisation,
        status=Order.Status.COMPLETED,
        stage_started_at=now,
        finished_at=now,
        rating=rating,
        comment=comment,
        confirmed_via=Order.ConfirmedVia.WEB,
    )


def session(service: Service, *, days=1, capacity=20, booked=0, **fields):
    return SessionFactory(
        service=service,
        starts_at=timezone.now() + timedelta(days=days),
        capacity=capacity,
        booked=booked,
        **fields,
    )
