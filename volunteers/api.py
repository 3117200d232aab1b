"""People, identities, places and organisations over the API. Endpoints are thin: reads go through the
scope rule and `selectors`, changes through `services`, exactly as the web pages do."""

from datetime import datetime

from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema
from ninja.pagination import PageNumberPagination, paginate
from ninja.responses import Status
from pydantic import ConfigDict, StrictBool, StrictInt, StrictStr

from core.api import InvalidInput, error_responses
from core.exceptions import GongzhiError

from . import selectors, services
from .forms import ProfileForm
from .models import Grid, IdentityKind, User
from .scopes import scope_for

router = Router(tags=["people and places"])


class GridNotFound(GongzhiError):
    code = "grid_not_found"
    default_message = _("That grid does not exist.")


# --- shapes ----------------------------------------------------------------------------------------
class PlaceRef(Schema):
    id: int
    name: str


class GridRef(Schema):
    id: int
    name: str
    code: str
    community: PlaceRef
    street: PlaceRef

    @staticmethod
    def resolve_street(obj):
        return obj.community.street


class SkillOut(Schema):
    id: int
    name: str


class IdentityOut(Schema):
    id: int
    kind: str
    kind_label: str
    tier: str = Field(description='"1", "3" or "N" of the "1+3+N" model.')
    grid: GridRef | None
    detail: str
    status: str = Field(description="claimed, verified, rejected or revoked.")
    status_label: str
    created_at: datetime
    decided_at: datetime | None

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_status_label(obj) -> str:
        return str(obj.get_status_display())


class MeOut(Schema):
    id: int
    name: str
    phone: str | None = Field(description="The person's own mobile number, unmasked.")
    phone_verified: bool
    email: str
    home_grid: GridRef | None
    skills: list[SkillOut]
    identities: list[IdentityOut]
    roles: list[str] = Field(description="resident, volunteer, org_member, org_admin, grid_worker, …")
    notify_sms: bool
    notify_email: bool
    large_text: bool


class ProfilePatch(Schema):
    """Only the fields sent are changed. Anything else (phone, staff flags…) is refused, not ignored."""

    model_config = ConfigDict(extra="forbid")

    name: StrictStr = Field(None, min_length=1, max_length=40)
    email: StrictStr = Field(None, max_length=254, description='An email address, or "" to remove it.')
    home_grid: StrictInt | None = Field(None, description="A grid id from /places, or null to clear it.")
    skills: list[StrictInt] = Field(None, max_length=50, description="Skill ids; replaces the current set.")
    notify_sms: StrictBool = None
    notify_email: StrictBool = None
    large_text: StrictBool = None


class IdentityClaimIn(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: StrictStr = Field(max_length=30, json_schema_extra={"enum": list(IdentityKind.values)})
    grid: StrictInt | None = Field(None, description="Required for grid-bound identities (party member, …).")
    detail: StrictStr = Field("", max_length=120)


class GridOut(Schema):
    id: int
    name: str
    code: str
    households: int
    party_org_kind: str = Field(description="branch (党支部) or group (党小组).")
    party_org_kind_label: str
    party_org_name: str

    @staticmethod
    def resolve_party_org_kind_label(obj) -> str:
        return str(obj.get_party_org_kind_display())


class CommunityOut(Schema):
    id: int
    name: str
    code: str
    kind: str
    grids: list[GridOut]

    @staticmethod
    def resolve_grids(obj):
        return obj.grids.all()


class StreetOut(Schema):
    id: int
    name: str
    code: str
    district: PlaceRef
    communities: list[CommunityOut]

    @staticmethod
    def resolve_communities(obj):
        return obj.communities.all()


class OrganisationOut(Schema):
    # No contact phone: it is often a person's own mobile, and the public pages do not show it either.
    id: int
    name: str
    kind: str
    kind_label: str
    street: PlaceRef
    community: PlaceRef | None
    description: str
    member_count: int

    @staticmethod
    def resolve_kind_label(obj) -> str:
        return str(obj.get_kind_display())


# --- the current person ----------------------------------------------------------------------------
def _me(user: User) -> dict:
    scope = scope_for(user)
    # Through the scope rule like every other read, with the joins the response needs.
    person = (
        scope.visible(User.objects.select_related("home_grid__community__street"))
        .prefetch_related("skills")
        .get(pk=user.pk)
    )
    return {
        "id": person.pk,
        "name": person.name,
        "phone": person.phone,
        "phone_verified": person.phone_verified,
        "email": person.email,
        "home_grid": person.home_grid,
        "skills": list(person.skills.all()),
        # The claims' event history is not part of this answer: drop the selector's prefetch of it.
        "identities": list(
            selectors.claims_of(person).select_related("grid__community__street").prefetch_related(None)
        ),
        "roles": sorted(scope.roles),
        "notify_sms": person.notify_sms,
        "notify_email": person.notify_email,
        "large_text": person.large_text,
    }


@router.get("/me", response={200: MeOut, **error_responses(401)}, summary="My profile")
def me(request):
    return _me(request.user)


@router.patch(
    "/me", response={200: MeOut, **error_responses(400, 401, 403, 415, 422)}, summary="Change my profile"
)
def update_me(request, payload: ProfilePatch):
    person = request.user
    changes = payload.model_dump(exclude_unset=True)
    # ProfileForm holds the rules the profile page uses (grid exists, skills exist, email valid, name
    # required); fields not sent keep their current value.
    current = {
        "name": person.name,
        "email": person.email,
        "home_grid": person.home_grid_id,
        "skills": list(person.skills.values_list("pk", flat=True)),
        "notify_sms": person.notify_sms,
        "notify_email": person.notify_email,
        "large_text": person.large_text,
    }
    form = ProfileForm(current | changes, instance=person)
    if not form.is_valid():
        raise InvalidInput.from_form(form)
    services.do_update_profile(person=person, actor=request.user, form=form)
    return _me(person)


@router.post(
    "/me/identities",
    response={201: IdentityOut, **error_responses(400, 401, 403, 409, 415, 422)},
    summary="Claim an identity",
)
def claim_identity(request, payload: IdentityClaimIn):
    grid = None
    if payload.grid is not None:
        grid = (
            scope_for(request.user)
            .visible(Grid.objects.select_related("community__street"))
            .filter(pk=payload.grid)
            .first()
        )
        if grid is None:
            raise GridNotFound()
    claim = services.do_claim_identity(
        person=request.user, kind=payload.kind, grid=grid, detail=payload.detail
    )
    return Status(201, claim)


# --- public reads ----------------------------------------------------------------------------------
@router.get("/places", response=list[StreetOut], auth=None, summary="Streets, communities and grids")
def places(request):
    # Three queries whatever the size of the district (streets, communities, grids).
    return scope_for(request.user).visible(selectors.place_tree())


@router.get(
    "/organisations",
    response={200: list[OrganisationOut], **error_responses(422)},
    auth=None,
    summary="Approved organisations",
)
@paginate(PageNumberPagination, page_size=50, max_page_size=200)
def organisations(request):
    return scope_for(request.user).visible(selectors.public_organisations())
