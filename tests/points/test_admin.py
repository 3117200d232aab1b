"""The points back office: awards decided only in the staff member's area, rules changed only by district
admins, the preview, the read-only ledger with filters, its XLSX export, and adjustments.

The world: street S1 with community C1 (grid G1), street S2 with community C3 (grid G3); one resident
in each grid with a pending award for a task in their grid; staff of C1, of C3, and a district admin.
"""

from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from openpyxl import load_workbook

from points.models import Account, Award, Entry, Holiday, PointsRule
from points.services.ledger import do_post
from tests.factories import CommunityFactory, DistrictFactory, GridFactory, StreetFactory, UserFactory
from tests.points.support import category, finished_attendance, request
from volunteers import services as volunteer_services
from volunteers.models import User

pytestmark = pytest.mark.django_db


@dataclass
class World:
    c1: object
    c3: object
    g1: object
    g3: object
    p1: object
    p3: object
    award1: object
    award3: object
    staff: dict


def appoint(place, phone):
    person = UserFactory(name=f"干部{phone[-2:]}", phone=phone)
    volunteer_services.do_appoint_staff(person=person, actor=None, place=place)
    person = User.objects.get(pk=person.pk)
    TOTP.activate(person, generate_totp_secret())
    return person


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    district = DistrictFactory()
    c1 = CommunityFactory(street=StreetFactory(district=district), name="东门社区")
    c3 = CommunityFactory(street=StreetFactory(district=district), name="南园社区")
    g1, g3 = GridFactory(community=c1, name="东门一网格"), GridFactory(community=c3, name="南园三网格")
    p1 = UserFactory(name="张东门", phone="+8613811110001", home_grid=g1)
    p3 = UserFactory(name="王南园", phone="+8613811110003", home_grid=g3)
    PointsRule.objects.create(name="需审核", category=category(), needs_approval=True)
    request(finished_attendance(p1, grid=g1, points=20))
    request(finished_attendance(p3, grid=g3, points=30))
    staff = {
        "c1": appoint(c1, "+8613922220001"),
        "c3": appoint(c3, "+8613922220003"),
        "district": appoint(district, "+8613922220009"),
    }
    return World(c1, c3, g1, g3, p1, p3, Award.objects.get(person=p1), Award.objects.get(person=p3), staff)


@pytest.fixture
def as_staff(client, world):
    def login(role):
        client.force_login(world.staff[role])
        return client

    return login


def test_community_staff_list_and_review_only_their_areas_awards(as_staff, world):
    client = as_staff("c1")
    page = client.get(reverse("points_awards:index")).content.decode()
    assert "张东门" in page and "王南园" not in page
    assert client.get(reverse("points_awards:edit", args=[world.award1.pk])).status_code == 200
    assert client.get(reverse("points_awards:edit", args=[world.award3.pk])).status_code == 404
    response = client.post(reverse("points_awards:edit", args=[world.award3.pk]), {"action": "approve"})
    assert response.status_code == 404
    assert Award.objects.get(pk=world.award3.pk).status == Award.Status.PENDING


def test_the_review_page_explains_the_points(as_staff, world):
    page = as_staff("c1").get(reverse("points_awards:edit", args=[world.award1.pk])).content.decode()
    assert "需审核" in page and "explanation-section" in page


def test_approving_posts_the_award(as_staff, world, django_capture_on_commit_callbacks):
    client = as_staff("c1")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("points_awards:edit", args=[world.award1.pk]), {"action": "approve"})
    assert response.status_code == 302
    award = Award.objects.get(pk=world.award1.pk)
    assert award.status == Award.Status.POSTED and award.decided_by == world.staff["c1"]
    assert Account.objects.get(person=world.p1, unit=Account.Unit.POINTS).balance == 20


def test_rejecting_without_a_reason_is_a_400_and_changes_nothing(as_staff, world):
    client = as_staff("c1")
    url = reverse("points_awards:edit", args=[world.award1.pk])
    assert client.post(url, {"action": "reject", "reject-reason": "  "}).status_code == 400
    assert Award.objects.get(pk=world.award1.pk).status == Award.Status.PENDING
    assert client.post(url, {"action": "reject", "reject-reason": "照片不符"}).status_code == 302
    assert Award.objects.get(pk=world.award1.pk).status == Award.Status.REJECTED
    # Deciding again: the page says why nothing happened, with a 409.
    assert client.post(url, {"action": "reject", "reject-reason": "再拒"}).status_code == 409


