"""Forms of the services pages, one section per group of pages (the residents' pages, the workbench, …).
Forms parse and validate input; the rules live in services.py."""

# === residents' pages and the order page (views/catalogue.py) ===============================================
from django import forms  # noqa: E402
from django.core.validators import RegexValidator  # noqa: E402
from django.utils.translation import gettext_lazy as _  # noqa: E402

from core.text import one_line

RATING_CHOICES = [(n, str(n)) for n in range(1, 6)]


class CatalogueFilterForm(forms.Form):
    """The catalogue's query string: words to search, a category, a community, "serves my grid"."""

    q = forms.CharField(label=_("Search"), max_length=50, required=False, strip=True)
    category = forms.ChoiceField(label=_("Category"), required=False)
    community = forms.TypedChoiceField(label=_("Community"), coerce=int, required=False, empty_value=None)
    mine = forms.BooleanField(label=_("Serves my grid"), required=False)

    def __init__(self, data, *, categories, communities):
        super().__init__(data)
        self.fields["category"].choices = [("", _("All"))] + [(c.slug, c.label) for c in categories]
        groups: dict[str, list] = {}
        for community in communities:
            groups.setdefault(community.street.name, []).append((community.pk, community.name))
        self.fields["community"].choices = [("", _("Any community"))] + list(groups.items())


