"""Certificate races on PostgreSQL with real threads: many requests at once for the same period give one
certificate and one number, whichever request wins."""

import datetime as dt

import pytest

from points.certificates import services
from points.certificates.models import Certificate, CertificateEvent
from tests.concurrency.support import errors, run_together
from tests.points.certificates.support import make_world, serve

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_requests_for_one_period_issue_one_certificate():
    world = make_world()
    serve(world.volunteer, day=dt.date(2026, 3, 1), minutes=90)

    def issue():
        return services.do_issue_certificate(
            actor=world.volunteer, start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30)
        )

    outcomes = run_together([issue for _ in range(20)], workers=20)

    assert errors(outcomes) == []
    numbers = {outcome.value.certificate.number for outcome in outcomes}
    assert len(numbers) == 1
    assert sum(outcome.value.created for outcome in outcomes) == 1
    assert Certificate.objects.count() == 1
    assert CertificateEvent.objects.count() == 1
