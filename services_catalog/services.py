"""Operations of the services catalogue and the ordering loop 点单 → 派单 → 接单 → 上菜 → 评单.

Locking: an operation that changes places or an order takes its row locks in one fixed order — the
resident, then the session, then the order — and checks only once it holds them. The database backs
the rules it can express: `booked <= capacity`, one live booking per person and session, ratings 1–5.

Every change of an order is an OrderEvent row with the actor (None for the system) and the time.
Messages go through core.notifications (inbox now, SMS/email after the commit).
"""

import secrets
from datetime import date, datetime, timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core import links
from core.exceptions import GongzhiError, NotAllowed
from core.notifications import notify
from core.text import one_line
from points.cases.services import check_photo, without_metadata
from points.models import Account, Entry
from points.services.ledger import do_post, lock_accounts, record_text
from volunteers.exceptions import OutOfScope
from volunteers.models import Grid, Membership, Organisation, StaffPost, User
from volunteers.scopes import scope_for

from . import exceptions
from .models import (
    Beneficiary,
    Order,
    OrderAssignment,
    OrderEvent,
    OrderRules,
    Service,
    ServiceEvent,
    ServicePhoto,
    Session,
)

SESSION_HORIZON_DAYS = 14
SMS_CODE_MAX_ATTEMPTS = 5
_CARD_SALT = "gongzhi.services.card"


def _order_url(order: Order) -> str:
    return reverse("services:order", args=[order.code])


def _event(order: Order, kind: str, actor=None, *, organisation=None, note: str = "") -> None:
    OrderEvent.objects.create(order=order, kind=kind, actor=actor, organisation=organisation, note=note[:300])


def _clean_reason(reason) -> str:
    reason = one_line(reason)
    if not reason:
        raise exceptions.ReasonRequired()
    return reason[:200]


def _org_admins(organisation_id: int):
    return User.objects.filter(
        memberships__organisation_id=organisation_id,
        memberships__role=Membership.Role.ADMIN,
        memberships__status=Membership.Status.ACTIVE,
    ).distinct()


def _community_staff(grid: Grid):
    return User.objects.filter(
        Q(staff_posts__level=StaffPost.Level.COMMUNITY, staff_posts__community_id=grid.community_id)
        | Q(staff_posts__level=StaffPost.Level.STREET, staff_posts__street_id=grid.community.street_id)
    ).distinct()


def _tell(people, *, title, body="", order: Order, key: str) -> None:
    for person in people:
        notify(
            recipient=person,
            category="services",
            title=title,
            body=body,
            url=_order_url(order),
            key=f"{key}:{person.pk}",
        )


# --- the catalogue --------------------------------------------------------------------------------------
def check_can_manage_service(*, actor: User, service: Service) -> None:
    if not scope_for(actor).can_change(service):
        raise OutOfScope()


def check_can_offer_for(*, actor: User, organisation: Organisation | None, street) -> None:
    """Organisation admins list services for their organisation; staff for their street (or any org in it)."""
    scope = scope_for(actor)
    if organisation is not None and organisation.pk in scope.admin_org_ids:
        if organisation.status != Organisation.Status.APPROVED:
            raise NotAllowed(_("The organisation must be approved first."), code="organisation_not_approved")
        return
    if scope.superuser or street.pk in scope.street_ids or street.district_id in scope.district_ids:
        return
    raise OutOfScope()


def do_save_service(
    *,
    actor: User,
    service: Service | None = None,
    area_streets=(),
    area_communities=(),
    area_grids=(),
    **fields,
) -> Service:
    """Create or change a service from validated fields (forms.ServiceForm / the API).

    An organisation's change to a published service sends it back for review, so what residents see has
    always been reviewed; staff changes keep the status.
    """
    organisation = fields.get("organisation", service.organisation if service else None)
    street = fields.get("street") or (organisation.street if organisation else None)
    if street is None:
        raise GongzhiError(_("Choose the street."), code="street_required")
    fields["street"] = street
    if not (area_streets or area_communities or area_grids):
        raise GongzhiError(
            _("Choose at least one street, community or grid the service serves."), code="no_area"
        )
    check_can_offer_for(actor=actor, organisation=organisation, street=street)
    scope = scope_for(actor)
    with transaction.atomic():
        if service is None:
            service = Service(created_by=actor)
        else:
            service = Service.objects.select_for_update().get(pk=service.pk)
            check_can_manage_service(actor=actor, service=service)
        for name, value in fields.items():
            setattr(service, name, value)
        if fields.get("mode") == Service.Mode.SESSIONS or service.mode == Service.Mode.SESSIONS:
            _check_timetable(service)
        reviewed_by_staff = (
            scope.superuser or street.pk in scope.street_ids or street.district_id in scope.district_ids
        )
        if service.pk and service.status == Service.Status.PUBLISHED and not reviewed_by_staff:
            service.status = Service.Status.PENDING
            ServiceEvent.objects.create(
                service=service, status=service.status, actor=actor, reason=_("Changed")
            )
        service.full_clean(exclude=["code", "created_by"])
        service.save()
        service.area_streets.set(area_streets)
        service.area_communities.set(area_communities)
        service.area_grids.set(area_grids)
        if service.status == Service.Status.PUBLISHED and service.is_sessions:
            ensure_sessions(service=service)
    return service


def _check_timetable(service: Service) -> None:
    if not (service.weekdays and service.session_start and service.session_end and service.session_capacity):
        raise GongzhiError(
            _("A session service needs its weekdays, start and end times and places per session."),
            code="timetable_required",
        )
    if service.session_end <= service.session_start:
        raise GongzhiError(_("A session must end after it starts."), code="bad_times")


