"""allauth form tweaks (kept apart from volunteers.forms, which allauth itself imports for sign-up)."""

from allauth.account.forms import LoginForm


class PhoneFirstLoginForm(LoginForm):
    """The password form takes a mobile number first (an email also works): say so in the field itself."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"].widget.attrs.update(
            {"placeholder": "138 0013 8000", "autocomplete": "username", "autocapitalize": "none"}
        )
