"""Per-case reward operations. Views, the admin screens and the API call these; none writes a case or a
reward itself.

Locking: approving a reward locks the street's budget row first, then the reward, then (through
`lock_accounts`) the contributors' ledger accounts in ascending person id. Every approval against one
budget therefore queues on one row, and the spent amount it checks is summed after that lock, so two
approvals can never both fit into the same remaining points. Other reward decisions lock only the reward.
"""

import io
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from PIL import Image, ImageOps, UnidentifiedImageError

from core.api import InvalidInput
from core.notifications import notify
from core.text import one_line
from points.models import Entry
from points.services.ledger import do_post, lock_accounts, record_text
from volunteers.models import Grid, IdentityClaim, IdentityKind, User
from volunteers.scopes import scope_for

from . import exceptions
from .models import (
    MAX_PHOTOS,
    Budget,
    Case,
    CaseEvent,
    CasePhoto,
    Contributor,
    Reward,
    RewardCategory,
    RewardEvent,
    RewardShare,
)

# Who may report (一事一奖/一案一奖 is for the people who find and handle problems): grid workers, and
# verified legal officers and volunteers. Staff may record a case on someone's behalf in their area.
REPORTER_KINDS = (
    IdentityKind.GRID_WORKER_FULL,
    IdentityKind.GRID_WORKER_PART,
    IdentityKind.LEGAL_OFFICER,
    IdentityKind.VOLUNTEER,
    IdentityKind.VOLUNTEER_TEAM,
)
MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MAX_CONTRIBUTORS = 10


@dataclass(frozen=True)
class ContributorIn:
    person_id: int
    role: str
    share: int = 1


# --- who may report, and where -----------------------------------------------------------------------
def _reporter_claims(person):
    return IdentityClaim.objects.filter(
        person=person, kind__in=REPORTER_KINDS, status=IdentityClaim.Status.VERIFIED
    )


def can_report(person) -> bool:
    if person is None or not person.is_authenticated:
        return False
    return scope_for(person).is_staff or _reporter_claims(person).exists()


def reportable_grids(person):
    """The grids `person` may report for: those of their verified reporter identities, their home grid
    (when they hold such an identity) and, for staff, the grids they manage."""
    if not can_report(person):
        return Grid.objects.none()
    scope = scope_for(person)
    grid_ids = set(_reporter_claims(person).exclude(grid=None).values_list("grid_id", flat=True))
    if person.home_grid_id and _reporter_claims(person).exists():
        grid_ids.add(person.home_grid_id)
    grids = Grid.objects.filter(pk__in=grid_ids)
    if scope.is_staff:
        grids = grids | scope.managed_grids()
    return grids.select_related("community").distinct().order_by("community__code", "code")


# --- photos ------------------------------------------------------------------------------------------
def check_photo(upload) -> str:
    """The file extension for an uploaded photo, after checking its size and that it really is a JPEG,
    PNG or WebP image (the bytes decide, not the name or the declared content type)."""
    if upload.size is None or upload.size > MAX_PHOTO_BYTES:
        raise exceptions.PhotoTooLarge()
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            fmt = image.format
            image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise exceptions.BadPhoto() from exc
    finally:
        upload.seek(0)
    if fmt not in PHOTO_FORMATS:
        raise exceptions.BadPhoto()
    return PHOTO_FORMATS[fmt]


def without_metadata(upload, ext: str) -> ContentFile:
    """The photo re-encoded without its metadata: phones write the place it was taken (GPS), the device
    and often the owner's name into EXIF, none of which a case needs. The orientation is applied first, so
    the picture still stands the right way up."""
    upload.seek(0)
    output = io.BytesIO()
    options = {"jpg": {"format": "JPEG", "quality": 90}, "png": {"format": "PNG"}}
    try:
        with Image.open(upload) as image:
            image = ImageOps.exif_transpose(image)
            if ext == "jpg" and image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            image.save(output, **options.get(ext, {"format": "WEBP", "quality": 90}))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise exceptions.BadPhoto() from exc  # e.g. a truncated file that passed verify()
    return ContentFile(output.getvalue(), name=f"photo.{ext}")


