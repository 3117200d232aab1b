from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    """The staff dashboard in the Wagtail admin: figures of the staff member's area, per month and per
    community, as charts, tables and XLSX exports. Reads only; it has no models of its own."""

    name = "dashboard"
    verbose_name = _("Statistics")
