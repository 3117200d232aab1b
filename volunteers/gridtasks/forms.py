import re
from datetime import timedelta

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from volunteers.models import DutyCategory, Grid, IdentityKind
from volunteers.scopes import scope_for

from . import selectors
from .models import GridTask

# The HTML datetime-local control sends 2025-05-03T19:00; Django's DateTimeField reads that (ISO 8601).
_DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format=_DATETIME_FORMAT)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


# Fields a task and a series have in common (a series sets times through its shifts instead).
COMMON_FIELDS = [
    "title",
    "category",
    "grid",
    "organisation",
    "description",
    "place_name",
    "latitude",
    "longitude",
    "geofence_radius_m",
    "capacity",
    "cancel_cutoff_minutes",
    "eligible_identities",
    "home_grid_only",
    "points",
    "notice",
    "checkin_grace_minutes",
    "min_presence_percent",
    "offer_minutes",
]


_FIELDSETS = [
    (_("What"), ["title", "category", "grid", "organisation", "description"]),
    (_("When"), ["first_date", "last_date", "weekdays", "shifts", "starts_at", "ends_at"]),
    (
        _("Sign-up"),
        [
            "capacity",
            "eligible_identities",
            "home_grid_only",
            "notice",
            "signup_opens_at",
            "signup_closes_at",
            "cancel_cutoff_minutes",
            "offer_minutes",
        ],
    ),
    (_("Where"), ["place_name", "latitude", "longitude", "geofence_radius_m"]),
    (_("Attendance and points"), ["points", "min_presence_percent", "checkin_grace_minutes"]),
    ("", ["publish"]),
]


class _TaskFieldsMixin:
    """Choices limited to what the actor manages; checks a form can make before the service does."""

    def fieldsets(self):
        return [
            (legend, [self[name] for name in names if name in self.fields]) for legend, names in _FIELDSETS
        ]

    def _limit_choices(self, actor, current_grid_id=None):
        scope = scope_for(actor)
        grids = scope.managed_grids()
        if scope.admin_org_ids:
            # An organisation's task may be placed in any grid (check_can_create_in).
            grids = Grid.objects.all()
        if current_grid_id:
            grids = grids | Grid.objects.filter(pk=current_grid_id)
        self.fields["grid"].queryset = (
            grids.select_related("community").order_by("community__name", "code").distinct()
        )
        self.fields["organisation"].queryset = selectors.organisations_for(actor)
        self.fields["organisation"].help_text = _("Leave empty for a task of the grid itself.")
        self.fields["category"].queryset = DutyCategory.objects.all()
        # Bounds a person can act on, with their own messages (the model's constraints would only say
        # "constraint violated" for the whole form).
        bounds = (("capacity", 1, 1000), ("points", 0, 1000), ("offer_minutes", 5, 7 * 24 * 60))
        for name, low, high in bounds:
            field = self.fields[name]
            field.min_value, field.max_value = low, high
            field.validators = [v for v in field.validators if not hasattr(v, "limit_value")]
            field.validators += [MinValueValidator(low), MaxValueValidator(high)]
            field.widget.attrs.update({"min": low, "max": high, "inputmode": "numeric"})
        self.fields["eligible_identities"] = forms.MultipleChoiceField(
            label=_("Who may sign up"),
            choices=IdentityKind.choices,
            required=False,
            widget=forms.CheckboxSelectMultiple,
            help_text=_("Verified identities that may sign up; none ticked: anyone."),
        )

    def _check_place(self, cleaned):
        lat, lng, radius = cleaned.get("latitude"), cleaned.get("longitude"), cleaned.get("geofence_radius_m")
        if (lat is None) != (lng is None):
            self.add_error("longitude", _("Give both latitude and longitude, or neither."))
        if lat is not None and not -90 <= lat <= 90:
            self.add_error("latitude", _("Latitude is between -90 and 90."))
        if lng is not None and not -180 <= lng <= 180:
            self.add_error("longitude", _("Longitude is between -180 and 180."))
        if radius and lat is None:
            self.add_error("geofence_radius_m", _("A location check needs the place's coordinates."))
        if radius is not None and radius and not 20 <= radius <= 5000:
            self.add_error("geofence_radius_m", _("Choose a radius between 20 and 5000 metres."))
        if cleaned.get("min_presence_percent") is not None and cleaned["min_presence_percent"] > 100:
            self.add_error("min_presence_percent", _("A percentage is at most 100."))


