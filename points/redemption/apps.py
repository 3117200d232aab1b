from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RedemptionConfig(AppConfig):
    """Reward items, merchants and redemptions: part of points/, its own app for clarity."""

    name = "points.redemption"
    label = "redemption"
    verbose_name = _("Rewards and redemption")

    def ready(self):
        # Models load only once the app registry is ready.
        from volunteers.scopes import Rule, register

        from .models import Merchant, MerchantStaff, Redemption, RewardItem

        # A merchant belongs to a street (and maybe a community): that street's and district's staff,
        # and the community's, manage it, its items and see its redemptions.
        def places(prefix: str = "") -> dict[str, str]:
            return {
                "community": f"{prefix}community",
                "street": f"{prefix}street",
                "district": f"{prefix}street__district",
            }

        register(Merchant, Rule(places=places()))
        register(RewardItem, Rule(places=places("merchant__")))
        register(MerchantStaff, Rule(places=places("merchant__"), owner="person"))
        # A redemption is read by its person too; nobody changes one except through the services.
        register(Redemption, Rule(places=places("merchant__"), owner="person"))
