"""Sign-up by mobile number: the form, the SMS code stage, and every way it refuses bad input.

Everything goes through allauth's real views; the SMS leaves through core.sms.LocmemBackend (`sms_outbox`).
"""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from tests.accounts.helpers import LOGIN_URL, SIGNUP_URL, VERIFY_URL, page_text, signed_in_user_id
from tests.factories import UserFactory
from volunteers.models import User

pytestmark = pytest.mark.django_db

INVALID_PHONE = "Enter an 11-digit mainland mobile number, e.g. 138 0013 8000."


def test_signup_page_shows_name_mobile_optional_password_email_and_unticked_consent(client):
    response = client.get(SIGNUP_URL)

    assert response.status_code == 200
    html = response.content.decode()
    # Our layout, not allauth's bare one.
    assert 'class="topbar"' in html and 'class="tabbar"' in html
    assert 'class="auth-page auth-entrance"' in html
    for name in ("name", "phone", "password1", "email", "privacy_consent"):
        assert f'name="{name}"' in html
    assert 'inputmode="tel"' in html
    consent = html[html.index('name="privacy_consent"') - 40 : html.index('name="privacy_consent"') + 80]
    assert "checked" not in consent
    assert 'href="/privacy/"' in html
    text = page_text(response)
    assert "Mobile number" in text and "Password (optional)" in text and "Email (optional)" in text