def do_submit_service(*, actor: User, service_id: int) -> Service:
    with transaction.atomic():
        service = Service.objects.select_for_update().get(pk=service_id)
        check_can_manage_service(actor=actor, service=service)
        if service.status != Service.Status.DRAFT:
            raise GongzhiError(_("Only a draft can be sent for review."), code="not_draft")
        service.status = Service.Status.PENDING
        service.save(update_fields=["status", "updated_at"])
        ServiceEvent.objects.create(service=service, status=service.status, actor=actor)
    return service


def do_review_service(*, actor: User, service_id: int, decision: str, reason: str = "") -> Service:
    """Staff of the service's street publish, send back (to draft, with a reason) or suspend a service."""
    with transaction.atomic():
        service = Service.objects.select_for_update().get(pk=service_id)
        scope = scope_for(actor)
        if not scope.is_staff or not scope.can_change(service):
            raise OutOfScope()
        allowed = {
            "publish": (
                {Service.Status.PENDING, Service.Status.SUSPENDED, Service.Status.DRAFT},
                Service.Status.PUBLISHED,
            ),
            "reject": ({Service.Status.PENDING}, Service.Status.DRAFT),
            "suspend": ({Service.Status.PUBLISHED}, Service.Status.SUSPENDED),
        }
        if decision not in allowed:
            raise GongzhiError(_("Unknown decision."), code="bad_decision")
        sources, target = allowed[decision]
        if service.status not in sources:
            raise GongzhiError(_("The service is not at a stage where this can be done."), code="wrong_stage")
        if decision != "publish":
            reason = _clean_reason(reason)
        if target == Service.Status.PUBLISHED and service.is_sessions:
            _check_timetable(service)
        service.status = target
        service.save(update_fields=["status", "updated_at"])
        event = ServiceEvent.objects.create(service=service, status=target, actor=actor, reason=reason[:200])
        if target == Service.Status.PUBLISHED and service.is_sessions:
            ensure_sessions(service=service)
        if service.organisation_id:
            notify_title = {
                "publish": _("Service published: %(title)s"),
                "reject": _("Service sent back: %(title)s"),
                "suspend": _("Service suspended: %(title)s"),
            }[decision] % {"title": service.title}
            for person in _org_admins(service.organisation_id):
                notify(
                    recipient=person,
                    category="services",
                    title=notify_title,
                    body=reason,
                    url=reverse("services:manage_service", args=[service.code]),
                    key=f"service-review:{event.pk}:{person.pk}",
                )
    return service


def ensure_sessions(*, service: Service, today: date | None = None, days: int = SESSION_HORIZON_DAYS) -> int:
    """Create the sessions of the next `days` days from the timetable; existing ones are left alone
    (their bookings stand). Idempotent: the (service, start) pair is unique. Returns how many were made."""
    if not service.is_sessions or service.status != Service.Status.PUBLISHED:
        return 0
    tz = timezone.get_current_timezone()
    today = today or timezone.localdate()
    made = 0
    for offset in range(days):
        day = today + timedelta(days=offset)
        if day.weekday() not in service.weekdays:
            continue
        starts_at = datetime.combine(day, service.session_start, tzinfo=tz)
        _session, created = Session.objects.get_or_create(
            service=service,
            starts_at=starts_at,
            defaults={
                "ends_at": datetime.combine(day, service.session_end, tzinfo=tz),
                "capacity": service.session_capacity,
            },
        )
        made += created
    return made


def plan_sessions(*, today: date | None = None) -> int:
    """Daily: keep two weeks of sessions ahead for every published session service."""
    made = 0
    for service in Service.objects.filter(status=Service.Status.PUBLISHED, mode=Service.Mode.SESSIONS):
        made += ensure_sessions(service=service, today=today)
    return made


def do_cancel_session(*, actor: User, session_id: int, reason: str) -> Session:
    """Cancel one session (the cook is ill): every live booking is cancelled and its resident told."""
    reason = _clean_reason(reason)
    with transaction.atomic():
        session = Session.objects.select_for_update().select_related("service").get(pk=session_id)
        check_can_manage_service(actor=actor, service=session.service)
        if session.cancelled:
            return session
        if session.ends_at <= timezone.now():
            # Its meals were served and scanned: cancelling now would undo attendance records.
            raise exceptions.SessionNotBookable(_("This session is over: it can no longer be cancelled."))
        session.cancelled = True
        session.booked = 0
        session.save(update_fields=["cancelled", "booked"])
        for order in Order.objects.select_for_update().filter(session=session, status__in=Order.ACTIVE):
            _move(order, Order.Status.CANCELLED)
            order.finished_at = timezone.now()
            order.save(update_fields=["status", "stage_started_at", "escalation", "finished_at"])
            _event(order, OrderEvent.Kind.CANCELLED, actor, note=reason)
            _tell(
                [order.resident],
                title=_("Session cancelled: %(title)s") % {"title": session.service.title},
                body=reason,
                order=order,
                key=f"session-cancelled:{order.pk}",
            )
    return session


# --- service photos (the workbench) ---------------------------------------------------------------------
MAX_SERVICE_PHOTOS = 6


def _reviewed_by_staff(scope, service: Service) -> bool:
    return (
        scope.superuser
        or service.street_id in scope.street_ids
        or service.street.district_id in scope.district_ids
    )


