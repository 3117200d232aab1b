"""Incidents and cases over the API (/api/v1/cases): what the caller may report, report one, my cases, a
case's page with its history and reward, and appealing a rejected reward. Staff decisions are made in the
back office, not here.

Endpoints are thin: reads through `selectors` (joined, so a page's query count does not grow with its
rows), changes through `services`, as the web pages do. A case is addressed by its random public code.
"""

import base64
import binascii
import datetime as dt
from typing import Literal

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.pagination import PageNumberPagination, paginate
from ninja.responses import Status
from pydantic import ConfigDict, StrictInt, StrictStr

from core.api import InvalidInput, error_responses
from core.phones import normalize_cn_mobile
from volunteers.models import User

from . import exceptions, selectors, services
from .models import RewardCategory

router = Router(tags=["cases"])


# --- shapes ----------------------------------------------------------------------------------------
class CategoryOut(Schema):
    id: int
    name: str
    kind: str = Field(description="incident (一事一奖) or case (一案一奖).")
    points: int
    split: str = Field(description='"each": points for each contributor; "total": split by shares.')


class GridOut(Schema):
    id: int
    name: str
    community: str

    @staticmethod
    def resolve_community(obj) -> str:
        return obj.community.name


class OptionsOut(Schema):
    can_report: bool
    categories: list[CategoryOut]
    grids: list[GridOut] = Field(description="The grids the caller may report for.")


def _reward_of(case):
    # The detail page sets reward_or_none; a list row has the reverse one-to-one (select_related), which
    # raises an AttributeError subclass when there is no reward yet.
    if hasattr(case, "reward_or_none"):
        return case.reward_or_none
    return getattr(case, "reward", None)


class CaseBrief(Schema):
    code: str = Field(description="The case's public code: its name in URLs.")
    kind: str
    title: str
    category: str
    grid: str
    status: str = Field(description="reported, verified, closed or rejected.")
    status_label: str
    created_at: dt.datetime
    reward_status: str | None = Field(
        description="pending, approved, rejected, appealed or final (rejected after appeal); null: none yet."
    )
    reward_points: int | None
    url: str = Field(description="The case's web page.")

    @staticmethod
    def resolve_code(obj) -> str:
        return obj.public_code

    @staticmethod
    def resolve_category(obj) -> str:
        return obj.category.name

    @staticmethod
    def resolve_grid(obj) -> str:
        return obj.grid.name

    @staticmethod
    def resolve_status_label(obj) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_reward_status(obj):
        reward = _reward_of(obj)
        return reward.status if reward else None

    @staticmethod
    def resolve_reward_points(obj):
        reward = _reward_of(obj)
        return reward.amount if reward else None

    @staticmethod
    def resolve_url(obj) -> str:
        return reverse("cases:detail", args=[obj.public_code])


class EventOut(Schema):
    status: str
    actor: str | None = Field(description="Who made the change.")
    reason: str
    at: dt.datetime

    @staticmethod
    def resolve_actor(obj):
        return obj.actor.name if obj.actor else None


class ContributorOut(Schema):
    name: str
    role: str
    share: int

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.person.name


class ShareOut(Schema):
    name: str
    points: int
    paid: bool = Field(description="Posted to the person's points.")

    @staticmethod
    def resolve_name(obj) -> str:
        return obj.person.name

    @staticmethod
    def resolve_points(obj) -> int:
        return obj.amount

    @staticmethod
    def resolve_paid(obj) -> bool:
        return obj.entry_id is not None


class RewardOut(Schema):
    status: str
    status_label: str
    points: int
    reason: str = Field(description="The reason staff gave for the last decision.")
    appeal_text: str
    can_appeal: bool = Field(False, description="The caller may appeal this rejection (once per reward).")
    shares: list[ShareOut]
    history: list[EventOut]

    @staticmethod
    def resolve_status_label(obj) -> str:
        return str(obj.get_status_display())

    @staticmethod
    def resolve_points(obj) -> int:
        return obj.amount

    @staticmethod
    def resolve_shares(obj):
        return list(obj.shares.all())

    @staticmethod
    def resolve_history(obj):
        return list(obj.events.all())


class CaseOut(CaseBrief):
    description: str
    photos: list[str] = Field(description="URLs of the photos.")
    contributors: list[ContributorOut]
    history: list[EventOut]
    reward: RewardOut | None

    @staticmethod
    def resolve_photos(obj) -> list[str]:
        return [photo_url(obj.public_code, number) for number in range(1, len(obj.photos.all()) + 1)]

    @staticmethod
    def resolve_contributors(obj):
        return list(obj.contributors.all())

    @staticmethod
    def resolve_history(obj):
        return list(obj.events.all())

    @staticmethod
    def resolve_reward(obj):
        return obj.reward_or_none


class ContributorIn(Schema):
    model_config = ConfigDict(extra="forbid")

    phone: StrictStr = Field(max_length=20, description="The person's registered mobile number.")
    role: Literal["reporter", "handler", "assistant"] = "handler"
    share: StrictInt = Field(1, ge=1, le=10)


