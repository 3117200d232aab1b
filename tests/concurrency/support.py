"""Running work on real threads, each with its own database connection, started together.

Django's connections are per thread, so each worker talks to PostgreSQL on its own connection and the
row locks, constraints and isolation of the real database decide the outcome. Workers wait on a
barrier so they start at the same moment, and close their connection when they finish (a thread's
connection is not closed by anyone else, and PostgreSQL allows only so many).
"""

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from tests.factories import GridFactory, UserFactory
from volunteers.gridtasks.models import GridTask
from volunteers.models import DutyCategory, User

WORKERS = 25  # PostgreSQL's default max_connections is 100; leave room for everyone else


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None


def run_together(
    jobs: list[Callable[[], Any]], workers: int = WORKERS, timeout: float = 300
) -> list[Outcome]:
    """Run `jobs` on `workers` threads released together by a barrier; outcomes in job order."""
    workers = min(workers, len(jobs))
    pending: queue.SimpleQueue = queue.SimpleQueue()
    for index, job in enumerate(jobs):
        pending.put((index, job))
    outcomes = [Outcome() for _ in jobs]
    barrier = threading.Barrier(workers)

    def work():
        try:
            barrier.wait(timeout=60)
            while True:
                try:
                    index, job = pending.get_nowait()
                except queue.Empty:
                    return
                try:
                    outcomes[index].value = job()
                except BaseException as exc:  # noqa: BLE001 - every failure is reported to the test
                    outcomes[index].error = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, name=f"race-{n}", daemon=True) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a worker did not finish in time"
    return outcomes


def errors(outcomes: list[Outcome]) -> list[BaseException]:
    return [outcome.error for outcome in outcomes if outcome.error is not None]


def patrol_category() -> DutyCategory:
    # Transactional tests empty the tables after each test, seeded reference rows included.
    category, _ = DutyCategory.objects.get_or_create(code="patrol", defaults={"name": "社会治安巡查"})
    return category


def people(n: int, prefix: str) -> list[User]:
    """`n` people who want no SMS (the races are about places and scans, not messages)."""
    return [UserFactory(phone=f"+86139{prefix}{i:05d}", notify_sms=False) for i in range(n)]


def make_task(*, starts_in: timedelta, hours: float = 2, **fields) -> GridTask:
    starts_at = timezone.now() + starts_in
    fields.setdefault("grid", GridFactory())
    fields.setdefault("created_by", UserFactory(notify_sms=False))
    fields.setdefault("capacity", 10)
    return GridTask.objects.create(
        title="并发测试任务",
        category=patrol_category(),
        place_name="岗亭",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        status=GridTask.Status.PUBLISHED,
        **fields,
    )
