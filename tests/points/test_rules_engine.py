"""The rule engine as a pure function: base, minimum presence, multipliers, rounding, caps, and the
explanation that says which step did what. No database."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from points.models import PointsRule
from points.services.rules import AttendanceFacts, RuleSpec, compute, describe

SHANGHAI = ZoneInfo("Asia/Shanghai")


def facts(start_hour=9, minutes=120, **kwargs):
    start = datetime(2026, 5, 6, start_hour, 0, tzinfo=SHANGHAI)
    kwargs.setdefault("task_points", 20)
    return AttendanceFacts(start=start, end=start + timedelta(minutes=minutes), minutes=minutes, **kwargs)


def rule(**kwargs):
    kwargs.setdefault("id", 7)
    kwargs.setdefault("name", "巡查")
    return RuleSpec(**kwargs)


def codes(result):
    return [step.code for step in result.steps]


def test_without_a_rule_the_task_points_are_awarded_as_they_are():
    result = compute(None, facts(task_points=35, identities=frozenset({"party_member"}), holiday="劳动节"))
    assert result.points == 35 and not result.needs_approval and result.rule_id is None
    assert codes(result) == ["no_rule"]


def test_task_basis_uses_the_task_points():
    result = compute(rule(), facts(task_points=20))
    assert result.points == 20 and result.rule_id == 7
    assert codes(result) == ["rule", "base_task", "result"]


def test_fixed_basis_ignores_the_task_points():
    assert (
        compute(rule(basis=PointsRule.Basis.PER_ATTENDANCE, base_points=8), facts(task_points=99)).points == 8
    )


@pytest.mark.parametrize(("minutes", "points"), [(60, 10), (90, 15), (95, 16), (93, 16), (92, 15), (1, 0)])
def test_per_hour_basis_is_pro_rata_by_the_minute_rounded_half_up(minutes, points):
    result = compute(rule(basis=PointsRule.Basis.PER_HOUR, points_per_hour=10), facts(minutes=minutes))
    assert result.points == points


def test_attendance_below_the_minimum_earns_nothing_and_says_why():
    result = compute(rule(min_minutes=30, night_multiplier=Decimal("2")), facts(minutes=29))
    assert result.points == 0
    assert codes(result) == ["rule", "below_minimum"]
    assert result.steps[-1].params == {"minutes": 29, "min_minutes": 30}
    assert compute(rule(min_minutes=30), facts(minutes=30)).points == 20


@pytest.mark.parametrize(
    ("start_hour", "minutes", "night"),
    [
        (22, 120, True),  # 22:00–24:00, middle 23:00
        (20, 120, False),  # middle 21:00
        (21, 120, True),  # middle 22:00: the window includes its start
        (4, 120, True),  # middle 05:00, before the night ends
        (5, 120, False),  # middle 06:00: the window excludes its end
        (23, 240, True),  # over midnight, middle 01:00
    ],
)
def test_night_is_decided_by_the_middle_of_the_attendance(start_hour, minutes, night):
    result = compute(rule(night_multiplier=Decimal("1.5")), facts(start_hour=start_hour, minutes=minutes))
    assert result.points == (30 if night else 20)
    assert ("night" if night else "not_night") in codes(result)


def test_a_daytime_night_window_works_too():
    spec = rule(night_multiplier=Decimal("2"), night_starts=time(12, 0), night_ends=time(14, 0))
    assert compute(spec, facts(start_hour=12, minutes=60)).points == 40
    assert compute(spec, facts(start_hour=14, minutes=60)).points == 20


def test_holiday_multiplier_applies_on_a_holiday_only():
    spec = rule(holiday_multiplier=Decimal("2"))
    on = compute(spec, facts(holiday="劳动节"))
    assert on.points == 40 and on.steps[2].params["holiday"] == "劳动节"
    off = compute(spec, facts())
    assert off.points == 20 and "not_holiday" in codes(off)


def test_the_best_verified_identity_applies_and_identities_do_not_stack():
    spec = rule(identity_multipliers={"party_member": Decimal("1.5"), "deputy": Decimal("1.2")})
    both = compute(spec, facts(identities=frozenset({"party_member", "deputy", "volunteer"})))
    assert both.points == 30
    identity_step = [s for s in both.steps if s.code == "identity"][0]
    assert identity_step.params == {"identity": "party_member", "multiplier": "1.5"}
    assert compute(spec, facts(identities=frozenset({"deputy"}))).points == 24
    none = compute(spec, facts(identities=frozenset({"volunteer"})))
    assert none.points == 20 and "no_identity" in codes(none)


def test_multipliers_multiply_and_round_once_at_the_end():
    spec = rule(
        basis=PointsRule.Basis.PER_HOUR,
        points_per_hour=7,
        night_multiplier=Decimal("1.5"),
        holiday_multiplier=Decimal("1.1"),
        identity_multipliers={"party_member": Decimal("1.2")},
    )
    result = compute(
        spec, facts(start_hour=22, minutes=50, holiday="春节", identities=frozenset({"party_member"}))
    )
    # 7 × 50/60 × 1.5 × 1.1 × 1.2 = 11.55 → 12 (rounding each step would give 11)
    assert result.points == 12
    assert codes(result) == ["rule", "base_per_hour", "night", "holiday", "identity", "rounded", "result"]


def test_daily_cap_limits_to_what_is_left_of_the_day():
    spec = rule(daily_cap=50)
    assert compute(spec, facts(earned_today=0)).points == 20
    capped = compute(spec, facts(earned_today=40))
    assert capped.points == 10
    assert capped.steps[-2].code == "daily_cap" and capped.steps[-2].params == {"cap": 50, "used": 40}
    assert compute(spec, facts(earned_today=70)).points == 0  # already over: nothing, never negative


def test_monthly_cap_applies_after_the_daily_cap():
    spec = rule(daily_cap=15, monthly_cap=100)
    result = compute(spec, facts(earned_today=0, earned_this_month=95))
    assert result.points == 5
    assert codes(result)[-3:] == ["daily_cap", "monthly_cap", "result"]


def test_held_rules_say_so():
    assert compute(rule(needs_approval=True), facts()).needs_approval
    assert compute(rule(needs_approval=True, min_minutes=999), facts()).needs_approval


def test_the_explanation_is_json_and_every_step_reads_as_a_sentence():
    spec = rule(
        basis=PointsRule.Basis.PER_HOUR,
        points_per_hour=7,
        night_multiplier=Decimal("1.5"),
        holiday_multiplier=Decimal("1.1"),
        identity_multipliers={"party_member": Decimal("1.2")},
        daily_cap=5,
        monthly_cap=4,
    )
    result = compute(
        spec, facts(start_hour=22, minutes=50, holiday="春节", identities=frozenset({"party_member"}))
    )
    explanation = result.explanation()
    assert explanation[0] == {"code": "rule", "points": "0", "params": {"rule": "巡查", "rule_id": 7}}
    assert [step["points"] for step in explanation][-3:] == ["5", "4", "4"]
    with translation.override("en"):
        sentences = [describe(step) for step in explanation]
    assert all(sentence and "%(" not in sentence for sentence in sentences)
    assert "Party member" in sentences[4]
