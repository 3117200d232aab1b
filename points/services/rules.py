"""The rule engine: how many points an attendance earns, and a step-by-step account of why.

`compute(rule, facts)` is a pure function of two plain values, so every rule can be tested without a
database and the admin preview runs exactly the code that awards. The order is fixed and stated in
each explanation:

1. which rule applies (the category's active rule, else the active default rule, else the task's own
   points with no multipliers or caps);
2. minimum presence: shorter attendance earns nothing (its minutes still count as service hours);
3. base: the task's points, a fixed amount, or points per verified hour (pro rata by the minute);
4. multipliers, multiplied together: night (the middle of the attendance falls in the night window),
   holiday (the attendance starts on a Holiday date), identity (the best of the person's verified
   identities; identities do not stack);
5. rounding to a whole point, half up;
6. the daily cap, then the monthly cap, against what the person was already awarded that day and month
   (pending, approved and posted awards; rejected and reversed ones do not use the cap).

`facts_for_*` and `rule_for_category` gather the inputs from the database.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from volunteers.models import IdentityClaim, IdentityKind

from ..models import Award, Holiday, PointsRule

ONE = Decimal("1")
CAP_STATUSES = (Award.Status.PENDING, Award.Status.APPROVED, Award.Status.POSTED)


@dataclass(frozen=True)
class RuleSpec:
    """What the engine needs of a rule. `PointsRule` rows become one with `RuleSpec.of`."""

    id: int | None = None
    name: str = ""
    basis: str = PointsRule.Basis.TASK
    base_points: int = 0
    points_per_hour: int = 0
    min_minutes: int = 0
    night_multiplier: Decimal = ONE
    night_starts: time = time(22, 0)
    night_ends: time = time(6, 0)
    holiday_multiplier: Decimal = ONE
    identity_multipliers: dict = field(default_factory=dict)
    daily_cap: int | None = None
    monthly_cap: int | None = None
    needs_approval: bool = False

    @classmethod
    def of(cls, rule: PointsRule | None) -> "RuleSpec | None":
        if rule is None:
            return None
        return cls(
            id=rule.pk,
            name=rule.name,
            basis=rule.basis,
            base_points=rule.base_points,
            points_per_hour=rule.points_per_hour,
            min_minutes=rule.min_minutes,
            night_multiplier=Decimal(rule.night_multiplier),
            night_starts=rule.night_starts,
            night_ends=rule.night_ends,
            holiday_multiplier=Decimal(rule.holiday_multiplier),
            identity_multipliers={k: Decimal(str(v)) for k, v in (rule.identity_multipliers or {}).items()},
            daily_cap=rule.daily_cap,
            monthly_cap=rule.monthly_cap,
            needs_approval=rule.needs_approval,
        )


@dataclass(frozen=True)
class AttendanceFacts:
    start: datetime  # aware; the later of check-in and the task's start
    end: datetime  # aware; the earlier of check-out and the task's end
    minutes: int  # verified minutes
    task_points: int = 0
    identities: frozenset = frozenset()  # the person's verified identity kinds
    holiday: str = ""  # the holiday's name if the attendance starts on one
    earned_today: int = 0
    earned_this_month: int = 0


@dataclass(frozen=True)
class Step:
    code: str
    points: str  # the running amount after this step, as text (a Decimal before rounding)
    params: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"code": self.code, "points": self.points, "params": self.params}


@dataclass(frozen=True)
class Computation:
    points: int
    needs_approval: bool
    rule_id: int | None
    steps: tuple[Step, ...]

    def explanation(self) -> list[dict]:
        return [step.as_json() for step in self.steps]


def _in_window(moment: time, starts: time, ends: time) -> bool:
    if starts <= ends:
        return starts <= moment < ends
    return moment >= starts or moment < ends  # the window runs over midnight


def _text(value: Decimal) -> str:
    value = value.normalize()
    return f"{value:f}"


def compute(rule: RuleSpec | None, facts: AttendanceFacts) -> Computation:
    """Points for one attendance under `rule` (None: no rule configured). Pure: no database, no clock."""
    steps: list[Step] = []

    def step(code, amount, **params):
        steps.append(Step(code, _text(Decimal(amount)), params))

    if rule is None:
        step("no_rule", facts.task_points, task_points=facts.task_points)
        return Computation(max(facts.task_points, 0), False, None, tuple(steps))

    step("rule", 0, rule=rule.name, rule_id=rule.id)
    if facts.minutes < rule.min_minutes:
        step("below_minimum", 0, minutes=facts.minutes, min_minutes=rule.min_minutes)
        return Computation(0, rule.needs_approval, rule.id, tuple(steps))

    if rule.basis == PointsRule.Basis.PER_HOUR:
        amount = Decimal(rule.points_per_hour) * facts.minutes / 60
        step("base_per_hour", amount, per_hour=rule.points_per_hour, minutes=facts.minutes)
    elif rule.basis == PointsRule.Basis.PER_ATTENDANCE:
        amount = Decimal(rule.base_points)
        step("base_fixed", amount, base=rule.base_points)
    else:
        amount = Decimal(facts.task_points)
        step("base_task", amount, task_points=facts.task_points)

    if rule.night_multiplier != ONE:
        middle = timezone.localtime(facts.start + (facts.end - facts.start) / 2).time()
        params = {
            "middle": middle.strftime("%H:%M"),
            "starts": rule.night_starts.strftime("%H:%M"),
            "ends": rule.night_ends.strftime("%H:%M"),
            "multiplier": _text(rule.night_multiplier),
        }
        if _in_window(middle, rule.night_starts, rule.night_ends):
            amount *= rule.night_multiplier
            step("night", amount, **params)
        else:
            step("not_night", amount, **params)

    if rule.holiday_multiplier != ONE:
        day = timezone.localdate(facts.start).isoformat()
        if facts.holiday:
            amount *= rule.holiday_multiplier
            step("holiday", amount, day=day, holiday=facts.holiday, multiplier=_text(rule.holiday_multiplier))
        else:
            step("not_holiday", amount, day=day)

    if rule.identity_multipliers:
        held = sorted(
            ((m, kind) for kind, m in rule.identity_multipliers.items() if kind in facts.identities),
            key=lambda pair: (pair[0], pair[1]),
        )
        if held:
            best, kind = held[-1]
            amount *= best
            step("identity", amount, identity=kind, multiplier=_text(best))
        else:
            step("no_identity", amount)

    points = int(amount.quantize(ONE, rounding=ROUND_HALF_UP))
    if Decimal(points) != amount:
        step("rounded", points)

    for code, cap, used in (
        ("daily_cap", rule.daily_cap, facts.earned_today),
        ("monthly_cap", rule.monthly_cap, facts.earned_this_month),
    ):
        if cap is None:
            continue
        room = max(cap - used, 0)
        if points > room:
            points = room
            step(code, points, cap=cap, used=used)

    step("result", points)
    return Computation(points, rule.needs_approval, rule.id, tuple(steps))


def describe(step: dict) -> str:
    """One explanation step as a sentence in the reader's language."""
    p = step.get("params", {})
    texts = {
        "no_rule": lambda: _("No points rule applies: the task's own %(task_points)s points.") % p,
        "rule": lambda: _("Rule “%(rule)s” applies.") % p,
        "below_minimum": lambda: (
            _("Present %(minutes)s minutes, less than the minimum of %(min_minutes)s: no points.") % p
        ),
        "base_per_hour": lambda: _("Base: %(per_hour)s points per hour × %(minutes)s minutes.") % p,
        "base_fixed": lambda: _("Base: %(base)s points per attendance.") % p,
        "base_task": lambda: _("Base: the task's %(task_points)s points.") % p,
        "night": lambda: (
            _("Night (middle of attendance %(middle)s, night %(starts)s–%(ends)s): × %(multiplier)s.") % p
        ),
        "not_night": lambda: (
            _("Not at night (middle of attendance %(middle)s, night %(starts)s–%(ends)s).") % p
        ),
        "holiday": lambda: _("Holiday %(holiday)s (%(day)s): × %(multiplier)s.") % p,
        "not_holiday": lambda: _("%(day)s is not a holiday.") % p,
        "identity": lambda: (
            _("Verified identity %(identity)s: × %(multiplier)s.")
            % {**p, "identity": _identity_label(p.get("identity", ""))}
        ),
        "no_identity": lambda: _("No verified identity with a multiplier."),
        "rounded": lambda: _("Rounded to a whole point."),
        "daily_cap": lambda: _("Daily cap %(cap)s, %(used)s already awarded that day.") % p,
        "monthly_cap": lambda: _("Monthly cap %(cap)s, %(used)s already awarded that month.") % p,
        "result": lambda: _("Points awarded."),
    }
    text = texts.get(step.get("code"))
    return text() if text else str(step.get("code", ""))


