"""The ledger primitives: post an entry, reverse one. Everything that changes points goes through here.

Contract of `do_post`:
- runs in its own atomic block (a savepoint when the caller already has a transaction, so a refused
  post leaves the caller's work alone unless the caller lets the error propagate);
- locks the account row first, then checks, then writes the entry and the cached balance together;
- idempotent by `key`: the same key with the same request returns the entry made the first time
  (`created` False); the same key with a different request raises `KeyReused` and changes nothing;
- never lets a balance go negative (`InsufficientPoints`); the database's CHECK constraints back this.

Callers that post to several accounts in one transaction lock them in ascending person id (`lock_accounts`)
so two such transactions cannot deadlock.
"""

import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext

from ..exceptions import AlreadyReversed, InsufficientPoints, InvalidAmount, KeyReused, NotReversible
from ..models import Account, Entry

MAX_ABS_AMOUNT = 10_000_000


@dataclass(frozen=True)
class Posted:
    entry: Entry
    created: bool


def record_text(message: str, **params) -> str:
    """A reason the system writes into the ledger. The ledger is a record, like the reasons staff type, so it
    is kept in the site's language whoever's request wrote it; mark `message` with gettext_noop."""
    with translation.override(settings.LANGUAGE_CODE):
        return gettext(message) % params


def fingerprint(**request) -> str:
    """A digest of what a request asked for; two requests with one key must have equal fingerprints."""
    canonical = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _locked_account(person_id: int, unit: str) -> Account:
    account = Account.objects.select_for_update().filter(person_id=person_id, unit=unit).first()
    if account is not None:
        return account
    try:
        # Two first posts for one person may race to create the account; the loser reads the winner's.
        with transaction.atomic():
            Account.objects.create(person_id=person_id, unit=unit)
    except IntegrityError:
        pass
    return Account.objects.select_for_update().get(person_id=person_id, unit=unit)


def lock_accounts(person_ids, unit: str = Account.Unit.POINTS) -> dict[int, Account]:
    """Lock (creating where missing) the accounts of several people, in ascending id order."""
    return {pid: _locked_account(pid, unit) for pid in sorted(set(person_ids))}


def _existing(key: str, digest: str) -> Entry | None:
    entry = Entry.objects.filter(key=key).first()
    if entry is not None and entry.fingerprint != digest:
        raise KeyReused()
    return entry


def do_post(
    *,
    person_id: int,
    amount: int,
    kind: str,
    key: str,
    reason: str,
    actor=None,
    source: str = "",
    unit: str = Account.Unit.POINTS,
    reverses: Entry | None = None,
) -> Posted:
    """Post one entry. See the module docstring for the contract."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0 or abs(amount) > MAX_ABS_AMOUNT:
        raise InvalidAmount()
    digest = fingerprint(
        person=person_id,
        unit=str(unit),
        amount=amount,
        kind=str(kind),
        source=source,
        reverses=reverses.pk if reverses else None,
    )
    with transaction.atomic():
        if (entry := _existing(key, digest)) is not None:
            return Posted(entry, False)
        account = _locked_account(person_id, unit)
        # Checked again under the lock: a concurrent request with this key may have committed meanwhile.
        if (entry := _existing(key, digest)) is not None:
            return Posted(entry, False)
        if account.balance + amount < 0:
            raise InsufficientPoints()
        account.balance += amount
        try:
            with transaction.atomic():
                entry = Entry.objects.create(
                    account=account,
                    amount=amount,
                    kind=kind,
                    reason=reason[:200],
                    source=source,
                    actor=actor,
                    key=key,
                    fingerprint=digest,
                    balance_after=account.balance,
                    reverses=reverses,
                )
        except IntegrityError as exc:
            # Only another account's concurrent post can hold this key now (ours is locked).
            if (entry := _existing(key, digest)) is not None:
                return Posted(entry, False)
            if reverses is not None and Entry.objects.filter(reverses=reverses).exists():
                raise AlreadyReversed() from exc
            raise
        account.save(update_fields=["balance", "updated_at"])
    return Posted(entry, True)


def do_reverse(*, entry_id: int, actor, reason: str, key: str | None = None) -> Posted:
    """Cancel an entry by posting its opposite. Once per entry; refused if it would leave the balance
    negative (points already spent cannot be taken back)."""
    entry = Entry.objects.select_related("account").get(pk=entry_id)
    if entry.kind == Entry.Kind.REVERSAL:
        raise NotReversible()
    key = key or f"reversal:{entry.pk}"
    existing = Entry.objects.filter(reverses=entry).first()
    if existing is not None:
        if existing.key == key:
            return Posted(existing, False)
        raise AlreadyReversed()
    return do_post(
        person_id=entry.account.person_id,
        unit=entry.account.unit,
        amount=-entry.amount,
        kind=Entry.Kind.REVERSAL,
        key=key,
        reason=reason,
        actor=actor,
        source=f"entry:{entry.pk}",
        reverses=entry,
    )
