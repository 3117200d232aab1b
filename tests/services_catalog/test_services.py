"""The ordering loop's services: the whole loop, and every refusal of the issue's "bad input" list raising
its stable code while changing nothing."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from core.exceptions import GongzhiError
from core.models import Notification
from points.models import Account, Entry
from services_catalog import services
from services_catalog.models import Order, OrderEvent, OrderRules, Service, Session, SubsidyGroup
from tests.factories import UserFactory
from tests.services_catalog.factories import SessionServiceFactory
from tests.services_catalog.world import beneficiary, build_world, delivered_order, order_for, session_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def _kinds(order) -> list[str]:
    return list(OrderEvent.objects.filter(order=order).values_list("kind", flat=True))


def _entries(order):
    return Entry.objects.filter(key__startswith=f"order:{order.pk}:")


def _refused(code: str, call, *args, **kwargs) -> GongzhiError:
    with pytest.raises(GongzhiError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value.code
    assert 400 <= caught.value.status < 500
    return caught.value


def _snapshot(order: Order) -> dict:
    """What a refused step must leave as it was."""
    order.refresh_from_db()
    return {
        "status": order.status,
        "organisation": order.organisation_id,
        "rating": order.rating,
        "award": order.award,
        "attempts": order.sms_code_attempts,
        "events": _kinds(order),
        "entries": _entries(order).count(),
        "booked": Session.objects.get(pk=order.session_id).booked if order.session_id else None,
    }


# --- the whole loop ----------------------------------------------------------------------------------------
def test_whole_loop_order_dispatch_accept_assign_check_in_deliver_confirm(world):
    order = order_for(world, world.r1)
    assert order.status == Order.Status.ORDERED and order.channel == Order.Channel.WEB
    assert order.grid == world.g1 and order.organisation is None

    services.do_dispatch_order(actor=world.staff_c1, order_id=order.pk, organisation_id=world.org_a.pk)
    services.do_accept_order(actor=world.a_admin, order_id=order.pk)
    services.do_assign_volunteers(actor=world.a_admin, order_id=order.pk, person_ids=[world.a_member.pk])
    card = services.card_token(services.beneficiary_for(world.r1))
    services.do_check_in_at_door(actor=world.a_member, order_id=order.pk, token=card)
    services.do_deliver_order(actor=world.a_member, order_id=order.pk, note="已送达")
    services.do_confirm_order(actor=world.r1, order_id=order.pk, rating=5, comment="很好  很及时")

    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    assert (order.rating, order.comment, order.confirmed_via) == (5, "很好 很及时", Order.ConfirmedVia.WEB)
    assert order.organisation == world.org_a and order.delivered_by == world.a_member
    assert order.checked_in_at is not None and order.finished_at is not None
    assert order.award == Order.Award.RELEASED
    assert _kinds(order) == [
        OrderEvent.Kind.ORDERED,
        OrderEvent.Kind.DISPATCHED,
        OrderEvent.Kind.ACCEPTED,
        OrderEvent.Kind.ASSIGNED,
        OrderEvent.Kind.CHECKED_IN,
        OrderEvent.Kind.DELIVERED,
        OrderEvent.Kind.CONFIRMED,
        OrderEvent.Kind.AWARD_RELEASED,
    ]
    # Every step names who took it.
    actors = dict(OrderEvent.objects.filter(order=order).values_list("kind", "actor"))
    assert actors[OrderEvent.Kind.DISPATCHED] == world.staff_c1.pk
    assert actors[OrderEvent.Kind.DELIVERED] == world.a_member.pk
    # The assigned volunteer who delivered is paid once, through the ledger.
    (entry,) = _entries(order)
    assert entry.key == f"order:{order.pk}:person:{world.a_member.pk}"
    assert entry.amount == 10 and entry.account.person == world.a_member
    assert Account.objects.get(person=world.a_member).balance == 10
    # The resident heard of each step that concerns them.
    resident_titles = set(Notification.objects.filter(recipient=world.r1).values_list("key", flat=True))
    for key in ("order-placed", "order-accepted", "order-delivered"):
        assert f"{key}:{order.pk}:{world.r1.pk}" in resident_titles


def test_booking_a_session_goes_straight_to_the_organisation_and_takes_a_place(world):
    session = session_of(world.lunch, capacity=3)
    order = order_for(world, world.r1, service=world.lunch, session=session)
    assert order.status == Order.Status.DISPATCHED and order.organisation == world.org_a
    assert Session.objects.get(pk=session.pk).booked == 1
    assert _kinds(order) == [OrderEvent.Kind.ORDERED, OrderEvent.Kind.DISPATCHED]
    assert Notification.objects.filter(key=f"order-new:{order.pk}:{world.a_admin.pk}").exists()


def test_a_grid_worker_orders_for_a_resident_of_their_grid(world):
    order = services.do_place_order(
        actor=world.gw, service_id=world.centre_service.pk, resident=world.r2, note="老人行动不便"
    )
    assert order.resident == world.r2 and order.placed_by == world.gw
    assert order.channel == Order.Channel.PROXY
    # …and only for residents of their grid.
    _refused(
        "out_of_scope",
        services.do_place_order,
        actor=world.gw,
        service_id=world.centre_service.pk,
        resident=world.r4,
    )
    assert not Order.objects.filter(resident=world.r4).exists()


# --- bad input: ordering -------------------------------------------------------------------------------
def test_booking_a_full_session_is_refused_and_changes_nothing(world):
    session = session_of(world.lunch, capacity=1)
    order_for(world, world.r1, service=world.lunch, session=session)
    _refused("session_full", order_for, world, world.r2, service=world.lunch, session=session)
    assert Order.objects.filter(session=session).count() == 1
    assert Session.objects.get(pk=session.pk).booked == 1


@pytest.mark.parametrize("starts_in", [dt.timedelta(hours=-2), dt.timedelta(seconds=-1)])
def test_booking_a_past_session_is_refused(world, starts_in):
    session = session_of(world.lunch, starts_in=starts_in)
    _refused("session_not_bookable", order_for, world, world.r1, service=world.lunch, session=session)
    assert not Order.objects.exists() and Session.objects.get(pk=session.pk).booked == 0


def test_booking_a_cancelled_or_another_services_session_is_refused(world):
    cancelled = session_of(world.lunch)
    services.do_cancel_session(actor=world.a_admin, session_id=cancelled.pk, reason="厨师请假")
    _refused("session_not_bookable", order_for, world, world.r1, service=world.lunch, session=cancelled)
    other = session_of(
        SessionServiceFactory(street=world.s1, organisation=world.org_a, area_communities=[world.c1])
    )
    _refused("session_not_bookable", order_for, world, world.r1, service=world.lunch, session=other)
    _refused(
        "session_not_bookable",
        services.do_place_order,
        actor=world.r1,
        service_id=world.lunch.pk,
        session_id=None,
    )
    assert not Order.objects.exists()


def test_booking_twice_is_refused(world):
    session = session_of(world.lunch)
    order_for(world, world.r1, service=world.lunch, session=session)
    _refused("already_booked", order_for, world, world.r1, service=world.lunch, session=session)
    order_for(world, world.r1)
    _refused("already_requested", order_for, world, world.r1)
    assert Order.objects.filter(resident=world.r1).count() == 2
    assert Session.objects.get(pk=session.pk).booked == 1


def test_ordering_outside_ones_area_or_without_a_home_grid_is_refused(world):
    session = session_of(world.lunch)
    _refused("outside_area", order_for, world, world.r3)  # street s2; the service serves s1
    _refused("outside_area", order_for, world, world.r4, service=world.lunch, session=session)  # c2
    _refused("no_home_grid", order_for, world, UserFactory(home_grid=None))
    assert not Order.objects.exists() and Session.objects.get(pk=session.pk).booked == 0


def test_unpublished_services_cannot_be_ordered(world):
    for status in (Service.Status.DRAFT, Service.Status.PENDING, Service.Status.SUSPENDED):
        Service.objects.filter(pk=world.centre_service.pk).update(status=status)
        _refused("service_not_found", order_for, world, world.r1)
    assert not Order.objects.exists()


def test_ordering_without_eligibility_is_refused(world):
    today = timezone.localdate()
    Service.objects.filter(pk=world.centre_service.pk).update(min_age=60)
    _refused("not_eligible", order_for, world, world.r1)  # no date of birth recorded
    beneficiary(world.r1, birth_date=today.replace(year=today.year - 40))
    _refused("not_eligible", order_for, world, world.r1)
    beneficiary(world.r2, birth_date=today.replace(year=today.year - 70))
    assert order_for(world, world.r2).status == Order.Status.ORDERED

    Service.objects.filter(pk=world.centre_service.pk).update(
        min_age=None, subsidy_groups=[SubsidyGroup.LOW_INCOME]
    )
    _refused("not_eligible", order_for, world, world.r1)
    beneficiary(world.r1, subsidy_group=SubsidyGroup.LOW_INCOME)
    assert order_for(world, world.r1).status == Order.Status.ORDERED
    assert Order.objects.count() == 2


# --- bad input: the organisations' steps ---------------------------------------------------------------
def test_accepting_an_order_taken_by_another_organisation_is_refused(world):
    order = order_for(world, world.r1)
    services.do_dispatch_order(actor=world.staff_c1, order_id=order.pk, organisation_id=world.org_a.pk)
    before = _snapshot(order)
    _refused("taken_by_another", services.do_accept_order, actor=world.b_admin, order_id=order.pk)
    _refused(
        "taken_by_another",
        services.do_claim_order,
        actor=world.b_admin,
        order_id=order.pk,
        organisation_id=world.org_b.pk,
    )
    # A member (not an administrator) of the organisation cannot accept either.
    _refused("not_org_admin", services.do_accept_order, actor=world.a_member, order_id=order.pk)
    assert _snapshot(order) == before


def test_claiming_an_order_another_organisation_claimed_first_is_refused(world):
    order = order_for(world, world.r1)
    services.do_claim_order(actor=world.a_admin, order_id=order.pk, organisation_id=world.org_a.pk)
    before = _snapshot(order)
    _refused(
        "taken_by_another",
        services.do_claim_order,
        actor=world.b_admin,
        order_id=order.pk,
        organisation_id=world.org_b.pk,
    )
    assert _snapshot(order) == before
    assert before["status"] == Order.Status.ACCEPTED and before["organisation"] == world.org_a.pk


def test_an_organisation_cannot_claim_outside_its_area_or_for_another_organisation(world):
    order = order_for(world, world.r4)  # grid g2 in community c2: org A serves only c1
    _refused(
        "out_of_scope",
        services.do_claim_order,
        actor=world.a_admin,
        order_id=order.pk,
        organisation_id=world.org_a.pk,
    )
    _refused(
        "not_org_admin",
        services.do_claim_order,
        actor=world.a_admin,
        order_id=order.pk,
        organisation_id=world.org_b.pk,
    )
    order.refresh_from_db()
    assert order.status == Order.Status.ORDERED and order.organisation is None


def test_decline_returns_the_order_to_the_pool_and_the_decliner_cannot_claim_it(world):
    order = order_for(world, world.r1)
    services.do_dispatch_order(actor=world.staff_c1, order_id=order.pk, organisation_id=world.org_a.pk)
    _refused(
        "reason_required", services.do_decline_order, actor=world.a_admin, order_id=order.pk, reason="  "
    )
    services.do_decline_order(actor=world.a_admin, order_id=order.pk, reason="人手不足")

    order.refresh_from_db()
    assert order.status == Order.Status.ORDERED and order.organisation is None
    declined = OrderEvent.objects.get(order=order, kind=OrderEvent.Kind.DECLINED)
    assert declined.organisation == world.org_a and declined.note == "人手不足"
    assert Notification.objects.filter(key__startswith=f"order-declined:{order.pk}:").exists()

    _refused(
        "wrong_stage",
        services.do_claim_order,
        actor=world.a_admin,
        order_id=order.pk,
        organisation_id=world.org_a.pk,
    )
    assert Order.objects.get(pk=order.pk).status == Order.Status.ORDERED
    services.do_claim_order(actor=world.b_admin, order_id=order.pk, organisation_id=world.org_b.pk)
    order.refresh_from_db()
    assert order.status == Order.Status.ACCEPTED and order.organisation == world.org_b


def test_staff_of_another_community_cannot_dispatch(world):
    order = order_for(world, world.r1)
    _refused(
        "out_of_scope",
        services.do_dispatch_order,
        actor=world.staff_c3,
        order_id=order.pk,
        organisation_id=world.org_a.pk,
    )
    assert Order.objects.get(pk=order.pk).status == Order.Status.ORDERED


def test_only_active_members_can_be_assigned(world):
    order = order_for(world, world.r1)
    services.do_claim_order(actor=world.a_admin, order_id=order.pk, organisation_id=world.org_a.pk)
    _refused(
        "not_a_member",
        services.do_assign_volunteers,
        actor=world.a_admin,
        order_id=order.pk,
        person_ids=[world.a_member.pk, world.b_admin.pk],
    )
    assert not order.assignments.exists()


def test_delivery_by_someone_outside_the_order_is_refused(world):
    order = order_for(world, world.r1)
    services.do_claim_order(actor=world.a_admin, order_id=order.pk, organisation_id=world.org_a.pk)
    _refused("out_of_scope", services.do_deliver_order, actor=world.b_admin, order_id=order.pk)
    _refused("out_of_scope", services.do_deliver_order, actor=world.r2, order_id=order.pk)
    assert Order.objects.get(pk=order.pk).status == Order.Status.ACCEPTED
    # The grid's grid worker may deliver (上菜) though not a member.
    services.do_deliver_order(actor=world.gw, order_id=order.pk)
    assert Order.objects.get(pk=order.pk).status == Order.Status.DELIVERED


# --- bad input: confirming and rating ----------------------------------------------------------------------
def test_rating_before_delivery_is_refused(world):
    order = order_for(world, world.r1)
    services.do_claim_order(actor=world.a_admin, order_id=order.pk, organisation_id=world.org_a.pk)
    before = _snapshot(order)
    _refused("not_delivered", services.do_confirm_order, actor=world.r1, order_id=order.pk, rating=5)
    assert _snapshot(order) == before


def test_rating_twice_is_refused_and_the_points_are_posted_once(world):
    order = delivered_order(world)
    services.do_confirm_order(actor=world.r1, order_id=order.pk, rating=4, comment="好")
    before = _snapshot(order)
    _refused("already_rated", services.do_confirm_order, actor=world.r1, order_id=order.pk, rating=1)
    card = services.card_token(services.beneficiary_for(world.r1))
    _refused(
        "already_rated",
        services.do_confirm_order,
        actor=world.a_member,
        order_id=order.pk,
        rating=2,
        card=card,
    )
    assert _snapshot(order) == before
    assert before["rating"] == 4 and before["entries"] == 1
    assert Account.objects.get(person=world.a_member).balance == 10


@pytest.mark.parametrize("rating", [0, 6, -1, True, "5", 4.5, None])
def test_a_rating_outside_1_to_5_is_refused(world, rating):
    order = delivered_order(world)
    before = _snapshot(order)
    _refused("bad_rating", services.do_confirm_order, actor=world.r1, order_id=order.pk, rating=rating)
    assert _snapshot(order) == before


def test_only_the_resident_confirms_online(world):
    order = delivered_order(world)
    before = _snapshot(order)
    for someone in (world.a_member, world.gw, world.r2, world.staff_c1):
        _refused("not_resident", services.do_confirm_order, actor=someone, order_id=order.pk, rating=5)
    assert _snapshot(order) == before


def test_a_forged_or_void_or_someone_elses_card_is_refused(world):
    order = delivered_order(world)
    before = _snapshot(order)
    good = services.card_token(services.beneficiary_for(world.r1))
    forged = [
        "forged",
        good[:-3] + "abc",
        good.replace(":", "x", 1),
        f"https://example.org/services/card/{good}x/",
        "https://example.org/elsewhere/" + good,
    ]
    for card in forged:
        _refused(
            "invalid_card",
            services.do_confirm_order,
            actor=world.a_member,
            order_id=order.pk,
            rating=5,
            card=card,
        )
    someone_else = services.card_token(services.beneficiary_for(world.r2))
    _refused(
        "invalid_card",
        services.do_confirm_order,
        actor=world.a_member,
        order_id=order.pk,
        rating=5,
        card=someone_else,
    )
    services.do_reissue_card(actor=world.gw, person=world.r1)  # the old card is lost: void now
    _refused(
        "invalid_card",
        services.do_confirm_order,
        actor=world.a_member,
        order_id=order.pk,
        rating=5,
        card=good,
    )
    assert _snapshot(order) == before

    # The new card works, on the phone of someone who may deliver.
    new = services.card_token(services.beneficiary_for(world.r1))
    _refused("out_of_scope", services.do_confirm_order, actor=world.r2, order_id=order.pk, rating=5, card=new)
    services.do_confirm_order(actor=world.a_member, order_id=order.pk, rating=5, card=new)
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED and order.confirmed_via == Order.ConfirmedVia.CARD


def _sms_code(order, resident) -> str:
    body = Notification.objects.get(key=f"order-delivered:{order.pk}:{resident.pk}").body
    return re.search(r"\b(\d{6})\b", body).group(1)


def test_a_wrong_sms_code_is_refused_and_attempts_are_limited(world):
    order = delivered_order(world)
    code = _sms_code(order, world.r1)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for attempt in range(1, services.SMS_CODE_MAX_ATTEMPTS + 1):
        _refused(
            "wrong_code",
            services.do_confirm_order,
            actor=world.a_member,
            order_id=order.pk,
            rating=5,
            sms_code=wrong,
        )
        order.refresh_from_db()
        assert order.sms_code_attempts == attempt  # kept although the step was refused
    # Out of attempts: even the right code is refused now, and counting stops.
    _refused(
        "wrong_code",
        services.do_confirm_order,
        actor=world.a_member,
        order_id=order.pk,
        rating=5,
        sms_code=code,
    )
    order.refresh_from_db()
    assert (
        order.status == Order.Status.DELIVERED and order.sms_code_attempts == services.SMS_CODE_MAX_ATTEMPTS
    )
    assert not _entries(order).exists()
    # The card still works.
    card = services.card_token(services.beneficiary_for(world.r1))
    services.do_confirm_order(actor=world.a_member, order_id=order.pk, rating=5, card=card)
    assert Order.objects.get(pk=order.pk).status == Order.Status.COMPLETED


def test_the_right_sms_code_confirms_on_the_deliverers_phone(world):
    order = delivered_order(world)
    code = _sms_code(order, world.r1)
    _refused(
        "out_of_scope", services.do_confirm_order, actor=world.r2, order_id=order.pk, rating=5, sms_code=code
    )
    services.do_confirm_order(
        actor=world.a_member, order_id=order.pk, rating=4, sms_code=f" {code[:3]} {code[3:]}"
    )
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED and order.confirmed_via == Order.ConfirmedVia.SMS
    assert order.sms_code_hash == ""  # used up
    assert _entries(order).count() == 1


# --- cancelling -------------------------------------------------------------------------------------------
def test_cancelling_frees_the_place_for_someone_else(world):
    session = session_of(world.lunch, capacity=1)
    first = order_for(world, world.r1, service=world.lunch, session=session)
    _refused("session_full", order_for, world, world.r2, service=world.lunch, session=session)

    services.do_cancel_order(actor=world.r1, order_id=first.pk, reason="临时有事")
    assert Session.objects.get(pk=session.pk).booked == 0
    first.refresh_from_db()
    assert first.status == Order.Status.CANCELLED and first.finished_at is not None
    # A second cancel changes nothing (the place is not freed twice).
    services.do_cancel_order(actor=world.r1, order_id=first.pk)
    assert Session.objects.get(pk=session.pk).booked == 0

    order_for(world, world.r2, service=world.lunch, session=session)
    assert Session.objects.get(pk=session.pk).booked == 1
    # The cancelled booking does not count as one (not already_booked): the session is simply full again.
    _refused("session_full", order_for, world, world.r1, service=world.lunch, session=session)


def test_cancelling_after_acceptance_or_by_a_stranger_is_refused(world):
    order = order_for(world, world.r1)
    _refused("out_of_scope", services.do_cancel_order, actor=world.r2, order_id=order.pk)
    _refused("out_of_scope", services.do_cancel_order, actor=world.staff_c3, order_id=order.pk)
    services.do_claim_order(actor=world.a_admin, order_id=order.pk, organisation_id=world.org_a.pk)
    before = _snapshot(order)
    _refused("wrong_stage", services.do_cancel_order, actor=world.r1, order_id=order.pk)
    assert _snapshot(order) == before


def test_the_grid_worker_who_ordered_and_staff_may_cancel(world):
    by_proxy = services.do_place_order(actor=world.gw, service_id=world.centre_service.pk, resident=world.r2)
    services.do_cancel_order(actor=world.gw, order_id=by_proxy.pk)
    own = order_for(world, world.r1)
    services.do_cancel_order(actor=world.staff_c1, order_id=own.pk, reason="重复下单")
    assert set(Order.objects.values_list("status", flat=True)) == {Order.Status.CANCELLED}


# --- deadlines ---------------------------------------------------------------------------------------------
def _rules(**fields) -> OrderRules:
    rules = OrderRules.load()
    for name, value in fields.items():
        setattr(rules, name, value)
    rules.save()
    return rules


def test_a_stalled_order_is_reminded_after_its_deadline_and_escalated_after_twice_that(world):
    _rules(dispatch_hours=24)
    order = order_for(world, world.r1)
    started = order.stage_started_at

    def run(hours):
        return services.escalate_stalled_orders(now=started + dt.timedelta(hours=hours))

    assert run(23) == {"reminded": 0, "escalated": 0, "closed": 0}
    assert run(25) == {"reminded": 1, "escalated": 0, "closed": 0}
    assert run(30) == {"reminded": 0, "escalated": 0, "closed": 0}  # reminded once
    reminder_keys = set(
        Notification.objects.filter(key__startswith=f"order-remind:{order.pk}:").values_list(
            "recipient", flat=True
        )
    )
    # Waiting for dispatch: the community's and the street's staff are the ones to act.
    assert reminder_keys == {world.staff_c1.pk, world.staff_s1.pk}
    assert run(49) == {"reminded": 0, "escalated": 1, "closed": 0}
    assert run(100) == {"reminded": 0, "escalated": 0, "closed": 0}
    assert _kinds(order).count(OrderEvent.Kind.REMINDED) == 1
    assert _kinds(order).count(OrderEvent.Kind.ESCALATED) == 1
    assert Notification.objects.filter(key__startswith=f"order-escalate:{order.pk}:").count() == 2


def test_a_dispatched_order_reminds_the_organisation_and_a_new_stage_starts_a_new_clock(world):
    _rules(accept_hours=10)
    order = order_for(world, world.r1)
    services.do_dispatch_order(actor=world.staff_c1, order_id=order.pk, organisation_id=world.org_a.pk)
    order.refresh_from_db()
    started = order.stage_started_at
    services.escalate_stalled_orders(now=started + dt.timedelta(hours=11))
    assert Notification.objects.filter(
        key__startswith=f"order-remind:{order.pk}:dispatched:"
    ).get().recipient == (world.a_admin)
    services.do_accept_order(actor=world.a_admin, order_id=order.pk)
    order.refresh_from_db()
    assert order.escalation == 0  # the accepted stage has its own deadline


def test_a_session_order_is_due_when_its_session_ends_and_escalated_a_stage_later(world):
    _rules(deliver_hours=72)
    # Booked and accepted five days ahead: the clock runs from the session's end, not from acceptance.
    session = session_of(world.lunch, starts_in=dt.timedelta(days=5))
    order = order_for(world, world.r1, service=world.lunch, session=session)
    services.do_accept_order(actor=world.a_admin, order_id=order.pk)
    order.refresh_from_db()
    assert services.stage_deadline(order, OrderRules.load()) == session.ends_at

    def run(delta):
        return services.escalate_stalled_orders(now=session.ends_at + delta)

    assert run(-dt.timedelta(minutes=1)) == {"reminded": 0, "escalated": 0, "closed": 0}
    assert run(dt.timedelta(minutes=1)) == {"reminded": 1, "escalated": 0, "closed": 0}
    assert run(dt.timedelta(hours=71)) == {"reminded": 0, "escalated": 0, "closed": 0}
    assert run(dt.timedelta(hours=73)) == {"reminded": 0, "escalated": 1, "closed": 0}


def test_an_unconfirmed_delivery_is_closed_after_n_days_with_points_held(world):
    _rules(auto_close_days=7, confirm_hours=24)
    order = delivered_order(world)
    delivered = order.delivered_at
    counts = services.escalate_stalled_orders(now=delivered + dt.timedelta(days=6, hours=23))
    assert counts["closed"] == 0 and counts["reminded"] == 1  # the resident is reminded to confirm
    counts = services.escalate_stalled_orders(now=delivered + dt.timedelta(days=7, minutes=1))
    assert counts["closed"] == 1
    order.refresh_from_db()
    assert order.status == Order.Status.CLOSED and order.rating is None
    assert order.award == Order.Award.HELD and not _entries(order).exists()
    assert order.sms_code_hash == ""
    assert services.escalate_stalled_orders(now=delivered + dt.timedelta(days=30))["closed"] == 0
    assert _kinds(order).count(OrderEvent.Kind.CLOSED) == 1
    # Too late to rate now.
    _refused("already_rated", services.do_confirm_order, actor=world.r1, order_id=order.pk, rating=5)


# --- points held and reviewed -------------------------------------------------------------------------------
def test_a_poor_rating_holds_the_points_and_staff_release_posts_them_once(world):
    _rules(hold_rating=2)
    order = delivered_order(world)
    services.do_confirm_order(actor=world.r1, order_id=order.pk, rating=2, comment="送晚了")
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED and order.award == Order.Award.HELD
    assert not _entries(order).exists()
    assert Notification.objects.filter(key=f"order-award-held:{order.pk}:{world.staff_c1.pk}").exists()

    _refused("out_of_scope", services.do_review_award, actor=world.staff_c3, order_id=order.pk, release=True)
    _refused("out_of_scope", services.do_review_award, actor=world.a_admin, order_id=order.pk, release=True)
    services.do_review_award(actor=world.staff_c1, order_id=order.pk, release=True)
    _refused("wrong_stage", services.do_review_award, actor=world.staff_c1, order_id=order.pk, release=True)
    order.refresh_from_db()
    assert order.award == Order.Award.RELEASED
    assert _entries(order).count() == 1
    assert Account.objects.get(person=world.a_member).balance == 10
    released = OrderEvent.objects.get(order=order, kind=OrderEvent.Kind.AWARD_RELEASED)
    assert released.actor == world.staff_c1


def test_withheld_points_post_nothing(world):
    order = delivered_order(world)
    services.do_confirm_order(actor=world.r1, order_id=order.pk, rating=1)
    _refused(
        "reason_required", services.do_review_award, actor=world.staff_c1, order_id=order.pk, release=False
    )
    services.do_review_award(actor=world.staff_c1, order_id=order.pk, release=False, reason="居民投诉属实")
    order.refresh_from_db()
    assert order.award == Order.Award.WITHHELD and not _entries(order).exists()
    _refused("wrong_stage", services.do_review_award, actor=world.staff_c1, order_id=order.pk, release=True)
    assert not _entries(order).exists()
    assert not Account.objects.filter(person=world.a_member, balance__gt=0).exists()


def test_a_good_rating_with_hold_disabled_releases_whatever_the_rating(world):
    _rules(hold_rating=0)
    order = delivered_order(world)
    services.do_confirm_order(actor=world.r1, order_id=order.pk, rating=1)
    assert Order.objects.get(pk=order.pk).award == Order.Award.RELEASED
    assert _entries(order).count() == 1


def test_no_points_when_the_service_awards_none(world):
    Service.objects.filter(pk=world.centre_service.pk).update(points_per_delivery=0)
    order = delivered_order(world)
    services.do_confirm_order(actor=world.r1, order_id=order.pk, rating=1)
    assert Order.objects.get(pk=order.pk).award == Order.Award.NONE
    assert not _entries(order).exists()


def test_every_assigned_volunteer_and_the_deliverer_are_paid_once_each(world):
    order = order_for(world, world.r1)
    services.do_claim_order(actor=world.a_admin, order_id=order.pk, organisation_id=world.org_a.pk)
    services.do_assign_volunteers(
        actor=world.a_admin, order_id=order.pk, person_ids=[world.a_member.pk, world.a_admin.pk]
    )
    services.do_deliver_order(actor=world.gw, order_id=order.pk)
    services.do_confirm_order(actor=world.r1, order_id=order.pk, rating=5)
    paid = sorted(_entries(order).values_list("account__person", flat=True))
    assert paid == sorted([world.a_member.pk, world.a_admin.pk, world.gw.pk])


def test_a_claim_for_an_organisation_that_does_not_exist_is_refused_not_a_crash(world):
    superuser = UserFactory(is_superuser=True, is_staff=True)
    order = order_for(world, world.r1)
    _refused(
        "organisation_required",
        services.do_claim_order,
        actor=superuser,
        order_id=order.pk,
        organisation_id=10**9,
    )
    assert Order.objects.get(pk=order.pk).status == Order.Status.ORDERED


def test_registering_a_resident_needs_their_consent_and_keeps_its_time(world):
    from volunteers.models import User

    _refused("consent_required", services.do_register_resident, actor=world.gw, name="周阿婆", grid=world.g1)
    assert not User.objects.filter(name="周阿婆").exists()
    person = services.do_register_resident(actor=world.gw, name="周阿婆", grid=world.g1, consented=True)
    assert person.privacy_consented_at is not None
    assert not person.has_usable_password()
