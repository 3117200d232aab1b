from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    """Per-incident and per-case rewards (一事一奖/一案一奖): part of points/, its own app for clarity."""

    name = "points.cases"
    label = "cases"
    verbose_name = _("Incidents and cases")

    def ready(self):
        # Models load only once the app registry is ready.
        from volunteers.scopes import Rule, register, via

        from .models import Budget, Case, Reward

        # Staff of the case's grid, community, street or district see and decide; grid workers of the
        # grid see its cases but do not decide them; contributors see their own.
        register(Case, Rule(places=via("grid"), owner="contributors__person"))
        register(Reward, Rule(places=via("case__grid"), owner="case__contributors__person"))
        # A budget belongs to a street: its street's staff and the district see it.
        register(Budget, Rule(places={"street": "street", "district": "street__district"}))