class PlaceOrderForm(forms.Form):
    """Book a session (the pressed button's `session`) or request an on-demand service, with a note;
    `for` names the resident a grid worker orders for (帮办)."""

    session = forms.IntegerField(
        required=False, min_value=1, error_messages={"invalid": _("Choose a session.")}
    )
    note = forms.CharField(
        label=_("Note for the organisation"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: less salt, a wheelchair, the best time to come."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["for"] = forms.IntegerField(
            required=False,
            min_value=1,
            widget=forms.HiddenInput,
            error_messages={"invalid": _("Unknown resident.")},
        )


class CancelOrderForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class RateForm(forms.Form):
    """评单: 1–5 stars and a comment."""

    rating = forms.TypedChoiceField(
        label=_("Rating"),
        choices=RATING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose a rating from 1 to 5 stars."),
            "invalid_choice": _("Choose a rating from 1 to 5 stars."),
        },
    )
    comment = forms.CharField(
        label=_("Comment"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class SmsConfirmForm(RateForm):
    """Confirmation on the deliverer's phone for a resident without a smartphone: the SMS code they got."""

    code = forms.CharField(
        label=_("Code from the resident's SMS"),
        max_length=12,
        validators=[RegexValidator(r"^\s*\d{6}\s*$", _("The code has 6 digits."))],
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class DeliverForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class OrganisationChoiceForm(forms.Form):
    """Which organisation: the one to dispatch to (staff), or the one that claims (organisation admin)."""

    organisation = forms.TypedChoiceField(
        label=_("Organisation"),
        coerce=int,
        error_messages={
            "required": _("Choose an organisation."),
            "invalid_choice": _("Choose an organisation from the list."),
        },
    )

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = [(o.pk, o.name) for o in organisations]


class AssignForm(forms.Form):
    people = forms.TypedMultipleChoiceField(
        label=_("Volunteers"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one volunteer."),
            "invalid_choice": _("Only active members of the organisation can be assigned."),
        },
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["people"].choices = [(m.pk, m.name) for m in members]


# === end catalogue ==========================================================================================


# === the workbench (views/manage.py) ========================================================================
# Imports of this section only (the module's own are at the top).
import re as _re  # noqa: E402

from django.core.exceptions import ValidationError as _ValidationError  # noqa: E402
from django.db.models import Q as _Q  # noqa: E402
from django.utils import timezone as _timezone  # noqa: E402
from django.utils.dates import WEEKDAYS as _WEEKDAYS  # noqa: E402
from django.utils.translation import pgettext_lazy as _p  # noqa: E402

from core.exceptions import GongzhiError as _GongzhiError  # noqa: E402
from core.phones import normalize_cn_mobile as _normalize_cn_mobile  # noqa: E402
from points.cases.services import check_photo  # noqa: E402
from volunteers.models import Community as _Community  # noqa: E402
from volunteers.models import Grid as _Grid  # noqa: E402
from volunteers.models import Organisation as _Organisation  # noqa: E402
from volunteers.models import Street as _Street  # noqa: E402
from volunteers.scopes import scope_for as _scope_for  # noqa: E402

from .models import Beneficiary as _Beneficiary  # noqa: E402
from .models import Service as _Service  # noqa: E402
from .models import ServiceCategory as _ServiceCategory  # noqa: E402
from .models import SubsidyGroup as _SubsidyGroup  # noqa: E402
from .services import MAX_SERVICE_PHOTOS as _MAX_SERVICE_PHOTOS  # noqa: E402

_CONTACT_PHONE = _re.compile(r"^[0-9+＋\-－ ()（）转]{5,20}$")


class _DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class _TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%H:%M")


class _MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class ServicePhotosField(forms.FileField):
    """Photos from one <input type=file multiple>: each checked by its bytes (points.cases.services.
    check_photo — JPEG, PNG or WebP, at most 5 MB), so a bad file is a message on the form."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", _MultiplePhotoInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if len(files) > _MAX_SERVICE_PHOTOS:
            raise _ValidationError(
                _("Choose at most %(n)d photos.") % {"n": _MAX_SERVICE_PHOTOS}, code="too_many_photos"
            )
        cleaned = [super(ServicePhotosField, self).clean(f, initial) for f in files]
        for upload in cleaned:
            try:
                check_photo(upload)
            except _GongzhiError as error:
                raise _ValidationError(
                    _("%(name)s: %(problem)s") % {"name": upload.name, "problem": error.message},
                    code=error.code,
                ) from error
        return cleaned


# The fields of a service as the workbench edits them, grouped the way the page shows them.
SERVICE_FIELDSETS = [
    (_("The service"), ["title", "category", "organisation", "street", "description"]),
    (_("Where and when"), ["place", "latitude", "longitude", "hours", "contact_phone"]),
    (_("Area served"), ["area_streets", "area_communities", "area_grids"]),
    (_p("service price", "Price"), ["price_kind", "price", "price_note"]),
    (_("Who may order"), ["min_age", "max_age", "subsidy_groups"]),
    (
        _("Sessions and points"),
        ["mode", "weekdays", "session_start", "session_end", "session_capacity", "points_per_delivery"],
    ),
    (_("Photos"), ["photos"]),
]


class ServiceForm(forms.ModelForm):
    """Create or edit a service (services.do_save_service saves it). Choices are limited to what the
    actor may offer (services.check_can_offer_for): their organisations, and for street or district
    staff the centre's own services of their streets. The area served lies in the service's street."""

    subsidy_groups = forms.MultipleChoiceField(
        label=_("Subsidy groups"),
        choices=[c for c in _SubsidyGroup.choices if c[0]],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only people in one of these groups may order; none ticked: anyone."),
    )
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Weekdays"),
        choices=[(i, _WEEKDAYS[i]) for i in range(7)],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    photos = ServicePhotosField(
        label=_("Add photos"),
        required=False,
        help_text=_("JPEG, PNG or WebP, 5 MB each; a service shows at most 6. Avoid people's faces."),
    )

    class Meta:
        model = _Service
        fields = [
            "title",
            "category",
            "organisation",
            "street",
            "description",
            "place",
            "latitude",
            "longitude",
            "hours",
            "contact_phone",
            "area_streets",
            "area_communities",
            "area_grids",
            "price_kind",
            "price",
            "price_note",
            "min_age",
            "max_age",
            "subsidy_groups",
            "mode",
            "weekdays",
            "session_start",
            "session_end",
            "session_capacity",
            "points_per_delivery",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "latitude": forms.NumberInput(attrs={"step": "0.000001", "inputmode": "decimal"}),
            "longitude": forms.NumberInput(attrs={"step": "0.000001", "inputmode": "decimal"}),
            "contact_phone": forms.TextInput(attrs={"type": "tel", "inputmode": "tel"}),
            "price": forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
            "area_streets": forms.CheckboxSelectMultiple,
            "area_communities": forms.CheckboxSelectMultiple,
            "area_grids": forms.CheckboxSelectMultiple,
            "mode": forms.RadioSelect,
            "price_kind": forms.RadioSelect,
            "session_start": _TimeInput(),
            "session_end": _TimeInput(),
        }
        help_texts = {
            "hours": _("For example: weekdays 11:00–12:30."),
            "price_note": _("For example: free for residents on minimum living allowance."),
            "session_capacity": _("Places each session offers."),
            "area_streets": _(
                "A resident can order when their home grid lies in the area: a whole street, a community, "
                "or single grids."
            ),
        }

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        scope = _scope_for(actor)
        current = self.instance if self.instance.pk else None
        staff_streets = _Street.objects.filter(
            _Q(pk__in=scope.street_ids) | _Q(district_id__in=scope.district_ids)
        )
        if scope.superuser:
            staff_streets = _Street.objects.all()
        orgs = _Organisation.objects.filter(status=_Organisation.Status.APPROVED).filter(
            _Q(pk__in=scope.admin_org_ids) | _Q(street__in=staff_streets)
        )
        if current is not None and current.organisation_id:
            orgs = orgs | _Organisation.objects.filter(pk=current.organisation_id)
        self.fields["organisation"].queryset = orgs.select_related("street").distinct().order_by("name")
        self.may_offer_centre = staff_streets.exists()
        if self.may_offer_centre:
            self.fields["organisation"].empty_label = _("The centre (dispatched order by order)")
            self.fields["organisation"].required = False
            streets = staff_streets
            if current is not None:
                streets = streets | _Street.objects.filter(pk=current.street_id)
            self.fields["street"].queryset = streets.distinct().order_by("district__name", "name")
            self.fields["street"].required = False
            self.fields["street"].help_text = _(
                "Whose centre reviews the service. An organisation's service belongs to its street."
            )
        else:
            self.fields["organisation"].required = True
            self.fields["organisation"].empty_label = None
            self.fields["organisation"].help_text = ""
            del self.fields["street"]
        # The area may lie in any street the actor offers services for; clean() keeps it to one street.
        street_ids = set(staff_streets.values_list("pk", flat=True)) | set(
            orgs.values_list("street_id", flat=True)
        )
        if current is not None:
            street_ids.add(current.street_id)
        self.fields["area_streets"].queryset = _Street.objects.filter(pk__in=street_ids).order_by("name")
        self.fields["area_communities"].queryset = _Community.objects.filter(
            street_id__in=street_ids
        ).order_by("street__name", "name")
        self.fields["area_grids"].queryset = (
            _Grid.objects.filter(community__street_id__in=street_ids)
            .select_related("community")
            .order_by("community__name", "code")
        )
        self.fields["category"].queryset = _ServiceCategory.objects.all()
        self.fields["category"].label_from_instance = lambda c: c.label
        self.fields["mode"].choices = _Service.Mode.choices
        # The catalogue's wording of price kinds ("Paid" alone means something else elsewhere on the site).
        self.fields["price_kind"].label = _("How it is charged")
        self.fields["price_kind"].choices = [
            (_Service.Price.FREE, _p("service price", "Free")),
            (_Service.Price.SUBSIDISED, _p("service price", "Subsidised")),
            (_Service.Price.PAID, _p("service price", "Paid")),
        ]
        # Bounds with messages a person can act on (the model's own checks would say less).
        for name, low, high in (
            ("min_age", 0, 120),
            ("max_age", 0, 120),
            ("session_capacity", 1, 1000),
            ("points_per_delivery", 0, 1000),
        ):
            field = self.fields[name]
            field.min_value, field.max_value = low, high
            field.validators = [v for v in field.validators if not hasattr(v, "limit_value")]
            field.validators += [_bound(low, high)]
            field.widget.attrs.update({"min": low, "max": high, "inputmode": "numeric"})
        for name in ("session_start", "session_end"):
            self.fields[name].input_formats = ["%H:%M", "%H:%M:%S"]

    def fieldsets(self):
        return [
            (legend, [self[name] for name in names if name in self.fields])
            for legend, names in SERVICE_FIELDSETS
        ]

    def clean_contact_phone(self):
        value = one_line(self.cleaned_data.get("contact_phone", ""))
        digits = sum(ch.isdigit() for ch in value)
        if value and (not _CONTACT_PHONE.match(value) or digits < 5):
            raise _ValidationError(
                _("Enter a telephone number, like 025-58811234 or 138 0013 8000."), code="bad_phone"
            )
        return value

    def clean(self):
        cleaned = super().clean()
        organisation = cleaned.get("organisation")
        street = organisation.street if organisation else cleaned.get("street")
        if organisation is not None and "street" in self.fields:
            chosen = cleaned.get("street")
            if chosen is not None and chosen.pk != organisation.street_id:
                self.add_error(
                    "street",
                    _("An organisation's service is reviewed by its own street, %(street)s.")
                    % {"street": organisation.street},
                )
            cleaned["street"] = organisation.street
        elif organisation is None and "street" in self.fields and street is None:
            self.add_error("street", _("Choose the street whose centre runs this service."))
        self._clean_area(cleaned, street)
        self._clean_place(cleaned)
        self._clean_price(cleaned)
        low, high = cleaned.get("min_age"), cleaned.get("max_age")
        if low is not None and high is not None and low > high:
            self.add_error("max_age", _("The maximum age is below the minimum age."))
        self._clean_timetable(cleaned)
        return cleaned

    def _clean_area(self, cleaned, street):
        streets = cleaned.get("area_streets") or []
        communities = cleaned.get("area_communities") or []
        grids = cleaned.get("area_grids") or []
        if not (streets or communities or grids):
            if not any(name in self.errors for name in ("area_streets", "area_communities", "area_grids")):
                self.add_error(
                    "area_streets", _("Choose at least one street, community or grid the service serves.")
                )
            return
        if street is None:
            return
        outside = (
            any(s.pk != street.pk for s in streets)
            or any(c.street_id != street.pk for c in communities)
            or any(g.community.street_id != street.pk for g in grids)
        )
        if outside:
            self.add_error(
                "area_streets",
                _("The area served must lie in %(street)s, the street of this service.") % {"street": street},
            )

    def _clean_place(self, cleaned):
        lat, lng = cleaned.get("latitude"), cleaned.get("longitude")
        both_read = "latitude" not in self.errors and "longitude" not in self.errors
        if (lat is None) != (lng is None) and both_read:
            self.add_error("longitude", _("Give both latitude and longitude, or neither."))
        if lat is not None and not -90 <= lat <= 90:
            self.add_error("latitude", _("Latitude is between -90 and 90."))
        if lng is not None and not -180 <= lng <= 180:
            self.add_error("longitude", _("Longitude is between -180 and 180."))

    def _clean_price(self, cleaned):
        kind, price = cleaned.get("price_kind"), cleaned.get("price")
        if kind == _Service.Price.FREE:
            if price:
                self.add_error("price", _("A free service has no price: choose “Subsidised” or “Paid”."))
            cleaned["price"] = None
        elif kind in (_Service.Price.SUBSIDISED, _Service.Price.PAID) and "price" not in self.errors:
            if price is None:
                self.add_error("price", _("Enter what the resident pays, in yuan."))
            elif price < 0:
                self.add_error("price", _("A price cannot be negative."))
            elif kind == _Service.Price.PAID and price == 0:
                self.add_error("price", _("A paid service costs more than 0 yuan; otherwise choose “Free”."))

    def _clean_timetable(self, cleaned):
        if cleaned.get("mode") != _Service.Mode.SESSIONS:
            # On request: no timetable (old values would otherwise linger unseen).
            cleaned.update(weekdays=[], session_start=None, session_end=None, session_capacity=None)
            return
        needed = {
            "weekdays": _("Tick the weekdays the sessions take place."),
            "session_start": _("Enter when a session starts."),
            "session_end": _("Enter when a session ends."),
            "session_capacity": _("Enter the places per session."),
        }
        for name, message in needed.items():
            if name not in self.errors and cleaned.get(name) in (None, [], ""):
                self.add_error(name, message)
        start, end = cleaned.get("session_start"), cleaned.get("session_end")
        if start and end and end <= start:
            self.add_error("session_end", _("A session must end after it starts."))
        if cleaned.get("weekdays"):
            cleaned["weekdays"] = sorted(set(cleaned["weekdays"]))

    def service_fields(self) -> dict:
        """The keyword arguments of services.do_save_service."""
        data = self.cleaned_data
        fields = {
            name: data[name]
            for name in self._meta.fields
            if name not in ("area_streets", "area_communities", "area_grids") and name in data
        }
        fields.update(
            area_streets=list(data["area_streets"]),
            area_communities=list(data["area_communities"]),
            area_grids=list(data["area_grids"]),
        )
        return fields


def _bound(low, high):
    def check(value):
        if value is not None and not low <= value <= high:
            raise _ValidationError(
                _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high},
                code="out_of_range",
            )

    return check


class ServiceReviewForm(forms.Form):
    """Staff decide on a service: publish, send back to the organisation with a reason, or suspend."""

    decision = forms.ChoiceField(
        choices=[
            ("publish", _("Publish")),
            ("reject", _("Send back")),
            ("suspend", _("Suspend")),
        ],
        error_messages={"invalid_choice": _("Choose publish, send back or suspend.")},
    )
    reason = forms.CharField(
        label=_("Reason (sent to the organisation)"),
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") in ("reject", "suspend") and not cleaned.get("reason", "").strip():
            self.add_error("reason", _("Give a reason: the organisation sees it."))
        return cleaned


class _ResidentDetailsMixin:
    def _setup_details(self):
        self.fields["birth_date"].widget = _DateInput()
        self.fields["birth_date"].input_formats = ["%Y-%m-%d"]
        self.fields["birth_date"].help_text = _("Services for older people or children check the age.")
        self.fields["subsidy_group"].help_text = _(
            "As recorded by the community; some services are only for these groups."
        )

    def clean_birth_date(self):
        value = self.cleaned_data.get("birth_date")
        today = _timezone.localdate()
        if value is not None and not (today.year - 120 <= value.year and value <= today):
            raise _ValidationError(_("Enter a date of birth in the past 120 years."), code="bad_birth_date")
        return value


class BeneficiaryForm(_ResidentDetailsMixin, forms.ModelForm):
    """A resident's service details as their grid worker records them (services.do_update_beneficiary)."""

    class Meta:
        model = _Beneficiary
        fields = ["birth_date", "subsidy_group", "address", "dietary_notes"]
        widgets = {"address": forms.TextInput(), "dietary_notes": forms.TextInput()}
        help_texts = {"dietary_notes": _("For example: diabetic, no pork, soft food.")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._setup_details()

    def details(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class RegisterResidentForm(_ResidentDetailsMixin, forms.ModelForm):
    """A grid worker records a resident without a smartphone (services.do_register_resident)."""

    name = forms.CharField(label=_("Full name"), max_length=40)
    grid = forms.ModelChoiceField(label=_("Home grid"), queryset=_Grid.objects.none())
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
        help_text=_("If they have one: they receive the SMS code to confirm a delivery."),
    )
    consent = forms.BooleanField(
        label=_("The resident agrees that these details are kept to arrange services for them."),
        error_messages={"required": _("Ask the resident's consent first.")},
    )

    field_order = [
        "name",
        "grid",
        "phone",
        "birth_date",
        "subsidy_group",
        "address",
        "dietary_notes",
        "consent",
    ]

    class Meta(BeneficiaryForm.Meta):
        pass

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        grids = (
            _scope_for(actor).managed_grids().select_related("community").order_by("community__name", "code")
        )
        self.fields["grid"].queryset = grids
        if not self.is_bound:
            only = list(grids[:2])
            if len(only) == 1:  # most grid workers look after one grid: no choice to make
                self.initial.setdefault("grid", only[0].pk)
        self._setup_details()

    def clean_name(self):
        name = one_line(self.cleaned_data["name"])
        if not name:
            raise _ValidationError(_("Enter the resident's name."), code="name_required")
        return name

    def clean_phone(self):
        raw = self.cleaned_data.get("phone", "").strip()
        return _normalize_cn_mobile(raw) if raw else None

    def details(self) -> dict:
        return {name: self.cleaned_data[name] for name in BeneficiaryForm.Meta.fields}


class ResidentSearchForm(forms.Form):
    q = forms.CharField(label=_("Name or last digits of the mobile number"), max_length=40, required=False)


# === end workbench ==========================================================================================
