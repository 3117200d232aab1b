"""10,000 forged or mutated QR codes — 5,000 task-QR payloads and 5,000 personal tokens — none accepted.

Mutations: single bit flips, character substitutions, truncation, extension (including a trailing
newline and padding), leading zeros, case changes, genuine codes of expired windows or past their age,
another task's genuine code, codes made with another SECRET_KEY or another salt, and random junk. A seeded
generator keeps every run identical, so a failure can be replayed. Each family first checks that the
genuine code *is* accepted, so the test fails if verification refuses everything.
"""

import random
import string
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.core import signing
from django.test import override_settings
from django.utils import timezone

from tests.api.support import AppClient, session_token_for
from tests.factories import UserFactory
from tests.gridtasks.factories import GridTaskFactory
from volunteers.gridtasks import qr, services
from volunteers.gridtasks.exceptions import InvalidQR, StaleQR
from volunteers.gridtasks.models import Attendance, GridTask, Scan, SignUp

pytestmark = pytest.mark.django_db

SEED = 20_26_11_22
PER_KIND = 5_000
URL_SAFE = string.ascii_letters + string.digits + "-_"
OTHER_KEY = "another-deployment-secret-key-that-is-long-enough-0123456789abcdef"


def _bit_flip(rng: random.Random, text: str) -> str:
    data = bytearray(text.encode("latin-1"))
    position = rng.randrange(len(data))
    data[position] ^= 1 << rng.randrange(8)
    return data.decode("latin-1")


def _substitute(rng: random.Random, text: str) -> str:
    position = rng.randrange(len(text))
    choices = [c for c in URL_SAFE + ":" if c != text[position]]
    return text[:position] + rng.choice(choices) + text[position + 1 :]


def _truncate(rng: random.Random, text: str) -> str:
    return text[: rng.randrange(len(text))]


def _extend(rng: random.Random, text: str) -> str:
    tail = rng.choice(
        ["\n", " ", "=", "==", "/", ":", "\x00", "".join(rng.choices(URL_SAFE, k=rng.randint(1, 8)))]
    )
    return rng.choice([text + tail, tail + text])


def _swap_case(rng: random.Random, text: str) -> str:
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    position = rng.choice(letters)
    return text[:position] + text[position].swapcase() + text[position + 1 :]


def _junk(rng: random.Random, _text: str) -> str:
    alphabet = rng.choice([URL_SAFE, string.printable, URL_SAFE + ":-", "0123456789-"])
    return "".join(rng.choices(alphabet, k=rng.randint(0, 120)))


MUTATIONS = [_bit_flip, _substitute, _truncate, _extend, _swap_case, _junk]


def _task_qr_accepted(code: str, payload: str) -> bool:
    try:
        qr.verify_task_qr(code, payload)
    except (InvalidQR, StaleQR):
        return False
    return True


def _personal_accepted(token: str) -> bool:
    try:
        services.person_from_personal_qr(token)
    except (InvalidQR, StaleQR):
        return False
    return True


def test_no_forged_or_mutated_task_qr_is_accepted():
    rng = random.Random(SEED)
    tasks = [GridTaskFactory() for _ in range(4)]
    code, others = tasks[0].public_code, [t.public_code for t in tasks[1:]]
    genuine = qr.task_qr_payload(code)
    assert _task_qr_accepted(code, genuine)
    assert _task_qr_accepted(code, qr.task_qr_payload(code, now=time.time() - qr.WINDOW_SECONDS))
    with override_settings(SECRET_KEY=OTHER_KEY):
        other_key = [qr.task_qr_payload(code, now=time.time() - n) for n in range(0, 60, 30)]
    window = qr.current_window()

    tried = Counter()
    accepted = []
    for n in range(PER_KIND):
        family = n % 10
        if family < 6:
            mutation = MUTATIONS[family]
            candidate = mutation(rng, genuine)
            label = mutation.__name__
        elif family == 6:
            # A genuine code of a window at least two slots old: a forwarded screenshot.
            candidate = qr.task_qr_payload(code, now=time.time() - qr.WINDOW_SECONDS * rng.randint(2, 10_000))
            label = "expired"
        elif family == 7:
            candidate = qr.task_qr_payload(rng.choice(others))
            label = "other_task"
        elif family == 8:
            candidate = rng.choice(other_key)
            label = "other_secret_key"
        else:
            mac = "".join(rng.choices(URL_SAFE, k=22))
            candidate = rng.choice(
                [f"{window}-{mac}", f"0{genuine}", f"{window + 1}-{genuine.split('-', 1)[1]}"]
            )
            label = "forged_window"
        if candidate == genuine:
            continue
        tried[label] += 1
        if _task_qr_accepted(code, candidate):
            accepted.append((label, candidate))
    assert sum(tried.values()) >= PER_KIND - 10
    assert len(tried) == 10 and min(tried.values()) > 100, tried
    assert accepted == []


