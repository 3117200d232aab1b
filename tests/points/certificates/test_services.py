"""Issuing and revoking certificates: hours and tasks from the ledger for the period, one live certificate
per period, refusals with nothing saved, the issuer, frozen content, and revocation only by the issuer."""

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone

from core.exceptions import NotAllowed
from core.models import Notification
from points.certificates import exceptions, selectors, services
from points.certificates.models import Certificate, CertificateEvent
from points.models import Account
from points.services.awards import do_adjust_points, do_reverse_award
from tests.points.certificates.support import make_world, serve

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def world():
    return make_world()


def issue(person, start, end):
    return services.do_issue_certificate(actor=person, start=start, end=end)


# --- hours from the ledger --------------------------------------------------------------------------
def test_hours_and_tasks_are_the_ledgers_verified_minutes_worked_in_the_period(world):
    person = world.volunteer
    serve(person, day=dt.date(2025, 12, 31), minutes=600)  # the day before the period: not counted
    serve(person, day=dt.date(2026, 1, 1), minutes=90)
    serve(person, day=dt.date(2026, 3, 15), minutes=120)
    serve(person, day=dt.date(2026, 6, 30), minutes=45)

    certificate = issue(person, dt.date(2026, 1, 1), dt.date(2026, 6, 30)).certificate

    assert (certificate.minutes, certificate.tasks) == (255, 3)
    assert certificate.hours == "4.3"  # 255 minutes = 4.25 hours, printed to one decimal, half up
    assert certificate.person_name == "张三丰"
    assert (certificate.period_start, certificate.period_end) == (dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    # The ledger agrees: the person's MINUTES balance holds all four tasks.
    assert Account.objects.get(person=person, unit=Account.Unit.MINUTES).balance == 855


def test_a_reversed_award_no_longer_counts_in_its_period(world):
    person = world.volunteer
    serve(person, day=dt.date(2026, 2, 1), minutes=120)
    wrong = serve(person, day=dt.date(2026, 2, 2), minutes=300)
    do_reverse_award(award_id=wrong.pk, actor=world.staff_c1, reason="签到记录有误")

    service = selectors.verified_service(
        person_id=person.pk, start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30)
    )

    assert (service.minutes, service.tasks) == (120, 1)


def test_a_staff_correction_of_minutes_counts_on_the_day_it_was_made(world):
    person = world.volunteer
    serve(person, day=dt.date(2026, 2, 1), minutes=60)
    do_adjust_points(
        person_id=person.pk,
        amount=30,
        reason="补录线下服务",
        actor=world.staff_c1,
        key="k-adjust-1",
        unit=Account.Unit.MINUTES,
    )  # made on 2026-07-01 (time_machine)

    first_half = selectors.verified_service(
        person_id=person.pk, start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30)
    )
    july = selectors.verified_service(person_id=person.pk, start=dt.date(2026, 7, 1), end=dt.date(2026, 7, 1))

    assert (first_half.minutes, first_half.tasks) == (60, 1)
    assert (july.minutes, july.tasks) == (30, 0)


def test_another_persons_hours_are_not_counted(world):
    serve(world.other, day=dt.date(2026, 2, 1), minutes=600)
    serve(world.volunteer, day=dt.date(2026, 2, 1), minutes=60)

    assert issue(world.volunteer, dt.date(2026, 1, 1), dt.date(2026, 6, 30)).certificate.minutes == 60


# --- one live certificate per period ----------------------------------------------------------------------
def test_issuing_the_same_period_twice_gives_back_the_same_certificate(world):
    serve(world.volunteer, day=dt.date(2026, 2, 1))
    first = issue(world.volunteer, dt.date(2026, 1, 1), dt.date(2026, 6, 30))
    serve(world.volunteer, day=dt.date(2026, 3, 1))  # more hours later do not make a second number

    second = issue(world.volunteer, dt.date(2026, 1, 1), dt.date(2026, 6, 30))

    assert first.created is True and second.created is False
    assert second.certificate.number == first.certificate.number
    assert Certificate.objects.count() == 1 and CertificateEvent.objects.count() == 1


