"""Scores follow the ledger and the place tree: a new ledger entry is counted, and a person or a place that
moves takes its scores along. Connected in apps.py."""

from .models import Score
from .services import record_entry, refresh_places


def entry_saved(sender, instance, created, raw=False, **kwargs):
    # Entries are only ever inserted (the ledger is append-only); fixtures (raw) are left alone.
    if created and not raw:
        record_entry(entry=instance)


def person_saved(sender, instance, created, raw=False, update_fields=None, **kwargs):
    # A new person has no scores; a save that did not touch the home grid (a login) changes nothing.
    if created or raw or (update_fields is not None and "home_grid" not in update_fields):
        return
    refresh_places(scores=Score.objects.filter(person_id=instance.pk))


def place_saved(sender, instance, created, raw=False, **kwargs):
    # A grid, community or street may have moved under another parent: its people's scores follow.
    if created or raw:
        return
    # Through the people (indexed by home grid), not the score columns (indexed only after the period).
    path = {
        "Grid": "person__home_grid",
        "Community": "person__home_grid__community",
        "Street": "person__home_grid__community__street",
    }[sender.__name__]
    refresh_places(scores=Score.objects.filter(**{path: instance}))
