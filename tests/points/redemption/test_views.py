"""The reward pages: catalogue with balance, redeem with confirmation, my redemptions with the QR, cancel,
what a scanned QR opens, the merchant's hand-over page and the monthly statement (with XLSX)."""

from datetime import timedelta
from io import BytesIO

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from points.models import Entry
from points.redemption import qr, services
from points.redemption.models import Redemption, RewardItem
from tests.factories import StaffPostFactory, UserFactory
from tests.points.redemption.support import (
    MerchantFactory,
    RewardItemFactory,
    balance,
    give_points,
    merchant_staff,
)

pytestmark = pytest.mark.django_db


def zh(message) -> str:
    with translation.override("zh-hans"):
        return str(message)


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def person(client):
    person = UserFactory(name="王小明", notify_sms=False)
    give_points(person, 250)
    client.force_login(person)
    return person


@pytest.fixture
def item():
    return RewardItemFactory(name="洗衣液", price=100, stock=3)


def redeem_url(item):
    return reverse("redemption:redeem", args=[item.public_code])


# --- catalogue ---------------------------------------------------------------------------------------
def test_catalogue_shows_items_price_stock_and_my_balance(client, person, item):
    RewardItemFactory(name="下架商品", active=False)
    response = client.get(reverse("redemption:catalogue"))
    assert response.status_code == 200
    page = text(response)
    assert "洗衣液" in page and "下架商品" not in page
    assert 'data-testid="balance"' in page and ">250<" in page
    assert redeem_url(item) in page


def test_catalogue_is_open_to_visitors_without_a_balance(client, item):
    response = client.get(reverse("redemption:catalogue"))
    assert response.status_code == 200
    assert 'data-testid="balance"' not in text(response) and "洗衣液" in text(response)


def test_catalogue_query_count_does_not_grow_with_items(client, person):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("redemption:catalogue")).status_code == 200
        return len(ctx.captured_queries)

    RewardItemFactory.create_batch(2)
    few = count()
    RewardItemFactory.create_batch(20)
    assert count() == few


# --- redeeming ---------------------------------------------------------------------------------------
def test_redeem_asks_for_confirmation_before_taking_points(client, person, item):
    response = client.get(redeem_url(item))
    assert response.status_code == 200
    assert "洗衣液" in text(response) and 'name="key"' in text(response)
    assert balance(person) == 250 and not Redemption.objects.exists()


def test_confirming_redeems_once_even_if_the_form_is_sent_twice(client, person, item):
    key = "form-key-000001"
    first = client.post(redeem_url(item), {"key": key})
    again = client.post(redeem_url(item), {"key": key})
    assert first.status_code == again.status_code == 302
    assert first["Location"].startswith(reverse("redemption:mine"))
    assert Redemption.objects.count() == 1 and balance(person) == 150