def do_add_service_photos(*, actor: User, service_id: int, photos) -> list[ServicePhoto]:
    """Add photos to a service. Each is checked by its bytes (JPEG, PNG or WebP, at most 5 MB) and stored
    re-encoded without its metadata: phones write where a photo was taken into it, and these are public.

    Like any change by the organisation, new photos on a published service send it back for review.
    Files already written are removed again if the transaction rolls back (too many photos, a race).
    """
    cleaned = [without_metadata(photo, check_photo(photo)) for photo in photos if photo]
    if not cleaned:
        return []
    stored = []
    try:
        with transaction.atomic():
            service = Service.objects.select_for_update().select_related("street").get(pk=service_id)
            check_can_manage_service(actor=actor, service=service)
            have = list(service.photos.values_list("position", flat=True))
            if len(have) + len(cleaned) > MAX_SERVICE_PHOTOS:
                raise GongzhiError(
                    _("A service shows at most %(n)d photos: remove one first.") % {"n": MAX_SERVICE_PHOTOS},
                    code="too_many_photos",
                    status=422,
                )
            position = max(have, default=-1) + 1
            rows = []
            for offset, photo in enumerate(cleaned):
                row = ServicePhoto.objects.create(service=service, image=photo, position=position + offset)
                stored.append(row.image)
                rows.append(row)
            if service.status == Service.Status.PUBLISHED and not _reviewed_by_staff(
                scope_for(actor), service
            ):
                service.status = Service.Status.PENDING
                service.save(update_fields=["status", "updated_at"])
                ServiceEvent.objects.create(
                    service=service, status=service.status, actor=actor, reason=_("Changed")
                )
    except BaseException:
        for image in stored:
            image.storage.delete(image.name)
        raise
    return rows


def do_remove_service_photo(*, actor: User, photo_id: int) -> None:
    """Remove a photo of a service the actor manages; its file goes once the removal is committed."""
    with transaction.atomic():
        photo = ServicePhoto.objects.select_for_update().select_related("service").filter(pk=photo_id).first()
        if photo is None:
            raise GongzhiError(_("This photo has already been removed."), code="photo_not_found", status=404)
        check_can_manage_service(actor=actor, service=photo.service)
        image = photo.image
        photo.delete()
        transaction.on_commit(lambda: image.storage.delete(image.name))


# --- people the services serve -----------------------------------------------------------------------------
def beneficiary_for(person: User) -> Beneficiary:
    beneficiary, _created = Beneficiary.objects.get_or_create(person=person)
    return beneficiary


def check_can_act_for(*, actor: User, resident: User) -> None:
    """A grid worker (or staff) acts for residents of the grids they look after."""
    if actor.pk == resident.pk:
        return
    scope = scope_for(actor)
    if resident.home_grid_id is None or not scope.managed_grids().filter(pk=resident.home_grid_id).exists():
        raise OutOfScope()


def do_update_beneficiary(*, actor: User, person: User, **fields) -> Beneficiary:
    check_can_act_for(actor=actor, resident=person)
    beneficiary = beneficiary_for(person)
    for name, value in fields.items():
        setattr(beneficiary, name, value)
    beneficiary.updated_by = actor
    beneficiary.full_clean(exclude=["person", "card_code"])
    beneficiary.save()
    return beneficiary


def do_register_resident(
    *, actor: User, name: str, grid: Grid, phone: str | None = None, consented: bool = False, **details
) -> User:
    """A grid worker records a resident who will not sign up themselves (no smartphone): an account
    without a password, which they use through the grid worker and their printed QR card. The resident
    must have agreed to the privacy terms (told by the grid worker): refused without it, and the time of
    consent is kept on the account as for anyone who signs up."""
    if not consented:
        raise GongzhiError(_("Ask the resident's consent first."), code="consent_required")
    scope = scope_for(actor)
    if not scope.managed_grids().filter(pk=grid.pk).exists():
        raise OutOfScope()
    name = one_line(name)
    if not name:
        raise GongzhiError(_("Enter the resident's name."), code="name_required")
    with transaction.atomic():
        if phone and User.objects.filter(phone=phone).exists():
            raise GongzhiError(
                _("Someone with this mobile number is already registered: find them instead."),
                code="phone_taken",
            )
        person = User(
            name=name[:40], phone=phone or None, home_grid=grid, privacy_consented_at=timezone.now()
        )
        person.set_unusable_password()
        person.save()
        beneficiary = Beneficiary(person=person, updated_by=actor, **details)
        beneficiary.full_clean(exclude=["person", "card_code"])
        beneficiary.save()
    return person


def card_token(beneficiary: Beneficiary) -> str:
    """What a printed QR card carries: a signature over the card's random code and serial number.
    It does not expire (it is printed), but re-issuing the card (a new serial) voids the old one."""
    return links.sign(f"{beneficiary.card_code}.{beneficiary.card_serial}", salt=_CARD_SALT)


def card_path(beneficiary: Beneficiary) -> str:
    return reverse("services:card", args=[card_token(beneficiary)])


def read_card(token: str) -> Beneficiary:
    """The beneficiary behind a scanned card (its URL or bare token); InvalidCard for forged or void cards."""
    token = links.token_in(str(token or "").strip(), url_name="services:card")
    try:
        code, serial = links.unsign(token, salt=_CARD_SALT).rsplit(".", 1)
        serial = int(serial)
    except (links.BadToken, ValueError):
        raise exceptions.InvalidCard() from None
    beneficiary = (
        Beneficiary.objects.select_related("person", "person__home_grid").filter(card_code=code).first()
    )
    if beneficiary is None or beneficiary.card_serial != serial:
        raise exceptions.InvalidCard()
    return beneficiary


def do_reissue_card(*, actor: User, person: User) -> Beneficiary:
    check_can_act_for(actor=actor, resident=person)
    beneficiary = beneficiary_for(person)
    Beneficiary.objects.filter(pk=beneficiary.pk).update(card_serial=F("card_serial") + 1, updated_by=actor)
    beneficiary.refresh_from_db()
    return beneficiary


