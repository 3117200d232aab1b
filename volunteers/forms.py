from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.text import one_line

from .adapters import PhoneField
from .models import Grid, IdentityClaim, IdentityKind, Organisation, Skill, User


class SignupExtraForm(forms.Form):
    """Fields allauth's signup form adds to its own (phone, optional email and password)."""

    name = forms.CharField(
        label=_("Full name"), max_length=40, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    privacy_consent = forms.BooleanField(
        label=_("I have read and agree to the privacy policy"),
        required=True,
        error_messages={"required": _("Please read and accept the privacy policy to continue.")},
    )

    field_order = ["name", "phone", "password1", "email", "privacy_consent"]

    def clean_name(self):
        name = one_line(self.cleaned_data["name"])
        if not name:
            raise forms.ValidationError(_("Please enter your name."))
        return name

    def signup(self, request, user):
        user.name = self.cleaned_data["name"]
        user.privacy_consented_at = timezone.now()
        user.save(update_fields=["name", "privacy_consented_at"])


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["name", "email", "home_grid", "skills", "notify_sms", "notify_email", "large_text"]
        widgets = {"skills": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["home_grid"].queryset = Grid.objects.select_related("community")
        self.fields["skills"].queryset = Skill.objects.all()
        self.fields["name"].required = True


class ProfilePageForm(ProfileForm):
    """The profile page's form: the notification switches live on the notification settings page
    (core:notification_settings) with the per-category choices; the API's PATCH /me keeps them."""

    class Meta(ProfileForm.Meta):
        fields = ["name", "email", "home_grid", "skills", "large_text"]


class IdentityClaimForm(forms.Form):
    kind = forms.ChoiceField(label=_("Identity"), choices=IdentityKind.choices)
    grid = forms.ModelChoiceField(
        label=_("Grid"),
        queryset=Grid.objects.select_related("community"),
        required=False,
        error_messages={"invalid_choice": _("That grid does not exist.")},
    )
    detail = forms.CharField(
        label=_("Details"),
        max_length=120,
        required=False,
        help_text=_("E.g. party branch, court or law firm, organisation name."),
    )


class IdentityDecisionForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200, required=False)


class OrganisationApplicationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = ["name", "kind", "street", "community", "description", "contact_phone"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def clean(self):
        cleaned = super().clean()
        community, street = cleaned.get("community"), cleaned.get("street")
        if community and street and community.street_id != street.pk:
            self.add_error("community", _("This community is not in the chosen street."))
        return cleaned


class InviteMemberForm(forms.Form):
    phone = PhoneField(label=_("Mobile number"))
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[("member", _("Member")), ("admin", _("Administrator"))],
        initial="member",
    )


IdentityClaimStatus = IdentityClaim.Status
