"""Redemption services: reserving stock and points together, every refusal with its code and the ledger
unchanged, idempotency by key, hand-over checks, cancel and expiry refunds."""

from datetime import timedelta

import pytest
from django.core import signing
from django.utils import timezone

from points.exceptions import InsufficientPoints, KeyReused
from points.models import Entry
from points.redemption import exceptions, qr, services
from points.redemption.models import Redemption, RewardItem
from points.redemption.tasks import expire_redemptions
from tests.factories import UserFactory
from tests.points.redemption.support import (
    MerchantFactory,
    RewardItemFactory,
    balance,
    give_points,
    merchant_staff,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def person():
    person = UserFactory(name="王小明", notify_sms=False)
    give_points(person, 250)
    return person


@pytest.fixture
def item():
    return RewardItemFactory(price=100, stock=3)


def redeem(item, person, key="key-00000001"):
    return services.do_redeem(item_code=item.public_code, actor=person, key=key)


def stock(item) -> int:
    return RewardItem.objects.get(pk=item.pk).stock


def refused(exc_type, fn, *args, **kwargs):
    """Run fn expecting exc_type; assert nothing changed in the ledger or the redemptions."""
    entries, redemptions = Entry.objects.count(), Redemption.objects.count()
    with pytest.raises(exc_type) as info:
        fn(*args, **kwargs)
    assert Entry.objects.count() == entries
    assert Redemption.objects.count() == redemptions
    return info.value


# --- redeeming --------------------------------------------------------------------------------------
def test_redeeming_takes_the_points_and_one_unit_of_stock_together(person, item):
    result = redeem(item, person)

    assert result.created
    r = result.redemption
    assert r.status == Redemption.Status.RESERVED and r.points == 100 and r.merchant_id == item.merchant_id
    assert balance(person) == 150 and stock(item) == 2
    assert r.entry.kind == Entry.Kind.REDEMPTION and r.entry.amount == -100
    assert r.entry.key == f"redemption:{person.pk}:key-00000001"
    assert r.expires_at > timezone.now() + timedelta(hours=70)
    assert len(r.short_code) == 8 and r.token_code and str(person.phone) not in r.token_code


def test_the_same_key_again_returns_the_first_redemption_and_posts_nothing(person, item):
    first = redeem(item, person)
    again = redeem(item, person)

    assert not again.created and again.redemption.pk == first.redemption.pk
    assert Entry.objects.filter(kind=Entry.Kind.REDEMPTION).count() == 1
    assert balance(person) == 150 and stock(item) == 2


def test_a_replay_is_answered_even_after_the_item_sold_out(person):
    item = RewardItemFactory(price=100, stock=1)
    first = redeem(item, person)
    assert stock(item) == 0
    assert redeem(item, person).redemption.pk == first.redemption.pk


def test_the_same_key_for_another_item_is_refused(person, item):
    redeem(item, person)
    other = RewardItemFactory(price=10, stock=5)
    error = refused(KeyReused, redeem, other, person)
    assert error.code == "idempotency_key_reused" and error.status == 409
    assert stock(other) == 5


def test_not_enough_points_is_refused_and_leaves_stock_alone(item):
    poor = UserFactory(notify_sms=False)
    give_points(poor, 99)
    error = refused(InsufficientPoints, redeem, item, poor)
    assert error.code == "insufficient_points"
    assert balance(poor) == 99 and stock(item) == 3


def test_someone_without_an_account_cannot_redeem(item):
    error = refused(InsufficientPoints, redeem, item, UserFactory(notify_sms=False))
    assert error.status == 409


def test_out_of_stock_is_refused(person):
    item = RewardItemFactory(stock=0)
    assert refused(exceptions.OutOfStock, redeem, item, person).code == "out_of_stock"
    assert balance(person) == 250


def test_an_inactive_item_or_merchant_is_refused(person):
    item = RewardItemFactory(active=False)
    assert refused(exceptions.ItemInactive, redeem, item, person).code == "item_inactive"
    closed = RewardItemFactory(merchant=MerchantFactory(active=False))
    assert refused(exceptions.ItemInactive, redeem, closed, person).code == "item_inactive"


def test_an_unknown_item_is_not_found(person):
    error = refused(exceptions.ItemNotFound, services.do_redeem, item_code="nope", actor=person, key="k" * 10)
    assert error.status == 404


@pytest.mark.parametrize("key", ["", "short", "x" * 65, "has space!", None, 12345678])
def test_a_malformed_key_is_refused(person, item, key):
    error = refused(exceptions.InvalidKey, redeem, item, person, key)
    assert error.status == 422


def test_the_per_person_limit_counts_held_and_collected_but_not_cancelled(person):
    item = RewardItemFactory(price=10, stock=10, per_person_limit=2)
    first = redeem(item, person, "key-limit-1").redemption
    redeem(item, person, "key-limit-2")
    assert refused(exceptions.LimitReached, redeem, item, person, "key-limit-3").code == "limit_reached"
    services.do_cancel(public_code=first.public_code, actor=person)
    assert redeem(item, person, "key-limit-4").created


# --- cancel and expiry ------------------------------------------------------------------------------
def test_cancelling_refunds_points_and_stock_once(person, item):
    r = redeem(item, person).redemption
    cancelled = services.do_cancel(public_code=r.public_code, actor=person)

    assert cancelled.status == Redemption.Status.CANCELLED and cancelled.closed_by == person
    assert balance(person) == 250 and stock(item) == 3
    refund = Entry.objects.get(kind=Entry.Kind.REFUND)
    assert refund.key == f"refund:{r.pk}" and refund.amount == 100
    error = refused(exceptions.NotCancellable, services.do_cancel, public_code=r.public_code, actor=person)
    assert error.code == "not_cancellable"
    assert balance(person) == 250


def test_nobody_else_can_cancel_my_redemption(person, item):
    r = redeem(item, person).redemption
    other = UserFactory(notify_sms=False)
    refused(exceptions.RedemptionNotFound, services.do_cancel, public_code=r.public_code, actor=other)
    assert Redemption.objects.get(pk=r.pk).status == Redemption.Status.RESERVED


def test_a_collected_redemption_cannot_be_cancelled(person, item):
    r = redeem(item, person).redemption
    staff = merchant_staff(item.merchant)
    services.do_hand_over(merchant_code=item.merchant.public_code, code=r.short_code, actor=staff)
    refused(exceptions.NotCancellable, services.do_cancel, public_code=r.public_code, actor=person)


def test_uncollected_redemptions_expire_and_refund_once_however_often_the_task_runs(person, item):
    due = redeem(item, person, "key-due-0001").redemption
    not_yet = redeem(item, person, "key-later-01").redemption
    Redemption.objects.filter(pk=due.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    assert expire_redemptions.delay().get() == 1
    assert expire_redemptions.delay().get() == 0
    assert services.do_expire(redemption_id=due.pk) is False

    assert Redemption.objects.get(pk=due.pk).status == Redemption.Status.EXPIRED
    assert Redemption.objects.get(pk=not_yet.pk).status == Redemption.Status.RESERVED
    assert Entry.objects.filter(kind=Entry.Kind.REFUND, key=f"refund:{due.pk}").count() == 1
    assert balance(person) == 150 and stock(item) == 2


# --- hand-over --------------------------------------------------------------------------------------
@pytest.fixture
def reserved(person, item):
    return redeem(item, person).redemption


@pytest.fixture
def staff(item):
    return merchant_staff(item.merchant)


def hand_over(redemption, staff, code=None, merchant=None, **kwargs):
    return services.do_hand_over(
        merchant_code=(merchant or redemption.merchant).public_code,
        code=code if code is not None else qr.path_for(redemption.token_code),
        actor=staff,
        **kwargs,
    )


def test_scanning_the_qr_hands_the_item_over(reserved, staff, person):
    done = hand_over(reserved, staff, code="https://gongzhi.example" + qr.path_for(reserved.token_code))
    assert done.status == Redemption.Status.HANDED_OVER
    assert done.handed_over_by == staff and done.handed_over_at is not None
    assert balance(person) == 150  # the points were taken at redemption, not again


@pytest.mark.parametrize("typed", ["{code}", "{lower}", "{a}-{b}", " {a} {b} "])
def test_the_short_code_may_be_typed_in_any_usual_way(reserved, staff, typed):
    code = reserved.short_code
    text = typed.format(code=code, lower=code.lower(), a=code[:4], b=code[4:])
    assert hand_over(reserved, staff, code=text).status == Redemption.Status.HANDED_OVER


def test_a_used_code_is_refused_the_second_time(reserved, staff):
    hand_over(reserved, staff)
    error = refused(exceptions.AlreadyHandedOver, hand_over, reserved, staff)
    assert error.code == "already_handed_over"
    assert refused(exceptions.AlreadyHandedOver, hand_over, reserved, staff, code=reserved.short_code)


def test_another_merchants_code_is_refused(reserved, person):
    other = MerchantFactory()
    other_staff = merchant_staff(other)
    error = refused(exceptions.OtherMerchant, hand_over, reserved, other_staff, merchant=other)
    assert error.code == "other_merchant"
    assert Redemption.objects.get(pk=reserved.pk).status == Redemption.Status.RESERVED


def test_only_the_merchants_staff_may_hand_over(reserved, person):
    error = refused(exceptions.NotMerchantStaff, hand_over, reserved, person)
    assert error.status == 403
    outsider = merchant_staff(MerchantFactory())
    refused(exceptions.NotMerchantStaff, hand_over, reserved, outsider)


def test_an_expired_redemption_is_refused_and_refunded_on_the_spot(reserved, staff, person, item):
    Redemption.objects.filter(pk=reserved.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(exceptions.CodeExpired) as info:
        hand_over(reserved, staff)
    assert info.value.code == "code_expired"
    assert Redemption.objects.get(pk=reserved.pk).status == Redemption.Status.EXPIRED
    assert balance(person) == 250 and stock(item) == 3
    # and again: still refused, not refunded twice
    refused(exceptions.CodeExpired, hand_over, reserved, staff)
    assert balance(person) == 250


def test_a_cancelled_redemption_is_refused(reserved, staff, person):
    services.do_cancel(public_code=reserved.public_code, actor=person)
    assert refused(exceptions.RedemptionCancelled, hand_over, reserved, staff).code == "redemption_cancelled"


def test_an_old_qr_is_refused_but_the_short_code_still_works(reserved, staff, settings):
    path = qr.path_for(reserved.token_code)
    later = timezone.now() + timedelta(seconds=qr.qr_max_age() + 5)
    error = refused(exceptions.QRExpired, hand_over, reserved, staff, code=path, now=later)
    assert error.code == "qr_expired"
    assert hand_over(reserved, staff, code=reserved.short_code, now=later).status == "handed_over"


@pytest.mark.parametrize(
    "code",
    [
        "",
        "   ",
        "not a code",
        "ZZZZZZZZ",  # well-formed short code nobody holds
        "/rewards/r/forged:1abcde:xyz/",
        "/elsewhere/r/{token}/",
        "{token}x",
        "x" * 600,
    ],
)
def test_forged_or_mangled_codes_are_refused(reserved, staff, code):
    token = qr.token_for(reserved.token_code)
    error = refused(exceptions.InvalidCode, hand_over, reserved, staff, code=code.format(token=token))
    assert error.code == "invalid_code"


def test_a_token_signed_with_another_key_or_salt_is_refused(reserved, staff):
    other_salt = signing.TimestampSigner(salt="gongzhi.gridtasks.person-qr").sign(reserved.token_code)
    refused(exceptions.InvalidCode, hand_over, reserved, staff, code=other_salt)
    other_key = signing.TimestampSigner(key="not-the-secret", salt="gongzhi.redemption.qr").sign(
        reserved.token_code
    )
    refused(exceptions.InvalidCode, hand_over, reserved, staff, code=other_key)


def test_the_qr_carries_only_a_signed_random_code(reserved, person):
    path = qr.path_for(reserved.token_code)
    token = path.removeprefix("/rewards/r/").removesuffix("/")
    payload = signing.TimestampSigner(salt="gongzhi.redemption.qr").unsign(token)
    assert payload == reserved.token_code and len(payload) >= 20
    assert person.phone[-8:] not in path and person.name not in path and reserved.short_code not in path
