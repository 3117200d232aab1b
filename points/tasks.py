"""Points work done by Celery. Tasks take ids and call a service that is idempotent, so a task delivered
twice (acks_late: a worker that dies mid-task leaves it queued) changes nothing the second time."""

from celery import shared_task
from django.db import OperationalError

from .services import reconciliation
from .services.awards import do_post_award

# A lost connection or a deadlock is worth another try; a bug is not.
_RETRYING = {"acks_late": True, "autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}


@shared_task(**_RETRYING)
def post_award(award_id: int) -> str:
    """Post one approved award's points and minutes to the ledger (exactly once, see do_post_award)."""
    return do_post_award(award_id=award_id).status


def queue_post_award(sender, *, award_id: int, **kwargs) -> None:
    """points.signals.award_approved → post_award, once the approving transaction has committed."""
    post_award.delay_on_commit(award_id)


@shared_task(**_RETRYING)
def reconcile_ledger() -> int:
    """Nightly: prove every cached balance equals the sum of its entries; returns the report's id."""
    return reconciliation.reconcile().pk
