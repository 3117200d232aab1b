"""Wagtail admin screens for importing grids and people from spreadsheets: upload, preview, confirm.

Wagtail wraps every admin URL in `require_admin_access` (signed in, with the "access admin" permission);
these views also require a staff post. The work is done by `volunteers.importing`.
"""

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import include, path, reverse, reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.generic import TemplateView, View
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from core.exceptions import GongzhiError
from core.phones import display_cn_mobile

from . import importing
from .models import Grid, IdentityKind, ImportBatch
from .scopes import scope_for

# A preview lists at most this many rows of each sort; thousands of table rows help nobody.
PREVIEW_ROWS = 300


class UploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("The file contains"),
        choices=ImportBatch.Kind.choices,
        initial=ImportBatch.Kind.GRIDS,
        widget=forms.RadioSelect,
    )
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": f".xlsx,{importing.XLSX_CONTENT_TYPE}"}),
    )


class StaffOnlyMixin:
    def dispatch(self, request, *args, **kwargs):
        if not scope_for(request.user).is_staff:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class ImportIndexView(StaffOnlyMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "volunteers/import/index.html"
    page_title = gettext_lazy("Import")
    header_icon = "upload"

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", UploadForm())
        context["recent"] = ImportBatch.objects.filter(uploaded_by=self.request.user).defer("rows")[:10]
        context["max_mb"] = f"{settings.IMPORT_MAX_BYTES / (1024 * 1024):g}"
        context["max_rows"] = settings.IMPORT_MAX_ROWS
        context["kinds"] = [
            {
                "value": value,
                "label": label,
                "template_url": reverse("volunteers_import:template", args=[value]),
            }
            for value, label in ImportBatch.Kind.choices
        ]
        return context

    def post(self, request):
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        try:
            batch = importing.do_upload_import(
                actor=request.user, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"]
            )
        except GongzhiError as error:
            return self.render_to_response(self.get_context_data(form=form, error=error), status=error.status)
        return redirect("volunteers_import:preview", batch.pk)


def _access(request, pk: int) -> ImportBatch:
    try:
        return importing.access_batch(batch_id=pk, actor=request.user)
    except importing.BatchNotFound:
        raise Http404 from None


class ImportPreviewView(StaffOnlyMixin, WagtailAdminTemplateMixin, TemplateView):
    template_name = "volunteers/import/preview.html"
    header_icon = "upload"

    def get_page_title(self):
        return _("Check the import")

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("volunteers_import:index"), "label": _("Import")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get(self, request, pk):
        self.batch = _access(request, pk)
        return self.render_to_response(self.get_context_data())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        batch = self.batch
        columns = importing.COLUMNS[batch.kind]
        bad = batch.bad_rows
        good = batch.good_rows
        context.update(
            batch=batch,
            kind=batch.kind,
            confirmed=batch.status == ImportBatch.Status.CONFIRMED,
            total=len(batch.rows),
            bad_count=len(bad),
            good_count=len(good),
            bad_rows=[
                {
                    "row": row["row"],
                    "reasons": [importing.describe_error(batch.kind, error) for error in row["errors"]],
                    "cells": [
                        (column.header, row["values"].get(column.key, ""))
                        for column in columns
                        if row["values"].get(column.key, "").strip()
                    ],
                }
                for row in bad[:PREVIEW_ROWS]
            ],
            good_rows=[_display_plan(batch.kind, row) for row in good[:PREVIEW_ROWS]],
            bad_hidden=max(0, len(bad) - PREVIEW_ROWS),
            good_hidden=max(0, len(good) - PREVIEW_ROWS),
            summary_text=join_list(_summary_lines(batch, good)),
            preview_rows=PREVIEW_ROWS,
        )
        return context


def join_list(items) -> str:
    """A list in running text: Chinese uses the enumeration comma 、, other languages ", "."""
    separator = "、" if (translation.get_language() or "").startswith("zh") else ", "
    return separator.join(str(item) for item in items)


def _display_plan(kind: str, row: dict) -> dict:
    plan = dict(row["plan"])
    plan["row"] = row["row"]
    if kind == ImportBatch.Kind.GRIDS:
        plan["party_org_kind_label"] = Grid.PartyOrgKind(plan["party_org_kind"]).label
    else:
        plan["phone_display"] = display_cn_mobile(plan["phone"])
        plan["identity_text"] = join_list(IdentityKind(kind).label for kind in plan["identities"])
        plan["skills_text"] = join_list(plan["skills"])
    return plan


def _summary_lines(batch: ImportBatch, good: list[dict]) -> list[str]:
    """What was created (after confirmation) or what will be (before)."""
    if batch.status == ImportBatch.Status.CONFIRMED:
        counts = batch.summary
    elif batch.kind == ImportBatch.Kind.GRIDS:
        counts = {
            "grids": len(good),
            "streets": len(
                {(r["plan"]["district_id"], r["plan"]["street"]) for r in good if r["plan"]["new_street"]}
            ),
            "communities": len(
                {(r["plan"]["street"], r["plan"]["community"]) for r in good if r["plan"]["new_community"]}
            ),
        }
    else:
        counts = {"people": len(good), "identities": sum(len(r["plan"]["identities"]) for r in good)}
    lines = []
    if batch.kind == ImportBatch.Kind.GRIDS:
        n = counts.get("grids", 0)
        lines.append(ngettext("%(n)d grid", "%(n)d grids", n) % {"n": n})
        if counts.get("streets"):
            n = counts["streets"]
            lines.append(ngettext("%(n)d new street", "%(n)d new streets", n) % {"n": n})
        if counts.get("communities"):
            n = counts["communities"]
            lines.append(ngettext("%(n)d new community", "%(n)d new communities", n) % {"n": n})
    else:
        n = counts.get("people", 0)
        lines.append(ngettext("%(n)d person", "%(n)d people", n) % {"n": n})
        n = counts.get("identities", 0)
        lines.append(ngettext("%(n)d verified identity", "%(n)d verified identities", n) % {"n": n})
    return lines


class ImportConfirmView(ImportPreviewView):
    http_method_names = ["post"]

    def post(self, request, pk):
        try:
            batch = importing.do_confirm_import(batch_id=pk, actor=request.user)
        except importing.BatchNotFound:
            raise Http404 from None
        except GongzhiError as error:
            # Show the preview again, with the reasons the rows went bad if they were re-checked.
            self.batch = _access(request, pk)
            return self.render_to_response(self.get_context_data(error=error), status=error.status)
        messages.success(
            request, _("Imported: %(what)s.") % {"what": join_list(_summary_lines(batch, batch.good_rows))}
        )
        return redirect("volunteers_import:preview", batch.pk)


class ImportTemplateView(StaffOnlyMixin, View):
    def get(self, request, kind):
        if kind not in ImportBatch.Kind.values:
            raise Http404
        return importing.template_workbook(kind).response(f"gongzhi-import-{kind}.xlsx")


urlpatterns = [
    path("", ImportIndexView.as_view(), name="index"),
    path("template/<str:kind>.xlsx", ImportTemplateView.as_view(), name="template"),
    path("<int:pk>/", ImportPreviewView.as_view(), name="preview"),
    path("<int:pk>/confirm/", ImportConfirmView.as_view(), name="confirm"),
]


@hooks.register("register_admin_urls")
def register_import_urls():
    return [path("imports/", include((urlpatterns, "volunteers_import"), namespace="volunteers_import"))]


class ImportMenuItem(MenuItem):
    def is_shown(self, request):
        return scope_for(request.user).is_staff


@hooks.register("register_admin_menu_item")
def register_import_menu_item():
    return ImportMenuItem(
        gettext_lazy("Import"),
        reverse_lazy("volunteers_import:index"),
        name="imports",
        icon_name="upload",
        order=850,
    )
