"""The rewards back office: merchants, staff, items (stock) and redemptions (read-only), each scoped to
the staff member's street or community."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse

from points.redemption import services
from points.redemption.models import Merchant, MerchantStaff, RewardItem
from tests.factories import CommunityFactory, StreetFactory, UserFactory
from tests.points.redemption.support import MerchantFactory, RewardItemFactory, give_points
from volunteers import services as volunteer_services
from volunteers.models import User

pytestmark = pytest.mark.django_db


def staff_of(place, phone):
    person = UserFactory(name=f"干部{phone[-2:]}", phone=phone)
    volunteer_services.do_appoint_staff(person=person, actor=None, place=place)
    TOTP.activate(person, generate_totp_secret())
    return User.objects.get(pk=person.pk)


@pytest.fixture
def world():
    s1, s2 = StreetFactory(name="江浦街道"), StreetFactory(name="泰山街道")
    c1 = CommunityFactory(street=s1, name="东门社区")
    m1 = MerchantFactory(name="江浦服务中心", street=s1, community=c1)
    m2 = MerchantFactory(name="泰山超市", street=s2)
    i1 = RewardItemFactory(merchant=m1, name="洗衣液", stock=5)
    i2 = RewardItemFactory(merchant=m2, name="大米", stock=5)
    person = UserFactory(name="王小明", notify_sms=False)
    give_points(person, 1000)
    r1 = services.do_redeem(item_code=i1.public_code, actor=person, key="admin-key-0001").redemption
    r2 = services.do_redeem(item_code=i2.public_code, actor=person, key="admin-key-0002").redemption
    return {
        "s1": s1,
        "s2": s2,
        "c1": c1,
        "m1": m1,
        "m2": m2,
        "i1": i1,
        "i2": i2,
        "r1": r1,
        "r2": r2,
        "street_staff": staff_of(s1, "+8613922230001"),
        "community_staff": staff_of(c1, "+8613922230002"),
    }


@pytest.mark.parametrize("role", ["street_staff", "community_staff"])
@pytest.mark.parametrize(
    ("listing", "mine", "theirs"),
    [
        ("merchants", "江浦服务中心", "泰山超市"),
        ("reward_items", "洗衣液", "大米"),
        ("redemptions", "洗衣液", "大米"),
    ],
)
def test_lists_show_only_the_staff_members_area(client, world, role, listing, mine, theirs):
    client.force_login(world[role])
    response = client.get(reverse(f"{listing}:index"))
    assert response.status_code == 200
    page = response.content.decode()
    assert mine in page and theirs not in page


def test_staff_edit_stock_in_scope_and_get_404_outside(client, world):
    client.force_login(world["street_staff"])
    item = world["i1"]
    data = {
        "merchant": item.merchant_id,
        "name": item.name,
        "description": "",
        "price": 120,
        "stock": 40,
        "active": "on",
    }
    response = client.post(reverse("reward_items:edit", args=[item.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    item.refresh_from_db()
    assert (item.price, item.stock) == (120, 40)
    assert client.get(reverse("reward_items:edit", args=[world["i2"].pk])).status_code in (403, 404)


def test_a_negative_stock_or_zero_price_is_a_400(client, world):
    client.force_login(world["street_staff"])
    item = world["i1"]
    data = {"merchant": item.merchant_id, "name": item.name, "price": 0, "stock": -1, "active": "on"}
    response = client.post(reverse("reward_items:edit", args=[item.pk]), data)
    assert response.status_code == 400
    assert RewardItem.objects.get(pk=item.pk).stock == 4  # 5 less the one redeemed


def test_an_item_cannot_be_moved_to_another_streets_merchant(client, world):
    client.force_login(world["street_staff"])
    item = world["i1"]
    data = {"merchant": world["m2"].pk, "name": item.name, "price": 10, "stock": 1, "active": "on"}
    response = client.post(reverse("reward_items:edit", args=[item.pk]), data)
    assert response.status_code == 400
    assert RewardItem.objects.get(pk=item.pk).merchant_id == world["m1"].pk


def test_staff_add_a_merchant_in_their_street_with_its_staff_by_phone(client, world):
    client.force_login(world["street_staff"])
    response = client.post(
        reverse("merchants:add"),
        {"name": "新商户", "kind": "partner", "street": world["s1"].pk, "address": "", "active": "on"},
    )
    assert response.status_code == 302
    merchant = Merchant.objects.get(name="新商户")
    clerk = UserFactory(phone="+8613700001111", notify_sms=False)
    response = client.post(reverse("merchant_staff:add"), {"merchant": merchant.pk, "phone": "13700001111"})
    assert response.status_code == 302
    assert MerchantStaff.objects.filter(merchant=merchant, person=clerk).exists()
    refused = client.post(reverse("merchant_staff:add"), {"merchant": world["m2"].pk, "phone": "13700001111"})
    assert refused.status_code == 400
    unknown = client.post(reverse("merchant_staff:add"), {"merchant": merchant.pk, "phone": "13700009999"})
    assert unknown.status_code == 400


def test_community_staff_cannot_add_merchants(client, world):
    client.force_login(world["community_staff"])
    assert client.get(reverse("merchants:add")).status_code in (302, 403)


def test_redemptions_are_read_only(client, world):
    client.force_login(world["street_staff"])
    r = world["r1"]
    assert client.get(reverse("redemptions:inspect", args=[r.pk])).status_code == 200
    assert client.get(reverse("redemptions:inspect", args=[world["r2"].pk])).status_code in (403, 404)
    for name in ("edit", "delete"):
        response = client.get(reverse(f"redemptions:{name}", args=[r.pk]))
        assert response.status_code in (302, 403, 404), name
    assert client.get(reverse("redemptions:add")).status_code in (302, 403)


def test_a_stock_edit_applies_the_change_to_units_redeemed_meanwhile(client, world):
    client.force_login(world["street_staff"])
    item = world["i1"]
    page = client.get(reverse("reward_items:edit", args=[item.pk])).content.decode()
    assert 'name="stock_shown"' in page and 'value="4"' in page
    # Someone redeems one more while the form is open: 4 → 3. Staff add 4 units (4 → 8 on the form).
    person = UserFactory(notify_sms=False)
    give_points(person, 500)
    services.do_redeem(item_code=item.public_code, actor=person, key="meanwhile-0001")
    data = {"merchant": item.merchant_id, "name": item.name, "price": 100, "stock": 8, "stock_shown": 4}
    response = client.post(reverse("reward_items:edit", args=[item.pk]), data | {"active": "on"})
    assert response.status_code == 302
    assert RewardItem.objects.get(pk=item.pk).stock == 7
