import datetime

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    # No data to move: User.notify_sms / notify_email keep their meaning (the account-wide switch of
    # each channel); a person without preference rows gets SMS and email per category as before.

    dependencies = [
        ("core", "0002_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="urgent",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="notification",
            name="in_digest",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="notification",
            name="digested_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="delivery",
            name="not_before",
            field=models.DateTimeField(blank=True, null=True, verbose_name="not before"),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="attempts"),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="last_error",
            field=models.CharField(blank=True, max_length=300, verbose_name="last error"),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="sent_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="sent"),
        ),
        migrations.AlterField(
            model_name="delivery",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, verbose_name="updated"),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("digested_at__isnull", True), ("in_digest", True)),
                fields=["recipient", "created_at"],
                name="notification_digest_due",
            ),
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(("status__in", ["pending", "failed"])),
                fields=["not_before"],
                name="delivery_waiting",
            ),
        ),
        migrations.CreateModel(
            name="NotificationSettings",
            fields=[
                (
                    "person",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="notification_settings",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("quiet_hours", models.BooleanField(default=True, verbose_name="quiet hours")),
                (
                    "quiet_start",
                    models.TimeField(default=datetime.time(22, 0), verbose_name="quiet from"),
                ),
                ("quiet_end", models.TimeField(default=datetime.time(7, 0), verbose_name="quiet until")),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "verbose_name": "notification settings",
                "verbose_name_plural": "notification settings",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("quiet_start", models.F("quiet_end")), _negated=True),
                        name="quiet_hours_not_empty",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="CategoryPreference",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("category", models.CharField(max_length=40, verbose_name="category")),
                ("sms", models.BooleanField(default=True, verbose_name="SMS")),
                ("email", models.BooleanField(default=True, verbose_name="email")),
                ("digest", models.BooleanField(default=False, verbose_name="daily digest")),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "person",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="category_preferences",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "notification preference",
                "verbose_name_plural": "notification preferences",
                "constraints": [
                    models.UniqueConstraint(fields=("person", "category"), name="one_preference_per_category")
                ],
            },
        ),
    ]
