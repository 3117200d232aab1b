"""Staff must use an authenticator app (TOTP) before the back office; the MFA pages live in our layout."""

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    SECRET_SESSION_KEY,
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)

from tests.accounts.helpers import CONFIRM_CODE_URL, LOGIN_URL, REQUEST_CODE_URL, page_text, signed_in_user_id
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ACTIVATE_URL = "/accounts/2fa/totp/activate/"
AUTHENTICATE_URL = "/accounts/2fa/authenticate/"
RECOVERY_URL = "/accounts/2fa/recovery-codes/"
REAUTH_URL = "/accounts/reauthenticate/"
PASSWORD = "correct horse battery"


def totp_now(secret: str, *, offset: int = 0) -> str:
    from allauth.mfa import app_settings

    return format_hotp_value(hotp_value(secret, int(time.time()) // app_settings.TOTP_PERIOD + offset))


def password_login(client, user):
    # The stored E.164 form: this test is about the second factor, not about how numbers are typed.
    return client.post(LOGIN_URL, {"login": user.phone, "password": PASSWORD})


def confirm_password_again(client, response):
    """allauth asks for the password once more before adding an authenticator, even right after sign-in
    (only an explicit re-authentication counts as recent); answer it and follow on."""
    assert response.status_code == 302
    assert response["Location"].startswith(REAUTH_URL)
    page = client.get(response["Location"])
    assert page.status_code == 200
    return client.post(response["Location"], {"password": PASSWORD})


@pytest.fixture
def staff(db):
    return UserFactory(phone="+8613700137000", name="赵主任", is_staff=True, is_superuser=True)


@pytest.fixture
def staff_with_totp(staff):
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    RecoveryCodes.activate(staff)
    staff.totp_secret = secret
    return staff


def test_staff_without_totp_is_sent_from_the_back_office_to_the_totp_setup(client, staff):
    password_login(client, staff)
    assert signed_in_user_id(client) == staff.pk

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"] == ACTIVATE_URL
    to_reauth = client.get(ACTIVATE_URL)
    assert to_reauth.status_code == 302 and to_reauth["Location"].startswith(REAUTH_URL)
    reauth_page = client.get(to_reauth["Location"])
    assert "Staff accounts need an authenticator app. Set it up to continue." in page_text(reauth_page)
    assert 'class="auth-page auth-entrance"' in reauth_page.content.decode()
    back = client.post(to_reauth["Location"], {"password": PASSWORD})
    assert back.status_code == 302 and back["Location"] == ACTIVATE_URL

    page = client.get(ACTIVATE_URL)

    assert page.status_code == 200
    html = page.content.decode()
    assert 'class="auth-page auth-manage"' in html and 'class="topbar"' in html
    assert 'class="qr-code"' in html and 'src="data:image/svg+xml;base64,' in html
    assert client.session[SECRET_SESSION_KEY] in html  # the typed-in key, for phones that cannot scan
    assert 'class="code-input"' in html


def test_staff_activates_totp_sees_recovery_codes_and_reaches_the_back_office(client, staff):
    password_login(client, staff)
    confirm_password_again(client, client.get(ACTIVATE_URL))
    client.get(ACTIVATE_URL)
    secret = client.session[SECRET_SESSION_KEY]

    wrong = client.post(ACTIVATE_URL, {"code": "000000" if totp_now(secret) != "000000" else "111111"})
    assert wrong.status_code == 200
    assert "Incorrect code." in page_text(wrong)
    assert not Authenticator.objects.filter(user=staff).exists()

    response = client.post(ACTIVATE_URL, {"code": totp_now(secret)})

    assert response.status_code == 302
    assert response["Location"] == RECOVERY_URL
    assert Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists()
    codes_page = client.get(RECOVERY_URL)
    rc = Authenticator.objects.get(user=staff, type=Authenticator.Type.RECOVERY_CODES)
    codes = RecoveryCodes(rc).get_unused_codes()
    assert codes and all(code in codes_page.content.decode() for code in codes)
    assert 'href="/admin/"' in codes_page.content.decode()
    assert client.get("/admin/").status_code == 200


def test_staff_with_totp_reaches_the_back_office_only_after_the_authenticator_step(client, staff_with_totp):
    response = password_login(client, staff_with_totp)

    assert response.status_code == 302
    assert response["Location"] == AUTHENTICATE_URL
    assert signed_in_user_id(client) is None
    page = client.get(AUTHENTICATE_URL)
    assert page.status_code == 200
    assert 'class="code-input"' in page.content.decode()
    assert 'class="auth-page auth-entrance"' in page.content.decode()

    secret = staff_with_totp.totp_secret
    wrong = client.post(AUTHENTICATE_URL, {"code": "000000" if totp_now(secret) != "000000" else "111111"})
    assert wrong.status_code == 200
    assert "Incorrect code." in page_text(wrong)
    assert signed_in_user_id(client) is None

    response = client.post(AUTHENTICATE_URL, {"code": totp_now(secret)})

    assert response.status_code == 302
    assert signed_in_user_id(client) == staff_with_totp.pk
    assert client.get("/admin/").status_code == 200


def test_a_totp_code_cannot_be_used_twice(client, staff_with_totp):
    secret = staff_with_totp.totp_secret
    code = totp_now(secret)
    password_login(client, staff_with_totp)
    client.post(AUTHENTICATE_URL, {"code": code})
    client.post("/accounts/logout/")

    password_login(client, staff_with_totp)
    response = client.post(AUTHENTICATE_URL, {"code": code})

    assert response.status_code == 200
    assert signed_in_user_id(client) is None


def test_a_recovery_code_also_passes_the_authenticator_step(client, staff_with_totp):
    codes = RecoveryCodes(
        Authenticator.objects.get(user=staff_with_totp, type=Authenticator.Type.RECOVERY_CODES)
    ).get_unused_codes()
    password_login(client, staff_with_totp)

    response = client.post(AUTHENTICATE_URL, {"code": codes[0]})

    assert response.status_code == 302
    assert signed_in_user_id(client) == staff_with_totp.pk


def test_signing_in_by_sms_code_does_not_skip_the_authenticator_step(client, staff_with_totp, sms_code):
    client.post(REQUEST_CODE_URL, {"phone": staff_with_totp.phone})

    response = client.post(CONFIRM_CODE_URL, {"code": sms_code(staff_with_totp.phone)})

    assert response.status_code == 302
    assert response["Location"] == AUTHENTICATE_URL
    assert signed_in_user_id(client) is None


def test_people_who_are_not_staff_are_not_asked_for_totp(client):
    person = UserFactory(phone="+8613600136000")
    password_login(client, person)

    response = client.get("/admin/")

    assert response["Location"] != ACTIVATE_URL
