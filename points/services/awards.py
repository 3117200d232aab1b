"""Awards from attendance: request (from grid tasks), approve or reject (staff), post (Celery), reverse
(staff), and staff adjustments of a person's balance.

Posting is idempotent twice over: the award row is locked and its status checked first, and each ledger
entry has a key derived from the award ("award:<id>:points", "award:<id>:minutes"), so a task delivered
twice, run concurrently, or re-run after a worker died mid-way posts each entry exactly once.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import NotAllowed
from core.notifications import notify
from core.text import one_line
from volunteers.gridtasks.models import Attendance
from volunteers.models import User
from volunteers.scopes import scope_for
from volunteers.signals import VerifiedWork

from ..exceptions import AwardNotPending, AwardNotPosted, ReasonRequired
from ..models import Account, Award, AwardEvent, Entry
from ..signals import award_approved
from . import rules
from .ledger import Posted, do_post, do_reverse, lock_accounts


def _event(award: Award, actor=None, reason: str = "") -> None:
    AwardEvent.objects.create(award=award, status=award.status, actor=actor, reason=reason[:200])


def _clean_reason(reason) -> str:
    reason = one_line(reason)
    if not reason:
        raise ReasonRequired()
    return reason[:200]


def request_attendance_award(
    *, attendance_id: int, person_id: int, minutes: int, points: int, category_id: int
) -> bool:
    """Ask for the points and verified hours of a final, counting attendance.

    Contract: call inside the transaction that made the attendance final. Exactly once per attendance:
    a repeated call (a task run twice, a correction) changes nothing and returns False. `points` is the
    task's own points, the base of rules whose basis is "task". The rules decide the points (see
    `services.rules`); an automatic award is posted by `post_award` after the caller commits (queued
    through `signals.award_approved`), a held one waits for staff.
    """
    key = f"attendance:{attendance_id}"
    if Award.objects.filter(key=key).exists():
        return False
    # The caps add up the person's other awards; holding the person's points account serialises two
    # attendances of one person finishing at once, so both cannot fill the same room under a cap.
    lock_accounts([person_id], Account.Unit.POINTS)
    if Award.objects.filter(key=key).exists():
        return False
    attendance = Attendance.objects.select_related("signup__task").get(pk=attendance_id)
    task = attendance.signup.task
    start, end = rules.attendance_window(attendance)
    rule = rules.rule_for_category(category_id)
    result = rules.compute(
        rules.RuleSpec.of(rule),
        rules.facts_for(person_id=person_id, start=start, end=end, minutes=minutes, task_points=points),
    )
    try:
        with transaction.atomic():
            award = Award.objects.create(
                key=key,
                person_id=person_id,
                attendance=attendance,
                attendance_ref=attendance_id,
                grid_id=task.grid_id,
                category_id=category_id,
                rule=rule,
                task_title=task.title[:80],
                worked_on=timezone.localdate(start),
                minutes=minutes,
                points=result.points,
                explanation=result.explanation(),
                status=Award.Status.PENDING if result.needs_approval else Award.Status.APPROVED,
            )
    except IntegrityError:
        return False
    _event(award)
    if award.status == Award.Status.APPROVED:
        award_approved.send(sender=Award, award_id=award.pk)
    return True


def award_verified_work(sender, *, work: VerifiedWork, **kwargs) -> bool:
    """The answer to volunteers.signals.work_verified: the award of a final, counting piece of work.
    Attendance is the only work the rules know yet; work orders and patrols are to join this road."""
    if work.kind != "attendance":
        raise LookupError(f"No award is defined for {work.source}.")
    return request_attendance_award(
        attendance_id=work.ref,
        person_id=work.person_id,
        minutes=work.minutes,
        points=work.points,
        category_id=work.category_id,
    )


def _entry_reason(award: Award) -> str:
    return _("Attendance: %(title)s (%(day)s)") % {
        "title": award.task_title,
        "day": award.worked_on.isoformat(),
    }


def _post_entries(award: Award) -> None:
    """Post the award's points, then its minutes (always in this order: accounts are locked in it)."""
    common = {"person_id": award.person_id, "reason": _entry_reason(award), "source": f"award:{award.pk}"}
    actor = award.decided_by
    if award.points:
        posted = do_post(
            amount=award.points,
            kind=Entry.Kind.ATTENDANCE,
            key=f"award:{award.pk}:points",
            actor=actor,
            **common,
        )
        award.points_entry = posted.entry
    if award.minutes:
        posted = do_post(
            amount=award.minutes,
            kind=Entry.Kind.ATTENDANCE,
            key=f"award:{award.pk}:minutes",
            unit=Account.Unit.MINUTES,
            actor=actor,
            **common,
        )
        award.minutes_entry = posted.entry


