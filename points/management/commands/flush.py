"""`flush` empties every table, the ledger included: the ledger's append-only triggers refuse that, so
this wraps Django's command and suspends them for the duration (test teardown uses it between tests).
Only a whole-database reset gets past the triggers; no single entry can be changed or deleted."""

from django.core.management.commands import flush
from django.db import connections

from points import append_only


class Command(flush.Command):
    def handle(self, **options):
        connection = connections[options["database"]]
        append_only.suspend(connection)
        try:
            return super().handle(**options)
        finally:
            append_only.restore(connection)