def test_rules_are_read_by_staff_and_changed_by_district_admins(as_staff, world):
    client = as_staff("c1")
    assert client.get(reverse("points_rules:index")).status_code == 200
    response = client.post(reverse("points_rules:add"), {"name": "x"})
    assert response.status_code == 302 and response.url == reverse("wagtailadmin_home")

    client = as_staff("district")
    data = {
        "name": "默认规则",
        "active": "on",
        "basis": "per_hour",
        "base_points": 0,
        "points_per_hour": 10,
        "min_minutes": 30,
        "night_multiplier": "1.5",
        "night_starts": "22:00",
        "night_ends": "06:00",
        "holiday_multiplier": "2",
        "identity_multipliers": '{"party_member": "1.2"}',
        "daily_cap": 50,
        "monthly_cap": "",
    }
    bad = client.post(reverse("points_rules:add"), {**data, "identity_multipliers": '{"king": "9"}'})
    assert bad.status_code == 400 and not PointsRule.objects.filter(name="默认规则").exists()
    bad = client.post(reverse("points_rules:add"), {**data, "night_multiplier": "-1"})
    assert bad.status_code == 400
    assert client.post(reverse("points_rules:add"), data).status_code == 302
    rule = PointsRule.objects.get(name="默认规则")
    assert (
        rule.category is None
        and rule.points_per_hour == 10
        and rule.identity_multipliers == {"party_member": "1.2"}
    )
    # A second active default rule would make the choice ambiguous.
    again = client.post(reverse("points_rules:add"), {**data, "name": "又一个默认"})
    assert again.status_code == 400


def test_holidays_are_kept_by_district_admins(as_staff, world):
    client = as_staff("district")
    assert (
        client.post(reverse("points_holidays:add"), {"date": "2026-10-01", "name": "国庆节"}).status_code
        == 302
    )
    assert Holiday.objects.get().name == "国庆节"
    assert (
        client.post(reverse("points_holidays:add"), {"date": "2026-10-01", "name": "重复"}).status_code == 400
    )


def test_the_preview_explains_an_attendance_and_changes_nothing(as_staff, world):
    client = as_staff("c1")
    attendance = world.award1.attendance
    before = (Award.objects.count(), Entry.objects.count())
    response = client.get(reverse("points_rules:preview"), {"attendance": attendance.pk})
    assert response.status_code == 200
    page = response.content.decode()
    assert "preview-result" in page and "需审核" in page
    assert (Award.objects.count(), Entry.objects.count()) == before
    # Another area's attendance is not a choice.
    other = client.get(reverse("points_rules:preview"), {"attendance": world.award3.attendance_id})
    assert other.status_code == 400 and "preview-result" not in other.content.decode()


