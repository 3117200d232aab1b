"""Redemption: reserve an item for points, hand it over, cancel or expire it (with a refund).

Locks, always in this order so that no two operations wait on each other in a circle:
redemption row → reward item row → points account (the ledger's `do_post` locks the account).
`do_redeem` has no redemption row yet, so it starts at the item.

Every write to points goes through points.services.ledger; the item's stock only changes while its row
is locked, and a CHECK constraint keeps it from going below zero.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from points.exceptions import KeyReused
from points.models import Entry
from points.services.ledger import do_post, record_text

from . import exceptions, qr
from .models import Merchant, MerchantStaff, Redemption, RewardItem, new_short_code

KEY_PATTERN = re.compile(r"[A-Za-z0-9_.:-]{8,64}\Z")


def hold_period() -> timedelta:
    """How long a redemption waits to be collected before it expires and is refunded."""
    return timedelta(hours=int(getattr(settings, "REDEMPTION_HOLD_HOURS", 72)))


@dataclass(frozen=True)
class Redeemed:
    redemption: Redemption
    created: bool  # False: a repeat of an earlier request with the same key, answered the same way


def check_key(key) -> str:
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise exceptions.InvalidKey()
    return key


def _unused_short_code() -> str:
    # 31^8 codes: a clash is very unlikely, but a unique violation would be a 500, so look first.
    for _attempt in range(10):
        code = new_short_code()
        if not Redemption.objects.filter(short_code=code).exists():
            return code
    raise RuntimeError("could not find an unused short code")


def do_redeem(*, item_code: str, actor, key: str) -> Redeemed:
    """Reserve one unit of an item for its price in points, for `actor`.

    Idempotent by the client's `key` (per person): the same key for the same item returns the first
    redemption (created False), whatever has happened since; the same key for another item raises
    KeyReused. Refusals: ItemNotFound, ItemInactive, OutOfStock, LimitReached, InsufficientPoints,
    InvalidKey — each leaves stock and ledger unchanged.
    """
    check_key(key)
    item = RewardItem.objects.filter(public_code=item_code).only("pk").first()
    if item is None:
        raise exceptions.ItemNotFound()
    with transaction.atomic():
        if (earlier := _earlier(actor, key, item.pk)) is not None:
            return Redeemed(earlier, False)
        # The item row lock serialises everything that takes from this item's stock.
        item = RewardItem.objects.select_for_update().select_related("merchant").get(pk=item.pk)
        if not item.active or not item.merchant.active:
            raise exceptions.ItemInactive()
        if item.stock < 1:
            raise exceptions.OutOfStock()
        if item.per_person_limit is not None:
            held = Redemption.objects.filter(
                person=actor,
                item=item,
                status__in=[Redemption.Status.RESERVED, Redemption.Status.HANDED_OVER],
            ).count()
            if held >= item.per_person_limit:
                raise exceptions.LimitReached()
        posted = do_post(
            person_id=actor.pk,
            amount=-item.price,
            kind=Entry.Kind.REDEMPTION,
            key=f"redemption:{actor.pk}:{key}",
            reason=record_text(gettext_noop("Redeemed: %(item)s"), item=item.name),
            actor=actor,
            source=f"reward:{item.pk}",
        )
        if not posted.created:
            # The same request committed between our first look and the item lock.
            return Redeemed(
                Redemption.objects.select_related("item", "merchant").get(entry=posted.entry), False
            )
        item.stock -= 1
        item.save(update_fields=["stock", "updated_at"])
        redemption = Redemption.objects.create(
            item=item,
            merchant=item.merchant,
            person=actor,
            points=item.price,
            client_key=key,
            token_code=secrets.token_urlsafe(16),
            short_code=_unused_short_code(),
            entry=posted.entry,
            expires_at=timezone.now() + hold_period(),
        )
    return Redeemed(redemption, True)


def _earlier(actor, key: str, item_id: int) -> Redemption | None:
    earlier = (
        Redemption.objects.select_related("item", "merchant").filter(person=actor, client_key=key).first()
    )
    if earlier is not None and earlier.item_id != item_id:
        raise KeyReused()
    return earlier


def _refund(redemption: Redemption, *, status: str, actor, reason: str) -> Redemption:
    """Give back the stock and the points of a locked, still reserved redemption. Caller holds the
    redemption's lock inside a transaction."""
    item = RewardItem.objects.select_for_update().get(pk=redemption.item_id)
    item.stock += 1
    item.save(update_fields=["stock", "updated_at"])
    posted = do_post(
        person_id=redemption.person_id,
        amount=redemption.points,
        kind=Entry.Kind.REFUND,
        key=f"refund:{redemption.pk}",
        reason=reason,
        actor=actor,
        source=f"redemption:{redemption.pk}",
    )
    redemption.status = status
    redemption.refund_entry = posted.entry
    redemption.closed_at = timezone.now()
    redemption.closed_by = actor
    redemption.save(update_fields=["status", "refund_entry", "closed_at", "closed_by"])
    return redemption


def _locked(**lookup) -> Redemption | None:
    return (
        Redemption.objects.select_for_update(of=("self",))
        .select_related("item", "merchant")
        .filter(**lookup)
        .first()
    )


