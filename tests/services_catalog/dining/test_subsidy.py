"""The monthly subsidy report of a dining point (XLSX): one row per resident with the sessions booked and
attended in the month, the unit price and the amount, a totals row equal to the attendances, no phone
numbers, and a fixed number of queries whatever the rows."""

from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from services_catalog import services
from services_catalog.models import SubsidyGroup
from tests.factories import UserFactory
from tests.services_catalog.dining.support import at
from tests.services_catalog.world import beneficiary, session_of

pytestmark = pytest.mark.django_db


def lunch_day(world, clock, day: date, *, booked, attended, cancel_session=False):
    """Book `booked` for the 11:00 lunch of `day` (at 9:00) and scan `attended` in at 11:05."""
    clock.move_to(at(day.year, day.month, day.day, 9))
    session = session_of(world.lunch, starts_in=timedelta(hours=2))
    for person in booked:
        services.do_place_order(
            actor=person, service_id=world.lunch.pk, resident=person, session_id=session.pk
        )
    if cancel_session:
        services.do_cancel_session(actor=world.a_admin, session_id=session.pk, reason="停电")
        return
    clock.move_to(at(day.year, day.month, day.day, 11, 5))
    for person in attended:
        services.do_record_attendance(
            actor=world.a_member,
            session_id=session.pk,
            token=services.card_token(services.beneficiary_for(person)),
        )


def report(client, world, month="2026-03"):
    response = client.get(reverse("services:dining_subsidy", args=[world.lunch.code]) + f"?month={month}")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(BytesIO(response.content)).active


@pytest.fixture
def march(world, clock):
    world.lunch.price = Decimal("8.00")
    world.lunch.save(update_fields=["price"])
    beneficiary(world.r1, subsidy_group=SubsidyGroup.LOW_INCOME)
    beneficiary(world.r2)
    plan = [
        (date(2026, 2, 27), [world.r1, world.r2], [world.r1, world.r2], False),  # February: not counted
        (date(2026, 3, 2), [world.r1, world.r2], [world.r1, world.r2], False),
        (date(2026, 3, 3), [world.r1, world.r2], [world.r1], False),
        (date(2026, 3, 4), [world.r1], [world.r1], False),
        (date(2026, 3, 5), [world.r1, world.r2], [], True),  # cancelled session: not counted
        (date(2026, 3, 31), [world.r2], [world.r2], False),
    ]
    for day, booked, attended, cancelled in plan:
        lunch_day(world, clock, day, booked=booked, attended=attended, cancel_session=cancelled)
    clock.move_to(at(2026, 4, 2, 9))
    # Worked out by hand from the plan: March, sessions not cancelled.
    return {
        world.r1.name: {"booked": 3, "attended": 3, "group": "low_income"},
        world.r2.name: {"booked": 3, "attended": 2, "group": ""},
    }


def rows_of(sheet):
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = values[2]
    return values[0], values[1], header, values[3:-1], values[-1]


def test_the_report_has_a_title_a_row_per_resident_and_totals_equal_to_the_attendances(
    world, march, client_for
):
    sheet = report(client_for(world.a_admin), world)
    title, _subtitle, header, body, totals = rows_of(sheet)
    assert title[0] == f"{world.lunch.title} · 2026年3月补贴结算表"
    assert len(header) == 7
    by_name = {row[1]: row for row in body}
    assert set(by_name) == set(march)
    for name, expected in march.items():
        _n, _name, group, booked, attended, price, amount = by_name[name]
        assert (booked, attended) == (expected["booked"], expected["attended"])
        assert Decimal(str(price)) == Decimal("8.00")
        assert Decimal(str(amount)) == Decimal("8.00") * expected["attended"]
        assert bool(group) == bool(expected["group"])
    total_attended = sum(expected["attended"] for expected in march.values())
    assert totals[3] == sum(expected["booked"] for expected in march.values())
    assert totals[4] == total_attended == 5
    assert Decimal(str(totals[6])) == Decimal("8.00") * total_attended
    assert sheet.column_dimensions["B"].width >= 10 and sheet.column_dimensions["C"].width >= 20


def test_the_report_is_in_chinese_and_carries_no_phone_number(world, march, client_for):
    sheet = report(client_for(world.a_member), world)
    _title, _subtitle, header, body, totals = rows_of(sheet)
    assert header[1] == "姓名" and totals[0] == "合计"
    assert "最低生活保障" in str(body) or "低保" in str(body)
    cells = " ".join(str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value is not None)
    for person in (world.r1, world.r2):
        digits = person.phone[-8:]
        assert digits not in cells and person.masked_phone not in cells


def test_another_month_has_its_own_sessions(world, march, client_for):
    _title, _subtitle, _header, body, totals = rows_of(report(client_for(world.a_admin), world, "2026-02"))
    assert totals[4] == 2 and len(body) == 2


def test_a_bad_month_is_a_clear_400(world, client_for):
    url = reverse("services:dining_subsidy", args=[world.lunch.code])
    response = client_for(world.a_admin).get(url + "?month=2026-13")
    assert response.status_code == 400


def test_the_report_is_only_for_the_organisation_and_the_staff_of_the_area(world, client_for):
    url = reverse("services:dining_subsidy", args=[world.lunch.code])
    assert client_for(world.r1).get(url).status_code == 403
    assert client_for(world.staff_c3).get(url).status_code == 403
    assert client_for(world.staff_c1).get(url).status_code == 200


def test_the_report_takes_the_same_number_of_queries_for_more_residents(world, clock, client_for):
    client = client_for(world.a_admin)
    lunch_day(world, clock, date(2026, 3, 16), booked=[world.r1], attended=[world.r1])
    url = reverse("services:dining_subsidy", args=[world.lunch.code]) + "?month=2026-03"
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    more = [UserFactory(name=f"长者{n}", home_grid=world.g1) for n in range(5)]
    lunch_day(world, clock, date(2026, 3, 17), booked=more, attended=more[:3])
    with CaptureQueriesContext(connection) as many:
        sheet = report(client, world)
    assert rows_of(sheet)[4][4] == 4
    assert len(many) == len(few)
