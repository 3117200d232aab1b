"""The nightly reconciliation: every `Account.balance` (a cache) must equal the sum of the account's
entries, and each entry's `balance_after` must be the previous entry's plus its amount.

Both checks are single aggregate queries (a GROUP BY and a window function), so the run costs two
queries however large the ledger grows, and only the differences come back to Python. Every run leaves
a `ReconciliationReport`; a difference is also logged at ERROR and sent to the district admins' inboxes.
"""

import logging

from django.db.models import F, Q, Sum, Value, Window
from django.db.models.functions import Coalesce, Lag
from django.utils import timezone
from django.utils.translation import gettext as _

from core.notifications import notify
from volunteers.models import StaffPost, User

from ..models import Account, Entry, ReconciliationReport

logger = logging.getLogger("points.reconciliation")

MAX_LISTED = 200  # a report lists at most this many differences of each kind (and counts them all)


def balance_differences():
    return (
        Account.objects.annotate(total=Coalesce(Sum("entries__amount"), Value(0)))
        .exclude(balance=F("total"))
        .order_by("pk")
        .values("pk", "person_id", "unit", "balance", "total")
    )


def chain_breaks():
    previous = Window(Lag("balance_after"), partition_by=[F("account_id")], order_by=F("id").asc())
    return (
        Entry.objects.annotate(previous=previous)
        .annotate(expected=Coalesce(F("previous"), Value(0)) + F("amount"))
        .filter(~Q(balance_after=F("expected")))
        .order_by("pk")
        .values("pk", "account_id", "balance_after", "expected")
    )


def reconcile() -> ReconciliationReport:
    differences = [
        {
            "account": r["pk"],
            "person": r["person_id"],
            "unit": r["unit"],
            "balance": r["balance"],
            "sum": r["total"],
        }
        for r in balance_differences()[:MAX_LISTED]
    ]
    breaks = [
        {
            "entry": r["pk"],
            "account": r["account_id"],
            "balance_after": r["balance_after"],
            "expected": r["expected"],
        }
        for r in chain_breaks()[:MAX_LISTED]
    ]
    report = ReconciliationReport.objects.create(
        accounts_checked=Account.objects.count(),
        entries_checked=Entry.objects.count(),
        balance_differences=differences,
        chain_breaks=breaks,
        ok=not differences and not breaks,
    )
    if not report.ok:
        logger.error(
            "points ledger reconciliation %s: %d balance difference(s), %d balance_after break(s): %s %s",
            report.pk,
            len(differences),
            len(breaks),
            differences[:10],
            breaks[:10],
        )
        _tell_district_admins(report)
    return report


def _tell_district_admins(report: ReconciliationReport) -> None:
    admins = User.objects.filter(
        Q(is_superuser=True) | Q(staff_posts__level=StaffPost.Level.DISTRICT), is_active=True
    ).distinct()
    day = timezone.localtime(report.ran_at).strftime("%Y-%m-%d")
    for admin in admins:
        notify(
            recipient=admin,
            category="points",
            title=_("The points ledger does not add up (%(day)s)") % {"day": day},
            body=_(
                "%(balances)s balance difference(s), %(breaks)s break(s) in the running balance. "
                "See report %(id)s."
            )
            % {
                "balances": len(report.balance_differences),
                "breaks": len(report.chain_breaks),
                "id": report.pk,
            },
            key=f"reconciliation:{report.pk}:{admin.pk}",
        )
