"""Certificate pages: "my certificates" (list, issue for a period, download the PDF) and the public
verification page that a certificate's QR code opens.

Views are thin: issuing and revoking go through services.py; a refusal (GongzhiError) is shown on the page
it came from, with its message and 4xx status. The verification page is public and shows only masked data.
"""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import GongzhiError
from core.masking import mask_name
from volunteers.scopes import scope_for

from . import exceptions, pdf, selectors, services
from .forms import IssueForm, VerifyForm
from .models import Certificate

MY_LIST_LIMIT = 100


def _mine_context(request, form=None, error=None):
    return {
        "certificates": list(selectors.my_certificates(request.user)[:MY_LIST_LIMIT]),
        "form": form or IssueForm(),
        "error": error,
    }


@never_cache
@require_GET
def mine(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return render(request, "certificates/mine.html", _mine_context(request))


@require_POST
def issue(request):
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("certificates:mine"))
    form = IssueForm(request.POST)
    if not form.is_valid() or "range" not in form.cleaned_data:
        return render(request, "certificates/mine.html", _mine_context(request, form), status=400)
    start, end = form.cleaned_data["range"]
    try:
        issued = services.do_issue_certificate(actor=request.user, start=start, end=end)
    except GongzhiError as exc:
        return render(
            request, "certificates/mine.html", _mine_context(request, form, exc.message), status=exc.status
        )
    number = issued.certificate.number
    if issued.created:
        messages.success(request, _("Certificate %(number)s issued. Download it below.") % {"number": number})
    else:
        messages.info(
            request,
            _("You already have certificate %(number)s for this period; here it is again.")
            % {"number": number},
        )
    return redirect(reverse("certificates:mine") + f"#c-{number}")


def _viewable(request, number) -> Certificate:
    """The certificate, if the person may download it: its holder, or staff whose area holds it."""
    certificate = selectors.certificate_by_number(number)
    if certificate is None or not scope_for(request.user).can_view(certificate):
        raise exceptions.CertificateNotFound(_("You have no certificate with this number."))
    return certificate


@require_GET
def download(request, number):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    certificate = _viewable(request, number)
    if certificate.is_revoked:
        raise exceptions.AlreadyRevoked(_("This certificate was revoked, so it can no longer be downloaded."))
    response = HttpResponse(pdf.render(certificate), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=_("certificate-%(number)s.pdf") % {"number": certificate.number}
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- the public verification pages -------------------------------------------------------------------
def public_facts(certificate: Certificate) -> dict:
    """What anyone holding the number may see: the masked name, the period, hours, tasks, issuer, date and
    whether it was revoked. Shared by the page and the API."""
    return {
        "number": certificate.number,
        "name": mask_name(certificate.person_name),
        "period_start": certificate.period_start,
        "period_end": certificate.period_end,
        "hours": certificate.hours,
        "minutes": certificate.minutes,
        "tasks": certificate.tasks,
        "issuer": certificate.issuer_name,
        "issued_on": certificate.issued_at,
        "revoked": certificate.is_revoked,
        "revoked_on": certificate.revoked_at,
    }


@require_GET
def verify_form(request):
    if "number" not in request.GET:
        return render(request, "certificates/verify_form.html", {"form": VerifyForm()})
    form = VerifyForm(request.GET)
    if form.is_valid():
        number = selectors.normalise_number(form.cleaned_data["number"])
        if number is not None:
            return redirect("certificates:verify", number=number)
        form.add_error("number", _("A certificate number looks like GZ-2026-ABCD2345. Check what you typed."))
    return render(request, "certificates/verify_form.html", {"form": form}, status=400)


@require_GET
def verify(request, number):
    canonical = selectors.normalise_number(number)
    if canonical is not None and canonical != number:
        return redirect("certificates:verify", number=canonical)
    certificate = selectors.certificate_by_number(canonical) if canonical else None
    if certificate is None:
        return render(
            request,
            "certificates/verify_missing.html",
            {"number": number[:60], "form": VerifyForm(), "error": exceptions.CertificateNotFound()},
            status=404,
        )
    return render(request, "certificates/verify.html", {"facts": public_facts(certificate)})