class ReportIn(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["incident", "case"]
    category: StrictInt = Field(description="A category id from /cases/options, of the same kind.")
    grid: StrictInt = Field(description="A grid id from /cases/options.")
    title: StrictStr = Field(min_length=1, max_length=80)
    description: StrictStr = Field(min_length=1, max_length=2000)
    my_role: Literal["reporter", "handler", "assistant"] = "reporter"
    my_share: StrictInt = Field(1, ge=1, le=10)
    contributors: list[ContributorIn] = Field(
        [], json_schema_extra={"maxItems": services.MAX_CONTRIBUTORS - 1}, description="Others who helped."
    )
    photos: list[StrictStr] = Field(
        [],
        json_schema_extra={"maxItems": services.MAX_PHOTOS},
        description="Base64-encoded JPEG, PNG or WebP images (a data: URL prefix is allowed). The whole "
        "request may be at most 5 MB; refusals: bad_photo, photo_too_large, too_many_photos.",
    )


class AppealIn(Schema):
    model_config = ConfigDict(extra="forbid")

    text: StrictStr = Field(min_length=1, max_length=500, description="Why the decision should change.")


# --- helpers ---------------------------------------------------------------------------------------
def photo_url(code: str, number: int) -> str:
    """Where a case's photo is handed out (after the access check); photos have no public address."""
    return reverse("api-v1:case_photo", args=[code, number])


def _case(request, code: str):
    case = selectors.case_for_page(code=code, viewer=request.user)
    if case is None:
        raise exceptions.CaseNotFound()
    return case


def _decoded_photos(photos: list[str]) -> list[SimpleUploadedFile]:
    if len(photos) > services.MAX_PHOTOS:
        raise exceptions.TooManyPhotos()
    files = []
    for raw in photos:
        data = raw.split(",", 1)[1] if raw.startswith("data:") and "," in raw else raw
        try:
            content = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise exceptions.BadPhoto() from exc
        files.append(SimpleUploadedFile("photo", content))
    return files


def _contributors(request, payload: ReportIn) -> list[services.ContributorIn]:
    people = [services.ContributorIn(person_id=request.user.pk, role=payload.my_role, share=payload.my_share)]
    problems = {}
    for index, item in enumerate(payload.contributors):
        try:
            phone = normalize_cn_mobile(item.phone)
        except ValidationError as error:
            problems[f"contributors.{index}.phone"] = list(error.messages)
            continue
        person_id = User.objects.filter(phone=phone, is_active=True).values_list("pk", flat=True).first()
        if person_id is None:
            problems[f"contributors.{index}.phone"] = [str(exceptions.UnknownPerson.default_message)]
            continue
        people.append(services.ContributorIn(person_id=person_id, role=item.role, share=item.share))
    if problems:
        raise InvalidInput(problems)
    return people


# --- endpoints -------------------------------------------------------------------------------------
@router.get(
    "/options",
    response={200: OptionsOut, **error_responses(401)},
    summary="What I may report",
    description="The active reward categories and the grids the caller may report for.",
)
def options(request):
    return {
        "can_report": services.can_report(request.user),
        "categories": list(RewardCategory.objects.filter(active=True)),
        "grids": list(services.reportable_grids(request.user)),
    }


@router.get("", response={200: list[CaseBrief], **error_responses(401)}, summary="My cases")
@paginate(PageNumberPagination, page_size=20, max_page_size=100)
def my_cases(request):
    return selectors.my_cases(person=request.user)


@router.post(
    "",
    response={201: CaseOut, **error_responses(400, 401, 403, 413, 415, 422)},
    summary="Report an incident or case",
    description="The caller must be a grid worker or a verified legal officer or volunteer (else "
    "not_a_reporter) reporting for one of their grids (else grid_not_allowed). The caller is always a "
    "contributor. Other refusals: unknown_category, category_kind_mismatch, bad_contributors, bad_photo, "
    "photo_too_large, too_many_photos, invalid.",
)
def report(request, payload: ReportIn):
    if not services.can_report(request.user):
        raise exceptions.NotAReporter()
    people = _contributors(request, payload)
    if len({p.person_id for p in people}) != len(people):
        raise exceptions.BadContributors(_("Each person can be listed only once."))
    case = services.do_report_case(
        actor=request.user,
        kind=payload.kind,
        category_id=payload.category,
        grid_id=payload.grid,
        title=payload.title,
        description=payload.description,
        photos=_decoded_photos(payload.photos),
        contributors=people,
    )
    return Status(201, _case(request, case.public_code))


@router.get("/{code}", response={200: CaseOut, **error_responses(401, 404)}, summary="A case")
def case_detail(request, code: str):
    case = _case(request, code)
    if case.reward_or_none is not None:
        case.reward_or_none.can_appeal = selectors.can_appeal(case=case, person=request.user)
    return case


@router.get(
    "/{code}/photos/{number}",
    response=error_responses(401, 404),
    url_name="case_photo",
    summary="A photo of a case",
    description="The image itself (JPEG, PNG or WebP), for the people who may see the case; `number` counts "
    "from 1 in upload order (the order of `photos` in the case).",
    openapi_extra={
        "responses": {
            "200": {
                "description": "The photo.",
                "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def case_photo(request, code: str, number: int):
    photo = selectors.photo_for(code=code, number=number, viewer=request.user)
    if photo is None:
        raise exceptions.PhotoNotFound()
    # The content type comes from the stored name: random, with the checked format's extension.
    response = FileResponse(photo.image.open("rb"))
    response["Cache-Control"] = "private, max-age=3600"  # personal data: never in a shared cache
    return response


@router.post(
    "/{code}/appeal",
    response={200: CaseOut, **error_responses(400, 401, 403, 404, 409, 415, 422)},
    summary="Appeal a rejected reward",
    description="A contributor may appeal a rejected reward once (already_appealed after that; "
    "not_appealable if it is not rejected; not_a_contributor for others).",
)
def appeal(request, code: str, payload: AppealIn):
    case = _case(request, code)
    if case.reward_or_none is None:
        raise exceptions.NotAppealable()
    services.do_appeal_reward(reward_id=case.reward_or_none.pk, actor=request.user, text=payload.text)
    case = _case(request, code)
    case.reward_or_none.can_appeal = False
    return case
