"""The ledger is append-only in the database itself: UPDATE and DELETE on an entry fail, whether they
come from the ORM, raw SQL or a console session. Corrections are reversing entries."""

from django.db import migrations

from points.append_only import down, up


class Migration(migrations.Migration):
    dependencies = [("points", "0001_initial")]

    operations = [migrations.RunPython(up, down, elidable=False)]
