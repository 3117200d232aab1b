"""Awards from attendance: what a finished, counting attendance earns (points and verified minutes), how
the rules arrived at it (`explanation`), and where it stands. The ledger entries are posted by the
`post_award` task once the award is approved (at once, or by staff when the rule holds it)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.models import EventRow
from volunteers.models import DutyCategory, Grid

from .ledger import Entry
from .rules import PointsRule


class Award(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved, being posted")
        REJECTED = "rejected", _("Rejected")
        POSTED = "posted", _("Posted")
        REVERSED = "reversed", _("Reversed")

    # "attendance:<id>": one award per attendance, whatever calls request it how often.
    key = models.CharField(max_length=100, unique=True)
    person = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="awards")
    # The attendance it is for. Kept as a plain id as well as the link, so an award (which may carry
    # ledger entries) outlives a deleted task; `grid` is copied for the scope rule and lists.
    attendance = models.ForeignKey(
        "gridtasks.Attendance", models.SET_NULL, null=True, blank=True, related_name="awards"
    )
    attendance_ref = models.PositiveBigIntegerField()
    grid = models.ForeignKey(Grid, models.PROTECT, null=True, blank=True, related_name="+")
    category = models.ForeignKey(DutyCategory, models.PROTECT, null=True, blank=True, related_name="+")
    rule = models.ForeignKey(PointsRule, models.SET_NULL, null=True, blank=True, related_name="awards")
    task_title = models.CharField(max_length=80, blank=True)
    worked_on = models.DateField(_("date"))
    minutes = models.PositiveIntegerField(_("verified minutes"))
    points = models.PositiveIntegerField(_("points"))
    explanation = models.JSONField(default=list)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    points_entry = models.ForeignKey(Entry, models.PROTECT, null=True, blank=True, related_name="+")
    minutes_entry = models.ForeignKey(Entry, models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("attendance award")
        verbose_name_plural = _("attendance awards")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="points_award_status"),
            # Caps add up a person's awards of a day or a month.
            models.Index(fields=["person", "worked_on"], name="points_award_person_day"),
        ]

    def __str__(self):
        return f"{self.task_title or self.key} · {self.points}"


class AwardEvent(EventRow):
    """Every change of an award's status, with who made it and why (status history as rows)."""

    award = models.ForeignKey(Award, models.CASCADE, related_name="events")
    status = models.CharField(max_length=10, choices=Award.Status.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+"
    )

    def __str__(self):
        return f"award {self.award_id}: {self.status}"
