"""Pluggable SMS backends. settings.SMS_BACKEND names the class; production plugs in a provider's."""

import logging
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """A transient failure of the SMS provider; the caller retries."""


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str
    # Providers de-duplicate on this key, so a retried send after a lost reply reaches the phone once.
    idempotency_key: str = ""


class BaseBackend(ABC):
    @abstractmethod
    def send(self, message: SmsMessage) -> None:
        """Deliver the message or raise SmsError for a transient failure."""


class ConsoleBackend(BaseBackend):
    """Development: write the message to the terminal that runs the site (this is the "phone")."""

    def send(self, message: SmsMessage) -> None:
        sys.stdout.write(f"\n[SMS to {message.phone}] {message.text}\n")
        sys.stdout.flush()


class LocmemBackend(BaseBackend):
    """Tests: keep messages in `outbox` (de-duplicated by idempotency key, as a real provider would)."""

    outbox: list[SmsMessage] = []

    def send(self, message: SmsMessage) -> None:
        if message.idempotency_key and any(
            m.idempotency_key == message.idempotency_key for m in LocmemBackend.outbox
        ):
            return
        LocmemBackend.outbox.append(message)


def get_backend() -> BaseBackend:
    return import_string(settings.SMS_BACKEND)()


def send_sms(*, phone: str, text: str, idempotency_key: str = "") -> None:
    get_backend().send(SmsMessage(phone=phone, text=text, idempotency_key=idempotency_key))