# --- ordering (点单) -----------------------------------------------------------------------------------
def check_can_order(*, service: Service, resident: User, today: date | None = None) -> None:
    """Published, serving the resident's home grid, and the resident eligible (age, subsidy group)."""
    if service.status != Service.Status.PUBLISHED:
        raise exceptions.ServiceNotFound()
    if resident.home_grid_id is None:
        raise exceptions.NoHomeGrid()
    grid = Grid.objects.select_related("community").get(pk=resident.home_grid_id)
    if not service.serves(grid):
        raise exceptions.OutsideArea()
    if service.min_age is None and service.max_age is None and not service.subsidy_groups:
        return
    beneficiary = Beneficiary.objects.filter(person=resident).first()
    today = today or timezone.localdate()
    age = beneficiary.age_on(today) if beneficiary else None
    if service.min_age is not None or service.max_age is not None:
        if age is None:
            raise exceptions.NotEligible(
                _("This service has an age limit: ask your grid worker to record your date of birth.")
            )
        if (service.min_age is not None and age < service.min_age) or (
            service.max_age is not None and age > service.max_age
        ):
            raise exceptions.NotEligible(
                _("This service is for people aged %(ages)s.") % {"ages": age_range(service)}
            )
    if service.subsidy_groups and (
        beneficiary is None or beneficiary.subsidy_group not in service.subsidy_groups
    ):
        raise exceptions.NotEligible(
            _("This service is for residents in a subsidy group recorded by the community.")
        )


def age_range(service: Service) -> str:
    if service.min_age is not None and service.max_age is not None:
        return f"{service.min_age}–{service.max_age}"
    if service.min_age is not None:
        return _("%(age)s and over") % {"age": service.min_age}
    return _("up to %(age)s") % {"age": service.max_age}


def do_place_order(
    *,
    actor: User,
    service_id: int,
    resident: User | None = None,
    session_id: int | None = None,
    note: str = "",
    channel: str = Order.Channel.WEB,
) -> Order:
    """Book a session place or request an on-demand service, for oneself or (a grid worker) for a resident.

    Locks the resident, then the session, before any check, so concurrent bookings line up: a session
    never takes more bookings than places, and a double click books once (AlreadyBooked).
    """
    resident = resident or actor
    check_can_act_for(actor=actor, resident=resident)
    if actor.pk != resident.pk:
        channel = Order.Channel.PROXY
    note = one_line(note, 300)
    now = timezone.now()
    with transaction.atomic():
        # NO KEY UPDATE: it still lines up this person's bookings, but does not block the key-share
        # lock that any row referring to them takes (an event they act in, a points account), which a
        # transaction holding this session's lock may need — a cancel, a confirmation — and would
        # otherwise deadlock against this booking.
        User.objects.select_for_update(no_key=True).filter(pk=resident.pk).values_list("pk").get()
        resident.refresh_from_db(fields=["home_grid"])
        service = (
            Service.objects.select_related("organisation")
            .prefetch_related("area_grids", "area_communities", "area_streets")
            .filter(pk=service_id)
            .first()
        )
        if service is None:
            raise exceptions.ServiceNotFound()
        check_can_order(service=service, resident=resident, today=timezone.localdate(now))
        session = None
        if service.is_sessions:
            if session_id is None:
                raise exceptions.SessionNotBookable(_("Choose a session."))
            session = Session.objects.select_for_update().filter(pk=session_id, service=service).first()
            if session is None or session.cancelled or session.starts_at <= now:
                raise exceptions.SessionNotBookable()
            if (
                Order.objects.filter(session=session, resident=resident)
                .exclude(status=Order.Status.CANCELLED)
                .exists()
            ):
                raise exceptions.AlreadyBooked()
            if session.booked >= session.capacity:
                raise exceptions.SessionFull()
        elif Order.objects.filter(service=service, resident=resident, status__in=Order.ACTIVE).exists():
            raise GongzhiError(
                _("You already have an open request for this service: see My orders."),
                code="already_requested",
            )
        direct = service.organisation_id is not None
        try:
            with transaction.atomic():
                order = Order.objects.create(
                    service=service,
                    session=session,
                    resident=resident,
                    placed_by=actor,
                    channel=channel,
                    note=note,
                    grid_id=resident.home_grid_id,
                    organisation_id=service.organisation_id,
                    status=Order.Status.DISPATCHED if direct else Order.Status.ORDERED,
                    stage_started_at=now,
                    dispatched_at=now if direct else None,
                )
        except IntegrityError:
            raise exceptions.AlreadyBooked() from None
        if session is not None:
            Session.objects.filter(pk=session.pk).update(booked=F("booked") + 1)
        _event(order, OrderEvent.Kind.ORDERED, actor, note=note)
        if direct:
            _event(order, OrderEvent.Kind.DISPATCHED, None, organisation=service.organisation)
            _tell(
                _org_admins(service.organisation_id),
                title=_("New order: %(title)s") % {"title": service.title},
                body=_when(order),
                order=order,
                key=f"order-new:{order.pk}",
            )
        _tell(
            [resident],
            title=_("Order placed: %(title)s") % {"title": service.title},
            body=_when(order),
            order=order,
            key=f"order-placed:{order.pk}",
        )
    return order


def _when(order: Order) -> str:
    if order.session_id:
        return timezone.localtime(order.session.starts_at).strftime("%m-%d %H:%M")
    return order.note


# --- the loop ------------------------------------------------------------------------------------------
def _locked_order(order_id: int) -> Order:
    """Lock an order (after its session, the lock order everywhere) and return it with what checks need."""
    row = Order.objects.filter(pk=order_id).values("session_id").first()
    if row is None:
        raise exceptions.OrderNotFound()
    if row["session_id"]:
        Session.objects.select_for_update().filter(pk=row["session_id"]).values_list("pk").get()
    return (
        Order.objects.select_for_update(of=("self",))
        .select_related("service", "session", "resident", "grid__community", "organisation")
        .get(pk=order_id)
    )


def _move(order: Order, status: str) -> None:
    order.status = status
    order.stage_started_at = timezone.now()
    order.escalation = 0


def _save(order: Order, *fields) -> None:
    order.save(update_fields=["status", "stage_started_at", "escalation", *fields])


