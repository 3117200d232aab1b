from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PointsConfig(AppConfig):
    name = "points"
    verbose_name = _("Points")

    def ready(self):
        # Models, and the modules that import them, load only once the app registry is ready.
        from volunteers.scopes import Rule, register, via
        from volunteers.signals import work_verified

        from . import tasks
        from .models import Award, Entry
        from .services.awards import award_verified_work
        from .signals import award_approved

        # An award is decided by the staff of the grid where the attendance took place; the person
        # reads their own. Grid workers see their grid's awards but do not decide them.
        register(Award, Rule(places=via("grid"), owner="person"))
        # A ledger entry belongs to the area of the person's home grid (for the back office's ledger).
        register(Entry, Rule(places=via("account__person__home_grid"), owner="account__person"))
        # The one road from verified work to the ledger: work → award (the rules) → post_award.
        work_verified.connect(award_verified_work, dispatch_uid="points.award_verified_work")
        award_approved.connect(tasks.queue_post_award, dispatch_uid="points.queue_post_award")
