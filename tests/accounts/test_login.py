"""Signing in: by SMS code first (allauth's login by code), by password second, and the limits on both."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tests.accounts.helpers import CONFIRM_CODE_URL, LOGIN_URL, REQUEST_CODE_URL, page_text, signed_in_user_id
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery"  # UserFactory's
INVALID_PHONE = "Enter an 11-digit mainland mobile number, e.g. 138 0013 8000."
TOO_MANY = "Too many failed login attempts. Try again later."
PASSWORD_MISMATCH = "The phone number and/or password you specified are not correct."


def english_client():
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def person(db):
    return UserFactory(phone="+8613800138000", name="王五")


def test_login_page_offers_the_sms_code_first_and_the_password_second(client):
    response = client.get(LOGIN_URL)

    assert response.status_code == 200
    html = response.content.decode()
    sms_form = html.index('data-testid="sms-login-form"')
    password_form = html.index('data-testid="password-login"')
    assert sms_form < password_form
    assert f'action="{REQUEST_CODE_URL}"' in html[sms_form - 200 : sms_form]
    assert 'name="phone"' in html[sms_form:password_form]
    # The password path is folded away until it is used.
    details_tag = html[password_form - 80 : password_form]
    assert "<details" in details_tag and " open" not in details_tag
    assert 'href="/accounts/signup/"' in html


def test_login_by_sms_code_for_an_existing_number(client, person, sms_code):
    response = client.post(REQUEST_CODE_URL, {"phone": "138-0013-8000"})

    assert response.status_code == 302
    assert response["Location"] == CONFIRM_CODE_URL
    page = client.get(CONFIRM_CODE_URL)
    assert "138 0013 8000" in page_text(page)
    assert 'class="code-input"' in page.content.decode()

    response = client.post(CONFIRM_CODE_URL, {"code": sms_code("+8613800138000")})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in_user_id(client) == person.pk


def test_login_by_sms_code_keeps_the_next_page(client, person, sms_code):
    client.post(f"{REQUEST_CODE_URL}?next=/me/", {"phone": "13800138000", "next": "/me/"})

    response = client.post(CONFIRM_CODE_URL, {"code": sms_code("+8613800138000"), "next": "/me/"})

    assert response["Location"] == "/me/"


@pytest.mark.parametrize("phone", ["1380013800", "138001380001", "138abcd8000", "025 8420 1234", ""])
def test_login_by_code_with_a_malformed_number_is_refused_with_a_message(client, sms_outbox, phone):
    response = client.post(REQUEST_CODE_URL, {"phone": phone})

    assert response.status_code == 200
    if phone:
        assert INVALID_PHONE in page_text(response)
    assert 'aria-invalid="true"' in response.content.decode()
    assert sms_outbox == []
    assert signed_in_user_id(client) is None


def test_wrong_login_code_is_refused(client, person, sms_code):
    client.post(REQUEST_CODE_URL, {"phone": "13800138000"})
    right = sms_code("+8613800138000")

    response = client.post(CONFIRM_CODE_URL, {"code": "000000" if right != "000000" else "111111"})

    assert response.status_code == 200
    assert "Incorrect code." in page_text(response)
    assert signed_in_user_id(client) is None


def test_expired_login_code_is_refused(client, person, sms_code, settings):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.post(REQUEST_CODE_URL, {"phone": "13800138000"})
        code = sms_code("+8613800138000")
        traveller.shift(dt.timedelta(seconds=settings.ACCOUNT_LOGIN_BY_CODE_TIMEOUT + 1))

        response = client.post(CONFIRM_CODE_URL, {"code": code})

    assert response.status_code == 302
    assert response["Location"] == REQUEST_CODE_URL
    assert signed_in_user_id(client) is None


def test_login_code_cannot_be_replayed(client, person, sms_code):
    client.post(REQUEST_CODE_URL, {"phone": "13800138000"})
    code = sms_code("+8613800138000")
    client.post(CONFIRM_CODE_URL, {"code": code})
    assert signed_in_user_id(client) == person.pk
    client.post("/accounts/logout/")
    assert signed_in_user_id(client) is None

    again = client.post(CONFIRM_CODE_URL, {"code": code})
    elsewhere = english_client().post(CONFIRM_CODE_URL, {"code": code})

    assert again.status_code == 302 and again["Location"] == REQUEST_CODE_URL
    assert elsewhere.status_code == 302 and elsewhere["Location"] == REQUEST_CODE_URL
    assert signed_in_user_id(client) is None


def test_too_many_wrong_login_codes_end_the_attempt(client, person, sms_code, settings):
    client.post(REQUEST_CODE_URL, {"phone": "13800138000"})
    right = sms_code("+8613800138000")
    wrong = "000000" if right != "000000" else "111111"

    for _ in range(settings.ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS - 1):
        assert client.post(CONFIRM_CODE_URL, {"code": wrong}).status_code == 200
    last = client.post(CONFIRM_CODE_URL, {"code": wrong}, follow=True)

    assert last.redirect_chain[0] == (REQUEST_CODE_URL, 302)
    assert TOO_MANY in page_text(last)
    response = client.post(CONFIRM_CODE_URL, {"code": right})
    assert response.status_code == 302 and response["Location"] == REQUEST_CODE_URL
    assert signed_in_user_id(client) is None


def test_unknown_number_gets_the_same_answer_as_a_known_one(person, sms_outbox):
    """The sign-in form must not tell a stranger whether a number has an account."""
    known, unknown = english_client(), english_client()

    known_response = known.post(REQUEST_CODE_URL, {"phone": "13800138000"})
    unknown_response = unknown.post(REQUEST_CODE_URL, {"phone": "13900139000"})

    assert known_response.status_code == unknown_response.status_code == 302
    assert known_response["Location"] == unknown_response["Location"] == CONFIRM_CODE_URL
    known_page = page_text(known.get(CONFIRM_CODE_URL)).replace("138 0013 8000", "<number>")
    unknown_page = page_text(unknown.get(CONFIRM_CODE_URL)).replace("139 0013 9000", "<number>")
    assert known_page == unknown_page
    # Only the owner of the number learns that it has no account, by SMS, and gets no code.
    to_unknown = [m.text for m in sms_outbox if m.phone == "+8613900139000"]
    assert len(to_unknown) == 1 and "no account" in to_unknown[0]
    for guess in ("000000", "123456"):
        assert unknown.post(CONFIRM_CODE_URL, {"code": guess}).status_code == 200
    assert signed_in_user_id(unknown) is None


def test_unknown_number_and_wrong_password_give_the_same_error(person):
    wrong_password = english_client().post(LOGIN_URL, {"login": "13800138000", "password": "not it at all"})
    no_account = english_client().post(LOGIN_URL, {"login": "13900139000", "password": "not it at all"})

    assert wrong_password.status_code == no_account.status_code == 200
    assert PASSWORD_MISMATCH in page_text(wrong_password)
    assert PASSWORD_MISMATCH in page_text(no_account)


def test_second_code_request_for_a_number_within_a_minute_is_refused(person, sms_outbox):
    first, second = english_client(), english_client()
    assert first.post(REQUEST_CODE_URL, {"phone": "13800138000"}).status_code == 302

    response = second.post(REQUEST_CODE_URL, {"phone": "138 0013 8000"})

    assert response.status_code == 200
    assert TOO_MANY in page_text(response)
    assert len(sms_outbox) == 1


def test_asking_again_in_the_same_browser_returns_to_the_code_page_without_a_new_sms(
    client, person, sms_outbox
):
    client.post(REQUEST_CODE_URL, {"phone": "13800138000"})

    response = client.post(REQUEST_CODE_URL, {"phone": "13800138000"})

    assert response.status_code == 302 and response["Location"] == CONFIRM_CODE_URL
    assert len(sms_outbox) == 1


def test_code_request_is_allowed_again_after_the_cooldown(person, sms_outbox, settings):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        english_client().post(REQUEST_CODE_URL, {"phone": "13800138000"})
        traveller.shift(dt.timedelta(seconds=settings.SMS_RESEND_COOLDOWN + 1))

        response = english_client().post(REQUEST_CODE_URL, {"phone": "13800138000"})

    assert response.status_code == 302
    assert len(sms_outbox) == 2


def test_other_numbers_are_not_held_up_by_one_numbers_cooldown(person, sms_outbox):
    UserFactory(phone="+8613900139000")
    english_client().post(REQUEST_CODE_URL, {"phone": "13800138000"})

    response = english_client().post(REQUEST_CODE_URL, {"phone": "13900139000"})

    assert response.status_code == 302
    assert len(sms_outbox) == 2


def test_login_code_resends_are_capped(client, person, sms_outbox, settings):
    client.post(REQUEST_CODE_URL, {"phone": "13800138000"})

    for _ in range(settings.ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND):
        client.post(CONFIRM_CODE_URL, {"action": "resend"})
    page = client.get(CONFIRM_CODE_URL).content.decode()
    client.post(CONFIRM_CODE_URL, {"action": "resend"})

    assert 'data-testid="resend"' not in page
    assert len(sms_outbox) == 1 + settings.ACCOUNT_LOGIN_BY_CODE_SUPPORTS_RESEND


@pytest.mark.parametrize(
    "typed", ["13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000", "+8613800138000"]
)
def test_password_login_works_with_the_number_as_people_type_it(client, person, typed):
    response = client.post(LOGIN_URL, {"login": typed, "password": PASSWORD})

    assert response.status_code == 302
    assert signed_in_user_id(client) == person.pk


def test_brute_force_password_login_is_locked_after_the_failed_attempts_limit(client, person, settings):
    # "5/300s/key": five wrong passwords for a number, then even the right one is refused for a while.
    for _ in range(5):
        response = client.post(LOGIN_URL, {"login": "13800138000", "password": "guess"})
        assert PASSWORD_MISMATCH in page_text(response)

    response = client.post(LOGIN_URL, {"login": "13800138000", "password": PASSWORD})

    assert response.status_code == 200
    assert TOO_MANY in page_text(response)
    assert "open" in response.content.decode().split('data-testid="password-login"')[0][-60:]
    assert signed_in_user_id(client) is None


def test_password_login_works_again_after_the_lockout_window(client, person):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _ in range(5):
            client.post(LOGIN_URL, {"login": "13800138000", "password": "guess"})
        traveller.shift(dt.timedelta(seconds=301))

        response = client.post(LOGIN_URL, {"login": "13800138000", "password": PASSWORD})

    assert response.status_code == 302
    assert signed_in_user_id(client) == person.pk


def test_failed_passwords_on_one_number_do_not_lock_out_another(person):
    """The per-number limit must be per number: a stranger failing on one number cannot lock out everyone."""
    other = UserFactory(phone="+8613900139000")
    attacker = english_client()
    for _ in range(5):
        attacker.post(LOGIN_URL, {"login": "13800138000", "password": "guess"})

    victim = english_client()
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=61), tick=False):  # past the per-IP minute
        response = victim.post(LOGIN_URL, {"login": "13900139000", "password": PASSWORD})

    assert response.status_code == 302, page_text(response)
    assert signed_in_user_id(victim) == other.pk


def test_hammering_the_login_form_gets_429_after_the_configured_limit(client, person, settings):
    limit = int(settings.ACCOUNT_RATE_LIMITS["login"].split("/")[0])
    for _ in range(limit):
        assert client.post(LOGIN_URL, {"login": "13800138000", "password": "guess"}).status_code == 200

    response = client.post(LOGIN_URL, {"login": "13800138000", "password": PASSWORD})

    assert response.status_code == 429
    assert signed_in_user_id(client) is None


@pytest.mark.parametrize("login", ["", "abc", "1380013800", "<script>", "a@b", "+86"])
def test_garbage_in_the_password_form_is_a_message_not_an_error(client, login):
    response = client.post(LOGIN_URL, {"login": login, "password": "x"})

    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="alert alert-error"' in html or "errorlist" in html