def _check_staff_for(actor: User, order: Order) -> None:
    scope = scope_for(actor)
    if not scope.is_staff or not scope.can_view(order):
        raise OutOfScope()


def _check_org_admin(actor: User, organisation_id: int | None) -> None:
    scope = scope_for(actor)
    if not (scope.superuser or (organisation_id and organisation_id in scope.admin_org_ids)):
        raise NotAllowed(_("Only an administrator of the organisation can do this."), code="not_org_admin")


def organisation_serves(organisation: Organisation, grid: Grid) -> bool:
    if organisation.street_id != grid.community.street_id:
        return False
    return organisation.community_id is None or organisation.community_id == grid.community_id


def do_dispatch_order(*, actor: User, order_id: int, organisation_id: int) -> Order:
    """派单: staff of the resident's area send a waiting order to an approved organisation."""
    with transaction.atomic():
        order = _locked_order(order_id)
        _check_staff_for(actor, order)
        if order.status != Order.Status.ORDERED:
            raise exceptions.WrongStage()
        organisation = Organisation.objects.filter(
            pk=organisation_id, status=Organisation.Status.APPROVED
        ).first()
        if organisation is None:
            raise GongzhiError(_("Choose an approved organisation."), code="organisation_required")
        if not organisation_serves(organisation, order.grid):
            raise GongzhiError(
                _("This organisation does not serve the resident's area."), code="organisation_out_of_area"
            )
        order.organisation = organisation
        order.dispatched_at = timezone.now()
        _move(order, Order.Status.DISPATCHED)
        _save(order, "organisation", "dispatched_at")
        _event(order, OrderEvent.Kind.DISPATCHED, actor, organisation=organisation)
        _tell(
            _org_admins(organisation.pk),
            title=_("New order: %(title)s") % {"title": order.service.title},
            body=_when(order),
            order=order,
            key=f"order-dispatched:{order.pk}:{order.dispatched_at.timestamp()}",
        )
    return order


def do_claim_order(*, actor: User, order_id: int, organisation_id: int) -> Order:
    """派单 by claiming: an organisation serving the resident's area takes a waiting order and accepts it."""
    _check_org_admin(actor, organisation_id)
    with transaction.atomic():
        order = _locked_order(order_id)
        # Only a superuser gets here with an id of no organisation of theirs: answer, not crash.
        organisation = Organisation.objects.filter(pk=organisation_id).first()
        if organisation is None:
            raise GongzhiError(_("Choose an approved organisation."), code="organisation_required")
        if order.status != Order.Status.ORDERED:
            if order.organisation_id and order.organisation_id != organisation_id:
                raise exceptions.TakenByAnother()
            raise exceptions.WrongStage()
        if organisation.status != Organisation.Status.APPROVED or not organisation_serves(
            organisation, order.grid
        ):
            raise OutOfScope(_("This order is outside your organisation's area."))
        if order.events.filter(kind=OrderEvent.Kind.DECLINED, organisation=organisation).exists():
            raise exceptions.WrongStage(_("Your organisation has declined this order before."))
        now = timezone.now()
        order.organisation = organisation
        order.dispatched_at = order.accepted_at = now
        _move(order, Order.Status.ACCEPTED)
        _save(order, "organisation", "dispatched_at", "accepted_at")
        _event(order, OrderEvent.Kind.CLAIMED, actor, organisation=organisation)
        _event(order, OrderEvent.Kind.ACCEPTED, actor, organisation=organisation)
        _tell_accepted(order)
    return order


def _tell_accepted(order: Order) -> None:
    _tell(
        [order.resident],
        title=_("Order accepted: %(title)s") % {"title": order.service.title},
        body=_("%(organisation)s will serve you.") % {"organisation": order.organisation},
        order=order,
        key=f"order-accepted:{order.pk}",
    )


def do_accept_order(*, actor: User, order_id: int) -> Order:
    """接单: the organisation the order was dispatched to accepts it."""
    with transaction.atomic():
        order = _locked_order(order_id)
        scope = scope_for(actor)
        if order.organisation_id and order.organisation_id not in scope.admin_org_ids and not scope.superuser:
            if scope.admin_org_ids:
                raise exceptions.TakenByAnother()
            raise NotAllowed(
                _("Only an administrator of the organisation can do this."), code="not_org_admin"
            )
        if order.status != Order.Status.DISPATCHED:
            if order.status == Order.Status.ACCEPTED:
                return order  # a second tap on "accept"
            raise exceptions.WrongStage()
        order.accepted_at = timezone.now()
        _move(order, Order.Status.ACCEPTED)
        _save(order, "accepted_at")
        _event(order, OrderEvent.Kind.ACCEPTED, actor, organisation=order.organisation)
        _tell_accepted(order)
    return order


def do_decline_order(*, actor: User, order_id: int, reason: str) -> Order:
    """The organisation declines (with a reason): the order goes back to the centre to be dispatched."""
    reason = _clean_reason(reason)
    with transaction.atomic():
        order = _locked_order(order_id)
        _check_org_admin(actor, order.organisation_id)
        if order.status != Order.Status.DISPATCHED:
            raise exceptions.WrongStage()
        declined_by = order.organisation
        order.organisation = None
        order.dispatched_at = None
        _move(order, Order.Status.ORDERED)
        _save(order, "organisation", "dispatched_at")
        _event(order, OrderEvent.Kind.DECLINED, actor, organisation=declined_by, note=reason)
        _tell(
            _community_staff(order.grid),
            title=_("Order declined, to dispatch again: %(title)s") % {"title": order.service.title},
            body=f"{declined_by}：{reason}",
            order=order,
            key=f"order-declined:{order.pk}:{order.stage_started_at.timestamp()}",
        )
    return order


