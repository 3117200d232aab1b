"""Reads for the case pages, the API and the admin screens: querysets already joined, so a page's query
count does not grow with its rows, and always narrowed by the scope rule."""

from django.db.models import F, IntegerField, OuterRef, Prefetch, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from volunteers.scopes import scope_for

from .models import (
    MAX_PHOTOS,
    Budget,
    Case,
    CaseEvent,
    CasePhoto,
    Contributor,
    Reward,
    RewardEvent,
    RewardShare,
)


def my_cases(*, person):
    """The cases `person` reported or contributed to, newest first, with their reward."""
    return (
        Case.objects.filter(contributors__person=person)
        .select_related("category", "grid__community", "reward")
        .distinct()
        .order_by("-created_at", "-id")
    )


def case_for_page(*, code: str, viewer) -> Case | None:
    """One case with everything its page shows, if `viewer` may see it (contributor, grid worker of the
    grid, staff of its area)."""
    if viewer is None or not viewer.is_authenticated:
        return None
    qs = (
        Case.objects.filter(public_code=code)
        .select_related("category", "grid__community__street", "reported_by")
        .prefetch_related(
            "photos",
            Prefetch("contributors", queryset=Contributor.objects.select_related("person")),
            Prefetch("events", queryset=CaseEvent.objects.select_related("actor")),
        )
    )
    case = scope_for(viewer).visible(qs).first()
    if case is None:
        return None
    reward = (
        Reward.objects.filter(case=case)
        .select_related("decided_by")
        .prefetch_related(
            Prefetch("shares", queryset=RewardShare.objects.select_related("person")),
            Prefetch("events", queryset=RewardEvent.objects.select_related("actor")),
        )
        .first()
    )
    case.reward_or_none = reward
    return case


def photo_for(*, code: str, number: int, viewer) -> CasePhoto | None:
    """The case's `number`-th photo (from 1, in upload order), if `viewer` may see the case. Two queries."""
    if viewer is None or not viewer.is_authenticated or not 1 <= number <= MAX_PHOTOS:
        return None
    case_id = (
        scope_for(viewer).visible(Case.objects.filter(public_code=code)).values_list("pk", flat=True).first()
    )
    if case_id is None:
        return None
    return CasePhoto.objects.filter(case_id=case_id).order_by("id")[number - 1 : number].first()


def can_appeal(*, case: Case, person) -> bool:
    reward = getattr(case, "reward_or_none", None)
    return (
        reward is not None
        and reward.status == Reward.Status.REJECTED
        and reward.appealed_at is None
        and any(c.person_id == person.pk for c in case.contributors.all())
    )


def _reward_sum(*statuses):
    rewards = (
        Reward.objects.filter(street=OuterRef("street"), year=OuterRef("year"), status__in=statuses)
        .order_by()
        .values("street", "year")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(rewards, output_field=IntegerField()), Value(0))


def budgets_with_figures(qs=None):
    """Budgets annotated with `spent` (approved), `reserved` (pending or appealed) and `remaining`
    (amount − spent), each computed by one aggregate subquery per column."""
    qs = Budget.objects.all() if qs is None else qs
    return (
        qs.select_related("street")
        .annotate(
            spent=_reward_sum(Reward.Status.APPROVED),
            reserved=_reward_sum(*Reward.RESERVED),
        )
        .annotate(remaining=F("amount") - F("spent"))
    )


def budget_for_reward(reward: Reward):
    return budgets_with_figures(Budget.objects.filter(street_id=reward.street_id, year=reward.year)).first()