def _identity_label(kind: str) -> str:
    try:
        return str(IdentityKind(kind).label)
    except ValueError:
        return kind


# --- gathering the inputs ---------------------------------------------------------------------------------
def rule_for_category(category_id: int | None) -> PointsRule | None:
    """The category's active rule, else the active default rule, else None."""
    rules = PointsRule.objects.filter(active=True)
    if category_id is not None:
        own = rules.filter(category_id=category_id).first()
        if own is not None:
            return own
    return rules.filter(category__isnull=True).first()


def earned(person_id: int, day: date, *, exclude_key: str = "") -> tuple[int, int]:
    """Attendance points already awarded to the person on `day` and in its month (for the caps)."""
    awards = Award.objects.filter(person_id=person_id, status__in=CAP_STATUSES).exclude(key=exclude_key)
    month = awards.filter(worked_on__year=day.year, worked_on__month=day.month)
    totals = month.aggregate(month=Sum("points"), day=Sum("points", filter=Q(worked_on=day)))
    return totals["day"] or 0, totals["month"] or 0


def facts_for(
    *, person_id: int, start: datetime, end: datetime, minutes: int, task_points: int, exclude_key: str = ""
) -> AttendanceFacts:
    day = timezone.localdate(start)
    today, this_month = earned(person_id, day, exclude_key=exclude_key)
    identities = IdentityClaim.objects.filter(
        person_id=person_id, status=IdentityClaim.Status.VERIFIED
    ).values_list("kind", flat=True)
    holiday = Holiday.objects.filter(date=day).values_list("name", flat=True).first()
    return AttendanceFacts(
        start=start,
        end=end,
        minutes=minutes,
        task_points=task_points,
        identities=frozenset(identities),
        holiday=holiday or "",
        earned_today=today,
        earned_this_month=this_month,
    )


