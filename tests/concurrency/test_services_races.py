"""Ordering-loop races on PostgreSQL with real threads: a session never takes more bookings than places,
one person books once, a confirmation pays each volunteer once, and one organisation wins a claim."""

import datetime as dt

import pytest
from django.db.models import Sum
from django.test import Client

from points.models import Account, Entry
from services_catalog import exceptions, services
from services_catalog.models import Order, OrderEvent, Session
from tests.api.support import session_token_for
from tests.concurrency.support import errors, people, run_together
from tests.services_catalog.world import build_world, delivered_order, order_for, session_of
from volunteers.models import User

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 3
CAPACITY = 20
APPLICANTS = 100


@pytest.fixture
def world():
    return build_world()


def residents(world, n: int, prefix: str) -> list[User]:
    crowd = people(n, prefix)
    User.objects.filter(pk__in=[p.pk for p in crowd]).update(home_grid=world.g1)
    return list(User.objects.filter(pk__in=[p.pk for p in crowd]).order_by("pk"))


def book(person_id: int, service_id: int, session_id: int):
    """One request's work: its own copy of the person, as a request would load it."""

    def job():
        person = User.objects.get(pk=person_id)
        return services.do_place_order(actor=person, service_id=service_id, session_id=session_id)

    return job


def api_post(token: str, path: str, body: dict):
    def job():
        response = Client().post(
            path, body, content_type="application/json", headers={"X-Session-Token": token}
        )
        return response.status_code, response.json()

    return job


def test_100_residents_race_for_20_places_and_exactly_20_get_one(world):
    crowd = residents(world, APPLICANTS, "501")
    for round_ in range(ROUNDS):
        session = session_of(world.lunch, starts_in=dt.timedelta(days=round_ + 1), capacity=CAPACITY)
        outcomes = run_together([book(person.pk, world.lunch.pk, session.pk) for person in crowd])
        refused = errors(outcomes)
        assert all(isinstance(error, exceptions.SessionFull) for error in refused), (
            f"round {round_}: {refused!r}"
        )
        assert len(refused) == APPLICANTS - CAPACITY, f"round {round_}"
        booked = [outcome.value for outcome in outcomes if outcome.error is None]
        assert len({order.resident_id for order in booked}) == CAPACITY

        # What the database holds agrees with what the callers were told.
        assert Session.objects.get(pk=session.pk).booked == CAPACITY
        rows = Order.objects.filter(session=session)
        assert rows.count() == CAPACITY
        assert set(rows.values_list("pk", flat=True)) == {order.pk for order in booked}
        assert (
            OrderEvent.objects.filter(order__session=session, kind=OrderEvent.Kind.ORDERED).count()
            == CAPACITY
        )


def test_100_bookings_through_the_api_answer_201_or_409_never_5xx(world):
    crowd = residents(world, APPLICANTS, "502")
    tokens = [session_token_for(person) for person in crowd]
    session = session_of(world.lunch, capacity=CAPACITY)
    path = f"/api/v1/services/{world.lunch.code}/order"
    outcomes = run_together([api_post(token, path, {"session": session.pk}) for token in tokens])
    assert errors(outcomes) == []
    statuses = [outcome.value[0] for outcome in outcomes]
    assert statuses.count(201) == CAPACITY
    assert statuses.count(409) == APPLICANTS - CAPACITY
    assert {body["error"]["code"] for status, body in (o.value for o in outcomes) if status == 409} == {
        "session_full"
    }
    assert (
        Session.objects.get(pk=session.pk).booked == CAPACITY == Order.objects.filter(session=session).count()
    )


def test_one_resident_booking_10_times_at_once_gets_one_order(world):
    (person,) = residents(world, 1, "503")
    for round_ in range(ROUNDS):
        session = session_of(world.lunch, starts_in=dt.timedelta(days=round_ + 1), capacity=5)
        outcomes = run_together([book(person.pk, world.lunch.pk, session.pk)] * 10, workers=10)
        refused = errors(outcomes)
        assert len(refused) == 9 and all(isinstance(e, exceptions.AlreadyBooked) for e in refused), refused
        assert Order.objects.filter(session=session, resident=person).count() == 1
        assert Session.objects.get(pk=session.pk).booked == 1

    # An on-demand request, the same: one open request, the rest refused.
    outcomes = run_together([book(person.pk, world.centre_service.pk, None)] * 10, workers=10)
    assert [getattr(e, "code", e) for e in errors(outcomes)] == ["already_requested"] * 9
    assert Order.objects.filter(service=world.centre_service, resident=person).count() == 1


def test_cancellations_and_bookings_racing_never_overbook(world):
    """Some leave while others join — and some who leave book again at once: the count of places taken
    always equals the live bookings, never beyond the places, and no request deadlocks."""
    crowd = residents(world, 60, "504")

    def cancel(order):
        return lambda: services.do_cancel_order(
            actor=User.objects.get(pk=order.resident_id), order_id=order.pk
        )

    for round_ in range(ROUNDS):
        session = session_of(world.lunch, starts_in=dt.timedelta(days=round_ + 1), capacity=CAPACITY)
        first = [
            services.do_place_order(actor=p, service_id=world.lunch.pk, session_id=session.pk)
            for p in crowd[:20]
        ]
        leaving = first[:10]
        jobs = [cancel(order) for order in leaving]
        jobs += [book(order.resident_id, world.lunch.pk, session.pk) for order in leaving]  # back at once
        jobs += [book(person.pk, world.lunch.pk, session.pk) for person in crowd[20:]]
        outcomes = run_together(jobs)
        allowed = (exceptions.SessionFull, exceptions.AlreadyBooked)
        assert all(isinstance(error, allowed) for error in errors(outcomes)), (round_, errors(outcomes))
        live = Order.objects.filter(session=session).exclude(status=Order.Status.CANCELLED)
        assert Session.objects.get(pk=session.pk).booked == live.count() == CAPACITY, round_
        assert live.values("resident").distinct().count() == live.count()


