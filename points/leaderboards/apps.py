from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class LeaderboardsConfig(AppConfig):
    """Leaderboards and a person's points page: part of points/, its own app for clarity."""

    name = "points.leaderboards"
    label = "leaderboards"
    verbose_name = _("Leaderboards")

    def ready(self):
        # Models, and the modules that import them, load only once the app registry is ready.
        from points.models import Entry
        from volunteers.models import Community, Grid, Street, User

        from . import receivers

        post_save.connect(receivers.entry_saved, sender=Entry, dispatch_uid="leaderboards.record_entry")
        post_save.connect(receivers.person_saved, sender=User, dispatch_uid="leaderboards.person_saved")
        for place in (Grid, Community, Street):
            post_save.connect(
                receivers.place_saved, sender=place, dispatch_uid=f"leaderboards.{place.__name__}"
            )