def do_assign_volunteers(*, actor: User, order_id: int, person_ids: list[int]) -> Order:
    """The organisation sends its members to deliver (they are the ones awarded when it is confirmed)."""
    with transaction.atomic():
        order = _locked_order(order_id)
        _check_org_admin(actor, order.organisation_id)
        if order.status != Order.Status.ACCEPTED:
            raise exceptions.WrongStage()
        ids = {int(pk) for pk in person_ids}
        members = set(
            Membership.objects.filter(
                organisation_id=order.organisation_id, person_id__in=ids, status=Membership.Status.ACTIVE
            ).values_list("person_id", flat=True)
        )
        if not ids or members != ids:
            raise exceptions.NotAMember()
        have = set(order.assignments.values_list("person_id", flat=True))
        for person in User.objects.filter(pk__in=ids - have).order_by("pk"):
            OrderAssignment.objects.create(order=order, person=person, assigned_by=actor)
            _event(order, OrderEvent.Kind.ASSIGNED, actor, note=person.name)
            notify(
                recipient=person,
                category="services",
                title=_("You are to deliver: %(title)s") % {"title": order.service.title},
                body=_when(order),
                url=_order_url(order),
                key=f"order-assigned:{order.pk}:{person.pk}",
            )
    return order


def can_deliver(actor: User, order: Order) -> bool:
    """The organisation's members, the grid's grid worker, or an assigned volunteer may record delivery."""
    scope = scope_for(actor)
    if scope.superuser or (order.organisation_id and order.organisation_id in scope.member_org_ids):
        return True
    if order.grid_id in scope.grid_ids:
        return True
    return order.assignments.filter(person=actor).exists()


def do_check_in_at_door(*, actor: User, order_id: int, token: str) -> Order:
    """The deliverer scans the resident's QR card at the door: proof of the visit (first scan kept)."""
    beneficiary = read_card(token)
    with transaction.atomic():
        order = _locked_order(order_id)
        if not can_deliver(actor, order):
            raise OutOfScope()
        if beneficiary.person_id != order.resident_id:
            raise exceptions.InvalidCard(_("This card belongs to someone else."))
        if order.status != Order.Status.ACCEPTED:
            raise exceptions.WrongStage()
        if order.checked_in_at is None:
            order.checked_in_at = timezone.now()
            order.save(update_fields=["checked_in_at"])
            _event(order, OrderEvent.Kind.CHECKED_IN, actor)
    return order


def do_deliver_order(*, actor: User, order_id: int, note: str = "") -> Order:
    """上菜: record that the service was delivered; the resident is asked to confirm and rate.

    A resident with a mobile number gets an SMS code to give the deliverer if they have no smartphone.
    """
    with transaction.atomic():
        order = _locked_order(order_id)
        if not can_deliver(actor, order):
            raise OutOfScope()
        if order.status != Order.Status.ACCEPTED:
            if order.status == Order.Status.DELIVERED:
                return order
            raise exceptions.WrongStage()
        _deliver(order, actor, note)
    return order


def _deliver(order: Order, actor: User, note: str = "") -> None:
    order.delivered_at = timezone.now()
    order.delivered_by = actor
    code = None
    if order.resident.phone:
        code = f"{secrets.randbelow(10**6):06d}"
        order.sms_code_hash = make_password(code)
        order.sms_code_attempts = 0
    _move(order, Order.Status.DELIVERED)
    _save(order, "delivered_at", "delivered_by", "sms_code_hash", "sms_code_attempts")
    _event(order, OrderEvent.Kind.DELIVERED, actor, note=one_line(note))
    body = _("Please confirm and rate it in My orders.")
    if code:
        body += " " + _("No smartphone? Give code %(code)s and your rating to the person who served you.") % {
            "code": code
        }
    _tell(
        [order.resident],
        title=_("Delivered: %(title)s") % {"title": order.service.title},
        body=body,
        order=order,
        key=f"order-delivered:{order.pk}",
    )