class TaskForm(_TaskFieldsMixin, forms.ModelForm):
    publish = forms.BooleanField(label=_("Publish now (volunteers can sign up)"), required=False)

    class Meta:
        model = GridTask
        fields = [
            *COMMON_FIELDS[:6],
            "starts_at",
            "ends_at",
            *COMMON_FIELDS[6:],
            "signup_opens_at",
            "signup_closes_at",
        ]
        widgets = {
            "starts_at": DateTimeLocalInput(),
            "ends_at": DateTimeLocalInput(),
            "signup_opens_at": DateTimeLocalInput(),
            "signup_closes_at": DateTimeLocalInput(),
            "description": forms.Textarea(attrs={"rows": 3}),
            "notice": forms.Textarea(attrs={"rows": 3}),
            "latitude": forms.NumberInput(attrs={"step": "0.000001", "inputmode": "decimal"}),
            "longitude": forms.NumberInput(attrs={"step": "0.000001", "inputmode": "decimal"}),
        }
        help_texts = {"notice": _("Volunteers must tick that they have read it before signing up.")}

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self._limit_choices(actor, current_grid_id=self.instance.grid_id if self.instance.pk else None)
        for name in ("starts_at", "ends_at", "signup_opens_at", "signup_closes_at"):
            self.fields[name].input_formats = [_DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
        if self.instance.pk:
            del self.fields["publish"]

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends:
            if ends <= starts:
                self.add_error("ends_at", _("The task must end after it starts."))
            elif ends - starts > timedelta(hours=24):
                self.add_error("ends_at", _("A task lasts at most 24 hours; use a series for longer duties."))
        opens, closes = cleaned.get("signup_opens_at"), cleaned.get("signup_closes_at")
        if opens and closes and closes <= opens:
            self.add_error("signup_closes_at", _("Sign-up must close after it opens."))
        if closes and ends and closes > ends:
            self.add_error("signup_closes_at", _("Sign-up must close before the task ends."))
        self._check_place(cleaned)
        return cleaned

    def task_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields}


_SHIFT = re.compile(r"^([01]?\d|2[0-3])[:：]([0-5]\d)\s*[-–—~～至到]\s*([01]?\d|2[0-3])[:：]([0-5]\d)$")


class SeriesForm(_TaskFieldsMixin, forms.ModelForm):
    """A recurring task: the task's fields plus the days and the shifts of each day."""

    first_date = forms.DateField(label=_("First day"), widget=DateInput())
    last_date = forms.DateField(label=_("Last day"), widget=DateInput())
    weekdays = forms.TypedMultipleChoiceField(
        label=_("Weekdays"),
        choices=[(i, WEEKDAYS[i]) for i in range(7)],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every day."),
    )
    shifts = forms.CharField(
        label=_("Shifts"),
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "19:00-23:00\n23:00-03:00"}),
        help_text=_("One shift per line, like 19:00-23:00. A shift may end after midnight (23:00-03:00)."),
    )
    publish = forms.BooleanField(label=_("Publish now (volunteers can sign up)"), required=False)

    class Meta:
        model = GridTask
        fields = COMMON_FIELDS
        widgets = TaskForm.Meta.widgets
        help_texts = TaskForm.Meta.help_texts

    field_order = [
        "title",
        "category",
        "grid",
        "organisation",
        "first_date",
        "last_date",
        "weekdays",
        "shifts",
    ]

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self._limit_choices(actor)

    def clean_shifts(self):
        shifts = []
        for line in re.split(r"[\n,，;；]+", self.cleaned_data["shifts"]):
            line = line.strip()
            if not line:
                continue
            match = _SHIFT.match(line)
            if not match:
                raise forms.ValidationError(_("“%(line)s” is not a shift like 19:00-23:00.") % {"line": line})
            h1, m1, h2, m2 = match.groups()
            start, end = f"{int(h1):02d}:{m1}", f"{int(h2):02d}:{m2}"
            if start == end:
                raise forms.ValidationError(_("A shift must end after it starts."))
            shifts.append((start, end))
        if not shifts:
            raise forms.ValidationError(_("Add at least one shift."))
        if len(shifts) > 6:
            raise forms.ValidationError(_("At most six shifts a day."))
        return shifts

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("first_date"), cleaned.get("last_date")
        if first and last:
            if last < first:
                self.add_error("last_date", _("The last day is before the first day."))
            elif (last - first).days > 92:
                self.add_error(
                    "last_date", _("A series covers at most three months; create another for later.")
                )
        self._check_place(cleaned)
        return cleaned

    def task_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in COMMON_FIELDS}


