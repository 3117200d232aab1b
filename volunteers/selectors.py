"""Reads for pages and the API. Querysets come with their joins done, so a page's query count does not
grow with the number of rows it shows."""

from django.db.models import Count, Prefetch, Q, QuerySet

from .models import (
    Community,
    DutyCategory,
    Grid,
    IdentityClaim,
    IdentityEvent,
    Membership,
    Organisation,
    Street,
    User,
)
from .scopes import Scope


def district_statistics() -> dict:
    grid_stats = Grid.objects.aggregate(grids=Count("id"), communities=Count("community", distinct=True))
    return {
        "streets": Street.objects.count(),
        "communities": grid_stats["communities"],
        "grids": grid_stats["grids"],
        "people": User.objects.filter(is_active=True).count(),
        "verified_identities": IdentityClaim.objects.filter(status=IdentityClaim.Status.VERIFIED).count(),
        "organisations": Organisation.objects.filter(status=Organisation.Status.APPROVED).count(),
    }


def duty_categories() -> QuerySet:
    return DutyCategory.objects.all()


def place_tree() -> QuerySet:
    """Streets with their communities and grids, in three queries whatever the size of the district."""
    return Street.objects.select_related("district").prefetch_related(
        Prefetch(
            "communities",
            queryset=Community.objects.prefetch_related(
                Prefetch("grids", queryset=Grid.objects.order_by("code"))
            ),
        )
    )


def claims_of(person: User) -> QuerySet:
    return (
        IdentityClaim.objects.filter(person=person)
        .select_related("grid__community", "decided_by")
        .prefetch_related(Prefetch("events", queryset=IdentityEvent.objects.order_by("-at")))
    )


def claims_to_review(scope: Scope) -> QuerySet:
    return (
        scope.changeable(IdentityClaim.objects.filter(status=IdentityClaim.Status.CLAIMED))
        .select_related("person", "grid__community", "person__home_grid__community")
        .order_by("created_at")
    )


def memberships_of(person: User) -> QuerySet:
    return (
        Membership.objects.filter(person=person)
        .exclude(status__in=[Membership.Status.REMOVED, Membership.Status.DECLINED])
        .select_related("organisation__street", "organisation__community")
        .order_by("-created_at")
    )


def organisation_members(organisation: Organisation) -> QuerySet:
    return (
        Membership.objects.filter(
            organisation=organisation, status__in=[Membership.Status.ACTIVE, Membership.Status.INVITED]
        )
        .select_related("person")
        .order_by("role", "created_at")
    )


def public_organisations() -> QuerySet:
    return (
        Organisation.objects.filter(status=Organisation.Status.APPROVED)
        .select_related("street", "community")
        .annotate(member_count=Count("memberships", filter=Q(memberships__status=Membership.Status.ACTIVE)))
    )
