"""Points: one append-only ledger (ledger.py) and what feeds it or draws on it."""

from .awards import Award, AwardEvent
from .ledger import Account, Entry
from .reconciliation import ReconciliationReport
from .rules import Holiday, PointsRule

__all__ = ["Account", "Award", "AwardEvent", "Entry", "Holiday", "PointsRule", "ReconciliationReport"]