# --- reporting ---------------------------------------------------------------------------------------
def _clean_contributors(actor, contributors) -> list[ContributorIn]:
    cleaned = list(contributors)
    if not any(c.person_id == actor.pk for c in cleaned):
        cleaned.insert(0, ContributorIn(person_id=actor.pk, role=Contributor.Role.REPORTER, share=1))
    ids = [c.person_id for c in cleaned]
    if len(cleaned) > MAX_CONTRIBUTORS or len(set(ids)) != len(ids):
        raise exceptions.BadContributors()
    roles = set(Contributor.Role.values)
    for c in cleaned:
        if c.role not in roles or isinstance(c.share, bool) or not isinstance(c.share, int):
            raise exceptions.BadContributors()
        if not 1 <= c.share <= 10:
            raise exceptions.BadContributors()
    if User.objects.filter(pk__in=ids, is_active=True).count() != len(ids):
        raise exceptions.UnknownPerson()
    return cleaned


def do_report_case(
    *,
    actor,
    kind: str,
    category_id: int,
    grid_id: int,
    title: str,
    description: str,
    photos=(),
    contributors=(),
) -> Case:
    """Record an incident or case. `actor` must be allowed to report (see `can_report`) for `grid_id`;
    `actor` is always among the contributors (added as the reporter if not listed). Photos are checked
    before anything is written."""
    if not can_report(actor):
        raise exceptions.NotAReporter()
    title, description = one_line(title), (description or "").strip()
    problems = {}
    if not title:
        problems["title"] = [_("Give the case a short title.")]
    elif len(title) > 80:
        problems["title"] = [_("Use at most 80 characters.")]
    if not description:
        problems["description"] = [_("Describe what happened and what was done.")]
    elif len(description) > 2000:
        problems["description"] = [_("Use at most 2000 characters.")]
    if problems:
        raise InvalidInput(problems)
    category = RewardCategory.objects.filter(pk=category_id, active=True).first()
    if category is None:
        raise exceptions.UnknownCategory()
    if kind != category.kind:
        raise exceptions.CategoryKindMismatch()
    grid = reportable_grids(actor).filter(pk=grid_id).first()
    if grid is None:
        raise exceptions.GridNotAllowed()
    photos = list(photos)
    if len(photos) > MAX_PHOTOS:
        raise exceptions.TooManyPhotos()
    photos = [without_metadata(photo, check_photo(photo)) for photo in photos]
    people = _clean_contributors(actor, contributors)

    stored = []  # files written so far: they go if the rows that name them are rolled back
    try:
        with transaction.atomic():
            case = Case.objects.create(
                kind=kind,
                category=category,
                grid=grid,
                title=title,
                description=description,
                reported_by=actor,
            )
            CaseEvent.objects.create(case=case, status=Case.Status.REPORTED, actor=actor)
            Contributor.objects.bulk_create(
                Contributor(case=case, person_id=c.person_id, role=c.role, share=c.share) for c in people
            )
            for photo in photos:
                # The stored name is random (see models.photo_path); only the checked format survives.
                stored.append(CasePhoto.objects.create(case=case, image=photo).image)
    except BaseException:
        for image in stored:
            image.storage.delete(image.name)
        raise
    return case


# --- staff decisions on a case -----------------------------------------------------------------------
def _staff_may_decide(actor, obj) -> None:
    scope = scope_for(actor)
    if not (scope.is_staff and scope.can_change(obj)):
        raise exceptions.OutOfScope()


def _locked_case(case_id: int) -> Case:
    case = Case.objects.select_for_update().filter(pk=case_id).first()
    if case is None:
        raise exceptions.CaseNotFound()
    return case


def _case_url(case) -> str:
    return reverse("cases:detail", args=[case.public_code])


def _change_case(case, *, status, actor, reason="") -> None:
    case.status = status
    case.changed_at = timezone.now()
    case.save(update_fields=["status", "changed_at"])
    CaseEvent.objects.create(case=case, status=status, actor=actor, reason=reason[:200])


def do_verify_case(*, case_id: int, actor, reason: str = "") -> Case:
    """Staff of the case's area confirm that a reported case happened as described."""
    with transaction.atomic():
        case = _locked_case(case_id)
        _staff_may_decide(actor, case)
        if case.status != Case.Status.REPORTED:
            raise exceptions.WrongCaseState()
        _change_case(case, status=Case.Status.VERIFIED, actor=actor, reason=reason)
    return case


