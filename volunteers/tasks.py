from celery import shared_task

from .importing import purge_stale_batches


@shared_task
def purge_stale_import_batches() -> int:
    """Nightly (see config/celery.py): drop spreadsheet imports nobody confirmed within two days."""
    return purge_stale_batches()
