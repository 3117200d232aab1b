"""A property-based model of the ledger: any sequence of earn / redeem / reverse / expire / replay keeps
every balance equal to the sum of its entries and never negative, and redemption never touches minutes.

Runs on SQLite and on PostgreSQL (whichever DATABASE_URL names). Each example runs inside a savepoint
that is rolled back at teardown, so examples start from the same empty ledger.
"""

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from points.exceptions import AlreadyReversed, InsufficientPoints, KeyReused, NotReversible
from points.models import Account, Entry
from points.services.ledger import do_post, do_reverse
from volunteers.models import User

POINTS, MINUTES = Account.Unit.POINTS, Account.Unit.MINUTES
amounts = st.integers(min_value=1, max_value=400)


class LedgerMachine(RuleBasedStateMachine):
    people: list[int] = []  # set by the test: people created once, outside the examples' savepoints

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.balance = {(p, u): 0 for p in self.people for u in (POINTS, MINUTES)}
        self.entries: list[dict] = []  # what we posted: pk, key, person, unit, amount, kind, reversed
        self.counter = 0

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _key(self, prefix):
        self.counter += 1
        return f"{prefix}:{self.counter}"

    def _post(self, person, unit, amount, kind, prefix):
        key = self._key(prefix)
        if self.balance[(person, unit)] + amount < 0:
            with pytest.raises(InsufficientPoints):
                do_post(person_id=person, amount=amount, kind=kind, key=key, reason="sm", unit=unit)
            return
        posted = do_post(person_id=person, amount=amount, kind=kind, key=key, reason="sm", unit=unit)
        assert posted.created
        self.balance[(person, unit)] += amount
        self.entries.append(
            {
                "pk": posted.entry.pk,
                "key": key,
                "person": person,
                "unit": unit,
                "amount": amount,
                "kind": kind,
                "reversed": False,
            }
        )

    @rule(data=st.data(), amount=amounts, unit=st.sampled_from([POINTS, MINUTES]))
    def earn(self, data, amount, unit):
        person = data.draw(st.sampled_from(self.people))
        self._post(person, unit, amount, Entry.Kind.ATTENDANCE, "earn")

    @rule(data=st.data(), amount=amounts)
    def redeem(self, data, amount):
        person = data.draw(st.sampled_from(self.people))
        self._post(person, POINTS, -amount, Entry.Kind.REDEMPTION, "redeem")

    @rule(data=st.data(), amount=amounts)
    def expire(self, data, amount):
        # Expiry takes at most what is there: it never drives a balance below zero.
        person = data.draw(st.sampled_from(self.people))
        due = min(amount, self.balance[(person, POINTS)])
        if due:
            self._post(person, POINTS, -due, Entry.Kind.EXPIRY, "expire")

    @precondition(lambda self: self.entries)
    @rule(data=st.data())
    def reverse(self, data):
        entry = data.draw(st.sampled_from(self.entries))
        key = self._key("reverse")
        if entry["kind"] == Entry.Kind.REVERSAL:
            expected = NotReversible
        elif entry["reversed"]:
            expected = AlreadyReversed
        elif self.balance[(entry["person"], entry["unit"])] - entry["amount"] < 0:
            expected = InsufficientPoints
        else:
            expected = None
        if expected is not None:
            with pytest.raises(expected):
                do_reverse(entry_id=entry["pk"], actor=None, reason="sm", key=key)
            return
        posted = do_reverse(entry_id=entry["pk"], actor=None, reason="sm", key=key)
        assert posted.created and posted.entry.amount == -entry["amount"]
        entry["reversed"] = True
        self.balance[(entry["person"], entry["unit"])] -= entry["amount"]
        self.entries.append(
            {
                "pk": posted.entry.pk,
                "key": key,
                "person": entry["person"],
                "unit": entry["unit"],
                "amount": -entry["amount"],
                "kind": Entry.Kind.REVERSAL,
                "reversed": False,
            }
        )

    @precondition(lambda self: any(e["kind"] != Entry.Kind.REVERSAL for e in self.entries))
    @rule(data=st.data(), same=st.booleans())
    def replay(self, data, same):
        entry = data.draw(st.sampled_from([e for e in self.entries if e["kind"] != Entry.Kind.REVERSAL]))
        amount = entry["amount"] if same else -entry["amount"]  # a different body: the opposite amount
        request = {
            "person_id": entry["person"],
            "amount": amount,
            "kind": entry["kind"],
            "key": entry["key"],
            "reason": "replayed",
            "unit": entry["unit"],
        }
        if same:
            posted = do_post(**request)
            assert not posted.created and posted.entry.pk == entry["pk"]
        else:
            with pytest.raises(KeyReused):
                do_post(**request)

    @invariant()
    def balances_equal_the_sum_of_entries_and_are_never_negative(self):
        sums = dict(
            Entry.objects.values("account_id")
            .annotate(total=Sum("amount"))
            .values_list("account_id", "total")
        )
        for account in Account.objects.all():
            assert account.balance == sums.get(account.pk, 0)
            assert account.balance >= 0
            assert account.balance == self.balance[(account.person_id, account.unit)]
        assert Entry.objects.count() == len(self.entries)

    @invariant()
    def minutes_are_untouched_by_redemption_and_expiry(self):
        assert not Entry.objects.filter(
            account__unit=MINUTES, kind__in=[Entry.Kind.REDEMPTION, Entry.Kind.EXPIRY]
        ).exists()
        for person in self.people:
            earned = sum(
                e["amount"]
                for e in self.entries
                if e["person"] == person and e["unit"] == MINUTES and e["kind"] == Entry.Kind.ATTENDANCE
            )
            reversed_ = sum(
                e["amount"]
                for e in self.entries
                if e["person"] == person and e["unit"] == MINUTES and e["kind"] == Entry.Kind.REVERSAL
            )
            assert self.balance[(person, MINUTES)] == earned + reversed_


@pytest.mark.django_db
def test_the_ledger_keeps_its_invariants_under_any_sequence_of_operations():
    LedgerMachine.people = [
        User.objects.create(phone=f"+8613700000{i:03d}", name=f"模型{i}").pk for i in range(2)
    ]
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=500,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            database=None,
        ),
    )