def do_reject_case(*, case_id: int, actor, reason: str) -> Case:
    """Staff turn down a reported or verified case (a reason is required; contributors are told)."""
    reason = one_line(reason)
    if not reason:
        raise exceptions.ReasonRequired()
    with transaction.atomic():
        case = _locked_case(case_id)
        _staff_may_decide(actor, case)
        if case.status not in (Case.Status.REPORTED, Case.Status.VERIFIED):
            raise exceptions.WrongCaseState()
        _change_case(case, status=Case.Status.REJECTED, actor=actor, reason=reason)
        for contributor in case.contributors.select_related("person"):
            notify(
                recipient=contributor.person,
                category="cases",
                title=_("Your report “%(title)s” was not accepted") % {"title": case.title},
                body=reason,
                url=_case_url(case),
                key=f"cases:case:{case.pk}:rejected:{contributor.person_id}",
            )
    return case


def split_points(category: RewardCategory, contributors) -> dict[int, int]:
    """Points per contributor from the category's table. "each": every contributor gets the points.
    "total": the points are divided by share, whole points only, the remainders going to the largest
    fractions (ties to the earlier contributor) so the parts add up to exactly the total."""
    contributors = list(contributors)
    if category.split == RewardCategory.Split.EACH:
        return {c.person_id: category.points for c in contributors}
    total_shares = sum(c.share for c in contributors)
    exact = [(c.person_id, category.points * c.share / total_shares) for c in contributors]
    parts = {pid: int(value) for pid, value in exact}
    left = category.points - sum(parts.values())
    by_fraction = sorted(range(len(exact)), key=lambda i: (-(exact[i][1] - int(exact[i][1])), i))
    for i in by_fraction[:left]:
        parts[exact[i][0]] += 1
    return {pid: amount for pid, amount in parts.items() if amount > 0}


def do_close_case(*, case_id: int, actor, reason: str = "") -> Reward:
    """Staff close a verified case; this proposes its pending reward from the category's table, to be
    paid from the budget of the case's street for the current year."""
    with transaction.atomic():
        case = _locked_case(case_id)
        _staff_may_decide(actor, case)
        if case.status != Case.Status.VERIFIED:
            raise exceptions.WrongCaseState()
        _change_case(case, status=Case.Status.CLOSED, actor=actor, reason=reason)
        parts = split_points(case.category, case.contributors.all())
        reward = Reward.objects.create(
            case=case,
            street_id=Grid.objects.filter(pk=case.grid_id).values_list("community__street_id", flat=True)[0],
            year=timezone.localdate().year,
            amount=sum(parts.values()),
        )
        RewardShare.objects.bulk_create(
            RewardShare(reward=reward, person_id=pid, amount=amount) for pid, amount in parts.items()
        )
        RewardEvent.objects.create(reward=reward, status=Reward.Status.PENDING, actor=actor)
    return reward


# --- reward decisions --------------------------------------------------------------------------------
def _reward(reward_id: int) -> Reward:
    reward = Reward.objects.select_related("case").filter(pk=reward_id).first()
    if reward is None:
        raise exceptions.RewardNotFound()
    return reward


def _change_reward(reward, *, status, actor, reason="") -> None:
    reward.status = status
    reward.reason = reason[:200]
    reward.decided_by = actor
    reward.decided_at = timezone.now()
    reward.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    RewardEvent.objects.create(reward=reward, status=status, actor=actor, reason=reason)


def spent_and_reserved(*, street_id: int, year: int) -> tuple[int, int]:
    """Approved and still-pending reward points against one street's budget for `year`."""
    totals = Reward.objects.filter(street_id=street_id, year=year).aggregate(
        spent=Sum("amount", filter=Q(status=Reward.Status.APPROVED)),
        reserved=Sum("amount", filter=Q(status__in=Reward.RESERVED)),
    )
    return totals["spent"] or 0, totals["reserved"] or 0


