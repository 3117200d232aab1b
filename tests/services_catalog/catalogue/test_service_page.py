"""A service's page /services/s/<code>/ and ordering from it (点单): what it shows, booking a session
place or requesting an on-demand service (also by a grid worker for a resident, 帮办), and every refusal
shown on the page with a 4xx while nothing changes."""

import datetime as dt

import pytest
from django.urls import reverse

from services_catalog.models import Order, Service, Session, SubsidyGroup
from tests.factories import UserFactory
from tests.services_catalog.catalogue.support import rated, session, text
from tests.services_catalog.world import beneficiary

pytestmark = pytest.mark.django_db


def page_url(service) -> str:
    return reverse("services:detail", args=[service.code])


def order_url(service) -> str:
    return reverse("services:place_order", args=[service.code])


def _refused(response, status, code):
    assert response.status_code == status, response.status_code
    html = response.content.decode()
    assert f'data-code="{code}"' in html, text(response)[:400]
    return html


def test_the_page_shows_facts_sessions_places_and_eligibility_to_anyone(world, client_for):
    Service.objects.filter(pk=world.lunch.pk).update(
        place="星兴社区长者食堂",
        hours="11:00–12:30",
        contact_phone="025-12345678",
        min_age=60,
        subsidy_groups=[SubsidyGroup.LOW_INCOME],
        price_kind=Service.Price.SUBSIDISED,
    )
    soon = session(world.lunch, days=1, capacity=10, booked=7)
    session(world.lunch, days=20)  # beyond two weeks: not listed
    session(world.lunch, days=-1)  # past: not listed
    response = client_for().get(page_url(world.lunch))
    assert response.status_code == 200
    page = text(response)
    assert "星兴社区长者食堂" in page and "025-12345678" in page and world.c1.name in page
    assert "60" in page  # the age limit in words
    assert str(SubsidyGroup.LOW_INCOME.label) in page
    assert [s.pk for s in response.context["sessions"]] == [soon.pk]
    assert 'data-left="3"' in response.content.decode()
    # Signed out: a sign-in button, no booking form.
    assert 'id="order-form"' not in response.content.decode()
    assert reverse("account_login") in response.content.decode()


@pytest.mark.parametrize("status", [Service.Status.DRAFT, Service.Status.PENDING, Service.Status.SUSPENDED])
def test_an_unpublished_service_is_a_404_even_by_direct_url_and_for_its_owner(world, client_for, status):
    Service.objects.filter(pk=world.lunch.pk).update(status=status)
    for person in (None, world.r1, world.a_admin, world.staff_s1):
        assert client_for(person).get(page_url(world.lunch)).status_code == 404
    assert client_for(world.r1).post(order_url(world.lunch), {"session": 1}).status_code == 404


def test_ratings_summary_and_recent_comments_show_masked_names(world, client_for):
    rated(world.lunch, UserFactory(name="欧阳娜娜"), world.g1, 5, "饭菜可口，阿姨很热情")
    rated(world.lunch, UserFactory(name="钱七"), world.g1, 2, "")
    rated(world.lunch, UserFactory(name="孙八"), world.g1, 4, "准时")
    response = client_for().get(page_url(world.lunch))
    html = response.content.decode()
    assert 'data-avg="3.7"' in html and 'data-count="3"' in html
    assert response.context["breakdown"] == [(5, 1), (4, 1), (3, 0), (2, 1), (1, 0)]
    page = text(response)
    assert "欧**娜" in page and "欧阳娜娜" not in page
    assert "饭菜可口" in page and "孙*" in page
    assert "钱七" not in page and "钱*" not in page  # no comment, not listed


def test_a_resident_books_a_session_place(world, client_for):
    lunch = session(world.lunch, days=1)
    response = client_for(world.r1).post(order_url(world.lunch), {"session": lunch.pk, "note": "少盐"})
    order = Order.objects.get(resident=world.r1)
    assert response.status_code == 302 and response["Location"] == reverse(
        "services:order", args=[order.code]
    )
    assert order.session == lunch and order.note == "少盐" and order.channel == Order.Channel.WEB
    assert Session.objects.get(pk=lunch.pk).booked == 1
    # Back on the service page the session says "booked" with a link to the order.
    page = client_for(world.r1).get(page_url(world.lunch)).content.decode()
    assert reverse("services:order", args=[order.code]) in page and 'data-testid="booked"' in page


def test_a_resident_requests_an_on_demand_service_with_a_note(world, client_for):
    client = client_for(world.r1)
    response = client.post(order_url(world.centre_service), {"note": "周三下午打扫厨房"})
    order = Order.objects.get(resident=world.r1)
    assert (
        response.status_code == 302
        and order.status == Order.Status.ORDERED
        and order.note == "周三下午打扫厨房"
    )
    again = client.post(order_url(world.centre_service), {"note": "再来一次"})
    _refused(again, 400, "already_requested")
    assert Order.objects.filter(resident=world.r1).count() == 1


