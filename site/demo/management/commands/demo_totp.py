"""Print the current TOTP code of the demo staff accounts (development only)."""

import time

from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from .seed_demo import DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = "Print the current authenticator code for the demo staff accounts (DEBUG only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("demo_totp only runs with DEBUG on (the demo).")
        counter = int(time.time()) // app_settings.TOTP_PERIOD
        self.stdout.write(format_hotp_value(hotp_value(DEMO_TOTP_SECRET, counter)))
