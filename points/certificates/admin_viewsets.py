"""The back office for service-hours certificates: the certificates issued in the staff member's area, each
with its facts, history and a "revoke" decision that needs a reason.

Scoped like every other screen (core.admin_kit.ScopedPermissionPolicy and volunteers.scopes): a
certificate is placed in its issuing street and district and its holder's home community. Every staff member
of those places may read it; street staff and district admins — the issuer — may revoke it, through
services.do_revoke_certificate, which checks again under the row lock. Certificates are issued only by their
holders and never edited, so there is no add, edit form or delete here. The policy asks for no Django model
permissions (`model_perms=False`): the staff role and the scope decide.
"""

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.ui.tables import Column, DateColumn, StatusTagColumn

from core.admin_kit import (
    Decision,
    ScopedModelViewSet,
    ScopedObjectView,
    ScopedPermissionPolicy,
    StackedColumn,
    StackedTitleColumn,
    register_policies,
)
from volunteers.scopes import ANY_STAFF, STREET_UP

from . import services
from .models import Certificate, CertificateEvent
from .pdf import verify_url

POLICIES = {
    Certificate: ScopedPermissionPolicy(
        Certificate, actions={"view": ANY_STAFF, "change": STREET_UP}, model_perms=False
    )
}
register_policies(POLICIES)


class CertificateReviewView(ScopedObjectView):
    template_name = "certificates/admin/certificate_review.html"
    object_kwarg = "certificate_id"
    actions = {
        "revoke": Decision(
            services.do_revoke_certificate,
            gettext_lazy("Revoke"),
            gettext_lazy("Revoked: %(object)s. Its verification page now shows it as revoked."),
            reason_required=True,
            destructive=True,
        ),
    }

    def get_object_queryset(self):
        return Certificate.objects.select_related(
            "person", "street", "district", "community"
        ).prefetch_related(Prefetch("events", queryset=CertificateEvent.objects.select_related("actor")))

    def get_page_subtitle(self):
        return f"{self.object.number} · {self.object.person_name}"

    def available_actions(self):
        if self.object.is_revoked or not services.may_revoke(self.request.user, self.object):
            return []
        return ["revoke"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["verify_url"] = verify_url(self.object)
        context["may_revoke"] = services.may_revoke(self.request.user, self.object)
        return context


class CertificateViewSet(ScopedModelViewSet):
    model = Certificate
    name = "service_certificates"
    icon = "doc-full-inverse"
    menu_label = gettext_lazy("Service-hours certificates")
    menu_order = 175
    add_to_admin_menu = True
    edit_item_label = gettext_lazy("Review")
    queryset = Certificate.objects.select_related("person", "street", "district")
    list_display = [
        StackedTitleColumn(
            "number",
            label=gettext_lazy("Certificate"),
            accessor="number",
            sort_key="number",
            secondary=lambda c: c.person_name,
        ),
        StackedColumn(
            "period",
            label=gettext_lazy("Service period"),
            accessor=lambda c: f"{c.period_start:%Y-%m-%d} — {c.period_end:%Y-%m-%d}",
            secondary=lambda c: c.issuer_name,
        ),
        Column("hours", label=gettext_lazy("Hours"), accessor="hours", sort_key="minutes"),
        Column("tasks", label=gettext_lazy("Tasks"), sort_key="tasks"),
        DateColumn("issued_at", label=gettext_lazy("Issued"), sort_key="issued_at"),
        StatusTagColumn(
            "status",
            label=gettext_lazy("Status"),
            accessor=lambda c: _("Revoked") if c.is_revoked else _("Valid"),
            primary=lambda c: not c.is_revoked,
        ),
    ]
    search_fields = ["number", "person_name"]
    ordering = ["-issued_at"]
    policies = POLICIES

    @property
    def edit_view(self):
        return self.construct_view(CertificateReviewView, **self.get_common_view_kwargs())