def test_signed_out_ordering_goes_to_sign_in_and_back(world, client_for):
    lunch = session(world.lunch)
    response = client_for().post(order_url(world.lunch), {"session": lunch.pk})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "next=" in response["Location"] and world.lunch.code in response["Location"]
    assert not Order.objects.exists()


def test_get_on_the_order_route_goes_back_to_the_page(world, client_for):
    response = client_for(world.r1).get(order_url(world.lunch))
    assert response.status_code == 302 and response["Location"] == page_url(world.lunch)


def test_booking_a_full_session_is_refused_with_409(world, client_for):
    full = session(world.lunch, capacity=3, booked=3)
    response = client_for(world.r1).post(order_url(world.lunch), {"session": full.pk, "note": "留着"})
    html = _refused(response, 409, "session_full")
    assert "留着" in html  # the note typed is not lost
    assert not Order.objects.exists() and Session.objects.get(pk=full.pk).booked == 3


def test_booking_a_past_session_is_refused_with_409(world, client_for):
    past = session(world.lunch, days=-1)
    _refused(
        client_for(world.r1).post(order_url(world.lunch), {"session": past.pk}), 409, "session_not_bookable"
    )
    assert not Order.objects.exists()


def test_booking_twice_is_refused_with_409(world, client_for):
    lunch = session(world.lunch)
    client = client_for(world.r1)
    client.post(order_url(world.lunch), {"session": lunch.pk})
    _refused(client.post(order_url(world.lunch), {"session": lunch.pk}), 409, "already_booked")
    assert Order.objects.count() == 1 and Session.objects.get(pk=lunch.pk).booked == 1


def test_ordering_outside_ones_area_is_refused_with_403(world, client_for):
    lunch = session(world.lunch)
    # r3 lives in grid g3 of the other street; the page says so before they try.
    page = client_for(world.r3).get(page_url(world.lunch))
    assert (
        'data-testid="blocked"' in page.content.decode() and 'data-testid="book"' not in page.content.decode()
    )
    _refused(client_for(world.r3).post(order_url(world.lunch), {"session": lunch.pk}), 403, "outside_area")
    assert not Order.objects.exists()


def test_ordering_without_eligibility_is_refused_with_403(world, client_for):
    Service.objects.filter(pk=world.lunch.pk).update(min_age=60)
    lunch = session(world.lunch)
    beneficiary(world.r1, birth_date=dt.date.today() - dt.timedelta(days=365 * 40))
    _refused(client_for(world.r1).post(order_url(world.lunch), {"session": lunch.pk}), 403, "not_eligible")
    assert not Order.objects.exists()


def test_ordering_without_a_home_grid_is_refused_with_400(world, client_for):
    nowhere = UserFactory(home_grid=None)
    _refused(client_for(nowhere).post(order_url(world.centre_service), {"note": "x"}), 400, "no_home_grid")
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "data",
    [{"session": "abc"}, {"session": "-3"}, {"note": "长" * 301}, {"for": "zz"}],
)
def test_malformed_order_posts_get_a_400_with_a_message(world, client_for, data):
    session(world.lunch)
    response = client_for(world.r1).post(order_url(world.lunch), data)
    assert response.status_code == 400
    assert 'data-testid="error"' in response.content.decode()
    assert not Order.objects.exists()


def test_a_session_service_needs_a_session(world, client_for):
    _refused(client_for(world.r1).post(order_url(world.lunch), {"note": "x"}), 409, "session_not_bookable")


def test_a_grid_worker_books_for_a_resident_of_their_grid(world, client_for):
    lunch = session(world.lunch)
    client = client_for(world.gw)
    page = client.get(page_url(world.lunch), {"for": world.r1.pk})
    assert page.status_code == 200 and 'data-testid="proxy"' in page.content.decode()
    assert world.r1.name in text(page)
    assert f'name="for" value="{world.r1.pk}"' in page.content.decode()
    response = client.post(order_url(world.lunch), {"session": lunch.pk, "for": world.r1.pk})
    order = Order.objects.get()
    assert response.status_code == 302
    assert order.resident == world.r1 and order.placed_by == world.gw and order.channel == Order.Channel.PROXY


def test_ordering_for_someone_outside_ones_grids_is_refused_and_names_nobody(world, client_for):
    lunch = session(world.lunch)
    page = client_for(world.gw).get(page_url(world.lunch), {"for": world.r3.pk})
    assert page.status_code == 403 and world.r3.name not in text(page)
    # A plain resident cannot order for a neighbour either.
    response = client_for(world.r2).post(order_url(world.lunch), {"session": lunch.pk, "for": world.r1.pk})
    _refused(response, 403, "out_of_scope")
    assert world.r1.name not in text(response)
    assert client_for(world.gw).get(page_url(world.lunch), {"for": 99999999}).status_code == 404
    assert not Order.objects.exists()
