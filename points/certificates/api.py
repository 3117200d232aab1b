"""Certificates over the API (/api/v1/certificates): mine, issue one for a period, its PDF, and the public
check of a number (masked data only).

Endpoints are thin: reads through `selectors`, issuing through `services`, as the web pages do. A
certificate is addressed by its printed number, never by a database id.
"""

import datetime as dt
from typing import Literal

from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import PageNumberPagination, paginate
from ninja.responses import Status
from pydantic import ConfigDict

from core.api import error_responses
from core.links import absolute
from volunteers.scopes import scope_for

from . import exceptions, pdf, selectors, services
from .forms import CUSTOM, resolve_period
from .views import public_facts

router = Router(tags=["certificates"])


# --- shapes ----------------------------------------------------------------------------------------
class CertificateOut(Schema):
    number: str = Field(description="The printed number, e.g. GZ-2026-ABCD2345.")
    name: str = Field(alias="person_name", description="The name on the certificate (as at issue).")
    period_start: dt.date
    period_end: dt.date
    hours: str = Field(description="Verified hours to one decimal, as printed.")
    minutes: int = Field(description="Verified minutes, exact.")
    tasks: int
    issuer: str = Field(alias="issuer_name")
    issued_at: dt.datetime
    revoked: bool
    revoked_at: dt.datetime | None
    revoke_reason: str
    pdf_url: str | None = Field(description="The PDF (for the holder), while the certificate is valid.")
    verify_url: str = Field(description="The public verification page its QR code opens.")

    @staticmethod
    def resolve_revoked(obj) -> bool:
        return obj.is_revoked

    @staticmethod
    def resolve_pdf_url(obj) -> str | None:
        return None if obj.is_revoked else absolute(reverse("api-v1:certificate_pdf", args=[obj.number]))

    @staticmethod
    def resolve_verify_url(obj) -> str:
        return pdf.verify_url(obj)


class IssueIn(Schema):
    model_config = ConfigDict(extra="forbid")

    period: Literal["this_year", "last_year", "custom"] | None = Field(
        None,
        description="this_year (1 January to today), last_year, or custom with start and end. Left out: "
        "custom when start and end are given.",
    )
    start: dt.date | None = Field(None, description="First day (YYYY-MM-DD), for a custom period.")
    end: dt.date | None = Field(None, description="Last day, included; today at the latest.")


class IssueOut(Schema):
    created: bool = Field(description="False when the live certificate for this period was given back.")
    certificate: CertificateOut


class VerifyOut(Schema):
    number: str
    genuine: bool = Field(description="Issued here and not revoked.")
    revoked: bool
    name: str = Field(description="The holder's name, masked (张*丰).")
    period_start: dt.date
    period_end: dt.date
    hours: str
    minutes: int
    tasks: int
    issuer: str
    issued_on: dt.date
    revoked_on: dt.date | None


# --- endpoints -------------------------------------------------------------------------------------
@router.get("/", response={200: list[CertificateOut], **error_responses(401, 422)}, summary="My certificates")
@paginate(PageNumberPagination, page_size=20, max_page_size=100)
def my_certificates(request):
    return selectors.my_certificates(request.user)


@router.post(
    "/",
    response={200: IssueOut, 201: IssueOut, **error_responses(401, 409, 415, 422)},
    summary="Issue a certificate",
    description="Certifies your verified service hours in a period. Asking again for the same period "
    "returns the certificate already issued (200) instead of a new number (201). Refusals: invalid_period, "
    "no_verified_hours, no_issuer.",
)
def issue(request, payload: IssueIn):
    kind = payload.period or (CUSTOM if payload.start or payload.end else None)
    if kind is None:
        raise exceptions.InvalidPeriod(_("Choose a period: this_year, last_year, or start and end."))
    start, end = resolve_period(kind, payload.start, payload.end)
    issued = services.do_issue_certificate(actor=request.user, start=start, end=end)
    return Status(
        201 if issued.created else 200, {"created": issued.created, "certificate": issued.certificate}
    )


@router.get(
    "/{number}/pdf",
    url_name="certificate_pdf",
    response={200: None, **error_responses(401, 404, 409)},
    summary="A certificate's PDF",
    description="The PDF of one of your certificates (or, for staff, one issued in their area). "
    "Refusals: certificate_not_found, already_revoked.",
    openapi_extra={"responses": {200: {"description": "The PDF", "content": {"application/pdf": {}}}}},
)
def certificate_pdf(request, number: str):
    certificate = selectors.certificate_by_number(number)
    if certificate is None or not scope_for(request.user).can_view(certificate):
        raise exceptions.CertificateNotFound(_("You have no certificate with this number."))
    if certificate.is_revoked:
        raise exceptions.AlreadyRevoked(_("This certificate was revoked, so it can no longer be downloaded."))
    response = HttpResponse(pdf.render(certificate), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{certificate.number}.pdf"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@router.get(
    "/{number}/verify",
    auth=None,
    response={200: VerifyOut, **error_responses(404)},
    summary="Check a certificate",
    description="Public: whether a number belongs to a genuine certificate, with the holder's name masked. "
    "A revoked certificate answers 200 with genuine false and revoked true; an unknown number 404 "
    "certificate_not_found.",
)
def verify(request, number: str):
    certificate = selectors.certificate_by_number(number)
    if certificate is None:
        raise exceptions.CertificateNotFound()
    facts = public_facts(certificate)
    return {
        **facts,
        "genuine": not facts["revoked"],
        "issued_on": timezone.localdate(facts["issued_on"]),
        "revoked_on": timezone.localdate(facts["revoked_on"]) if facts["revoked_on"] else None,
    }
