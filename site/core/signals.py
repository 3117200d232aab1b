"""Signals the notification service sends, so that it need not import the Celery tasks that import it.

`delivery_due` (with `delivery_id`) is sent, inside the caller's transaction, for each SMS or email
delivery that may go out now; core.tasks answers by queueing `deliver` for after that transaction commits
(connected in core.apps). Deliveries held for quiet hours are not sent it: the minute sweep picks them up.
"""

from django.dispatch import Signal

delivery_due = Signal()
