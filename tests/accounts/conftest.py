import re

import pytest

_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


@pytest.fixture
def sms_code(sms_outbox):
    """The 6-digit code in the latest SMS to `phone` (asserting there is one)."""

    def read(phone: str) -> str:
        texts = [m.text for m in sms_outbox if m.phone == phone]
        assert texts, f"no SMS to {phone}; outbox: {sms_outbox!r}"
        match = _CODE.search(texts[-1])
        assert match, f"no code in {texts[-1]!r}"
        return match.group(1)

    return read


@pytest.fixture
def signup_data():
    return {
        "name": "张 三",
        "phone": "138 0013 8000",
        "password1": "",
        "email": "",
        "privacy_consent": "on",
    }


@pytest.fixture
def client():
    """A browser that asks for English, so assertions read allauth's and our msgids verbatim."""
    from django.test import Client

    return Client(HTTP_ACCEPT_LANGUAGE="en")
