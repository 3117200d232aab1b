"""Certificates in the back office: listed to the staff of their area only, revoked with a reason by the
issuing street's staff (recorded with actor and time), refused to staff of another street and to community
staff; the list costs the same queries for few or many rows."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from points.certificates import services
from points.certificates.models import Certificate, CertificateEvent
from tests.points.certificates.support import make_world, plain_certificate, serve

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def world():
    return make_world()


@pytest.fixture
def certificate(world):
    serve(world.volunteer, day=dt.date(2026, 3, 1), minutes=150)
    return services.do_issue_certificate(
        actor=world.volunteer, start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30)
    ).certificate


def review_url(certificate):
    return reverse("service_certificates:edit", args=[certificate.pk])


def revoke(client, certificate, reason):
    return client.post(review_url(certificate), {"action": "revoke", "revoke-reason": reason}, **ZH)


def test_the_list_shows_the_areas_certificates_only(client, world, certificate):
    serve(world.other, day=dt.date(2026, 3, 1))
    theirs = services.do_issue_certificate(
        actor=world.other, start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30)
    ).certificate

    client.force_login(world.staff_s1)
    page = client.get(reverse("service_certificates:index"), **ZH).content.decode()
    assert certificate.number in page and theirs.number not in page

    found = client.get(reverse("service_certificates:index"), {"q": "张三丰"}, **ZH).content.decode()
    assert certificate.number in found

    client.force_login(world.staff_c1)  # community staff of the holder's home community read it too
    page = client.get(reverse("service_certificates:index"), **ZH).content.decode()
    assert certificate.number in page and theirs.number not in page


def test_street_staff_of_the_issuer_revoke_it_with_a_reason(client, world, certificate):
    client.force_login(world.staff_s1)
    page = client.get(review_url(certificate), **ZH).content.decode()
    assert "张三丰" in page and 'data-action="revoke"' in page

    response = revoke(client, certificate, "服务记录重复")

    assert response.status_code == 302
    certificate.refresh_from_db()
    assert certificate.is_revoked and certificate.revoke_reason == "服务记录重复"
    assert certificate.revoked_by == world.staff_s1
    event = CertificateEvent.objects.get(certificate=certificate, kind=CertificateEvent.Kind.REVOKED)
    assert event.actor == world.staff_s1 and event.reason == "服务记录重复" and event.at is not None
    page = client.get(review_url(certificate), **ZH).content.decode()
    assert "已撤销" in page and "服务记录重复" in page and 'data-action="revoke"' not in page
    # The public page now says so.
    public = client.get(reverse("certificates:verify", args=[certificate.number]), **ZH).content.decode()
    assert 'data-status="revoked"' in public


def test_a_revocation_without_a_reason_is_refused_and_changes_nothing(client, world, certificate):
    client.force_login(world.staff_s1)

    response = revoke(client, certificate, "   ")

    assert response.status_code == 400
    certificate.refresh_from_db()
    assert not certificate.is_revoked


def test_staff_of_another_street_can_neither_see_nor_revoke_it(client, world, certificate):
    client.force_login(world.staff_s2)

    assert client.get(review_url(certificate)).status_code == 404
    assert revoke(client, certificate, "撤销").status_code == 404
    certificate.refresh_from_db()
    assert not certificate.is_revoked


def test_community_staff_read_it_but_may_not_revoke(client, world, certificate):
    client.force_login(world.staff_c1)
    page = client.get(review_url(certificate), **ZH).content.decode()
    assert "只有出具证明的街道或区的工作人员可以撤销该证明" in page and 'data-action="revoke"' not in page

    # Wagtail answers a refused permission by sending the person back to the dashboard with a message.
    response = revoke(client, certificate, "撤销")
    assert response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    certificate.refresh_from_db()
    assert not certificate.is_revoked


def test_the_holder_cannot_open_the_back_office_screen(client, world, certificate):
    client.force_login(world.volunteer)
    response = client.get(review_url(certificate))
    assert response.status_code in (302, 403)
    assert not Certificate.objects.filter(revoked_at__isnull=False).exists()


def test_the_list_costs_the_same_queries_for_few_or_many(client, world):
    client.force_login(world.staff_s1)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("service_certificates:index")).status_code == 200
        return len(ctx.captured_queries)

    for day in range(1, 3):
        plain_certificate(
            world.volunteer, start=dt.date(2026, 1, day), end=dt.date(2026, 2, 1), street=world.s1
        )
    few = count()
    for day in range(3, 20):
        plain_certificate(
            world.volunteer, start=dt.date(2026, 1, day), end=dt.date(2026, 2, 1), street=world.s1
        )
    assert count() == few