def test_the_preview_takes_typed_in_values_and_refuses_bad_ones(as_staff, world):
    client = as_staff("c1")
    start = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    fields = {
        "category": category().pk,
        "start": start.strftime("%Y-%m-%d %H:%M"),
        "end": (start + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M"),
        "task_points": 12,
        "phone": "13811110001",
    }
    good = client.get(reverse("points_rules:preview"), fields)
    assert good.status_code == 200 and "preview-result" in good.content.decode()
    for bad in (
        {"end": start.strftime("%Y-%m-%d %H:%M")},  # not after the start
        {"start": "yesterday"},
        {"minutes": -5},
        {"phone": "13811110003"},  # someone outside the area
        {"task_points": "lots"},
    ):
        response = client.get(reverse("points_rules:preview"), {**fields, **bad})
        assert response.status_code == 400, bad


def _ledger(world, n):
    for i in range(n):
        do_post(
            person_id=world.p1.pk, amount=5, kind=Entry.Kind.ADJUSTMENT, key=f"l{n}-{i}", reason=f"第{i}笔"
        )
        do_post(person_id=world.p3.pk, amount=7, kind=Entry.Kind.ADJUSTMENT, key=f"m{n}-{i}", reason="南园")


def test_the_ledger_lists_only_the_staff_members_area_and_filters(as_staff, world):
    _ledger(world, 2)
    do_post(person_id=world.p1.pk, amount=-3, kind=Entry.Kind.REDEMPTION, key="r1", reason="兑换")
    client = as_staff("c1")
    page = client.get(reverse("points_ledger:index")).content.decode()
    assert "张东门" in page and "王南园" not in page

    district = as_staff("district")
    page = district.get(reverse("points_ledger:index"), {"community": world.c3.pk}).content.decode()
    assert "王南园" in page and "张东门" not in page
    page = district.get(reverse("points_ledger:index"), {"kind": "redemption"}).content.decode()
    assert "兑换" in page and "王南园" not in page
    page = district.get(reverse("points_ledger:index"), {"q": "13811110003"}).content.decode()
    assert "王南园" in page and "张东门" not in page
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    page = district.get(reverse("points_ledger:index"), {"created_at_from": tomorrow}).content.decode()
    assert "王南园" not in page and "张东门" not in page
    # Entries are never edited or deleted here.
    entry = Entry.objects.first()
    for name in ("points_ledger:edit", "points_ledger:delete"):
        assert district.get(reverse(name, args=[entry.pk])).status_code in (302, 403, 404)


def _queries(client, url, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_ledger_and_its_export_cost_the_same_queries_for_more_rows(as_staff, world):
    client = as_staff("district")
    _ledger(world, 2)
    small = (
        _queries(client, reverse("points_ledger:index")),
        _queries(client, reverse("points_ledger:index"), {"format": "xlsx"}),
    )
    _ledger(world, 25)
    large = (
        _queries(client, reverse("points_ledger:index")),
        _queries(client, reverse("points_ledger:index"), {"format": "xlsx"}),
    )
    assert small == large


def test_the_export_has_the_filtered_rows_and_escapes_formulas(as_staff, world):
    world.p1.name = '=HYPERLINK("http://evil")'
    world.p1.save()
    do_post(person_id=world.p1.pk, amount=5, kind=Entry.Kind.ADJUSTMENT, key="x1", reason="+1 好人好事")
    do_post(person_id=world.p1.pk, amount=-2, kind=Entry.Kind.REDEMPTION, key="x2", reason="@兑换")
    do_post(person_id=world.p3.pk, amount=7, kind=Entry.Kind.ADJUSTMENT, key="x3", reason="-南园")
    client = as_staff("c1")

    response = client.get(reverse("points_ledger:index"), {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert len(body) == 2  # the C3 resident's entry is outside this staff member's area
    with translation.override("zh-hans"):  # the back office speaks the site's language by default
        person, reason, amount = (header.index(gettext(label)) for label in ("Person", "Reason", "Amount"))
    assert {row[person] for row in body} == {'\'=HYPERLINK("http://evil")'}
    assert sorted(row[reason] for row in body) == ["'+1 好人好事", "'@兑换"]
    assert sorted(row[amount] for row in body) == [-2, 5]  # numbers stay numbers

    filtered = client.get(reverse("points_ledger:index"), {"format": "xlsx", "kind": "redemption"})
    rows = list(
        load_workbook(BytesIO(b"".join(filtered.streaming_content))).active.iter_rows(values_only=True)
    )
    assert len(rows) == 2
    bad = client.get(reverse("points_ledger:index"), {"format": "xlsx", "created_at_from": "not-a-date"})
    assert bad.status_code == 400


def test_staff_adjust_a_balance_in_their_area_once_per_form(as_staff, world):
    client = as_staff("c1")
    form = client.get(reverse("points_ledger:add"))
    assert form.status_code == 200
    key = form.context["form"].initial["key"]
    data = {"phone": "13811110001", "unit": "points", "amount": 15, "reason": "补录纸质签到", "key": key}
    assert client.post(reverse("points_ledger:add"), data).status_code == 302
    assert client.post(reverse("points_ledger:add"), data).status_code == 302  # a double submit
    entry = Entry.objects.get(kind=Entry.Kind.ADJUSTMENT)
    assert entry.amount == 15 and entry.actor == world.staff["c1"] and entry.reason == "补录纸质签到"

    for bad in (
        {"phone": "13811110003"},  # outside the area
        {"amount": 0},
        {"amount": "ten"},
        {"reason": "   "},
        {"amount": -100, "key": "other"},  # more than the balance
    ):
        response = client.post(reverse("points_ledger:add"), {**data, **bad})
        assert response.status_code in (400, 409), bad
    assert Entry.objects.filter(kind=Entry.Kind.ADJUSTMENT).count() == 1


def test_reconciliation_reports_are_for_district_admins(as_staff, world):
    from points.services.reconciliation import reconcile

    reconcile()
    assert as_staff("district").get(reverse("points_reconciliation:index")).status_code == 200
    response = as_staff("c1").get(reverse("points_reconciliation:index"))
    assert response.status_code == 302


def test_a_resident_gets_no_points_admin(client, world):
    client.force_login(world.p1)
    for url in (
        reverse("points_awards:index"),
        reverse("points_ledger:index"),
        reverse("points_rules:preview"),
    ):
        assert client.get(url).status_code in (302, 403)