def do_cancel(*, public_code: str, actor) -> Redemption:
    """The person cancels their own uncollected redemption: stock and points come back. Someone else's
    redemption is "not found". Refused (NotCancellable) once collected, cancelled or expired."""
    with transaction.atomic():
        redemption = _locked(public_code=public_code, person_id=getattr(actor, "pk", None))
        if redemption is None:
            raise exceptions.RedemptionNotFound()
        if redemption.status != Redemption.Status.RESERVED:
            raise exceptions.NotCancellable()
        return _refund(
            redemption,
            status=Redemption.Status.CANCELLED,
            actor=actor,
            reason=record_text(gettext_noop("Redemption cancelled: %(item)s"), item=redemption.item.name),
        )


def do_expire(*, redemption_id: int, now=None) -> bool:
    """Expire one uncollected redemption whose deadline has passed, refunding it. Idempotent: returns
    False (and changes nothing) if it is not due or no longer reserved."""
    now = now or timezone.now()
    with transaction.atomic():
        redemption = _locked(pk=redemption_id)
        if (
            redemption is None
            or redemption.status != Redemption.Status.RESERVED
            or redemption.expires_at > now
        ):
            return False
        _refund(
            redemption,
            status=Redemption.Status.EXPIRED,
            actor=None,
            reason=record_text(gettext_noop("Not collected in time: %(item)s"), item=redemption.item.name),
        )
    return True


def expire_due(*, now=None) -> int:
    """Expire every redemption past its deadline; each in its own transaction, so one failure does not
    undo the others and a second run finds nothing left to do."""
    now = now or timezone.now()
    due = Redemption.objects.filter(status=Redemption.Status.RESERVED, expires_at__lte=now).values_list(
        "pk", flat=True
    )
    return sum(do_expire(redemption_id=pk, now=now) for pk in list(due.order_by("pk")))


def is_merchant_staff(person, merchant: Merchant) -> bool:
    if person is None or not person.is_authenticated:
        return False
    return person.is_superuser or MerchantStaff.objects.filter(merchant=merchant, person=person).exists()


def access_merchant(*, merchant_code: str, actor) -> Merchant:
    """The merchant whose items `actor` may hand over: 404 for an unknown one, 403 for a non-member."""
    merchant = (
        Merchant.objects.filter(public_code=merchant_code).select_related("street", "community").first()
    )
    if merchant is None:
        raise exceptions.RedemptionNotFound(_("This merchant does not exist."), code="merchant_not_found")
    if not is_merchant_staff(actor, merchant):
        raise exceptions.NotMerchantStaff()
    return merchant


def do_hand_over(*, merchant_code: str, code: str, actor, now=None) -> Redemption:
    """The merchant's staff hand the item over against the person's QR (its URL or token) or short code.

    Refusals, most telling first: InvalidCode (forged, mangled, unknown), OtherMerchant, AlreadyHandedOver,
    RedemptionCancelled, CodeExpired (an overdue one is refunded on the spot), QRExpired (a genuine but
    old QR: the short code still works). A second scan of a collected code is AlreadyHandedOver.
    """
    merchant = access_merchant(merchant_code=merchant_code, actor=actor)
    now = now or timezone.now()
    text = code.strip() if isinstance(code, str) else ""
    if not text or len(text) > 500:
        raise exceptions.InvalidCode()
    short = qr.normalise_short_code(text)
    if short is not None:
        lookup, stale = {"short_code": short}, False
    else:
        token_code, stale = qr.read_token(text, now=now.timestamp())
        lookup = {"token_code": token_code}
    refusal = None
    with transaction.atomic():
        redemption = _locked(**lookup)
        if redemption is None:
            raise exceptions.InvalidCode()
        if redemption.merchant_id != merchant.pk:
            raise exceptions.OtherMerchant()
        if redemption.status == Redemption.Status.HANDED_OVER:
            raise exceptions.AlreadyHandedOver()
        if redemption.status == Redemption.Status.CANCELLED:
            raise exceptions.RedemptionCancelled()
        if redemption.status == Redemption.Status.EXPIRED:
            raise exceptions.CodeExpired()
        if redemption.expires_at <= now:
            # Refund now rather than wait for the beat task; the refusal is raised after the commit.
            _refund(
                redemption,
                status=Redemption.Status.EXPIRED,
                actor=None,
                reason=record_text(
                    gettext_noop("Not collected in time: %(item)s"), item=redemption.item.name
                ),
            )
            refusal = exceptions.CodeExpired()
        elif stale:
            raise exceptions.QRExpired()
        else:
            redemption.status = Redemption.Status.HANDED_OVER
            redemption.handed_over_at = now
            redemption.handed_over_by = actor
            redemption.save(update_fields=["status", "handed_over_at", "handed_over_by"])
    if refusal is not None:
        raise refusal
    return redemption


def locked_stock_after_edit(*, item_id: int, shown: int, wanted: int) -> int:
    """The stock to save when staff changed it from `shown` to `wanted` on a form: applied as a change
    to the current stock under the item's lock, because redemptions may have taken units since the form
    was shown (saving `wanted` as is would hand those units out twice). Never below zero. Call inside the
    transaction that saves the item."""
    current = RewardItem.objects.select_for_update().values_list("stock", flat=True).get(pk=item_id)
    return max(0, current + (wanted - shown))
