from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.exceptions import GongzhiError
from core.phones import normalize_cn_mobile
from volunteers.models import User

from . import exceptions, services
from .models import Contributor, Kind, RewardCategory

EXTRA_CONTRIBUTORS = 3


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several photos from one <input type=file multiple>; each is checked by `services.check_photo`
    (size, and that the bytes are a JPEG, PNG or WebP image)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleImageInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > services.MAX_PHOTOS:
            raise ValidationError(str(exceptions.TooManyPhotos.default_message))
        cleaned = [super(MultipleImageField, self).clean(f, initial) for f in files]
        for upload in cleaned:
            try:
                services.check_photo(upload)
            except GongzhiError as error:
                raise ValidationError(str(error.message)) from error
        return cleaned


class ReportForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices, widget=forms.RadioSelect)
    category = forms.ModelChoiceField(label=_("Category"), queryset=RewardCategory.objects.none())
    grid = forms.ModelChoiceField(label=_("Grid"), queryset=None)
    title = forms.CharField(label=_("Title"), max_length=80)
    description = forms.CharField(
        label=_("What happened and what was done"), max_length=2000, widget=forms.Textarea(attrs={"rows": 5})
    )
    photos = MultipleImageField(
        label=_("Photos"),
        required=False,
        help_text=_("Up to 6 JPEG, PNG or WebP photos, 5 MB each. Avoid showing faces or house numbers."),
    )

    def __init__(self, *args, person, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = RewardCategory.objects.filter(active=True)
        self.fields["grid"].queryset = services.reportable_grids(person)
        self.person = person
        for i in range(1, EXTRA_CONTRIBUTORS + 1):
            self.fields[f"c{i}_phone"] = forms.CharField(
                label=_("Other contributor %(n)d: mobile number") % {"n": i}, max_length=20, required=False
            )
            self.fields[f"c{i}_role"] = forms.ChoiceField(
                label=_("Role"), choices=Contributor.Role.choices, initial=Contributor.Role.HANDLER
            )
            self.fields[f"c{i}_share"] = forms.IntegerField(
                label=_("Share (1–10)"), min_value=1, max_value=10, initial=1
            )
        self.fields["my_role"] = forms.ChoiceField(
            label=_("My role"), choices=Contributor.Role.choices, initial=Contributor.Role.REPORTER
        )
        self.fields["my_share"] = forms.IntegerField(
            label=_("My share (1–10)"), min_value=1, max_value=10, initial=1
        )

    def contributor_rows(self):
        return [
            (self[f"c{i}_phone"], self[f"c{i}_role"], self[f"c{i}_share"])
            for i in range(1, EXTRA_CONTRIBUTORS + 1)
        ]

    def clean(self):
        cleaned = super().clean()
        category, kind = cleaned.get("category"), cleaned.get("kind")
        if category and kind and category.kind != kind:
            self.add_error("category", str(exceptions.CategoryKindMismatch.default_message))
        people = [
            services.ContributorIn(
                person_id=self.person.pk,
                role=cleaned.get("my_role") or Contributor.Role.REPORTER,
                share=cleaned.get("my_share") or 1,
            )
        ]
        for i in range(1, EXTRA_CONTRIBUTORS + 1):
            raw = cleaned.get(f"c{i}_phone")
            if not raw:
                continue
            try:
                phone = normalize_cn_mobile(raw)
            except ValidationError as error:
                self.add_error(f"c{i}_phone", error)
                continue
            person_id = User.objects.filter(phone=phone, is_active=True).values_list("pk", flat=True).first()
            if person_id is None:
                self.add_error(f"c{i}_phone", str(exceptions.UnknownPerson.default_message))
                continue
            if any(p.person_id == person_id for p in people):
                self.add_error(f"c{i}_phone", _("This person is already listed."))
                continue
            people.append(
                services.ContributorIn(
                    person_id=person_id,
                    role=cleaned.get(f"c{i}_role") or Contributor.Role.HANDLER,
                    share=cleaned.get(f"c{i}_share") or 1,
                )
            )
        cleaned["contributors"] = people
        return cleaned


class AppealForm(forms.Form):
    text = forms.CharField(
        label=_("Why should the decision be changed?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("You can appeal a rejected reward once. Staff will decide and tell you."),
    )