def test_a_different_period_gets_its_own_number(world):
    serve(world.volunteer, day=dt.date(2026, 2, 1))
    first = issue(world.volunteer, dt.date(2026, 1, 1), dt.date(2026, 6, 30)).certificate
    second = issue(world.volunteer, dt.date(2026, 2, 1), dt.date(2026, 2, 1)).certificate

    assert first.number != second.number


def test_after_a_revocation_the_same_period_gets_a_new_number(world):
    serve(world.volunteer, day=dt.date(2026, 2, 1))
    old = issue(world.volunteer, dt.date(2026, 1, 1), dt.date(2026, 6, 30)).certificate
    services.do_revoke_certificate(certificate_id=old.pk, actor=world.staff_s1, reason="时长有误")

    new = issue(world.volunteer, dt.date(2026, 1, 1), dt.date(2026, 6, 30))

    assert new.created is True and new.certificate.number != old.number


def test_numbers_are_readable_random_and_name_the_year():
    numbers = {services._unused_number(2026) for _ in range(50)}
    assert len(numbers) == 50
    for number in numbers:
        assert re.fullmatch(r"GZ-2026-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{8}", number)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("GZ-2026-ABCD2345", "GZ-2026-ABCD2345"),
        (" gz 2026 abcd-2345 ", "GZ-2026-ABCD2345"),
        ("GZ2026ABCD2345", "GZ-2026-ABCD2345"),
        ("GZ-2026-ABCD234", None),  # too short
        ("GZ-2026-ABCD2340", None),  # 0 is not in the alphabet
        ("XX-2026-ABCD2345", None),
        ("", None),
        ("GZ-2026-ABCD2345" * 5, None),
    ],
)
def test_typed_numbers_are_read_in_one_spelling(typed, expected):
    assert selectors.normalise_number(typed) == expected


# --- refusals -----------------------------------------------------------------------------------------------
def test_a_period_without_verified_hours_is_refused_and_nothing_is_saved(world):
    serve(world.volunteer, day=dt.date(2025, 5, 1))

    with pytest.raises(exceptions.NoVerifiedHours) as refused:
        issue(world.volunteer, dt.date(2026, 1, 1), dt.date(2026, 6, 30))

    assert refused.value.status == 422 and refused.value.code == "no_verified_hours"
    assert not Certificate.objects.exists()


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (dt.date(2026, 6, 30), dt.date(2026, 1, 1)),  # ends before it starts
        (dt.date(2026, 1, 1), dt.date(2026, 7, 2)),  # ends tomorrow
        (dt.date(1999, 12, 31), dt.date(2026, 1, 1)),  # before the platform
        ("2026-01-01", dt.date(2026, 1, 1)),  # not a date
        (dt.datetime(2026, 1, 1, 0, 0), dt.date(2026, 1, 2)),
    ],
)
def test_impossible_periods_are_refused(world, start, end):
    serve(world.volunteer, day=dt.date(2026, 2, 1))
    with pytest.raises(exceptions.InvalidPeriod):
        issue(world.volunteer, start, end)
    assert not Certificate.objects.exists()


def test_nobody_signed_in_cannot_issue(world):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(NotAllowed):
        issue(AnonymousUser(), dt.date(2026, 1, 1), dt.date(2026, 6, 30))


# --- issuer -------------------------------------------------------------------------------------------------
def test_the_issuer_is_the_centre_of_the_persons_home_street(world):
    serve(world.volunteer, day=dt.date(2026, 2, 1), grid=world.g2)  # served in the other street

    certificate = issue(world.volunteer, dt.date(2026, 1, 1), dt.date(2026, 6, 30)).certificate

    assert certificate.issuer_name == "星甸街道网格化服务管理中心"
    assert (certificate.street, certificate.community, certificate.district) == (
        world.s1,
        world.c1,
        world.district,
    )


