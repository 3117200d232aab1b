"""Grid workers' residents (帮办): the list with search, registering a resident without a smartphone,
their service details, the printed QR card (its code reads back to them) and re-issuing it."""

import re

import pytest
import zxingcpp
from django.urls import reverse
from PIL import Image, ImageDraw

from services_catalog import services
from services_catalog.exceptions import InvalidCard
from services_catalog.models import Beneficiary
from tests.factories import GridFactory, IdentityClaimFactory, UserFactory
from tests.services_catalog.manage.conftest import text
from tests.services_catalog.world import beneficiary
from volunteers.models import User

pytestmark = pytest.mark.django_db

RESIDENTS = reverse("services:manage_residents")
NEW = reverse("services:manage_resident_new")


def read_qr(svg: str) -> str:
    """Decode the QR code of an SVG as qrcode's SvgPathImage draws it: one "Mx,yH…V…H…z" square per dark
    module. Rasterised with Pillow and read with zxing, as a phone camera would."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    scale = 8
    image = Image.new("L", (size * scale, size * scale), 255)
    draw = ImageDraw.Draw(image)
    for x, y in re.findall(r"M(\d+),(\d+)H", svg):
        x, y = int(x), int(y)
        draw.rectangle([x * scale, y * scale, (x + 1) * scale - 1, (y + 1) * scale - 1], fill=0)
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1, "no QR code in the card"
    return found[0].text


def card_svg(response) -> str:
    html = response.content.decode()
    start = html.index('data-testid="card-qr">') + len('data-testid="card-qr">')
    return html[start : html.index("</svg>", start) + len("</svg>")]


def register_data(world, **overrides):
    data = {
        "name": " 孙 大娘 ",
        "grid": world.g1.pk,
        "phone": "",
        "birth_date": "1942-03-08",
        "subsidy_group": "living_alone",
        "address": "星兴路 12 号 3 栋 201",
        "dietary_notes": "糖尿病，少糖",
        "consent": "on",
    }
    data.update(overrides)
    return data


def test_register_a_resident_then_print_a_card_that_reads_back_to_them(world, client_for):
    client = client_for(world.gw)

    response = client.post(NEW, register_data(world))

    assert response.status_code == 302, text(response)
    person = User.objects.get(name="孙 大娘")
    assert person.home_grid == world.g1 and person.phone is None and not person.has_usable_password()
    details = Beneficiary.objects.get(person=person)
    assert str(details.birth_date) == "1942-03-08" and details.subsidy_group == "living_alone"
    assert details.dietary_notes == "糖尿病，少糖" and details.updated_by == world.gw
    assert response["Location"] == reverse("services:manage_resident", args=[person.pk])

    card = client.get(reverse("services:manage_resident_card", args=[person.pk]))

    assert card.status_code == 200
    assert "孙 大娘" in text(card)
    url = read_qr(card_svg(card))
    assert url.startswith("http") and "孙" not in url and "%" not in url  # no name in the code
    assert services.read_card(url).person_id == person.pk
    assert "糖尿病" not in card.content.decode()  # the card shows name, masked phone and grid only


def test_card_shows_the_masked_phone_only(world, client_for):
    details = beneficiary(world.r1)
    card = client_for(world.gw).get(reverse("services:manage_resident_card", args=[world.r1.pk]))
    page = text(card)
    assert world.r1.masked_phone in page
    assert world.r1.phone.removeprefix("+86") not in card.content.decode()
    assert services.read_card(read_qr(card_svg(card))).pk == details.pk


def test_reissuing_the_card_voids_the_old_one(world, client_for):
    client = client_for(world.gw)
    old_url = read_qr(card_svg(client.get(reverse("services:manage_resident_card", args=[world.r1.pk]))))
    reissue = reverse("services:manage_resident_reissue", args=[world.r1.pk])

    confirm = client.get(reissue)
    assert confirm.status_code == 200 and 'data-testid="confirm-reissue"' in confirm.content.decode()
    assert services.read_card(old_url).person_id == world.r1.pk  # a GET changes nothing

    done = client.post(reissue)

    assert done.status_code == 302
    assert done["Location"] == reverse("services:manage_resident_card", args=[world.r1.pk])
    with pytest.raises(InvalidCard):
        services.read_card(old_url)
    new_url = read_qr(card_svg(client.get(done["Location"])))
    assert services.read_card(new_url).person_id == world.r1.pk


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "  "}, "This field is required."),
        ({"phone": "12345"}, "Enter an 11-digit mainland mobile number"),
        ({"birth_date": "2999-01-01"}, "Enter a date of birth in the past 120 years."),
        ({"birth_date": "not a date"}, "Enter a valid date."),
        ({"consent": ""}, "Ask the resident's consent first."),
        ({"subsidy_group": "millionaire"}, "Select a valid choice"),
    ],
)
def test_bad_registration_is_a_400_with_the_reason_and_nobody_created(world, client_for, overrides, message):
    before = User.objects.count()
    response = client_for(world.gw).post(NEW, register_data(world, **overrides), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert message in text(response)
    assert 'value="星兴路 12 号 3 栋 201"' in response.content.decode()  # what was typed is kept
    assert User.objects.count() == before


def test_registering_a_known_mobile_number_says_to_find_them_instead(world, client_for):
    taken = world.r2.phone.removeprefix("+86")
    response = client_for(world.gw).post(NEW, register_data(world, phone=taken), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "already registered: find them instead" in response.content.decode()


def test_grid_worker_cannot_register_into_another_grid(world, client_for):
    response = client_for(world.gw).post(
        NEW, register_data(world, grid=world.g3.pk), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert not User.objects.filter(name="孙 大娘").exists()


def test_residents_list_shows_own_grids_with_masked_phones_and_searches_by_name(world, client_for):
    client = client_for(world.gw)

    listed = client.get(RESIDENTS)

    ids = re.findall(r'data-testid="resident" data-id="(\d+)"', listed.content.decode())
    assert {str(world.r1.pk), str(world.r2.pk)} <= set(ids)
    assert str(world.r3.pk) not in ids and str(world.r4.pk) not in ids  # other grids
    assert world.r1.masked_phone in text(listed) and world.r1.phone not in listed.content.decode()

    found = client.get(RESIDENTS, {"q": "三丰"})
    assert re.findall(r'data-testid="resident" data-id="(\d+)"', found.content.decode()) == [str(world.r1.pk)]
    by_digits = client.get(RESIDENTS, {"q": world.r2.phone[-4:]})
    assert str(world.r2.pk) in by_digits.content.decode()
    assert client.get(RESIDENTS, {"q": "x" * 300}).status_code == 200  # too long: ignored, not a 500


def test_grid_worker_edits_details_of_own_resident_only(world, client_for):
    client = client_for(world.gw)
    mine = reverse("services:manage_resident", args=[world.r1.pk])
    data = {
        "birth_date": "1950-01-01",
        "subsidy_group": "low_income",
        "address": "星兴路 1 号",
        "dietary_notes": "清真",
    }

    assert client.get(mine).status_code == 200
    assert client.post(mine, data).status_code == 302
    details = Beneficiary.objects.get(person=world.r1)
    assert details.subsidy_group == "low_income" and details.dietary_notes == "清真"

    bad = client.post(mine, {**data, "birth_date": "1800-01-01", "dietary_notes": "不吃辣"})
    assert bad.status_code == 400 and "不吃辣" in bad.content.decode()
    details.refresh_from_db()
    assert details.dietary_notes == "清真"

    theirs = reverse("services:manage_resident", args=[world.r3.pk])
    assert client.get(theirs).status_code == 404
    assert client.post(theirs, data).status_code == 404
    assert client.get(reverse("services:manage_resident_card", args=[world.r3.pk])).status_code == 404
    assert client.post(reverse("services:manage_resident_reissue", args=[world.r3.pk])).status_code == 404
    assert not Beneficiary.objects.filter(person=world.r3).exists()


def test_grid_worker_of_another_grid_sees_nothing_of_these_residents(world, client_for):
    other = UserFactory(name="网格员钱", home_grid=world.g3)
    IdentityClaimFactory(person=other, kind="grid_worker_part", grid=world.g3, status="verified")
    client = client_for(other)

    ids = re.findall(r'data-testid="resident" data-id="(\d+)"', client.get(RESIDENTS).content.decode())
    assert str(world.r3.pk) in ids and str(world.r1.pk) not in ids
    assert client.get(reverse("services:manage_resident", args=[world.r1.pk])).status_code == 404


def test_residents_pages_are_for_grid_workers_and_staff_only(world, client_for):
    for person in (world.r1, world.a_admin):
        client = client_for(person)
        assert client.get(RESIDENTS).status_code == 403
        assert client.get(NEW).status_code == 403
        assert client.get(reverse("services:manage_resident", args=[world.r1.pk])).status_code == 403
    # An unverified grid-worker claim gives nothing either.
    hopeful = UserFactory(home_grid=world.g1)
    IdentityClaimFactory(person=hopeful, kind="grid_worker_full", grid=world.g1, status="claimed")
    assert client_for(hopeful).get(RESIDENTS).status_code == 403


def test_order_for_this_resident_opens_the_catalogue_for_them(world, client_for):
    client = client_for(world.gw)
    page = client.get(reverse("services:manage_resident", args=[world.r1.pk])).content.decode()
    link = re.search(r'href="([^"]+)" data-testid="order-for"', page).group(1).replace("&amp;", "&")
    assert link == f"{reverse('services:catalogue')}?for={world.r1.pk}"
    assert client.get(link).status_code == 200


def test_a_grid_with_no_worker_is_nobodys_list(world, client_for):
    lonely = GridFactory(community=world.c1)
    UserFactory(name="独居老人", home_grid=lonely)
    assert "独居老人" not in client_for(world.gw).get(RESIDENTS, {"q": "独居"}).content.decode()
    # Staff of the community do see them.
    assert "独居老人" in client_for(world.staff_c1).get(RESIDENTS, {"q": "独居"}).content.decode()