def _mark_posted(award: Award) -> None:
    award.status = Award.Status.POSTED
    award.posted_at = timezone.now()
    award.save(update_fields=["status", "posted_at", "points_entry", "minutes_entry"])
    _event(award)


def do_post_award(*, award_id: int) -> Award:
    """Post an approved award's points and minutes to the ledger and mark it posted.

    Idempotent: an award already posted (or not approved) is returned unchanged. Safe to run twice at
    once (the award row is locked first) and after a crash at any point (one transaction, and ledger keys
    derived from the award). Called by the `post_award` task.
    """
    with transaction.atomic():
        award = Award.objects.select_for_update().get(pk=award_id)
        if award.status != Award.Status.APPROVED:
            return award
        _post_entries(award)
        _mark_posted(award)
        notify(
            recipient=award.person,
            category="points",
            title=_("Points awarded: %(points)s") % {"points": award.points},
            body=_("%(title)s, %(minutes)s minutes of service.")
            % {"title": award.task_title, "minutes": award.minutes},
            key=f"award-posted:{award.pk}",
        )
    return award


def _staff_award(award_id: int, actor) -> Award:
    award = Award.objects.select_for_update().select_related("person").get(pk=award_id)
    scope = scope_for(actor)
    if not scope.is_staff or not scope.can_change(award):
        raise NotAllowed()
    return award


def do_approve_award(*, award_id: int, actor, reason: str = "") -> Award:
    """Staff approve a pending award in their area; the ledger is posted by `post_award` after commit."""
    with transaction.atomic():
        award = _staff_award(award_id, actor)
        if award.status != Award.Status.PENDING:
            raise AwardNotPending()
        award.status = Award.Status.APPROVED
        award.decided_by, award.decided_at = actor, timezone.now()
        award.reason = one_line(reason, 200)
        award.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        _event(award, actor, award.reason)
        award_approved.send(sender=Award, award_id=award.pk)
    return award


def do_reject_award(*, award_id: int, actor, reason: str) -> Award:
    """Staff reject a pending award in their area, with a reason the person is told."""
    reason = _clean_reason(reason)
    with transaction.atomic():
        award = _staff_award(award_id, actor)
        if award.status != Award.Status.PENDING:
            raise AwardNotPending()
        award.status = Award.Status.REJECTED
        award.decided_by, award.decided_at, award.reason = actor, timezone.now(), reason
        award.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        _event(award, actor, reason)
        notify(
            recipient=award.person,
            category="points",
            title=_("No points for %(title)s") % {"title": award.task_title},
            body=reason,
            key=f"award-rejected:{award.pk}",
        )
    return award


def do_reverse_award(*, award_id: int, actor, reason: str) -> Award:
    """Staff take back a posted award (points and minutes) with a reason, through reversing entries.

    Refused (InsufficientPoints, nothing changed) if the person has already spent the points."""
    reason = _clean_reason(reason)
    with transaction.atomic():
        award = _staff_award(award_id, actor)
        if award.status != Award.Status.POSTED:
            raise AwardNotPosted()
        for entry_id in (award.points_entry_id, award.minutes_entry_id):
            if entry_id is not None:
                do_reverse(entry_id=entry_id, actor=actor, reason=reason)
        award.status = Award.Status.REVERSED
        award.reason = reason
        award.save(update_fields=["status", "reason"])
        _event(award, actor, reason)
        notify(
            recipient=award.person,
            category="points",
            title=_("Points taken back: %(title)s") % {"title": award.task_title},
            body=reason,
            key=f"award-reversed:{award.pk}",
        )
    return award


def do_adjust_points(
    *, person_id: int, amount: int, reason: str, actor, key: str, unit: str = Account.Unit.POINTS
) -> Posted:
    """A staff correction of a person's balance in their area: an adjustment entry with a reason.

    `key` makes a resubmitted form harmless (the admin form carries one per form shown). A negative
    amount larger than the balance is refused (InsufficientPoints)."""
    reason = _clean_reason(reason)
    person = User.objects.get(pk=person_id)
    scope = scope_for(actor)
    # Nobody corrects their own balance, even within their area.
    if person.pk == actor.pk or not scope.is_staff or not scope.can_change(person):
        raise NotAllowed()
    return do_post(
        person_id=person.pk,
        amount=amount,
        kind=Entry.Kind.ADJUSTMENT,
        key=f"adjustment:{key}",
        reason=reason,
        actor=actor,
        source=f"person:{person.pk}",
        unit=unit,
    )
