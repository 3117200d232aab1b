"""Signals the points services send, so that they need not import the Celery tasks that import them.

`award_approved` (with `award_id`) is sent inside the transaction that approves an award, at once when the
rules allow it or later by staff; points.tasks answers by queueing `post_award` for after that
transaction commits (connected in points.apps).
"""

from django.dispatch import Signal

award_approved = Signal()