class SignUpForm(forms.Form):
    acknowledged = forms.BooleanField(label=_("I have read the notice above"), required=False)


class CancelTaskForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason, sent to everyone signed up"),
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CorrectionForm(forms.Form):
    signup = forms.IntegerField(widget=forms.HiddenInput)
    checked_in_at = forms.DateTimeField(label=_("Checked in"), required=False, widget=DateTimeLocalInput())
    checked_out_at = forms.DateTimeField(label=_("Checked out"), required=False, widget=DateTimeLocalInput())
    reason = forms.CharField(label=_("Reason for the correction"), max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("checked_in_at", "checked_out_at"):
            self.fields[name].input_formats = [_DATETIME_FORMAT, "%Y-%m-%d %H:%M"]

    def clean(self):
        cleaned = super().clean()
        came, left = cleaned.get("checked_in_at"), cleaned.get("checked_out_at")
        if left and not came:
            self.add_error("checked_in_at", _("Give the check-in time too."))
        elif came and left and left < came:
            self.add_error("checked_out_at", _("Check-out must be after check-in."))
        return cleaned


class SearchInput(forms.TextInput):
    input_type = "search"


class TaskFilterForm(forms.Form):
    """The filters of the task list (GET). An unknown value is ignored rather than refused: a stale
    bookmarked filter should still show tasks."""

    community = forms.ChoiceField(label=_("Community"), required=False)
    grid = forms.ChoiceField(label=_("Grid"), required=False)
    category = forms.ChoiceField(label=_("Duty"), required=False)
    day = forms.DateField(label=_("Date"), required=False, widget=DateInput())
    open = forms.BooleanField(label=_("Has open places"), required=False)
    # No max_length: a pasted paragraph is cut by core.search rather than silently dropped as invalid.
    q = forms.CharField(
        label=_("Words"),
        required=False,
        strip=True,
        widget=SearchInput(attrs={"maxlength": 64, "enterkeyhint": "search"}),
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        # The view read the choices once (selectors.filter_choices); keep them to turn a value back into
        # its object without another query.
        self._objects = {}
        for name, key, empty in (
            ("community", "communities", _("All communities")),
            ("grid", "grids", _("All grids")),
            ("category", "categories", _("All duties")),
        ):
            objects = {str(obj.pk): obj for obj in choices[key]}
            self._objects[name] = objects
            self.fields[name].choices = [("", empty)] + [
                (pk, obj.name if name != "grid" else str(obj)) for pk, obj in objects.items()
            ]

    def filters(self) -> selectors.TaskFilters:
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        return selectors.TaskFilters(
            community=self._objects["community"].get(data.get("community") or ""),
            grid=self._objects["grid"].get(data.get("grid") or ""),
            category=self._objects["category"].get(data.get("category") or ""),
            day=data.get("day"),
            open_only=bool(data.get("open")),
            q=data.get("q") or "",
        )

    @property
    def active(self) -> bool:
        f = self.filters()
        return any([f.community, f.grid, f.category, f.day, f.open_only, f.q])
