import re

from django.contrib.auth import SESSION_KEY

SIGNUP_URL = "/accounts/signup/"
VERIFY_URL = "/accounts/phone/verify/"
REQUEST_CODE_URL = "/accounts/login/code/"
CONFIRM_CODE_URL = "/accounts/login/code/confirm/"
LOGIN_URL = "/accounts/login/"


def page_text(response) -> str:
    """The visible text of the page's <main>: what a person reads (messages included)."""
    html = response.content.decode()
    start, end = html.find("<main"), html.find("</main>")
    body = html[start:end] if start != -1 else html
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def signed_in_user_id(client):
    value = client.session.get(SESSION_KEY)
    return int(value) if value is not None else None