def test_without_a_home_grid_the_street_served_most_issues(world):
    person = world.volunteer
    serve(person, day=dt.date(2026, 2, 1), minutes=60, grid=world.g1)
    serve(person, day=dt.date(2026, 2, 2), minutes=180, grid=world.g2)
    person.home_grid = None
    person.save(update_fields=["home_grid"])

    certificate = issue(person, dt.date(2026, 1, 1), dt.date(2026, 6, 30)).certificate

    assert certificate.street == world.s2 and certificate.community is None
    assert certificate.issuer_name == "汤泉街道网格化服务管理中心"


# --- frozen content -----------------------------------------------------------------------------------------
def test_an_issued_certificate_keeps_its_content_when_the_person_changes(world):
    serve(world.volunteer, day=dt.date(2026, 2, 1))
    certificate = issue(world.volunteer, dt.date(2026, 1, 1), dt.date(2026, 6, 30)).certificate
    world.volunteer.name = "张三"
    world.volunteer.save(update_fields=["name"])

    certificate.refresh_from_db()
    assert certificate.person_name == "张三丰"
    certificate.minutes = 9999
    with pytest.raises(ValueError, match="cannot be changed"):
        certificate.save()
    with pytest.raises(ValueError, match="cannot be changed"):
        certificate.save(update_fields=["minutes"])
    assert Certificate.objects.get().minutes == 120


# --- revoking -----------------------------------------------------------------------------------------------
@pytest.fixture
def certificate(world):
    serve(world.volunteer, day=dt.date(2026, 2, 1))
    return issue(world.volunteer, dt.date(2026, 1, 1), dt.date(2026, 6, 30)).certificate


def test_street_staff_of_the_issuer_revoke_with_a_reason_recorded_as_an_event(world, certificate):
    revoked = services.do_revoke_certificate(
        certificate_id=certificate.pk, actor=world.staff_s1, reason="  重复  登记 "
    )

    assert (
        revoked.is_revoked and revoked.revoked_by == world.staff_s1 and revoked.revoke_reason == "重复 登记"
    )
    assert revoked.revoked_at == timezone.now()
    event = CertificateEvent.objects.get(kind=CertificateEvent.Kind.REVOKED)
    assert (event.certificate, event.actor, event.reason) == (certificate, world.staff_s1, "重复 登记")
    assert Notification.objects.filter(
        recipient=world.volunteer, key=f"certificate-revoked:{certificate.pk}"
    ).exists()


@pytest.mark.parametrize("who", ["staff_s2", "staff_c1", "other", "volunteer"])
def test_nobody_else_may_revoke(world, certificate, who):
    with pytest.raises(NotAllowed):
        services.do_revoke_certificate(
            certificate_id=certificate.pk, actor=getattr(world, who), reason="撤销"
        )
    certificate.refresh_from_db()
    assert not certificate.is_revoked
    assert not CertificateEvent.objects.filter(kind=CertificateEvent.Kind.REVOKED).exists()


def test_a_revocation_needs_a_reason(world, certificate):
    with pytest.raises(exceptions.ReasonRequired):
        services.do_revoke_certificate(certificate_id=certificate.pk, actor=world.staff_s1, reason="   ")
    certificate.refresh_from_db()
    assert not certificate.is_revoked


def test_a_certificate_is_revoked_once(world, certificate):
    services.do_revoke_certificate(certificate_id=certificate.pk, actor=world.staff_s1, reason="有误")
    with pytest.raises(exceptions.AlreadyRevoked):
        services.do_revoke_certificate(certificate_id=certificate.pk, actor=world.staff_s1, reason="再次")
    assert CertificateEvent.objects.filter(kind=CertificateEvent.Kind.REVOKED).count() == 1