# --- confirmation and rating (评单) ---------------------------------------------------------------------
def do_confirm_order(
    *,
    actor: User,
    order_id: int,
    rating: int,
    comment: str = "",
    card: str | None = None,
    sms_code: str | None = None,
) -> Order:
    """评单: the resident confirms delivery and rates it 1–5 — online, or on the deliverer's phone by
    their QR card or the SMS code they received. Exactly once: a replay or a race gets AlreadyRated and
    changes nothing; the volunteers' points are posted with keys derived from the order."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise GongzhiError(_("Choose a rating from 1 to 5 stars."), code="bad_rating")
    comment = one_line(comment, 300)
    via = Order.ConfirmedVia.WEB
    beneficiary = None
    if card:
        beneficiary = read_card(card)
        via = Order.ConfirmedVia.CARD
    elif sms_code is not None:
        via = Order.ConfirmedVia.SMS
    wrong_code = False
    with transaction.atomic():
        order = _locked_order(order_id)
        if via == Order.ConfirmedVia.WEB and actor.pk != order.resident_id:
            raise NotAllowed(_("Only the resident can confirm online."), code="not_resident")
        if via == Order.ConfirmedVia.CARD and beneficiary.person_id != order.resident_id:
            raise exceptions.InvalidCard(_("This card belongs to someone else."))
        if via != Order.ConfirmedVia.WEB and not can_deliver(actor, order):
            raise OutOfScope()
        if order.status in (Order.Status.COMPLETED, Order.Status.CLOSED):
            raise exceptions.AlreadyRated()
        if order.status != Order.Status.DELIVERED:
            raise exceptions.NotDelivered()
        if via == Order.ConfirmedVia.SMS and not _sms_code_ok(order, sms_code):
            # Kept (the transaction commits with only this change), so guessing stays limited.
            Order.objects.filter(pk=order.pk).update(sms_code_attempts=F("sms_code_attempts") + 1)
            wrong_code = True
        else:
            _confirm(order, actor=actor, rating=rating, comment=comment, via=via)
    if wrong_code:
        raise exceptions.WrongCode()
    return order


def _confirm(order: Order, *, actor: User, rating: int, comment: str, via: str) -> None:
    order.rating = rating
    order.comment = comment
    order.confirmed_via = via
    order.finished_at = timezone.now()
    order.sms_code_hash = ""
    _move(order, Order.Status.COMPLETED)
    _save(order, "rating", "comment", "confirmed_via", "finished_at", "sms_code_hash")
    _event(order, OrderEvent.Kind.CONFIRMED, actor, note=f"{rating}★ {comment}".strip())
    _settle_award(order, rating=rating)


def _sms_code_ok(order: Order, code) -> bool:
    if not order.sms_code_hash or order.sms_code_attempts >= SMS_CODE_MAX_ATTEMPTS:
        raise exceptions.WrongCode(_("No valid code for this order: ask the resident to confirm by card."))
    code = "".join(ch for ch in str(code or "") if ch.isdigit())
    return len(code) == 6 and check_password(code, order.sms_code_hash)


def award_recipients(order: Order) -> list[int]:
    """The volunteers the organisation assigned and whoever recorded the delivery, each once."""
    ids = set(order.assignments.values_list("person_id", flat=True))
    if order.delivered_by_id:
        ids.add(order.delivered_by_id)
    ids.discard(order.resident_id)
    return sorted(ids)


def _settle_award(order: Order, *, rating: int | None) -> None:
    """Release the volunteers' points now, or hold them for staff when the rating is poor (or missing)."""
    if not order.service.points_per_delivery or not award_recipients(order):
        return
    hold_at = OrderRules.load().hold_rating
    if rating is None or (hold_at and rating <= hold_at):
        order.award = Order.Award.HELD
        order.save(update_fields=["award"])
        _event(order, OrderEvent.Kind.AWARD_HELD, None)
        _tell(
            _community_staff(order.grid),
            title=_("Points held for review: %(title)s") % {"title": order.service.title},
            body=_("Rating: %(rating)s") % {"rating": rating or "—"},
            order=order,
            key=f"order-award-held:{order.pk}",
        )
        return
    _release(order, actor=None)


def _release(order: Order, *, actor) -> None:
    amount = order.service.points_per_delivery
    recipients = award_recipients(order)
    lock_accounts(recipients, Account.Unit.POINTS)
    for person_id in recipients:
        do_post(
            person_id=person_id,
            amount=amount,
            kind=Entry.Kind.ORDER_SERVICE,
            key=f"order:{order.pk}:person:{person_id}",
            reason=record_text(gettext_noop("Service delivered: %(title)s"), title=order.service.title[:80]),
            source=f"order:{order.pk}",
            actor=actor,
        )
    order.award = Order.Award.RELEASED
    order.save(update_fields=["award"])
    _event(order, OrderEvent.Kind.AWARD_RELEASED, actor)
    for person in User.objects.filter(pk__in=recipients):
        notify(
            recipient=person,
            category="points",
            title=_("Points awarded: %(points)s") % {"points": amount},
            body=order.service.title,
            url=reverse("points:mine"),
            key=f"order-award:{order.pk}:{person.pk}",
        )


def do_review_award(*, actor: User, order_id: int, release: bool, reason: str = "") -> Order:
    """Staff decide on points held after a poor rating or an unconfirmed delivery."""
    with transaction.atomic():
        order = _locked_order(order_id)
        _check_staff_for(actor, order)
        if order.award != Order.Award.HELD:
            raise exceptions.WrongStage(_("These points are not waiting for review."))
        if release:
            _release(order, actor=actor)
        else:
            reason = _clean_reason(reason)
            order.award = Order.Award.WITHHELD
            order.save(update_fields=["award"])
            _event(order, OrderEvent.Kind.AWARD_WITHHELD, actor, note=reason)
    return order


def do_cancel_order(*, actor: User, order_id: int, reason: str = "") -> Order:
    """The resident (or whoever ordered for them, or staff) cancels before an organisation accepts."""
    with transaction.atomic():
        order = _locked_order(order_id)
        if actor.pk not in (order.resident_id, order.placed_by_id):
            _check_staff_for(actor, order)
        if order.status == Order.Status.CANCELLED:
            return order
        if order.status not in Order.OPEN:
            raise exceptions.WrongStage(
                _("The organisation has accepted this order: contact them to cancel.")
            )
        _move(order, Order.Status.CANCELLED)
        order.finished_at = timezone.now()
        _save(order, "finished_at")
        if order.session_id:
            Session.objects.filter(pk=order.session_id).update(booked=F("booked") - 1)
        _event(order, OrderEvent.Kind.CANCELLED, actor, note=one_line(reason))
        if order.organisation_id:
            _tell(
                _org_admins(order.organisation_id),
                title=_("Order cancelled: %(title)s") % {"title": order.service.title},
                body=_when(order),
                order=order,
                key=f"order-cancelled:{order.pk}",
            )
    return order


# --- dining points and classes --------------------------------------------------------------------------
def can_run_sessions(actor: User, service: Service) -> bool:
    """Who keeps a session service's rosters and scans its beneficiaries in: the members of its
    organisation and whoever may change the service (its organisation's admins, staff of its area)."""
    scope = scope_for(actor)
    return bool(
        scope.superuser
        or (service.organisation_id and service.organisation_id in scope.member_org_ids)
        or scope.can_change(service)
    )


