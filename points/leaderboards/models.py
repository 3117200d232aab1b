"""Leaderboard data: a per-person score per period, and a person's choice to stay off public boards.

`Score` is derived data, a summary of the ledger kept so that a board over 100,000 people and millions of
entries is one indexed read rather than an aggregate over the ledger. It is written only by
`services.record_entry` (a post_save receiver on `points.Entry`, so inside the very transaction — and under
the account lock — that inserted the entry) and by `services.rebuild_scores`. It is never a source of
truth for money: balances come from the ledger.

What a score counts (also said on the boards): earning entries — attendance, per-incident and per-case
rewards, service orders — that have not been reversed, in the period the earning was posted. Redemptions,
refunds, expiry and adjustments do not change a score: spending points is not doing less service.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# Period keys: "2026-11" (a month, local time), "2026" (a year), "all" (all time).
ALL_TIME = "all"


def _place(model):
    # Indexed below together with the period and the board order, not on its own.
    return models.ForeignKey(model, models.SET_NULL, null=True, blank=True, related_name="+", db_index=False)


def _board_index(level: str) -> models.Index:
    return models.Index(
        fields=["period", level, "-points", "last_earned_at", "person"], name=f"leaderboards_{level}_board"
    )


class Score(models.Model):
    person = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="board_scores")
    period = models.CharField(max_length=7)
    points = models.BigIntegerField(default=0)
    # When the last counted earning of the period was posted: the tie-break (earlier reached it first).
    last_earned_at = models.DateTimeField()
    # The person's home grid and the places above it, copied here so that a board is one index range
    # (period, place, board order) read in order, whatever the size of the district. Kept in step with
    # the person and the place tree by services.refresh_places (see apps.py).
    grid = _place("volunteers.Grid")
    community = _place("volunteers.Community")
    street = _place("volunteers.Street")
    district = _place("volunteers.District")

    class Meta:
        verbose_name = _("leaderboard score")
        verbose_name_plural = _("leaderboard scores")
        constraints = [
            models.UniqueConstraint(fields=["person", "period"], name="leaderboards_one_score_per_period"),
            models.CheckConstraint(condition=models.Q(points__gte=0), name="leaderboards_score_not_negative"),
        ]
        # A board reads its place's scores for the period in board order and stops after one page.
        indexes = [_board_index(level) for level in ("grid", "community", "street", "district")]

    def __str__(self) -> str:
        return f"{self.person_id}/{self.period}: {self.points}"


class OptOut(models.Model):
    """A person's choice about public boards. No row means "shown" (the default)."""

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, primary_key=True, related_name="board_optout"
    )
    opted_out = models.BooleanField(_("hidden from public leaderboards"), default=False)
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("leaderboard opt-out")
        verbose_name_plural = _("leaderboard opt-outs")

    def __str__(self) -> str:
        return f"{self.person_id}: {'hidden' if self.opted_out else 'shown'}"
