"""Points expiry: points earned in year Y and still unspent expire at the end of year Y + YEARS - 1
(settings POINTS_EXPIRY_YEARS, default 2: points of 2024 expire at the end of 2025). Off unless
POINTS_EXPIRY_ENABLED. Years are calendar years in local time (Asia/Shanghai).

Spending counts against the oldest points first. That is computed from aggregates, not per entry:
- credits(≤Y): what was earned up to the end of year Y — positive entries other than refunds and reversals;
- debits: everything taken since, net — the negative entries (redemptions, expiries, reversals of earnings,
  negative adjustments) less what came back (refunds, positive reversals), whenever they happened.
Oldest-first, the points of years ≤ Y still unspent are max(0, credits(≤Y) − debits). Earlier expiries are
debits too, so a year that already expired is not expired twice, and years before Y that never expired
(expiry switched on later) go with Y. The result can never exceed the balance (balance = credits − debits).

Idempotent: one entry per person and year, key "expiry:<person>:<year>"; the amount is computed under the
account lock, so a run racing a redemption cannot take points that were just spent.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from ..models import Account, Entry
from .ledger import do_post, lock_accounts, record_text

NOT_EARNINGS = (Entry.Kind.REFUND, Entry.Kind.REVERSAL)


def enabled() -> bool:
    return bool(getattr(settings, "POINTS_EXPIRY_ENABLED", False))


def years_kept() -> int:
    return max(1, int(getattr(settings, "POINTS_EXPIRY_YEARS", 2)))


def expiring_year(today: dt.date | None = None) -> int:
    """The latest year whose points have expired by `today`."""
    today = today or timezone.localdate()
    return today.year - years_kept()


def _year_end(year: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year + 1, 1, 1))


def _credit_q(until: dt.datetime) -> Q:
    return Q(amount__gt=0, created_at__lt=until) & ~Q(kind__in=NOT_EARNINGS)


_DEBIT_Q = Q(amount__lt=0) | Q(kind__in=NOT_EARNINGS)


def unspent_through(account: Account, year: int) -> int:
    """Points of `account` earned up to the end of `year` and not yet spent or expired (oldest first)."""
    sums = Entry.objects.filter(account=account).aggregate(
        credits=Sum("amount", filter=_credit_q(_year_end(year)), default=0),
        debits=Sum("amount", filter=_DEBIT_Q, default=0),  # a negative number
    )
    return max(0, min(sums["credits"] + sums["debits"], account.balance))


def expire_for(*, person_id: int, year: int) -> Entry | None:
    """Expire one person's unspent points earned up to the end of `year`. Idempotent by key: returns the
    new entry, or None when it was posted before or nothing was left to expire."""
    key = f"expiry:{person_id}:{year}"
    with transaction.atomic():
        account = lock_accounts([person_id], Account.Unit.POINTS)[person_id]
        earlier = Entry.objects.filter(key=key).first()
        if earlier is not None:
            return None
        amount = unspent_through(account, year)
        if amount <= 0:
            return None
        return do_post(
            person_id=person_id,
            amount=-amount,
            kind=Entry.Kind.EXPIRY,
            key=key,
            reason=record_text(
                gettext_noop("Points earned in %(year)s and not used have expired"), year=year
            ),
            source=f"expiry:{year}",
        ).entry


def expire_points(*, today: dt.date | None = None, force: bool = False) -> int:
    """Expire the points of every person whose points of the expiring year are unspent. Returns how many
    entries were posted. Does nothing unless enabled (or `force`, for tests and a manual run)."""
    if not (enabled() or force):
        return 0
    year = expiring_year(today)
    # Candidates, found with one aggregate query: accounts with a balance and earnings up to that year.
    candidates = (
        Account.objects.filter(unit=Account.Unit.POINTS, balance__gt=0)
        .filter(entries__in=Entry.objects.filter(_credit_q(_year_end(year))))
        .exclude(entries__source=f"expiry:{year}")  # done already (only expiry entries use this source)
        .values_list("person_id", flat=True)
        .distinct()
        .order_by("person_id")
    )
    posted = 0
    for person_id in list(candidates):
        if expire_for(person_id=person_id, year=year) is not None:
            posted += 1
    return posted