def test_signup_by_phone_creates_account_then_sms_code_verifies_it_and_signs_in(client, sms_outbox, sms_code):
    before = timezone.now()
    response = client.post(
        SIGNUP_URL,
        {
            "name": "  张  三 ",
            "phone": "138 0013 8000",
            "password1": "",
            "email": "",
            "privacy_consent": "on",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == VERIFY_URL
    user = User.objects.get()
    assert user.phone == "+8613800138000"
    assert user.name == "张 三"
    assert user.privacy_consented_at is not None and user.privacy_consented_at >= before
    assert user.phone_verified is False
    assert not user.has_usable_password()
    assert [m.phone for m in sms_outbox] == ["+8613800138000"]
    # Not signed in until the number is proven.
    assert signed_in_user_id(client) is None

    code_page = client.get(VERIFY_URL)
    assert code_page.status_code == 200
    assert "138 0013 8000" in page_text(code_page)

    response = client.post(VERIFY_URL, {"code": sms_code("+8613800138000")})

    assert response.status_code == 302
    assert response["Location"] == "/"
    user.refresh_from_db()
    assert user.phone_verified is True
    assert signed_in_user_id(client) == user.pk


def test_signup_with_password_and_email_keeps_both(client, sms_code):
    client.post(
        SIGNUP_URL,
        {
            "name": "李四",
            "phone": "+86 139-0013-9000",
            "password1": "grid-volunteer-2024",
            "email": "Li.Si@Example.com",
            "privacy_consent": "on",
        },
    )
    client.post(VERIFY_URL, {"code": sms_code("+8613900139000")})

    user = User.objects.get()
    assert user.phone == "+8613900139000"
    assert user.check_password("grid-volunteer-2024")
    assert user.email == "li.si@example.com"
    assert signed_in_user_id(client) == user.pk


def test_code_page_has_big_numeric_code_input_and_a_resend_countdown(client, signup_data, settings):
    settings.SMS_RESEND_COOLDOWN = 45
    client.post(SIGNUP_URL, signup_data)

    html = client.get(VERIFY_URL).content.decode()

    code_input = html[html.index('name="code"') - 40 : html.index('name="code"') + 300]
    assert 'class="code-input"' in code_input
    assert 'inputmode="numeric"' in code_input
    assert 'autocomplete="one-time-code"' in code_input
    assert 'data-countdown="45"' in html
    assert 'data-countdown-label="Request new code (%s s)"' in html


@pytest.mark.parametrize(
    "phone",
    [
        "1380013800",  # 10 digits: too short
        "138001380001",  # 12 digits
        "138abcd8000",  # letters
        "025 8420 1234",  # Nanjing landline
        "010-12345678",  # Beijing landline
        "12345678901",  # 11 digits, but no mobile prefix starts with 12
    ],
)
def test_malformed_mobile_number_is_refused_with_a_message_and_no_account(
    client, sms_outbox, signup_data, phone
):
    response = client.post(SIGNUP_URL, {**signup_data, "phone": phone})

    assert response.status_code == 200  # the form again, with the error next to the field
    assert INVALID_PHONE in page_text(response)
    assert 'aria-invalid="true"' in response.content.decode()
    assert not User.objects.exists()
    assert sms_outbox == []


def test_signup_without_privacy_consent_is_refused(client, sms_outbox, signup_data):
    data = {key: value for key, value in signup_data.items() if key != "privacy_consent"}

    response = client.post(SIGNUP_URL, data)

    assert response.status_code == 200
    assert "Please read and accept the privacy policy to continue." in page_text(response)
    assert not User.objects.exists()
    assert sms_outbox == []


def test_signup_without_name_is_refused(client, signup_data):
    response = client.post(SIGNUP_URL, {**signup_data, "name": "   "})

    assert response.status_code == 200
    assert not User.objects.exists()


def test_wrong_code_is_refused_and_the_number_stays_unverified(client, signup_data, sms_code):
    client.post(SIGNUP_URL, signup_data)
    right = sms_code("+8613800138000")
    wrong = "000000" if right != "000000" else "111111"

    response = client.post(VERIFY_URL, {"code": wrong})

    assert response.status_code == 200
    assert "Incorrect code." in page_text(response)
    assert 'aria-invalid="true"' in response.content.decode()
    assert User.objects.get().phone_verified is False
    assert signed_in_user_id(client) is None


@pytest.mark.parametrize("garbage", ["", "12 34", "abcdef", "１２３４５６", "1234567"])
def test_malformed_code_is_refused_without_a_server_error(client, signup_data, garbage):
    client.post(SIGNUP_URL, signup_data)

    response = client.post(VERIFY_URL, {"code": garbage})

    assert response.status_code == 200
    assert User.objects.get().phone_verified is False


def test_expired_code_is_refused(client, signup_data, sms_code, settings):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.post(SIGNUP_URL, signup_data)
        code = sms_code("+8613800138000")
        traveller.shift(dt.timedelta(seconds=settings.ACCOUNT_PHONE_VERIFICATION_TIMEOUT + 1))

        response = client.post(VERIFY_URL, {"code": code})

    # allauth drops the expired stage and sends the person back to sign in; the account exists but is
    # not verified and nobody is signed in.
    assert response.status_code == 302
    assert response["Location"] == LOGIN_URL
    assert User.objects.get().phone_verified is False
    assert signed_in_user_id(client) is None


def test_code_is_still_accepted_just_before_it_expires(client, signup_data, sms_code, settings):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.post(SIGNUP_URL, signup_data)
        code = sms_code("+8613800138000")
        traveller.shift(dt.timedelta(seconds=settings.ACCOUNT_PHONE_VERIFICATION_TIMEOUT - 5))

        client.post(VERIFY_URL, {"code": code})

    assert User.objects.get().phone_verified is True


def test_code_cannot_be_replayed_after_it_was_used(client, signup_data, sms_code):
    client.post(SIGNUP_URL, signup_data)
    code = sms_code("+8613800138000")
    client.post(VERIFY_URL, {"code": code})
    user = User.objects.get()
    assert user.phone_verified

    # Someone who saw the code tries it from another browser: there is no pending verification to
    # finish, so it leads nowhere.
    from django.test import Client

    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = other.post(VERIFY_URL, {"code": code})
    assert response.status_code == 302
    assert response["Location"] == LOGIN_URL
    assert signed_in_user_id(other) is None

    # And the person themselves, signed out, cannot sign back in with it.
    client.post("/accounts/logout/")
    response = client.post(VERIFY_URL, {"code": code})
    assert response.status_code == 302
    assert signed_in_user_id(client) is None


def test_too_many_wrong_codes_end_the_attempt_even_for_the_right_code(
    client, signup_data, sms_code, settings
):
    client.post(SIGNUP_URL, signup_data)
    right = sms_code("+8613800138000")
    wrong = "000000" if right != "000000" else "111111"

    for _ in range(settings.ACCOUNT_PHONE_VERIFICATION_MAX_ATTEMPTS - 1):
        assert client.post(VERIFY_URL, {"code": wrong}).status_code == 200
    last = client.post(VERIFY_URL, {"code": wrong}, follow=True)

    assert last.redirect_chain[0] == (LOGIN_URL, 302)
    assert "Too many failed login attempts. Try again later." in page_text(last)

    response = client.post(VERIFY_URL, {"code": right})
    assert response.status_code == 302
    assert response["Location"] == LOGIN_URL
    assert User.objects.get().phone_verified is False
    assert signed_in_user_id(client) is None


def test_resend_within_the_cooldown_is_refused_with_a_message(client, signup_data, sms_outbox):
    client.post(SIGNUP_URL, signup_data)

    response = client.post(VERIFY_URL, {"action": "resend"}, follow=True)

    assert "Be patient, you are sending too many requests." in page_text(response)
    assert len(sms_outbox) == 1


def test_resend_after_the_cooldown_sends_a_new_code_and_the_old_one_stops_working(
    client, signup_data, sms_outbox, sms_code, settings
):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.post(SIGNUP_URL, signup_data)
        first = sms_code("+8613800138000")
        traveller.shift(dt.timedelta(seconds=settings.SMS_RESEND_COOLDOWN + 1))

        client.post(VERIFY_URL, {"action": "resend"})
        assert len(sms_outbox) == 2
        second = sms_code("+8613800138000")
        if first != second:
            assert client.post(VERIFY_URL, {"code": first}).status_code == 200
            assert User.objects.get().phone_verified is False
        client.post(VERIFY_URL, {"code": second})

    assert User.objects.get().phone_verified is True


def test_signup_with_a_registered_number_does_not_reveal_it_or_create_a_second_account(
    client, sms_outbox, signup_data
):
    owner = UserFactory(phone="+8613800138000")

    response = client.post(SIGNUP_URL, signup_data)

    # Same answer as for a new number: on to the code page...
    assert response.status_code == 302
    assert response["Location"] == VERIFY_URL
    assert "138 0013 8000" in page_text(client.get(VERIFY_URL))
    # ...but the SMS tells the owner the number already has an account, and carries no code.
    assert User.objects.count() == 1
    assert [m.phone for m in sms_outbox] == ["+8613800138000"]
    assert "already has an account" in sms_outbox[0].text
    response = client.post(VERIFY_URL, {"code": "123456"})
    assert signed_in_user_id(client) is None
    owner.refresh_from_db()
    assert owner.name != "张 三"


def test_signing_up_again_from_another_phone_within_a_minute_is_not_a_server_error(client, signup_data):
    """The same number submitted again from a second browser (or by someone else) within the SMS cooldown.

    allauth raises RateLimited from inside the phone-verification stage here; it must become a page that
    says "wait", not a 500.
    """
    from django.test import Client

    assert client.post(SIGNUP_URL, signup_data).status_code == 302

    other = Client(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False)
    second = other.post(SIGNUP_URL, signup_data)

    assert second.status_code in (302, 429), second.status_code
    assert User.objects.count() == 1


def test_signing_up_twice_in_the_same_browser_goes_back_to_the_code_page(client, signup_data):
    assert client.post(SIGNUP_URL, signup_data).status_code == 302

    second = client.post(SIGNUP_URL, signup_data)

    assert second.status_code == 302
    assert second["Location"] == VERIFY_URL
    assert User.objects.count() == 1


def test_development_hint_says_where_the_sms_goes_but_never_shows_the_code(
    client, signup_data, settings, capsys
):
    settings.DEBUG = True
    settings.SMS_BACKEND = "core.sms.ConsoleBackend"
    client.post(SIGNUP_URL, signup_data)
    printed = capsys.readouterr().out
    code = printed.split("verification code is ")[1][:6]
    assert code.isdigit()

    html = client.get(VERIFY_URL).content.decode()

    assert 'data-testid="dev-sms-hint"' in html
    assert "printed in the terminal that runs the site" in html
    assert code not in html


def test_no_development_hint_in_production(client, signup_data):
    client.post(SIGNUP_URL, signup_data)

    html = client.get(VERIFY_URL).content.decode()

    assert 'data-testid="dev-sms-hint"' not in html
