"""django-allauth glue: phone numbers live on the User row; codes go out through the SMS backend."""

from allauth.account.adapter import DefaultAccountAdapter
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.phones import INVALID_PHONE, normalize_cn_mobile
from core.sms import send_sms

from .models import User


class PhoneField(forms.CharField):
    """Takes what people type (spaces, dashes, +86) and cleans it to "+86" and the 11 digits."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("error_messages", {"invalid": INVALID_PHONE})
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {
                "inputmode": "tel",
                "autocomplete": "tel-national",
                "placeholder": "138 0013 8000",
                "maxlength": 20,
            }
        )

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return value
        return normalize_cn_mobile(value)


def _normalized_or_none(phone: str) -> str | None:
    try:
        return normalize_cn_mobile(phone)
    except ValidationError:
        return None


class AccountAdapter(DefaultAccountAdapter):
    def phone_form_field(self, **kwargs):
        # The phone is the account: wherever allauth asks for one it is required (its code-login form
        # would otherwise accept an empty number when email is also a login method).
        kwargs["required"] = True
        return PhoneField(**kwargs)

    def clean_phone(self, phone: str) -> str:
        try:
            return normalize_cn_mobile(phone)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages[0], code="invalid_phone") from exc

    def set_phone(self, user, phone: str, verified: bool) -> None:
        user.phone = phone
        user.phone_verified = verified
        user.save(update_fields=["phone", "phone_verified"])

    def get_phone(self, user):
        if user.phone:
            return user.phone, user.phone_verified
        return None

    def set_phone_verified(self, user, phone: str) -> None:
        User.objects.filter(pk=user.pk, phone=phone).update(phone_verified=True)
        user.phone_verified = True

    def get_user_by_phone(self, phone: str):
        # allauth passes the password form's login as typed ("138 0013 8000"); the code forms pass it cleaned.
        normalized = _normalized_or_none(phone)
        if normalized is None:
            return None
        return User.objects.filter(phone=normalized, is_active=True).order_by("-phone_verified").first()

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        # allauth keys failed-password counting on email or username only; without this every phone
        # login would share one counter and a stranger could lock everybody out.
        if credentials.get("phone"):
            phone = _normalized_or_none(credentials["phone"]) or credentials["phone"].strip()
            return f"phone:{phone}"
        return super()._get_login_attempts_cache_key(request, **credentials)

    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        send_sms(
            phone=phone,
            text=_("[Gongzhi] Your verification code is %(code)s. It expires in 10 minutes.")
            % {"code": code},
        )

    def send_unknown_account_sms(self, phone: str, **kwargs) -> None:
        # Tell the owner of the number, not the person at the keyboard, so the login form does not
        # reveal which numbers have accounts.
        send_sms(
            phone=phone,
            text=_(
                "[Gongzhi] Someone tried to sign in with this number, which has no "
                "account. Sign up at the Gongzhi portal if it was you."
            ),
        )

    def send_account_already_exists_sms(self, phone: str) -> None:
        send_sms(
            phone=phone,
            text=_(
                "[Gongzhi] Someone tried to sign up with this number, which already "
                'has an account. Use "sign in with a code" instead.'
            ),
        )

    def populate_username(self, request, user):
        # There is no username: the mobile number is the login.
        return None