def do_record_attendance(*, actor: User, session_id: int, token: str) -> tuple[Order, bool]:
    """Scan a beneficiary's QR card at a session: their booking is marked attended (and, the meal or
    class being the service, delivered). A repeat scan returns the first result. Returns (order, new)."""
    beneficiary = read_card(token)
    session = Session.objects.select_related("service").filter(pk=session_id).first()
    if session is None:
        raise exceptions.SessionNotBookable()
    if not can_run_sessions(actor, session.service):
        raise OutOfScope()
    if timezone.localdate(session.starts_at) > timezone.localdate():
        # A card scanned at today's lunch must not tick off next week's booking by mistake.
        raise exceptions.SessionNotBookable(_("Attendance can be recorded from the day of the session."))
    order_id = (
        Order.objects.filter(session=session, resident=beneficiary.person)
        .exclude(status=Order.Status.CANCELLED)
        .values_list("pk", flat=True)
        .first()
    )
    if order_id is None:
        raise GongzhiError(
            _("%(name)s has not booked this session.") % {"name": beneficiary.person.masked_name},
            code="not_booked",
            status=404,
        )
    with transaction.atomic():
        order = _locked_order(order_id)
        if order.attended_at is not None:
            return order, False
        order.attended_at = timezone.now()
        order.save(update_fields=["attended_at"])
        _event(order, OrderEvent.Kind.ATTENDED, actor)
        if order.status == Order.Status.DISPATCHED:
            order.accepted_at = timezone.now()
            _move(order, Order.Status.ACCEPTED)
            _save(order, "accepted_at")
            _event(order, OrderEvent.Kind.ACCEPTED, actor, organisation=order.organisation)
        if order.status == Order.Status.ACCEPTED:
            _deliver(order, actor)
    return order, True


# --- deadlines and escalation ------------------------------------------------------------------------------
def stage_deadline(order: Order, rules: OrderRules) -> datetime | None:
    hours = {
        Order.Status.ORDERED: rules.dispatch_hours,
        Order.Status.DISPATCHED: rules.accept_hours,
        Order.Status.ACCEPTED: rules.deliver_hours,
        Order.Status.DELIVERED: rules.confirm_hours,
    }.get(order.status)
    if hours is None:
        return None
    if order.status == Order.Status.ACCEPTED and order.session_id:
        return order.session.ends_at
    return order.stage_started_at + timedelta(hours=hours)


def _responsible(order: Order):
    if order.status == Order.Status.ORDERED:
        return _community_staff(order.grid)
    if order.status in (Order.Status.DISPATCHED, Order.Status.ACCEPTED):
        people = list(_org_admins(order.organisation_id)) if order.organisation_id else []
        people += [a.person for a in order.assignments.select_related("person")]
        return people
    return [order.resident]


def escalate_stalled_orders(*, now: datetime | None = None) -> dict[str, int]:
    """Periodic (Celery beat): remind whoever holds a stalled order once its stage's deadline passes,
    tell community staff when it has stalled as long again, and close deliveries left unconfirmed for
    `auto_close_days` (their points wait for staff). Each step is taken under the order's lock and
    recorded in `escalation`, so a run repeated or overlapping does nothing twice."""
    now = now or timezone.now()
    rules = OrderRules.load()
    counts = {"reminded": 0, "escalated": 0, "closed": 0}
    # Read without locks first and lock only the orders past their deadline: every active order is a
    # candidate, but few are due on any one run.
    candidates = [
        order.pk
        for order in Order.objects.filter(status__in=Order.ACTIVE, escalation__lt=2)
        .select_related("session")
        .only("status", "stage_started_at", "session_id", "session__ends_at")
        if (deadline := stage_deadline(order, rules)) is not None and now >= deadline
    ]
    closing = Order.objects.filter(
        status=Order.Status.DELIVERED, delivered_at__lte=now - timedelta(days=rules.auto_close_days)
    ).values_list("pk", flat=True)
    for order_id in closing:
        with transaction.atomic():
            order = _locked_order(order_id)
            if order.status != Order.Status.DELIVERED:
                continue
            order.finished_at = now
            order.sms_code_hash = ""
            _move(order, Order.Status.CLOSED)
            _save(order, "finished_at", "sms_code_hash")
            _event(order, OrderEvent.Kind.CLOSED, None)
            _settle_award(order, rating=None)
            counts["closed"] += 1
    for order_id in candidates:
        with transaction.atomic():
            order = _locked_order(order_id)
            if order.status not in Order.ACTIVE or order.escalation >= 2:
                continue
            deadline = stage_deadline(order, rules)
            if deadline is None or now < deadline:
                continue
            span = deadline - order.stage_started_at
            if order.session_id and order.status == Order.Status.ACCEPTED:
                # A booking accepted days ahead is due when its session ends; staff should hear of a
                # missed delivery a stage's length after that, not as many days later again.
                span = min(max(span, timedelta(0)), timedelta(hours=rules.deliver_hours))
            overdue_twice = now >= deadline + span
            stage = order.get_status_display()
            if order.escalation == 0:
                _tell(
                    _responsible(order),
                    title=_("Reminder: %(title)s is waiting") % {"title": order.service.title},
                    body=_("Stage: %(stage)s") % {"stage": stage},
                    order=order,
                    key=f"order-remind:{order.pk}:{order.status}:{order.stage_started_at.timestamp()}",
                )
                order.escalation = 1
                order.save(update_fields=["escalation"])
                _event(order, OrderEvent.Kind.REMINDED, None, note=stage)
                counts["reminded"] += 1
                if not overdue_twice:
                    continue
            if order.escalation == 1 and overdue_twice:
                _tell(
                    _community_staff(order.grid),
                    title=_("Stalled order: %(title)s") % {"title": order.service.title},
                    body=_("Stage: %(stage)s, since %(since)s")
                    % {
                        "stage": stage,
                        "since": timezone.localtime(order.stage_started_at).strftime("%m-%d %H:%M"),
                    },
                    order=order,
                    key=f"order-escalate:{order.pk}:{order.status}:{order.stage_started_at.timestamp()}",
                )
                order.escalation = 2
                order.save(update_fields=["escalation"])
                _event(order, OrderEvent.Kind.ESCALATED, None, note=stage)
                counts["escalated"] += 1
    return counts
