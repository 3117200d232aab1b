"""A person signs up by phone in Chinese on a phone-sized screen; the account pages fit that screen."""

import re
import time

import pytest
from playwright.sync_api import expect

from core.sms import LocmemBackend
from tests.factories import UserFactory
from volunteers.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery"  # UserFactory's


def latest_code(phone: str) -> str:
    # LocmemBackend.outbox is a class attribute, so the live server's thread writes where we read.
    texts = [m.text for m in LocmemBackend.outbox if m.phone == phone]
    assert texts, f"no SMS to {phone}"
    return re.search(r"(?<!\d)\d{6}(?!\d)", texts[-1]).group()


def totp_now(secret: str) -> str:
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // app_settings.TOTP_PERIOD))


def assert_fits_a_phone(page):
    """No sideways scrolling at 390 px, and every visible control is a finger-sized target."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"
    small = page.evaluate(
        """() => [...document.querySelectorAll(
                 'main button, main .btn, main input:not([type=hidden]):not([type=checkbox])')]
              .filter(el => el.offsetParent !== null)
              .map(el => [el.outerHTML.slice(0, 80), el.getBoundingClientRect().height])
              .filter(([, h]) => h < 40)"""
    )
    assert small == [], f"{page.url}: controls smaller than a fingertip: {small}"


def test_signup_by_phone_in_chinese_lands_signed_in_on_the_home_page(
    phone, live_server, home_page, screenshot
):
    page = phone
    page.goto("/accounts/signup/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    assert_fits_a_phone(page)

    page.fill('input[name="name"]', "张三")
    page.fill('input[name="phone"]', "138 0013 8000")
    consent = page.locator('input[name="privacy_consent"]')
    expect(consent).not_to_be_checked()
    consent.check()
    screenshot(page, "signup-1-form")
    page.click('[data-testid="signup-form"] button[type="submit"]')

    page.wait_for_url("**/accounts/phone/verify/")
    code_input = page.locator("input.code-input")
    expect(code_input).to_have_attribute("inputmode", "numeric")
    expect(code_input).to_have_attribute("autocomplete", "one-time-code")
    resend = page.locator('[data-testid="resend"]')
    expect(resend).to_be_disabled()  # the countdown from site.js
    expect(resend).to_contain_text(re.compile(r"\d"))
    assert_fits_a_phone(page)
    screenshot(page, "signup-2-code")

    code_input.fill(latest_code("+8613800138000"))
    page.click('[data-testid="code-form"] button[type="submit"]')

    page.wait_for_url(f"{live_server.url}/")
    expect(page.locator("body.home")).to_have_count(1)  # the CMS home page, not a 404
    expect(page.locator('header a[href="/inbox/"]')).to_be_visible()  # only signed-in people have an inbox
    screenshot(page, "signup-3-home")
    user = User.objects.get(phone="+8613800138000")
    assert user.name == "张三"
    assert user.phone_verified
    assert user.privacy_consented_at is not None


def test_unticked_consent_keeps_the_person_on_the_form_with_a_message(phone):
    page = phone
    page.goto("/accounts/signup/")
    page.fill('input[name="name"]', "李四")
    page.fill('input[name="phone"]', "13900139000")
    page.click('[data-testid="signup-form"] button[type="submit"]')

    expect(page.locator(".field.consent .errorlist")).to_be_visible()
    assert not User.objects.filter(phone="+8613900139000").exists()


def test_sign_in_and_staff_totp_pages_fit_a_phone(phone, live_server, home_page, screenshot):
    page = phone
    person = UserFactory(phone="+8613600136000")
    page.goto("/accounts/login/")
    assert_fits_a_phone(page)
    screenshot(page, "login-1-sms-first")
    page.click('[data-testid="password-login"] summary')
    assert_fits_a_phone(page)
    screenshot(page, "login-2-password-open")

    page.fill('[data-testid="sms-login-form"] input[name="phone"]', "136 0013 6000")
    page.click('[data-testid="sms-login-form"] button[type="submit"]')
    page.wait_for_url("**/accounts/login/code/confirm/")
    assert_fits_a_phone(page)
    screenshot(page, "login-3-code")
    page.fill("input.code-input", latest_code(person.phone))
    page.click('[data-testid="code-form"] button[type="submit"]')
    page.wait_for_url(f"{live_server.url}/")
    page.context.clear_cookies()

    staff = UserFactory(phone="+8613700137000", is_staff=True, is_superuser=True)
    page.goto("/accounts/login/")
    page.click('[data-testid="password-login"] summary')
    page.fill('input[name="login"]', staff.phone)
    page.fill('input[name="password"]', PASSWORD)
    page.click('[data-testid="password-login"] button[type="submit"]')
    page.wait_for_url(f"{live_server.url}/")
    page.goto("/admin/")
    # allauth asks for the password once more before an authenticator is added.
    page.wait_for_url("**/accounts/reauthenticate/**")
    assert_fits_a_phone(page)
    screenshot(page, "staff-0-confirm-password")
    page.fill('input[name="password"]', PASSWORD)
    page.click('main form button[type="submit"]')
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    expect(page.locator("img.qr-code")).to_be_visible()
    assert_fits_a_phone(page)
    screenshot(page, "staff-1-totp-setup")

    secret = page.locator("#authenticator_secret").get_attribute("data-secret")
    page.fill("input.code-input", totp_now(secret))
    page.click('[data-testid="totp-form"] button[type="submit"]')
    page.wait_for_url("**/accounts/2fa/recovery-codes/")
    expect(page.locator('[data-testid="recovery-codes"] li')).to_have_count(10)
    assert_fits_a_phone(page)
    screenshot(page, "staff-2-recovery-codes")

    page.context.clear_cookies()
    page.goto("/accounts/login/")
    page.click('[data-testid="password-login"] summary')
    page.fill('input[name="login"]', staff.phone)
    page.fill('input[name="password"]', PASSWORD)
    page.click('[data-testid="password-login"] button[type="submit"]')
    page.wait_for_url("**/accounts/2fa/authenticate/")
    assert_fits_a_phone(page)
    screenshot(page, "staff-3-authenticate")


def test_privacy_policy_reads_well_on_a_phone(phone, screenshot):
    page = phone
    page.goto("/accounts/signup/")
    with page.context.expect_page() as opened:
        page.click('.field.consent a[href="/privacy/"]')  # opens beside the form, which keeps its input
    policy = opened.value
    policy.wait_for_load_state()
    expect(policy.locator('[data-testid="privacy-policy"] h1')).to_be_visible()
    assert_fits_a_phone(policy)
    screenshot(policy, "privacy-policy")