def attendance_window(attendance) -> tuple[datetime, datetime]:
    """The verified part of an attendance: check-in to check-out, within the task's time."""
    task = attendance.signup.task
    start = max(attendance.checked_in_at or task.starts_at, task.starts_at)
    end = min(attendance.checked_out_at or task.ends_at, task.ends_at)
    return start, max(end, start)


def preview_attendance(attendance, *, minutes: int | None = None) -> Computation:
    """What `request_attendance_award` would compute for this attendance now (for the admin preview)."""
    task = attendance.signup.task
    start, end = attendance_window(attendance)
    if minutes is None:
        minutes = attendance.verified_minutes
        if minutes is None:
            minutes = int((end - start).total_seconds() // 60)
    facts = facts_for(
        person_id=attendance.signup.person_id,
        start=start,
        end=end,
        minutes=minutes,
        task_points=task.points,
        exclude_key=f"attendance:{attendance.pk}",
    )
    return compute(RuleSpec.of(rule_for_category(task.category_id)), facts)


def preview_manual(
    *,
    person_id: int | None,
    category_id: int | None,
    start: datetime,
    end: datetime,
    minutes: int,
    task_points: int,
) -> Computation:
    """The same computation for values typed in by staff (a person is optional: without one, no
    identities and nothing already awarded)."""
    if person_id is not None:
        facts = facts_for(person_id=person_id, start=start, end=end, minutes=minutes, task_points=task_points)
    else:
        day = timezone.localdate(start)
        holiday = Holiday.objects.filter(date=day).values_list("name", flat=True).first()
        facts = AttendanceFacts(
            start=start, end=end, minutes=minutes, task_points=task_points, holiday=holiday or ""
        )
    return compute(RuleSpec.of(rule_for_category(category_id)), facts)
