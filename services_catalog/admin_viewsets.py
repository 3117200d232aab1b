"""The back office for the services catalogue: categories (reference data staff may extend), services and
orders (read and inspect; they change only through the services — the workbench at /services/manage/ and
the order pages — so every change is checked and recorded as an event).

Scoped like every other screen (core.admin_kit.ScopedPermissionPolicy): the staff role and
the scope rule decide (`model_perms=False`), so no group needs new permissions.
"""

from django.utils.translation import gettext_lazy
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn
from wagtail.admin.viewsets.base import ViewSetGroup

from core.admin_kit import (
    ScopedModelViewSet,
    ScopedPermissionPolicy,
    StackedColumn,
    StackedTitleColumn,
    register_policies,
)
from volunteers.scopes import ANY_STAFF, STREET_UP, SUPERUSER_ONLY

from .models import Order, Service, ServiceCategory

POLICIES = {
    ServiceCategory: ScopedPermissionPolicy(
        ServiceCategory,
        actions={"view": ANY_STAFF, "change": STREET_UP, "add": STREET_UP, "delete": SUPERUSER_ONLY},
        scoped=False,
        model_perms=False,
    ),
    Service: ScopedPermissionPolicy(Service, actions={"view": ANY_STAFF}, model_perms=False),
    Order: ScopedPermissionPolicy(Order, actions={"view": ANY_STAFF}, model_perms=False),
}

register_policies(POLICIES)


class ServiceCategoryForm(WagtailAdminModelForm):
    class Meta:
        model = ServiceCategory
        fields = ["name", "name_en", "slug", "description", "position"]


class _ServicesViewSet(ScopedModelViewSet):
    policies = POLICIES


class ServiceCategoryViewSet(_ServicesViewSet):
    model = ServiceCategory
    name = "service_categories"
    icon = "list-ul"
    form_class = ServiceCategoryForm
    list_display = ["name", "name_en", "slug", "position"]
    ordering = ["position", "slug"]


class ServiceViewSet(_ServicesViewSet):
    """Read-only here: organisations edit services and staff review them in the workbench."""

    model = Service
    name = "catalogue_services"
    icon = "home"
    inspect_view_enabled = True
    queryset = Service.objects.select_related("category", "organisation", "street")
    list_display = [
        StackedTitleColumn(
            "title",
            label=gettext_lazy("Service"),
            accessor="title",
            sort_key="title",
            secondary=lambda s: s.category.label,
        ),
        Column(
            "organisation",
            label=gettext_lazy("Organisation"),
            accessor=lambda s: s.organisation or gettext_lazy("Service centre"),
        ),
        Column("street", label=gettext_lazy("Street"), accessor="street"),
        StatusTagColumn(
            "status",
            label=gettext_lazy("Status"),
            accessor="get_status_display",
            primary=lambda s: s.status == Service.Status.PUBLISHED,
        ),
    ]
    list_filter = ["status", "category", "mode"]
    search_fields = ["title", "description", "place"]
    ordering = ["title"]
    inspect_view_fields = [
        "title",
        "category",
        "organisation",
        "street",
        "place",
        "hours",
        "price_kind",
        "price",
        "mode",
        "session_capacity",
        "points_per_delivery",
        "status",
        "created_at",
    ]
    form_fields = []


class OrderViewSet(_ServicesViewSet):
    """Read-only: each order changes only through the loop's services, which record who did what."""

    model = Order
    name = "service_orders"
    icon = "list-ol"
    inspect_view_enabled = True
    queryset = Order.objects.select_related("service", "resident", "organisation", "grid")
    list_display = [
        StackedTitleColumn(
            "service",
            label=gettext_lazy("Service"),
            accessor="service.title",
            sort_key="service__title",
            secondary=lambda o: o.code,
        ),
        StackedColumn(
            "resident",
            label=gettext_lazy("Resident"),
            accessor=lambda o: o.resident.name,
            secondary=lambda o: o.grid,
        ),
        Column("organisation", label=gettext_lazy("Organisation"), accessor=lambda o: o.organisation or "—"),
        StatusTagColumn(
            "status",
            label=gettext_lazy("Status"),
            accessor="get_status_display",
            primary=lambda o: o.status in Order.ACTIVE,
        ),
        Column("rating", label=gettext_lazy("Rating"), accessor=lambda o: o.rating or "—"),
        DateColumn("created_at", label=gettext_lazy("Ordered at"), sort_key="created_at"),
    ]
    list_filter = ["status", "channel", "award"]
    search_fields = ["code", "service__title", "resident__name"]
    ordering = ["-created_at"]
    inspect_view_fields = [
        "service",
        "session",
        "resident",
        "channel",
        "note",
        "grid",
        "organisation",
        "status",
        "created_at",
        "accepted_at",
        "delivered_at",
        "finished_at",
        "rating",
        "comment",
        "confirmed_via",
        "award",
    ]
    form_fields = []


class Services(ViewSetGroup):
    menu_label = gettext_lazy("Services")
    menu_icon = "home"
    menu_order = 180
    items = (OrderViewSet, ServiceViewSet, ServiceCategoryViewSet)