def test_no_forged_or_mutated_personal_token_is_accepted():
    rng = random.Random(SEED + 1)
    people = [UserFactory() for _ in range(3)]
    codes = [services.personal_code_for(person) for person in people]
    genuine = qr.personal_qr_token(codes[0])
    assert _personal_accepted(genuine)
    assert _personal_accepted(qr.absolute(qr.personal_qr_path(codes[0])))

    with override_settings(SECRET_KEY=OTHER_KEY):
        other_key = [qr.personal_qr_token(code) for code in codes]
    other_salt = [signing.TimestampSigner(salt="gongzhi.gridtasks.task-qr").sign(code) for code in codes]
    unsigned = [f"{code}:{signing.b62_encode(int(time.time()))}" for code in codes]
    now = time.time()

    tried = Counter()
    accepted = []
    for n in range(PER_KIND):
        family = n % 10
        if family < 6:
            mutation = MUTATIONS[family]
            candidate = mutation(rng, genuine)
            label = mutation.__name__
        elif family == 6:
            # A genuine token shown longer ago than it lives.
            issued = now - qr.PERSONAL_QR_MAX_AGE - rng.randint(1, 30 * 86400)
            signer = signing.TimestampSigner(salt="gongzhi.gridtasks.person-qr")
            signer.timestamp = lambda issued=issued: signing.b62_encode(int(issued))
            candidate = signer.sign(rng.choice(codes))
            label = "expired"
        elif family == 7:
            candidate = rng.choice(other_key)
            label = "other_secret_key"
        elif family == 8:
            candidate = rng.choice(other_salt + unsigned)
            label = "other_salt_or_unsigned"
        else:
            # The genuine token inside a URL that is not the personal-QR URL.
            candidate = rng.choice(
                [
                    f"https://example.org/x/{genuine}/",
                    f"junk/{genuine}",
                    f"/v/{genuine}/extra/",
                    f"/c/{genuine}/",
                ]
            )
            label = "wrong_url"
        if candidate == genuine:
            continue
        tried[label] += 1
        if _personal_accepted(candidate):
            accepted.append((label, candidate))
    assert sum(tried.values()) >= PER_KIND - 10
    assert len(tried) == 10 and min(tried.values()) > 100, tried
    assert accepted == []


def test_forged_codes_are_refused_over_the_api_and_leave_no_trace():
    """A sample through the HTTP endpoints: 4xx every time, no check-in made."""
    rng = random.Random(SEED + 2)
    start = timezone.now()
    task = GridTaskFactory(starts_at=start, ends_at=start + timedelta(hours=2))
    volunteer, organiser = UserFactory(), task.created_by
    SignUp.objects.create(task=task, person=volunteer, status=SignUp.Status.CONFIRMED)
    GridTask.objects.filter(pk=task.pk).update(taken=1)
    as_volunteer, as_organiser = (
        AppClient(session_token_for(volunteer)),
        AppClient(session_token_for(organiser)),
    )
    payload = qr.task_qr_payload(task.public_code)
    token = qr.personal_qr_token(services.personal_code_for(volunteer))

    for n in range(200):
        mutation = MUTATIONS[n % len(MUTATIONS)]
        forged_payload = mutation(rng, payload) or "x"
        if forged_payload != payload:
            response = as_volunteer.post(
                f"/api/v1/tasks/{task.public_code}/check",
                {"payload": forged_payload[:300], "kind": "in", "nonce": f"forged-task-{n:05d}"},
            )
            assert 400 <= response.status_code < 500, (forged_payload, response.content)
        forged_token = mutation(rng, token) or "x"
        if forged_token != token:
            response = as_organiser.post(
                f"/api/v1/tasks/{task.public_code}/scan",
                {"token": forged_token[:500], "kind": "in", "nonce": f"forged-person-{n:05d}"},
            )
            assert 400 <= response.status_code < 500, (forged_token, response.content)
    assert not Attendance.objects.exists() and not Scan.objects.filter(ok=True).exists()
