"""Small answers many pages give."""

from django.contrib.auth.views import redirect_to_login


def signin_first(request, target=None):
    """Send someone signed out to sign in, then back to `target` (by default the page they asked for)."""
    return redirect_to_login(target or request.get_full_path())
