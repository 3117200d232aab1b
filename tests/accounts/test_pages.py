"""Every allauth and allauth.mfa page a person can reach renders inside the site's own layout."""

import pytest

from tests.accounts.helpers import LOGIN_URL, page_text
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ANONYMOUS_PAGES = [
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/login/code/",
    "/accounts/password/reset/",
    "/accounts/password/reset/done/",
]
SIGNED_IN_PAGES = [
    "/accounts/logout/",
    "/accounts/email/",
    "/accounts/password/change/",
    "/accounts/phone/change/",
    "/accounts/reauthenticate/",
    "/accounts/2fa/",
    "/accounts/2fa/totp/activate/",
    "/accounts/2fa/recovery-codes/generate/",
]


def assert_in_site_layout(response):
    assert response.status_code == 200, response.status_code
    html = response.content.decode()
    assert 'class="topbar"' in html, "not rendered in base.html"
    assert 'class="tabbar"' in html
    assert "auth-page" in html
    assert 'href="/static/css/site.css"' in html
    # allauth's own fallback layout prints these; ours never does.
    assert "Menu:" not in html and "Messages:" not in html
    assert "<h1" in html


@pytest.mark.parametrize("url", ANONYMOUS_PAGES)
def test_anonymous_account_pages_use_the_site_layout(client, url):
    assert_in_site_layout(client.get(url))


@pytest.mark.parametrize("url", SIGNED_IN_PAGES)
def test_signed_in_account_pages_use_the_site_layout(client, url):
    person = UserFactory(phone="+8613500135000")
    # A real sign-in (not force_login), so pages that ask for a recent authentication open directly.
    client.post(LOGIN_URL, {"login": person.phone, "password": "correct horse battery"})

    response = client.get(url, follow=True)

    assert_in_site_layout(response)


def test_buttons_and_forms_use_the_design_system(client):
    person = UserFactory(phone="+8613500135000")
    client.post(LOGIN_URL, {"login": person.phone, "password": "correct horse battery"})

    html = client.get("/accounts/password/change/").content.decode()

    assert '<form class="form card"' in html
    assert 'class="btn' in html
    assert '<div class="field' in html


def test_privacy_policy_page_covers_what_why_who_public_retention_and_deletion(client):
    response = client.get("/privacy/")

    assert response.status_code == 200
    text = page_text(response)
    for phrase in (
        "Mobile number",
        "Full name",
        "Email address",
        "Home grid",
        "Identities",
        "Why we use it",
        "Who sees it",
        "138****8000",
        "How long we keep it",
        "delete your account",
    ):
        assert phrase in text, phrase
