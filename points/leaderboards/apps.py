from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


def _entry_saved(sender, instance, created, raw=False, **kwargs):
    # Entries are only ever inserted (the ledger is append-only); fixtures (raw) are left alone.
    if created and not raw:
        from .services import record_entry

        record_entry(entry=instance)


def _person_saved(sender, instance, created, raw=False, update_fields=None, **kwargs):
    # A new person has no scores; a save that did not touch the home grid (a login) changes nothing.
    if created or raw or (update_fields is not None and "home_grid" not in update_fields):
        return
    from .models import Score
    from .services import refresh_places

    refresh_places(scores=Score.objects.filter(person_id=instance.pk))


def _place_saved(sender, instance, created, raw=False, **kwargs):
    # A grid, community or street may have moved under another parent: its people's scores follow.
    if created or raw:
        return
    from .models import Score
    from .services import refresh_places

    # Through the people (indexed by home grid), not the score columns (indexed only after the period).
    path = {
        "Grid": "person__home_grid",
        "Community": "person__home_grid__community",
        "Street": "person__home_grid__community__street",
    }[sender.__name__]
    refresh_places(scores=Score.objects.filter(**{path: instance}))


class LeaderboardsConfig(AppConfig):
    """Leaderboards and a person's points page: part of points/, its own app for clarity."""

    name = "points.leaderboards"
    label = "leaderboards"
    verbose_name = _("Leaderboards")

    def ready(self):
        from points.models import Entry
        from volunteers.models import Community, Grid, Street, User

        post_save.connect(_entry_saved, sender=Entry, dispatch_uid="leaderboards.record_entry")
        post_save.connect(_person_saved, sender=User, dispatch_uid="leaderboards.person_saved")
        for place in (Grid, Community, Street):
            post_save.connect(_place_saved, sender=place, dispatch_uid=f"leaderboards.{place.__name__}")
