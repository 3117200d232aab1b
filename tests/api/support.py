"""Helpers for the API tests."""

from django.test import Client


class AppClient:
    """What the phone app does: JSON bodies and the headless session token in X-Session-Token."""

    def __init__(self, token: str | None = None, language: str | None = None):
        self.client = Client()
        self.headers = {}
        if token:
            self.headers["X-Session-Token"] = token
        if language:
            self.headers["Accept-Language"] = language

    def get(self, path, data=None, headers=None):
        return self.client.get(path, data, headers=self.headers | (headers or {}))

    def post(self, path, data=None, content_type="application/json", headers=None):
        return self.client.post(path, data, content_type=content_type, headers=self.headers | (headers or {}))

    def patch(self, path, data=None, content_type="application/json", headers=None):
        return self.client.patch(
            path, data, content_type=content_type, headers=self.headers | (headers or {})
        )


def session_token_for(user) -> str:
    """A headless "app" session token: allauth's token strategy uses the session key (see the login
    test for the real SMS-code flow)."""
    client = Client()
    client.force_login(user)
    return client.session.session_key


def assert_error(response, status: int, code: str) -> dict:
    """Every API error is JSON of one shape with a stable code and a message."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    return error
