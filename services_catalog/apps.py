from django.apps import AppConfig
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ServicesCatalogConfig(AppConfig):
    """Services, sessions, orders and ratings: the ordering loop 点单 → 派单 → 接单 → 上菜 → 评单."""

    name = "services_catalog"
    verbose_name = _("Services")

    def ready(self):
        # Models, and the modules that import them, load only once the app registry is ready.
        from volunteers.scopes import Rule, register, via

        from .models import Beneficiary, Order, Service
        from .redaction import install
        from .search import register_search

        register(
            Service,
            Rule(
                places={
                    "community": "organisation__community",
                    "street": "street",
                    "district": "street__district",
                },
                organisation="organisation",
                owner="created_by",
                public=Q(status=Service.Status.PUBLISHED),
            ),
        )
        # Staff and grid workers by the resident's grid, the organisation the order went to, the resident.
        register(Order, Rule(places=via("grid"), organisation="organisation", owner="resident"))
        register(
            Beneficiary,
            Rule(
                places=via("person__home_grid"), owner="person", owner_changes=True, grid_worker_changes=True
            ),
        )
        register_search()  # published services on the site search page (core.search)
        install()  # residents' card tokens (printed, never expiring) must not reach the request logs
