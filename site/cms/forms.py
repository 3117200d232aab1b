"""The notice editor's form: a notice must say who it is for, within the editor's own area."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from wagtail.admin.forms import WagtailAdminPageForm

from volunteers.scopes import scope_for

from .moderation import place_within, whole_district


def _live_rows(formset) -> list[dict]:
    if formset is None or not formset.is_valid():
        return []
    return [
        form.cleaned_data
        for form in formset.forms
        if form.cleaned_data and not form.cleaned_data.get("DELETE")
    ]


class NoticePageForm(WagtailAdminPageForm):
    """A notice must say who it is for, within the editor's own area."""

    def clean(self):
        cleaned = super().clean()
        targets = self.formsets.get("targets")
        if targets is None or not targets.is_valid():
            return cleaned  # the rows' own errors are shown next to them
        rows = _live_rows(targets)
        if not rows and not cleaned.get("is_public"):
            raise ValidationError(
                _("Say who this notice is for: add at least one target, or mark it public."),
                code="no_target",
            )
        if not rows and cleaned.get("must_read"):
            raise ValidationError(
                _("A must-read notice needs targets: the people who must read it."),
                code="must_read_no_target",
            )
        user = getattr(self, "for_user", None)
        if user is None or user.is_superuser:
            return cleaned
        scope = scope_for(user)
        if whole_district(scope):
            return cleaned
        outside = []
        for row in rows:
            place = row.get("grid") or row.get("community") or row.get("street")
            if place is None:
                outside.append(_("a role across the whole district"))
            elif not place_within(scope, place):
                outside.append(str(place))
        if outside:
            raise ValidationError(
                _("You can only address places in your own area. Outside it: %(places)s.")
                % {"places": "、".join(outside)},
                code="out_of_scope",
            )
        return cleaned
