from django import forms
from django.utils.translation import gettext_lazy as _

from . import notifications


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", attrs={"class": "input"}, **kwargs)


def check_preferences(*, person, notify_email: bool, quiet_hours: bool, quiet_start, quiet_end) -> dict:
    """The rules the settings page and the API share: {field: [message]} for what is wrong."""
    errors = {}
    # Refused only when being switched on: an old "on" without an address (set through the profile API)
    # must not block saving the rest of the page.
    if notify_email and not person.email and not person.notify_email:
        errors["notify_email"] = [_("Add an email address under “My details” first.")]
    if quiet_hours and quiet_start is not None and quiet_start == quiet_end:
        errors["quiet_end"] = [_("Quiet hours must end at a different time than they start.")]
    return errors


class NotificationPreferencesForm(forms.Form):
    """The person's channels, per-category choices and quiet hours. One checkbox per category and
    channel, named "<category>-sms", "<category>-email", "<category>-digest"."""

    notify_sms = forms.BooleanField(label=_("SMS"), required=False)
    notify_email = forms.BooleanField(label=_("Email"), required=False)
    quiet_hours = forms.BooleanField(label=_("Quiet hours"), required=False)
    quiet_start = forms.TimeField(label=_("From"), required=False, widget=TimeInput())
    quiet_end = forms.TimeField(label=_("Until"), required=False, widget=TimeInput())

    COLUMNS = ("sms", "email", "digest")

    def __init__(self, *args, person, **kwargs):
        self.person = person
        choices = notifications.choices_of(person)
        quiet_row = person.notification_settings if _has_settings(person) else None
        default = notifications.default_quiet_hours()
        fallback = notifications.QuietHours(
            notifications.NotificationSettings.DEFAULT_QUIET_START,
            notifications.NotificationSettings.DEFAULT_QUIET_END,
        )
        initial = {
            "notify_sms": person.notify_sms,
            "notify_email": person.notify_email,
            "quiet_hours": quiet_row.quiet_hours if quiet_row else default is not None,
            "quiet_start": quiet_row.quiet_start if quiet_row else (default or fallback).start,
            "quiet_end": quiet_row.quiet_end if quiet_row else (default or fallback).end,
        }
        for code, choice in choices.items():
            if code not in notifications.CATEGORIES:
                continue
            for column in self.COLUMNS:
                initial[f"{code}-{column}"] = getattr(choice, column)
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.rows = []
        for code, label in notifications.CATEGORIES.items():
            row = {"code": code, "label": label}
            for column in self.COLUMNS:
                name = f"{code}-{column}"
                self.fields[name] = forms.BooleanField(required=False, label=f"{label}: {column}")
                row[column] = self[name]
            self.rows.append(row)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("quiet_hours") and not (cleaned.get("quiet_start") and cleaned.get("quiet_end")):
            self.add_error("quiet_end", _("Give the start and the end of your quiet hours."))
        for name, messages in check_preferences(
            person=self.person,
            notify_email=cleaned.get("notify_email", False),
            quiet_hours=cleaned.get("quiet_hours", False),
            quiet_start=cleaned.get("quiet_start"),
            quiet_end=cleaned.get("quiet_end"),
        ).items():
            for message in messages:
                self.add_error(name, message)
        return cleaned

    def categories(self) -> dict[str, notifications.Choice]:
        data = self.cleaned_data
        return {
            code: notifications.Choice(
                sms=data[f"{code}-sms"], email=data[f"{code}-email"], digest=data[f"{code}-digest"]
            )
            for code in notifications.CATEGORIES
        }


def _has_settings(person) -> bool:
    try:
        person.notification_settings  # noqa: B018 - the reverse one-to-one raises when there is no row
    except notifications.NotificationSettings.DoesNotExist:
        return False
    return True
