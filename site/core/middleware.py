from allauth.core.exceptions import RateLimited
from allauth.core.ratelimit import respond_429
from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from .exceptions import GongzhiError

# Paths a staff member without TOTP may still open: to set it up, to sign out, and assets.
_MFA_EXEMPT = ("/accounts/", "/static/", "/media/", "/i18n/", "/api/")


class StaffMFAMiddleware:
    """Staff must protect their account with TOTP before they can use the back office."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and user.is_staff
            and request.path.startswith("/admin/")
            and not request.path.startswith(_MFA_EXEMPT)
            and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        ):
            messages.warning(request, _("Staff accounts need an authenticator app. Set it up to continue."))
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    def process_exception(self, request, exception):
        # A business rule refused the request: show why, with its 4xx status, instead of a 500.
        if isinstance(exception, GongzhiError):
            return render(request, "error.html", {"error": exception}, status=exception.status)
        # allauth raises this from inside some flows (a second sign-up with the same number during the
        # SMS cooldown) instead of answering 429 itself.
        if isinstance(exception, RateLimited):
            return respond_429(request)
        return None
