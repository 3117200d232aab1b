"""The ledger primitives: posting, idempotency by key, the never-negative balance, reversals, and the
database refusing any change to an entry."""

import pytest
from django.db import DatabaseError, connection, transaction

from points.exceptions import AlreadyReversed, InsufficientPoints, InvalidAmount, KeyReused, NotReversible
from points.models import Account, Entry
from points.services.ledger import do_post, do_reverse
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def earn(person, amount, key, **kwargs):
    return do_post(
        person_id=person.pk, amount=amount, kind=Entry.Kind.ADJUSTMENT, key=key, reason="test", **kwargs
    )


def balance(person, unit=Account.Unit.POINTS):
    return Account.objects.get(person=person, unit=unit).balance


def test_posting_creates_the_account_and_keeps_the_balance_with_the_entry():
    person = UserFactory()
    first = earn(person, 30, "a")
    second = earn(person, -10, "b")

    assert first.created and second.created
    assert balance(person) == 20
    assert [e.balance_after for e in Entry.objects.order_by("id")] == [30, 20]


def test_the_same_key_and_request_returns_the_first_entry():
    person = UserFactory()
    first = earn(person, 30, "award:1")
    again = earn(person, 30, "award:1")

    assert not again.created and again.entry.pk == first.entry.pk
    assert Entry.objects.count() == 1 and balance(person) == 30


@pytest.mark.parametrize(
    "change", [{"amount": 31}, {"unit": Account.Unit.MINUTES}, {"source": "attendance:2"}, {"other": True}]
)
def test_the_same_key_with_a_different_request_is_refused(change):
    person = UserFactory()
    earn(person, 30, "award:1", source="attendance:1")
    other = UserFactory() if change.pop("other", False) else person
    kwargs = {"amount": 30, "source": "attendance:1", **change}

    with pytest.raises(KeyReused):
        earn(other, kwargs.pop("amount"), "award:1", **kwargs)
    assert Entry.objects.count() == 1


@pytest.mark.parametrize("amount", [0, 10_000_001, -10_000_001, 1.5, True, "5"])
def test_bad_amounts_are_refused(amount):
    with pytest.raises(InvalidAmount):
        earn(UserFactory(), amount, "x")
    assert not Entry.objects.exists()


def test_the_balance_never_goes_negative():
    person = UserFactory()
    earn(person, 50, "a")
    with pytest.raises(InsufficientPoints):
        earn(person, -51, "b")
    assert balance(person) == 50 and Entry.objects.count() == 1


def test_hours_are_a_separate_account_from_points():
    person = UserFactory()
    earn(person, 120, "hours", unit=Account.Unit.MINUTES)
    earn(person, 10, "points")
    earn(person, -10, "spend")

    assert balance(person, Account.Unit.MINUTES) == 120
    assert balance(person) == 0


def test_a_reversal_cancels_an_entry_once():
    person = UserFactory()
    entry = earn(person, 40, "a").entry
    reversal = do_reverse(entry_id=entry.pk, actor=None, reason="duplicate award")

    assert reversal.entry.amount == -40 and reversal.entry.reverses_id == entry.pk
    assert balance(person) == 0
    assert not do_reverse(entry_id=entry.pk, actor=None, reason="again").created
    with pytest.raises(AlreadyReversed):
        do_reverse(entry_id=entry.pk, actor=None, reason="again", key="another-key")
    with pytest.raises(NotReversible):
        do_reverse(entry_id=reversal.entry.pk, actor=None, reason="undo the undo")


def test_spent_points_cannot_be_reversed_below_zero():
    person = UserFactory()
    entry = earn(person, 40, "a").entry
    earn(person, -30, "spend")
    with pytest.raises(InsufficientPoints):
        do_reverse(entry_id=entry.pk, actor=None, reason="mistake")
    assert balance(person) == 10


def test_the_database_refuses_to_update_or_delete_an_entry_through_the_orm():
    entry = earn(UserFactory(), 40, "a").entry

    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).update(amount=4000)
    with pytest.raises(DatabaseError), transaction.atomic():
        entry.delete()
    entry.refresh_from_db()
    assert entry.amount == 40


def test_the_database_refuses_raw_sql_changes_to_an_entry():
    entry = earn(UserFactory(), 40, "a").entry

    for sql in ("UPDATE points_entry SET amount = 4000", "DELETE FROM points_entry"):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    assert Entry.objects.get(pk=entry.pk).amount == 40


def test_the_balance_check_constraint_holds_even_past_python():
    person = UserFactory()
    earn(person, 5, "a")
    with pytest.raises(DatabaseError), transaction.atomic():
        Account.objects.filter(person=person).update(balance=-1)


@pytest.mark.django_db(transaction=True)
def test_a_whole_database_reset_still_works_and_leaves_the_triggers_in_place():
    """Test teardown flushes the database; the triggers are suspended for that and come back."""
    from django.core.management import call_command

    earn(UserFactory(), 40, "a")
    call_command("flush", verbosity=0, interactive=False)
    assert not Entry.objects.exists()

    entry = earn(UserFactory(), 40, "b").entry
    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.objects.filter(pk=entry.pk).delete()
