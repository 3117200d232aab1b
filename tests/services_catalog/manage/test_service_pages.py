"""An organisation's services on the workbench: create with every field, photos (bad files refused with
a message and nothing lost), send for review; staff of the street publish, send back, suspend."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from services_catalog import services
from services_catalog.models import Service, ServiceEvent, ServicePhoto
from tests.services_catalog.factories import category
from tests.services_catalog.manage.conftest import text

pytestmark = pytest.mark.django_db

NEW = reverse("services:manage_service_new")


def jpeg(name="lunch.jpg", size=(40, 30)) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(out, format="JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def service_data(world, **overrides) -> dict:
    data = {
        "title": "星兴社区长者午餐",
        "category": category("elder_dining").pk,
        "organisation": world.org_a.pk,
        "description": "两荤一素一汤，少油少盐。",
        "place": "星兴社区党群服务中心一楼",
        "latitude": "32.091500",
        "longitude": "118.626200",
        "hours": "工作日 11:00–12:30",
        "contact_phone": "025-58811234",
        "area_communities": [world.c1.pk],
        "price_kind": "subsidised",
        "price": "8.00",
        "price_note": "低保老人免费",
        "min_age": "60",
        "max_age": "",
        "subsidy_groups": ["low_income", "living_alone"],
        "mode": "sessions",
        "weekdays": ["0", "2", "4"],
        "session_start": "11:00",
        "session_end": "12:30",
        "session_capacity": "30",
        "points_per_delivery": "5",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_admin_creates_a_session_service_with_every_field_and_a_photo(world, client_for):
    client = client_for(world.a_admin)
    assert client.get(NEW, {"org": world.org_a.pk}).status_code == 200

    response = client.post(NEW, {**service_data(world), "photos": [jpeg(), jpeg("b.jpg")]})

    assert response.status_code == 302, text(response)
    service = Service.objects.get(title="星兴社区长者午餐")
    assert response["Location"] == reverse("services:manage_service", args=[service.code])
    assert service.status == Service.Status.DRAFT and service.street == world.s1
    assert service.organisation == world.org_a and service.created_by == world.a_admin
    assert [c.pk for c in service.area_communities.all()] == [world.c1.pk]
    assert service.weekdays == [0, 2, 4] and service.session_capacity == 30
    assert service.subsidy_groups == ["low_income", "living_alone"] and service.min_age == 60
    assert str(service.price) == "8.00" and service.points_per_delivery == 5
    assert str(service.latitude) == "32.091500"
    assert service.photos.count() == 2
    page = client.get(response["Location"])
    assert page.status_code == 200 and 'data-testid="submit-review"' in page.content.decode()


def test_a_file_that_is_not_an_image_is_refused_and_the_form_keeps_what_was_typed(world, client_for):
    fake = SimpleUploadedFile("menu.jpg", b"%PDF-1.4 not a picture", content_type="image/jpeg")

    response = client_for(world.a_admin).post(NEW, {**service_data(world), "photos": [fake]})

    assert response.status_code == 400
    page = response.content.decode()
    assert "menu.jpg" in page and ("JPEG" in page)
    assert 'value="星兴社区长者午餐"' in page and "两荤一素一汤" in page
    assert not Service.objects.filter(title="星兴社区长者午餐").exists()


@pytest.mark.parametrize(
    ("overrides", "field_message"),
    [
        ({"session_end": "10:00"}, "A session must end after it starts."),
        ({"weekdays": []}, "Tick the weekdays the sessions take place."),
        ({"min_age": "70", "max_age": "60"}, "The maximum age is below the minimum age."),
        ({"price": ""}, "Enter what the resident pays, in yuan."),
        ({"price_kind": "free", "price": "5"}, "A free service has no price"),
        ({"longitude": ""}, "Give both latitude and longitude, or neither."),
        ({"area_communities": [], "area_grids": []}, "Choose at least one street, community or grid"),
        ({"contact_phone": "call me"}, "Enter a telephone number"),
        ({"points_per_delivery": "5000"}, "Enter a number from 0 to 1000."),
        ({"title": ""}, "This field is required."),
        ({"category": "999999"}, "Select a valid choice"),
    ],
)
def test_bad_input_is_a_400_with_the_reason_and_nothing_saved(world, client_for, overrides, field_message):
    response = client_for(world.a_admin).post(
        NEW, service_data(world, **overrides), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 400
    assert field_message in text(response)
    assert not Service.objects.filter(title="星兴社区长者午餐").exists()


def test_area_outside_the_organisations_street_is_refused(world, client_for):
    client = client_for(world.a_admin)
    response = client.post(NEW, service_data(world, area_communities=[world.c3.pk]))
    # Community c3 (street s2) is not even offered to org A, whose street is s1.
    assert response.status_code == 400
    offered = re.findall(r'name="area_communities" value="(\d+)"', response.content.decode())
    assert str(world.c1.pk) in offered and str(world.c3.pk) not in offered
    assert not Service.objects.filter(title="星兴社区长者午餐").exists()


def test_admin_cannot_offer_a_service_for_another_organisation(world, client_for):
    response = client_for(world.a_admin).post(NEW, service_data(world, organisation=world.org_b.pk))
    assert response.status_code == 400
    assert not Service.objects.filter(title="星兴社区长者午餐").exists()


def test_members_and_residents_cannot_create_services(world, client_for):
    assert client_for(world.a_member).get(NEW).status_code == 403
    assert client_for(world.r1).post(NEW, service_data(world)).status_code == 403


def test_submit_review_and_publish(world, client_for):
    admin = client_for(world.a_admin)
    admin.post(NEW, service_data(world))
    service = Service.objects.get(title="星兴社区长者午餐")
    page = reverse("services:manage_service", args=[service.code])

    submitted = admin.post(reverse("services:manage_service_submit", args=[service.code]))
    assert submitted.status_code == 302
    service.refresh_from_db()
    assert service.status == Service.Status.PENDING
    again = admin.post(reverse("services:manage_service_submit", args=[service.code]))
    assert again.status_code == 400  # only a draft can be sent

    staff = client_for(world.staff_s1)
    listed = staff.get(reverse("services:manage_review"))
    assert service.code in listed.content.decode()
    review = reverse("services:manage_service_review", args=[service.code])
    refused = staff.post(review, {"decision": "reject", "reason": " "})
    assert refused.status_code == 400 and 'data-testid="review-error"' in refused.content.decode()
    service.refresh_from_db()
    assert service.status == Service.Status.PENDING

    sent_back = staff.post(review, {"decision": "reject", "reason": "请补充价格说明"})
    assert sent_back.status_code == 302
    service.refresh_from_db()
    assert service.status == Service.Status.DRAFT
    assert "请补充价格说明" in admin.get(page).content.decode()

    admin.post(reverse("services:manage_service_submit", args=[service.code]))
    assert staff.post(review, {"decision": "publish"}).status_code == 302
    service.refresh_from_db()
    assert service.status == Service.Status.PUBLISHED
    assert service.sessions.exists()  # published session services get their sessions

    assert staff.post(review, {"decision": "suspend", "reason": "食品安全检查"}).status_code == 302
    service.refresh_from_db()
    assert service.status == Service.Status.SUSPENDED
    assert list(service.events.values_list("status", flat=True)) == [
        "pending",
        "draft",
        "pending",
        "published",
        "suspended",
    ]


def test_staff_of_another_street_cannot_review(world, client_for):
    service = services.do_save_service(
        actor=world.a_admin,
        organisation=world.org_a,
        title="助老理发",
        category=category("home_help"),
        area_communities=[world.c1],
    )
    services.do_submit_service(actor=world.a_admin, service_id=service.pk)
    other = client_for(world.staff_c3)

    assert service.code not in other.get(reverse("services:manage_review")).content.decode()
    assert other.get(reverse("services:manage_service", args=[service.code])).status_code == 404
    refused = other.post(
        reverse("services:manage_service_review", args=[service.code]), {"decision": "publish"}
    )
    assert refused.status_code == 404
    service.refresh_from_db()
    assert service.status == Service.Status.PENDING
    # The organisation's own administrator may not publish it either.
    own = client_for(world.a_admin).post(
        reverse("services:manage_service_review", args=[service.code]), {"decision": "publish"}
    )
    assert own.status_code == 403
    service.refresh_from_db()
    assert service.status == Service.Status.PENDING


def test_editing_a_published_service_sends_it_back_for_review(world, client_for):
    service = world.lunch
    service.organisation = world.org_a
    client = client_for(world.a_admin)
    page = reverse("services:manage_service", args=[service.code])
    assert client.get(page).status_code == 200

    response = client.post(page, service_data(world, title="星兴午餐（新菜单）"))

    assert response.status_code == 302, text(response)
    service.refresh_from_db()
    assert service.title == "星兴午餐（新菜单）" and service.status == Service.Status.PENDING
    assert ServiceEvent.objects.filter(service=service, status="pending").exists()


def test_other_organisation_cannot_see_or_edit_the_service(world, client_for):
    page = reverse("services:manage_service", args=[world.lunch.code])
    other = client_for(world.b_admin)

    assert other.get(page).status_code == 404
    assert other.post(page, service_data(world, organisation=world.org_b.pk)).status_code == 404
    world.lunch.refresh_from_db()
    assert world.lunch.title == "星兴助餐点午餐"


def test_member_sees_the_service_read_only(world, client_for):
    page = reverse("services:manage_service", args=[world.lunch.code])
    member = client_for(world.a_member)

    shown = member.get(page)
    assert shown.status_code == 200 and 'data-testid="save"' not in shown.content.decode()
    assert member.post(page, service_data(world, title="改名")).status_code == 403
    world.lunch.refresh_from_db()
    assert world.lunch.title == "星兴助餐点午餐"


def test_photos_are_limited_and_removable(world, client_for):
    client = client_for(world.a_admin)
    client.post(NEW, {**service_data(world), "photos": [jpeg(f"{i}.jpg") for i in range(5)]})
    service = Service.objects.get(title="星兴社区长者午餐")
    page = reverse("services:manage_service", args=[service.code])

    too_many = client.post(page, {**service_data(world), "photos": [jpeg("x.jpg"), jpeg("y.jpg")]})
    assert too_many.status_code == 422
    assert service.photos.count() == 5

    photo = service.photos.first()
    removed = client.post(reverse("services:manage_service_photo_remove", args=[service.code, photo.pk]))
    assert removed.status_code == 302
    assert not ServicePhoto.objects.filter(pk=photo.pk).exists()
    again = client.post(reverse("services:manage_service_photo_remove", args=[service.code, photo.pk]))
    assert again.status_code == 404
    other = client_for(world.b_admin).post(
        reverse("services:manage_service_photo_remove", args=[service.code, service.photos.first().pk])
    )
    assert other.status_code == 404 and service.photos.count() == 4


def test_photo_metadata_is_stripped(world, client_for):
    out = io.BytesIO()
    image = Image.new("RGB", (20, 20))
    exif = image.getexif()
    exif[0x010F] = "PhoneMaker"  # Make
    image.save(out, format="JPEG", exif=exif)
    upload = SimpleUploadedFile("gps.jpg", out.getvalue(), content_type="image/jpeg")

    client_for(world.a_admin).post(NEW, {**service_data(world), "photos": [upload]})

    stored = Service.objects.get(title="星兴社区长者午餐").photos.get()
    with stored.image.open("rb") as f, Image.open(f) as saved:
        assert not saved.getexif()


def test_street_staff_create_a_centre_service_for_their_street(world, client_for):
    client = client_for(world.staff_s1)
    data = service_data(
        world,
        organisation="",
        street=world.s1.pk,
        mode="on_demand",
        area_communities=[world.c1.pk, world.c2.pk],
    )

    response = client.post(NEW, data)

    assert response.status_code == 302, text(response)
    service = Service.objects.get(title="星兴社区长者午餐")
    assert service.organisation is None and service.street == world.s1
    assert service.weekdays == [] and service.session_start is None  # on request: no timetable kept
    assert service.code in client.get(reverse("services:manage_services")).content.decode()
    other_street = client.post(NEW, service_data(world, organisation="", street=world.s2.pk, title="外街"))
    assert other_street.status_code == 400


def test_staff_find_published_services_of_their_area_to_suspend(world, client_for):
    staff = client_for(world.staff_s1)
    review = reverse("services:manage_review")

    published = staff.get(review, {"status": "published"}).content.decode()
    assert world.lunch.code in published and world.centre_service.code in published
    assert world.lunch.code not in staff.get(review).content.decode()  # pending by default
    assert staff.get(review, {"status": "nonsense"}).status_code == 200
    assert (
        world.lunch.code
        not in client_for(world.staff_c3).get(review, {"status": "published"}).content.decode()
    )


def test_review_page_keeps_the_sites_tab_bar(world, client_for):
    html = client_for(world.staff_s1).get(reverse("services:manage_review")).content.decode()
    tabbar = html[html.index('<nav class="tabbar"') :].split("</nav>", 1)[0]
    assert 'href="/"' in tabbar and "?status=" not in tabbar
