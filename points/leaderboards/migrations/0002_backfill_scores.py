"""Scores for entries posted before the leaderboards existed (later ones are kept by a post_save receiver)."""

from django.db import migrations


def backfill(apps, schema_editor):
    # When the migration runs, not when it is loaded: makemigrations and squashing read this file without
    # the app's code. The historical models are passed in, so the code works on them.
    from points.leaderboards.services import rebuild_scores

    rebuild_scores(
        entry_model=apps.get_model("points", "Entry"),
        score_model=apps.get_model("leaderboards", "Score"),
        user_model=apps.get_model("volunteers", "User"),
    )


class Migration(migrations.Migration):
    dependencies = [("leaderboards", "0001_initial"), ("points", "0002_ledger_is_append_only")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
