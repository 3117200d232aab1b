"""The Celery application. Worker: `celery -A config worker`; beat: `celery -A config beat`."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("gongzhi")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The schedule lives in code so every deployment runs the same periodic work.
app.conf.beat_schedule = {
    "notifications-retry-stuck": {
        "task": "core.tasks.redeliver_pending_notifications",
        "schedule": crontab(minute="*/5"),
    },
    "notifications-send-due": {
        # Deliveries held for quiet hours or a retry back-off: sent within a minute of their time.
        "task": "core.tasks.send_due_deliveries",
        "schedule": crontab(),
    },
    "notifications-daily-digest": {
        # Local time, after the day's work and before the default quiet hours (22:00).
        "task": "core.tasks.send_daily_digests",
        "schedule": crontab(hour=20, minute=0),
    },
    "accounts-purge-expired-imports": {
        "task": "volunteers.tasks.purge_stale_import_batches",
        "schedule": crontab(hour=3, minute=30),
    },
    "gridtasks-expire-offers": {
        "task": "volunteers.gridtasks.tasks.expire_offers",
        "schedule": crontab(),  # every minute: an offer's deadline is minutes, not hours
    },
    "gridtasks-send-reminders": {
        "task": "volunteers.gridtasks.tasks.send_reminders",
        "schedule": crontab(minute="*/5"),
    },
    "gridtasks-finalise-ended-tasks": {
        "task": "volunteers.gridtasks.tasks.finalise_ended_tasks",
        "schedule": crontab(minute="*/5"),
    },
    "redemption-expire-uncollected": {
        "task": "points.redemption.tasks.expire_redemptions",
        "schedule": crontab(minute="*/5"),
    },
    "points-expire-old-points": {
        # Local time: shortly after the year turns, then daily (the task is idempotent).
        "task": "points.redemption.tasks.expire_points",
        "schedule": crontab(hour=0, minute=20),
    },
    "cms-publish-scheduled-pages": {
        "task": "cms.tasks.publish_scheduled_pages",
        "schedule": crontab(),  # every minute: a notice scheduled for 8:00 goes out at 8:00
    },
    "points-reconcile-ledger": {
        "task": "points.tasks.reconcile_ledger",
        "schedule": crontab(hour=2, minute=15),  # nightly, when few people earn or spend
    },
    "services-escalate-stalled-orders": {
        "task": "services_catalog.tasks.escalate_stalled_orders",
        "schedule": crontab(minute="*/10"),  # stage deadlines are hours; ten minutes late is on time
    },
    "services-plan-sessions": {
        "task": "services_catalog.tasks.plan_sessions",
        "schedule": crontab(hour=1, minute=40),  # before anyone books the new day's sessions
    },
}
