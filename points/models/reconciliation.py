"""The nightly proof that the ledger adds up: one row per run, kept whether it found anything or not."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReconciliationReport(models.Model):
    ran_at = models.DateTimeField(_("ran at"), auto_now_add=True, db_index=True)
    accounts_checked = models.PositiveIntegerField(_("accounts checked"))
    entries_checked = models.PositiveBigIntegerField(_("entries checked"))
    # [{"account": id, "person": id, "unit": …, "balance": cached, "sum": of entries}, …]
    balance_differences = models.JSONField(default=list)
    # [{"entry": id, "account": id, "balance_after": stored, "expected": previous + amount}, …]
    chain_breaks = models.JSONField(default=list)
    ok = models.BooleanField(_("everything adds up"))

    class Meta:
        verbose_name = _("reconciliation report")
        verbose_name_plural = _("reconciliation reports")
        ordering = ["-ran_at", "-id"]

    def __str__(self):
        return f"{self.ran_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'DIFFERENCES'}"
