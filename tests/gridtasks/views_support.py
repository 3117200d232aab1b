"""Shared set-up for the grid-task page tests (test_views*.py, test_queries.py)."""

import re
from datetime import timedelta

from django.utils import timezone

from tests.factories import GridFactory, IdentityClaimFactory, UserFactory
from tests.gridtasks.factories import GridTaskFactory
from volunteers.gridtasks.models import GridTask, SignUp


def grid_worker(grid=None, **fields):
    """A person with a verified full-time grid-worker identity for `grid`: they manage its tasks."""
    grid = grid or GridFactory()
    person = UserFactory(home_grid=grid, **fields)
    IdentityClaimFactory(person=person, kind="grid_worker_full", grid=grid, status="verified")
    return person


def running_task(**fields) -> GridTask:
    """A published task that started a few minutes ago: check-in is open."""
    starts = timezone.now() - timedelta(minutes=5)
    return GridTaskFactory(starts_at=starts, ends_at=starts + timedelta(hours=2), **fields)


def confirmed(task, person) -> SignUp:
    """A confirmed place without going through sign-up (which is closed once a task has started)."""
    signup = SignUp.objects.create(task=task, person=person, status=SignUp.Status.CONFIRMED)
    GridTask.objects.filter(pk=task.pk).update(taken=task.taken + 1)
    task.refresh_from_db()
    return signup


def text(response) -> str:
    """The visible text of the page's <main>."""
    html = response.content.decode()
    start, end = html.find("<main"), html.find("</main>")
    body = html[start:end] if start != -1 else html
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


def hidden(response, name) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', response.content.decode())
    assert match, f"no hidden field {name}"
    return match.group(1)
