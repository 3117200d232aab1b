"""The back office for rewards: merchants and their staff, reward items (stock), redemptions (read-only).

Scoped like every other screen (core.admin_kit.ScopedPermissionPolicy and volunteers.scopes):
a merchant belongs to a street (and maybe a community), and its items, staff and redemptions belong to it.
The policies do not ask for Django model permissions (`model_perms=False`): the staff role and the scope
decide, so no group needs new permissions. Redemptions are changed only by the services (redeem, hand
over, cancel, expire), never here.
"""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn
from wagtail.admin.views import generic
from wagtail.admin.viewsets.base import ViewSetGroup

from core.admin_kit import (
    ScopedCreateView,
    ScopedModelViewSet,
    ScopedParentForm,
    ScopedPermissionPolicy,
    StackedColumn,
    StackedTitleColumn,
    register_policies,
)
from core.phones import normalize_cn_mobile
from volunteers.models import Community, User
from volunteers.scopes import ANY_STAFF, STREET_UP, SUPERUSER_ONLY, scope_for

from . import services
from .models import Merchant, MerchantStaff, Redemption, RewardItem

POLICIES = {
    Merchant: ScopedPermissionPolicy(
        Merchant,
        actions={"view": ANY_STAFF, "change": ANY_STAFF, "add": STREET_UP, "delete": SUPERUSER_ONLY},
        model_perms=False,
    ),
    MerchantStaff: ScopedPermissionPolicy(
        MerchantStaff,
        actions={"view": ANY_STAFF, "add": ANY_STAFF, "delete": ANY_STAFF},
        model_perms=False,
    ),
    RewardItem: ScopedPermissionPolicy(
        RewardItem,
        actions={"view": ANY_STAFF, "change": ANY_STAFF, "add": ANY_STAFF, "delete": ANY_STAFF},
        model_perms=False,
    ),
    Redemption: ScopedPermissionPolicy(Redemption, actions={"view": ANY_STAFF}, model_perms=False),
}

register_policies(POLICIES)