def _volunteers_world(world):
    """A delivered order with two assigned volunteers and the grid worker who delivered it."""
    order = order_for(world, world.r1)
    services.do_claim_order(actor=world.a_admin, order_id=order.pk, organisation_id=world.org_a.pk)
    services.do_assign_volunteers(
        actor=world.a_admin, order_id=order.pk, person_ids=[world.a_member.pk, world.a_admin.pk]
    )
    services.do_deliver_order(actor=world.gw, order_id=order.pk)
    return order, [world.a_member.pk, world.a_admin.pk, world.gw.pk]


def test_a_confirmation_replayed_and_raced_by_web_card_and_api_pays_each_volunteer_once(world):
    card = services.card_token(services.beneficiary_for(world.r1))
    resident_token = session_token_for(world.r1)
    member_token = session_token_for(world.a_member)
    for round_ in range(ROUNDS):
        order, paid = _volunteers_world(world)

        def web(order_id=order.pk):
            return services.do_confirm_order(
                actor=User.objects.get(pk=world.r1.pk), order_id=order_id, rating=5
            )

        def by_card(order_id=order.pk):
            actor = User.objects.get(pk=world.a_member.pk)
            return services.do_confirm_order(actor=actor, order_id=order_id, rating=4, card=card)

        path = f"/api/v1/services/orders/{order.code}/confirm"
        jobs = [web] * 3 + [by_card] * 3
        jobs += [api_post(resident_token, path, {"rating": 5})] * 2
        jobs += [api_post(member_token, path, {"rating": 4, "card": card})] * 2
        outcomes = run_together(jobs, workers=10)

        refused = errors(outcomes)
        assert all(isinstance(error, exceptions.AlreadyRated) for error in refused), refused
        answers = [outcome.value for outcome in outcomes[6:]]
        assert all(status in (200, 409) for status, _body in answers), answers
        assert all(body["error"]["code"] == "already_rated" for status, body in answers if status == 409)
        successes = (6 - len(refused)) + sum(1 for status, _body in answers if status == 200)
        assert successes == 1, f"round {round_}"

        order.refresh_from_db()
        assert order.status == Order.Status.COMPLETED and order.award == Order.Award.RELEASED
        for person_id in paid:
            assert Entry.objects.filter(key=f"order:{order.pk}:person:{person_id}").count() == 1
        assert Entry.objects.filter(source=f"order:{order.pk}").count() == len(paid)
        assert OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.CONFIRMED).count() == 1
        assert OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.AWARD_RELEASED).count() == 1

    # Balances are exactly what was posted: 10 points per volunteer per round.
    for person_id in paid:
        account = Account.objects.get(person_id=person_id, unit=Account.Unit.POINTS)
        assert account.balance == 10 * ROUNDS
        assert account.entries.aggregate(total=Sum("amount"))["total"] == 10 * ROUNDS


def test_a_confirmation_racing_the_auto_close_settles_the_order_once(world):
    for round_ in range(ROUNDS):
        order = delivered_order(world)
        late = order.delivered_at + dt.timedelta(days=30)

        def confirm(order_id=order.pk):
            return services.do_confirm_order(
                actor=User.objects.get(pk=world.r1.pk), order_id=order_id, rating=5
            )

        outcomes = run_together(
            [confirm] * 5 + [lambda late=late: services.escalate_stalled_orders(now=late)] * 5, workers=10
        )
        refused = errors(outcomes)
        assert all(isinstance(error, exceptions.AlreadyRated) for error in refused), refused
        order.refresh_from_db()
        entries = Entry.objects.filter(source=f"order:{order.pk}").count()
        closed = sum(outcome.value["closed"] for outcome in outcomes[5:])
        if order.status == Order.Status.COMPLETED:
            assert (len(refused), closed, order.award, entries) == (4, 0, Order.Award.RELEASED, 1), round_
        else:
            assert order.status == Order.Status.CLOSED, round_
            assert (len(refused), closed, order.award, entries) == (5, 1, Order.Award.HELD, 0), round_


def test_two_organisations_claiming_the_same_order_one_wins(world):
    for resident in residents(world, 5, "505"):
        order = order_for(world, resident)
        contenders = [(world.a_admin, world.org_a), (world.b_admin, world.org_b)] * 3

        def claim(person, organisation, order=order):
            def job():
                actor = User.objects.get(pk=person.pk)
                return services.do_claim_order(
                    actor=actor, order_id=order.pk, organisation_id=organisation.pk
                )

            return job

        outcomes = run_together([claim(person, org) for person, org in contenders], workers=6)
        order.refresh_from_db()
        assert order.status == Order.Status.ACCEPTED and order.organisation_id in (
            world.org_a.pk,
            world.org_b.pk,
        )
        for (_person, organisation), outcome in zip(contenders, outcomes, strict=True):
            if organisation.pk == order.organisation_id:
                # The winner's own repeats: the first succeeded, a repeat finds it accepted (wrong_stage).
                assert outcome.error is None or outcome.error.code == "wrong_stage", outcome.error
            else:
                assert isinstance(outcome.error, exceptions.TakenByAnother), outcome.error
        assert sum(1 for outcome in outcomes if outcome.error is None) == 1
        assert OrderEvent.objects.filter(order=order, kind=OrderEvent.Kind.CLAIMED).count() == 1
