"""Shared set-up for the per-case reward tests: people in their roles, a category, a photo, a closed case."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from points.cases import services
from points.cases.models import Budget, RewardCategory
from tests.factories import GridFactory, IdentityClaimFactory, StaffPostFactory, UserFactory
from volunteers.models import StaffPost


def grid_worker(grid=None, **fields):
    grid = grid or GridFactory()
    person = UserFactory(home_grid=grid, notify_sms=False, **fields)
    IdentityClaimFactory(person=person, kind="grid_worker_full", grid=grid, status="verified")
    return person


def verified(kind, grid=None, **fields):
    """A person holding a verified identity of `kind` (legal_officer, volunteer, …) in `grid`."""
    grid = grid or GridFactory()
    person = UserFactory(home_grid=grid, notify_sms=False, **fields)
    IdentityClaimFactory(person=person, kind=kind, grid=grid, status="verified")
    return person


def street_staff(street, **fields):
    return StaffPostFactory(
        person=UserFactory(is_staff=True, notify_sms=False, **fields),
        level=StaffPost.Level.STREET,
        street=street,
    ).person


def community_staff(community):
    return StaffPostFactory(
        person=UserFactory(is_staff=True, notify_sms=False),
        level=StaffPost.Level.COMMUNITY,
        community=community,
    ).person


def category(kind="case", points=100, split=RewardCategory.Split.EACH, name=None):
    return RewardCategory.objects.create(
        name=name or f"{kind}-{points}-{split}-{RewardCategory.objects.count()}",
        kind=kind,
        points=points,
        split=split,
    )


def png(size=(8, 8), fmt="PNG", name="张三_13800138000.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{fmt.lower()}")


def budget(street, amount, year=None):
    return Budget.objects.create(street=street, year=year or timezone.localdate().year, amount=amount)


def report(reporter, grid, cat, contributors=(), photos=(), title="楼道堆物隐患"):
    return services.do_report_case(
        actor=reporter,
        kind=cat.kind,
        category_id=cat.pk,
        grid_id=grid.pk,
        title=title,
        description="发现楼道堆放杂物，已协调清理。",
        photos=photos,
        contributors=contributors,
    )


def closed(case, staff):
    services.do_verify_case(case_id=case.pk, actor=staff)
    return services.do_close_case(case_id=case.pk, actor=staff)


def pending_reward(*, points=100, contributors=0, street_budget=None, grid=None, title="楼道堆物隐患"):
    """A reward awaiting approval, with the people around it: (reward, reporter, staff, helpers)."""
    grid = grid or GridFactory()
    street = grid.community.street
    reporter = grid_worker(grid)
    staff = street_staff(street)
    helpers = [UserFactory(notify_sms=False) for _ in range(contributors)]
    cat = category(points=points)
    case = report(
        reporter,
        grid,
        cat,
        contributors=[services.ContributorIn(person_id=h.pk, role="handler", share=1) for h in helpers],
        title=title,
    )
    if street_budget is not None and not Budget.objects.filter(street=street).exists():
        budget(street, street_budget)
    return closed(case, staff), reporter, staff, helpers