def do_approve_reward(*, reward_id: int, actor, reason: str = "") -> Reward:
    """Approve a pending (or appealed) reward and pay every contributor.

    Only staff of the case's area. Locks the budget row, then the reward, then the accounts, and refuses
    (`OverBudget`) if the approved total of the year plus this reward would exceed the budget. Idempotent:
    approving an approved reward again changes nothing (each payment also has its own ledger key,
    "case-reward:<reward>:<person>", so no replay can pay twice)."""
    reward = _reward(reward_id)
    _staff_may_decide(actor, reward)
    with transaction.atomic():
        budget = (
            Budget.objects.select_for_update().filter(street_id=reward.street_id, year=reward.year).first()
        )
        reward = Reward.objects.select_for_update().select_related("case").get(pk=reward_id)
        if reward.status == Reward.Status.APPROVED:
            return reward
        if reward.status not in Reward.RESERVED:
            raise exceptions.WrongRewardState()
        if budget is None:
            raise exceptions.NoBudget()
        spent, _reserved = spent_and_reserved(street_id=reward.street_id, year=reward.year)
        if spent + reward.amount > budget.amount:
            raise exceptions.OverBudget()
        shares = list(reward.shares.select_related("person"))
        lock_accounts([share.person_id for share in shares])
        kind = Entry.Kind.INCIDENT_REWARD if reward.case.kind == "incident" else Entry.Kind.CASE_REWARD
        label = (
            gettext_noop("Per-incident reward")
            if kind == Entry.Kind.INCIDENT_REWARD
            else gettext_noop("Per-case reward")
        )
        for share in shares:
            posted = do_post(
                person_id=share.person_id,
                amount=share.amount,
                kind=kind,
                key=f"case-reward:{reward.pk}:{share.person_id}",
                reason=f"{record_text(label)}: {reward.case.title}",
                actor=actor,
                source=f"reward:{reward.pk}",
            )
            share.entry = posted.entry
            share.save(update_fields=["entry"])
        _change_reward(reward, status=Reward.Status.APPROVED, actor=actor, reason=reason)
        for share in shares:
            notify(
                recipient=share.person,
                category="points",
                title=_("Reward approved: %(points)d points for “%(title)s”")
                % {"points": share.amount, "title": reward.case.title},
                body=reason,
                url=_case_url(reward.case),
                key=f"cases:reward:{reward.pk}:approved:{share.person_id}",
            )
    return reward


def do_reject_reward(*, reward_id: int, actor, reason: str) -> Reward:
    """Reject a pending reward (the contributors may appeal once) or an appealed one (final). Staff of
    the case's area only; a reason is required and shown to the contributors."""
    reason = one_line(reason)
    if not reason:
        raise exceptions.ReasonRequired()
    reward = _reward(reward_id)
    _staff_may_decide(actor, reward)
    with transaction.atomic():
        reward = Reward.objects.select_for_update().select_related("case").get(pk=reward_id)
        if reward.status == Reward.Status.PENDING:
            status = Reward.Status.REJECTED
        elif reward.status == Reward.Status.APPEALED:
            status = Reward.Status.FINAL
        else:
            raise exceptions.WrongRewardState()
        _change_reward(reward, status=status, actor=actor, reason=reason)
        for contributor in reward.case.contributors.select_related("person"):
            notify(
                recipient=contributor.person,
                category="points",
                title=_("Reward not approved for “%(title)s”") % {"title": reward.case.title},
                body=reason,
                url=_case_url(reward.case),
                key=f"cases:reward:{reward.pk}:{status}:{contributor.person_id}",
            )
    return reward


def do_appeal_reward(*, reward_id: int, actor, text: str) -> Reward:
    """A contributor appeals a rejected reward, once per reward (whoever of them appeals first)."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput({"text": [_("Say why the decision should be changed.")]})
    if len(text) > 500:
        raise InvalidInput({"text": [_("Use at most 500 characters.")]})
    with transaction.atomic():
        reward = Reward.objects.select_for_update().select_related("case").filter(pk=reward_id).first()
        if reward is None:
            raise exceptions.RewardNotFound()
        if not reward.case.contributors.filter(person=actor).exists():
            raise exceptions.NotAContributor()
        if reward.appealed_at is not None:
            raise exceptions.AlreadyAppealed()
        if reward.status != Reward.Status.REJECTED:
            raise exceptions.NotAppealable()
        reward.status = Reward.Status.APPEALED
        reward.appeal_text = text
        reward.appealed_by = actor
        reward.appealed_at = timezone.now()
        reward.save(update_fields=["status", "appeal_text", "appealed_by", "appealed_at"])
        RewardEvent.objects.create(reward=reward, status=Reward.Status.APPEALED, actor=actor, reason=text)
    return reward
