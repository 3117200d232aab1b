"""The nightly reconciliation finds a cached balance that differs from its entries, and a broken
running balance, in a fixed number of queries."""

import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.celery import app
from core.models import Notification
from points import tasks
from points.models import Account, Entry, ReconciliationReport
from points.services.ledger import do_post
from points.services.reconciliation import reconcile
from tests.factories import StaffPostFactory, UserFactory
from volunteers.models import StaffPost

pytestmark = pytest.mark.django_db


def post(person, amount, key, unit=Account.Unit.POINTS):
    return do_post(
        person_id=person.pk, amount=amount, kind=Entry.Kind.ADJUSTMENT, key=key, reason="t", unit=unit
    )


def test_a_consistent_ledger_reports_ok():
    a, b = UserFactory(), UserFactory()
    post(a, 50, "a1")
    post(a, -20, "a2")
    post(a, 90, "a3", unit=Account.Unit.MINUTES)
    post(b, 5, "b1")

    report_id = tasks.reconcile_ledger.apply().get()

    report = ReconciliationReport.objects.get(pk=report_id)
    assert report.ok and report.accounts_checked == 3 and report.entries_checked == 4
    assert report.balance_differences == [] and report.chain_breaks == []


def test_a_corrupted_balance_is_reported_logged_and_sent_to_district_admins(caplog):
    person = UserFactory()
    post(person, 50, "p1")
    post(person, 30, "p2")
    admin = StaffPostFactory(
        level=StaffPost.Level.DISTRICT, district=person_district(), community=None
    ).person
    # Account is a cache, not append-only: this is the corruption the job exists to catch.
    Account.objects.filter(person=person).update(balance=999)

    with caplog.at_level(logging.ERROR, logger="points.reconciliation"):
        report = reconcile()

    account = Account.objects.get(person=person)
    assert not report.ok
    assert report.balance_differences == [
        {"account": account.pk, "person": person.pk, "unit": "points", "balance": 999, "sum": 80}
    ]
    assert report.chain_breaks == []
    assert any("reconciliation" in r.message and r.levelno == logging.ERROR for r in caplog.records)
    assert Notification.objects.filter(recipient=admin, key=f"reconciliation:{report.pk}:{admin.pk}").exists()


def test_an_account_without_entries_must_be_zero():
    person = UserFactory()
    post(person, 10, "p1")
    post(UserFactory(), 1, "other")
    empty = Account.objects.create(person=UserFactory(), unit=Account.Unit.POINTS, balance=0)
    Account.objects.filter(pk=empty.pk).update(balance=7)
    report = reconcile()
    assert [d["account"] for d in report.balance_differences] == [empty.pk]


def test_a_broken_running_balance_is_found():
    person = UserFactory()
    post(person, 50, "p1")
    second = post(person, 30, "p2").entry
    post(person, 5, "p3")
    # Entries cannot be updated, so the break is made the only way possible: with the triggers
    # suspended, as a restore from a bad backup would.
    from points import append_only

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # ALTER TABLE refuses while deferred FK checks are pending
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    append_only.suspend(connection)
    try:
        Entry.objects.filter(pk=second.pk).update(balance_after=70)
    finally:
        append_only.restore(connection)

    report = reconcile()
    assert not report.ok and report.balance_differences == []
    # The changed entry does not follow from its predecessor, and its successor does not follow from it.
    assert [(b["entry"], b["balance_after"], b["expected"]) for b in report.chain_breaks] == [
        (second.pk, 70, 80),
        (second.pk + 1, 85, 75),
    ]


def test_the_check_costs_the_same_queries_for_a_bigger_ledger():
    def queries_for(n):
        for i in range(n):
            post(UserFactory(), 3, f"q{n}-{i}")
        with CaptureQueriesContext(connection) as ctx:
            reconcile()
        return len(ctx.captured_queries)

    assert queries_for(2) == queries_for(20)


def test_reconciliation_runs_nightly():
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "points.tasks.reconcile_ledger" in scheduled


def person_district():
    from tests.factories import DistrictFactory

    return DistrictFactory()
