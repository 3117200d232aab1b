"""Business operations on points. The ledger primitives are in `ledger`; each area has its own module."""

from .awards import request_attendance_award

__all__ = ["request_attendance_award"]