# --- forms -----------------------------------------------------------------------------------------
class MerchantForm(ScopedParentForm):
    parent_field = "street"

    class Meta:
        model = Merchant
        fields = ["name", "kind", "street", "community", "address", "opening_hours", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["community"]
        current = Q(pk=self.instance.community_id or 0)
        managed = scope_for(self.for_user).changeable(Community.objects.all())
        field.queryset = Community.objects.filter(
            Q(pk__in=managed.values("pk")) | Q(street__in=self.fields["street"].queryset) | current
        ).select_related("street")

    def clean(self):
        data = super().clean()
        street, community = data.get("street"), data.get("community")
        if street and community and community.street_id != street.pk:
            self.add_error("community", _("The community must be in the merchant's street."))
        return data


class _MerchantChildForm(ScopedParentForm):
    parent_field = "merchant"


class RewardItemForm(_MerchantChildForm):
    # The stock as the form showed it, so that saving applies the staff member's change to the stock as
    # it is now (redemptions may have taken units meanwhile) rather than overwriting it.
    stock_shown = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = RewardItem
        fields = ["merchant", "name", "description", "photo", "price", "stock", "per_person_limit", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["price"].min_value = 1
        self.fields["price"].widget.attrs["min"] = 1
        self.fields["stock"].min_value = 0
        self.fields["stock"].widget.attrs["min"] = 0
        self.fields["stock_shown"].initial = self.instance.stock if self.instance.pk else None

    def clean_price(self):
        price = self.cleaned_data["price"]
        if price is not None and price < 1:
            raise forms.ValidationError(_("The price must be at least 1 point."))
        return price

    def clean_stock(self):
        stock = self.cleaned_data["stock"]
        if stock is not None and stock < 0:
            raise forms.ValidationError(_("The stock cannot be negative."))
        return stock

    def save(self, commit=True):
        if self.instance.pk:
            self.instance.stock = services.locked_stock_after_edit(
                item_id=self.instance.pk,
                shown=self.initial["stock"]
                if self.cleaned_data.get("stock_shown") is None
                else self.cleaned_data["stock_shown"],
                wanted=self.cleaned_data["stock"],
            )
        return super().save(commit=commit)


class MerchantStaffForm(_MerchantChildForm):
    """Add a person to a merchant's staff by their mobile number (staff lists do not offer every person)."""

    phone = forms.CharField(label=gettext_lazy("Mobile number"), max_length=20)

    class Meta:
        model = MerchantStaff
        fields = ["merchant"]

    def clean_phone(self):
        phone = normalize_cn_mobile(self.cleaned_data["phone"])
        person = User.objects.filter(phone=phone, is_active=True).first() if phone else None
        if person is None:
            raise forms.ValidationError(_("Nobody is registered with this mobile number."))
        return person

    def clean(self):
        data = super().clean()
        merchant, person = data.get("merchant"), data.get("phone")
        if merchant and person and MerchantStaff.objects.filter(merchant=merchant, person=person).exists():
            self.add_error("phone", _("This person is already on the merchant's staff."))
        return data

    def save(self, commit=True):
        self.instance.person = self.cleaned_data["phone"]
        self.instance.added_by = self.for_user
        return super().save(commit=commit)


class MerchantStaffCreateView(ScopedCreateView):
    """Staff rows are added and removed, never edited: the scope backstop checks "add", not "change"."""

    def save_instance(self):
        instance = generic.CreateView.save_instance(self)
        self.check_instance("add", instance)
        return instance


# --- viewsets --------------------------------------------------------------------------------------
class _RewardViewSet(ScopedModelViewSet):
    policies = POLICIES


class MerchantViewSet(_RewardViewSet):
    model = Merchant
    name = "merchants"
    icon = "site"
    form_class = MerchantForm
    queryset = Merchant.objects.select_related("street", "community")
    list_display = [
        StackedTitleColumn(
            "merchant",
            label=gettext_lazy("Name"),
            accessor="name",
            sort_key="name",
            secondary=lambda m: m.get_kind_display(),
        ),
        Column("place", label=gettext_lazy("Area"), accessor=lambda m: m.community or m.street),
        Column("active", label=gettext_lazy("Active")),
    ]
    list_filter = ["kind", "active"]
    search_fields = ["name", "address"]
    ordering = ["name"]


class MerchantStaffViewSet(_RewardViewSet):
    model = MerchantStaff
    name = "merchant_staff"
    icon = "user"
    menu_label = gettext_lazy("Merchant staff")
    form_class = MerchantStaffForm
    add_view_class = MerchantStaffCreateView
    queryset = MerchantStaff.objects.select_related("merchant", "person")
    list_display = [
        StackedTitleColumn(
            "person",
            label=gettext_lazy("Person"),
            accessor="person.name",
            sort_key="person__name",
            secondary=lambda row: row.person.masked_phone,
        ),
        Column("merchant", label=gettext_lazy("Merchant"), accessor="merchant"),
        DateColumn("created_at", label=gettext_lazy("Added"), sort_key="created_at"),
    ]
    search_fields = ["person__name", "merchant__name"]
    ordering = ["merchant__name", "person__name"]


class RewardItemViewSet(_RewardViewSet):
    model = RewardItem
    name = "reward_items"
    icon = "pick"
    form_class = RewardItemForm
    queryset = RewardItem.objects.select_related("merchant")
    list_display = [
        StackedTitleColumn(
            "item",
            label=gettext_lazy("Item"),
            accessor="name",
            sort_key="name",
            secondary=lambda item: item.merchant.name,
        ),
        Column("price", label=gettext_lazy("Points price"), sort_key="price"),
        Column("stock", label=gettext_lazy("Stock"), sort_key="stock"),
        StatusTagColumn(
            "active",
            label=gettext_lazy("Offered"),
            accessor=lambda item: _("Yes") if item.active else _("No"),
            primary=lambda item: item.active,
        ),
    ]
    list_filter = ["active"]
    search_fields = ["name", "merchant__name"]
    ordering = ["merchant__name", "name"]


class RedemptionViewSet(_RewardViewSet):
    """Read-only: listed and inspected, never added, edited or deleted here."""

    model = Redemption
    name = "redemptions"
    icon = "list-ul"
    inspect_view_enabled = True
    queryset = Redemption.objects.select_related("item", "merchant", "person")
    list_display = [
        StackedTitleColumn(
            "item",
            label=gettext_lazy("Item"),
            accessor="item.name",
            sort_key="item__name",
            secondary=lambda r: r.merchant.name,
        ),
        StackedColumn(
            "person",
            label=gettext_lazy("Person"),
            accessor=lambda r: r.person.masked_name,
            secondary=lambda r: r.short_code,
        ),
        Column("points", label=gettext_lazy("Points"), sort_key="points"),
        StatusTagColumn(
            "status",
            label=gettext_lazy("Status"),
            accessor="get_status_display",
            primary=lambda r: r.status == Redemption.Status.RESERVED,
        ),
        DateColumn("created_at", label=gettext_lazy("Redeemed at"), sort_key="created_at"),
    ]
    list_filter = ["status"]
    search_fields = ["short_code", "item__name", "person__name"]
    ordering = ["-created_at"]
    inspect_view_fields = [
        "item",
        "merchant",
        "points",
        "status",
        "created_at",
        "expires_at",
        "handed_over_at",
        "closed_at",
    ]

    # The policy offers no add, change or delete, so those views refuse (and no button leads there).
    form_fields = []


class Rewards(ViewSetGroup):
    menu_label = gettext_lazy("Rewards")
    menu_icon = "pick"
    menu_order = 170
    items = (RedemptionViewSet, RewardItemViewSet, MerchantViewSet, MerchantStaffViewSet)