def test_not_enough_points_shows_the_reason_with_409(client, item):
    poor = UserFactory(notify_sms=False)
    give_points(poor, 10)
    client.force_login(poor)
    response = client.post(redeem_url(item), {"key": "form-key-000002"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 409
    from points.exceptions import InsufficientPoints

    assert zh(InsufficientPoints.default_message) in text(response)
    assert not Entry.objects.filter(kind=Entry.Kind.REDEMPTION).exists()


def test_out_of_stock_between_page_and_confirmation_is_a_409(client, person, item):
    RewardItem.objects.filter(pk=item.pk).update(stock=0)
    response = client.post(redeem_url(item), {"key": "form-key-000003"})
    assert response.status_code == 409
    assert balance(person) == 250


def test_a_tampered_key_is_a_400(client, person, item):
    response = client.post(redeem_url(item), {"key": "bad key!"})
    assert response.status_code == 400 and not Redemption.objects.exists()


def test_an_inactive_or_unknown_item_is_404(client, person):
    hidden = RewardItemFactory(active=False)
    assert client.get(redeem_url(hidden)).status_code == 404
    assert client.post(reverse("redemption:redeem", args=["nope"]), {"key": "k" * 10}).status_code == 404


def test_redeeming_needs_sign_in(client, item):
    response = client.post(redeem_url(item), {"key": "form-key-000004"})
    assert response.status_code == 302 and "/accounts/" in response["Location"]


# --- my redemptions ----------------------------------------------------------------------------------
def test_my_redemptions_show_a_qr_and_short_code_for_open_ones_only(client, person, item):
    open_one = services.do_redeem(item_code=item.public_code, actor=person, key="mine-key-0001").redemption
    done = services.do_redeem(item_code=item.public_code, actor=person, key="mine-key-0002").redemption
    services.do_cancel(public_code=done.public_code, actor=person)
    response = client.get(reverse("redemption:mine"))
    assert response.status_code == 200
    page = text(response)
    assert page.count('data-testid="redemption-qr"') == 1 and "<svg" in page
    assert f"{open_one.short_code[:4]}-{open_one.short_code[4:]}" in page
    assert done.short_code[:4] + "-" + done.short_code[4:] not in page
    assert str(person.phone) not in page


def test_my_redemptions_query_count_does_not_grow(client, person):
    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("redemption:mine")).status_code == 200
        return len(ctx.captured_queries)

    give_points(person, 10_000)
    for n in range(2):
        services.do_redeem(
            item_code=RewardItemFactory(price=1).public_code, actor=person, key=f"q-key-a{n:05d}"
        )
    few = count()
    for n in range(12):
        services.do_redeem(
            item_code=RewardItemFactory(price=1).public_code, actor=person, key=f"q-key-b{n:05d}"
        )
    assert count() == few


def test_cancel_refunds_and_another_persons_cancel_is_404(client, person, item):
    r = services.do_redeem(item_code=item.public_code, actor=person, key="cancel-key-01").redemption
    other = UserFactory(notify_sms=False)
    client.force_login(other)
    assert client.post(reverse("redemption:cancel", args=[r.public_code])).status_code == 404
    client.force_login(person)
    response = client.post(reverse("redemption:cancel", args=[r.public_code]))
    assert response.status_code == 302 and balance(person) == 250
    again = client.post(reverse("redemption:cancel", args=[r.public_code]))
    assert again.status_code == 409
    assert client.get(reverse("redemption:cancel", args=[r.public_code])).status_code == 405


# --- what a scanned QR opens ---------------------------------------------------------------------------
def test_the_qr_link_offers_hand_over_only_to_the_merchants_staff(client, person, item):
    r = services.do_redeem(item_code=item.public_code, actor=person, key="collect-key-1").redemption
    url = qr.path_for(r.token_code)
    page = text(client.get(url))
    assert (
        "洗衣液" not in page and reverse("redemption:handover", args=[item.merchant.public_code]) not in page
    )
    client.force_login(merchant_staff(item.merchant))
    page = text(client.get(url))
    assert "洗衣液" in page and reverse("redemption:handover", args=[item.merchant.public_code]) in page


def test_a_forged_qr_link_is_refused(client):
    assert client.get(reverse("redemption:collect", args=["abc:def:ghi"])).status_code == 400


# --- the merchant's pages ------------------------------------------------------------------------------
@pytest.fixture
def reserved(person, item):
    return services.do_redeem(item_code=item.public_code, actor=person, key="hand-key-0001").redemption


@pytest.fixture
def staff_client(client, person, item):  # after `person`, who signs in too
    client.force_login(merchant_staff(item.merchant))
    return client


def handover_url(merchant):
    return reverse("redemption:handover", args=[merchant.public_code])


def test_handover_page_has_scanner_and_short_code_form(staff_client, item):
    response = staff_client.get(handover_url(item.merchant))
    assert response.status_code == 200
    page = text(response)
    assert "js/camera.js" in page and "redemption/handover.js" in page and 'name="code"' in page


def test_merchant_home_leads_to_the_only_merchant(staff_client, item):
    response = staff_client.get(reverse("redemption:merchant_home"))
    assert response.status_code == 302 and response["Location"] == handover_url(item.merchant)


def test_typing_the_short_code_hands_over(staff_client, reserved, item):
    response = staff_client.post(handover_url(item.merchant), {"code": reserved.short_code.lower()})
    assert response.status_code == 200 and 'data-testid="result"' in text(response)
    assert Redemption.objects.get(pk=reserved.pk).status == Redemption.Status.HANDED_OVER


@pytest.mark.parametrize(
    ("setup", "status", "code"),
    [
        ("used", 409, "already_handed_over"),
        ("expired", 409, "code_expired"),
        ("forged", 400, "invalid_code"),
        ("empty", 400, "invalid_code"),
    ],
)
def test_handover_refusals_show_the_reason(staff_client, reserved, item, setup, status, code):
    from points.redemption import exceptions

    messages = {
        "already_handed_over": exceptions.AlreadyHandedOver,
        "code_expired": exceptions.CodeExpired,
        "invalid_code": exceptions.InvalidCode,
    }
    sent = qr.path_for(reserved.token_code)
    if setup == "used":
        staff_client.post(handover_url(item.merchant), {"code": sent})
    elif setup == "expired":
        Redemption.objects.filter(pk=reserved.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    elif setup == "forged":
        sent = sent.replace("/r/", "/r/x")
    else:
        sent = ""
    response = staff_client.post(handover_url(item.merchant), {"code": sent}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == status
    assert zh(messages[code].default_message) in text(response)


def test_another_merchants_staff_cannot_open_the_page_or_use_the_code(client, reserved, item):
    other = MerchantFactory()
    client.force_login(merchant_staff(other))
    assert client.get(handover_url(item.merchant)).status_code == 403
    response = client.post(handover_url(other), {"code": reserved.short_code})
    assert response.status_code == 409
    assert Redemption.objects.get(pk=reserved.pk).status == Redemption.Status.RESERVED


def test_people_who_are_not_merchant_staff_are_refused(client, person, item):
    assert client.get(handover_url(item.merchant)).status_code == 403
    assert client.get(reverse("redemption:merchant_home")).status_code == 403


# --- the statement -------------------------------------------------------------------------------------
def _handed(person, item, staff, key):
    r = services.do_redeem(item_code=item.public_code, actor=person, key=key).redemption
    return services.do_hand_over(merchant_code=item.merchant.public_code, code=r.short_code, actor=staff)


def test_statement_sums_this_months_hand_overs_per_item(staff_client, person, item):
    staff = item.merchant.memberships.get().person
    give_points(person, 1000)
    _handed(person, item, staff, "stmt-key-0001")
    _handed(person, item, staff, "stmt-key-0002")
    services.do_redeem(item_code=item.public_code, actor=person, key="stmt-key-0003")  # not collected
    response = staff_client.get(reverse("redemption:statement", args=[item.merchant.public_code]))
    assert response.status_code == 200
    page = text(response)
    assert '<span class="stat-value" data-testid="count">2</span>' in page
    assert '<span class="stat-value" data-testid="points">200</span>' in page


def test_statement_of_another_month_is_empty_and_a_bad_month_is_422(staff_client, item):
    url = reverse("redemption:statement", args=[item.merchant.public_code])
    response = staff_client.get(url, {"month": "2020-01"})
    assert response.status_code == 200 and 'data-testid="count">0<' in text(response)
    assert staff_client.get(url, {"month": "2020-13"}).status_code == 422
    assert staff_client.get(url, {"month": "bad"}).status_code == 422


def test_statement_exports_xlsx(staff_client, person, item):
    from openpyxl import load_workbook

    staff = item.merchant.memberships.get().person
    _handed(person, item, staff, "xlsx-key-0001")
    url = reverse("redemption:statement", args=[item.merchant.public_code])
    response = staff_client.get(url, {"format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(BytesIO(response.content))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert ("洗衣液", 1, 100) in rows
    detail = list(book.worksheets[1].iter_rows(values_only=True))
    assert len(detail) == 2 and detail[1][3] == "王*明"  # masked


def test_statement_xlsx_keeps_formula_like_names_as_text(client, person):
    from openpyxl import load_workbook

    merchant = MerchantFactory(name='=HYPERLINK("http://evil","店")')
    item = RewardItemFactory(merchant=merchant, name="@SUM(1+1)", price=100, stock=3)
    staff = merchant_staff(merchant)
    _handed(person, item, staff, "xlsx-key-0002")
    client.force_login(staff)

    response = client.get(reverse("redemption:statement", args=[merchant.public_code]), {"format": "xlsx"})

    summary, detail = load_workbook(BytesIO(response.content)).worksheets
    cells = [summary["A1"], summary["A3"], detail["B2"]]
    assert [cell.value for cell in cells] == [
        '\'=HYPERLINK("http://evil","店")',
        "'@SUM(1+1)",
        "'@SUM(1+1)",
    ]
    assert {cell.data_type for cell in cells} == {"s"}


def test_statement_is_for_the_merchant_and_its_streets_staff_only(client, item):
    url = reverse("redemption:statement", args=[item.merchant.public_code])
    client.force_login(UserFactory(notify_sms=False))
    assert client.get(url).status_code == 403
    street_staff = UserFactory(notify_sms=False)
    StaffPostFactory(person=street_staff, level="street", street=item.merchant.street)
    client.force_login(street_staff)
    assert client.get(url).status_code == 200
    other_street = UserFactory(notify_sms=False)
    StaffPostFactory(person=other_street, level="street", street=MerchantFactory().street)
    client.force_login(other_street)
    assert client.get(url).status_code == 403
