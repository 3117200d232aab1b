"""A page's query count does not grow with the number of tasks or sign-ups it shows: each page is
measured with 2 rows, then with 20, and the counts must be equal."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import GridFactory, UserFactory
from tests.gridtasks.factories import GridTaskFactory
from tests.gridtasks.views_support import confirmed, grid_worker, running_task
from volunteers.gridtasks import services
from volunteers.gridtasks.models import Attendance, Scan, SignUp

pytestmark = pytest.mark.django_db


def queries(client, url) -> int:
    client.get(url)  # warm-up: per-process caches (content types, site) are not the page's cost
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx)


def test_task_list_query_count_is_flat(client):
    person = UserFactory()
    client.force_login(person)
    grid = GridFactory()

    def add(n):
        for _ in range(n):
            task = GridTaskFactory(
                grid=grid,
                starts_at=timezone.now() + timedelta(days=1 + GridTaskFactory._meta.model.objects.count()),
            )
            services.do_sign_up(task_id=task.pk, person=person)
            SignUp.objects.create(task=task, person=UserFactory(), status=SignUp.Status.WAITLISTED)

    url = reverse("gridtasks:list")
    add(2)
    few = queries(client, url)
    add(18)
    many = queries(client, url)
    assert few == many, f"{few} queries with 2 tasks, {many} with 20"
    assert client.get(url).content.decode().count('data-testid="my-status"') == 20


def test_task_list_query_count_is_flat_for_anonymous_visitors(client):
    url = reverse("gridtasks:list")
    GridTaskFactory.create_batch(2)
    few = queries(client, url)
    GridTaskFactory.create_batch(18)
    assert queries(client, url) == few


def test_my_tasks_query_count_is_flat(client):
    person = UserFactory()
    client.force_login(person)
    past = timezone.now() - timedelta(days=3)

    def add(n):
        for i in range(n):
            upcoming = GridTaskFactory(
                starts_at=timezone.now() + timedelta(days=1 + SignUp.objects.count()),
            )
            services.do_sign_up(task_id=upcoming.pk, person=person)
            done = GridTaskFactory(
                starts_at=past - timedelta(days=SignUp.objects.count()),
                ends_at=past - timedelta(days=SignUp.objects.count()) + timedelta(hours=2),
            )
            signup = confirmed(done, person)
            Attendance.objects.create(
                signup=signup,
                checked_in_at=done.starts_at,
                checked_out_at=done.ends_at,
                verified_minutes=120,
                counts=True,
                status=Attendance.Status.FINAL,
            )
            SignUp.objects.filter(pk=signup.pk).update(status=SignUp.Status.ATTENDED)
            full = GridTaskFactory(
                capacity=1, starts_at=timezone.now() + timedelta(days=300 + i + SignUp.objects.count())
            )
            services.do_sign_up(task_id=full.pk, person=UserFactory())
            services.do_sign_up(task_id=full.pk, person=person)

    url = reverse("gridtasks:mine")
    add(1)
    few = queries(client, url)
    add(9)
    many = queries(client, url)
    assert few == many, f"{few} queries with 3 sign-ups, {many} with 30"


def test_task_page_query_count_is_flat_for_volunteer_and_organiser(client):
    task = GridTaskFactory(capacity=40)
    volunteer = UserFactory()
    organiser = grid_worker(task.grid)
    services.do_sign_up(task_id=task.pk, person=volunteer)

    def add(n):
        for _ in range(n):
            services.do_sign_up(task_id=task.pk, person=UserFactory())

    url = reverse("gridtasks:detail", args=[task.public_code])
    add(2)
    client.force_login(volunteer)
    few_volunteer = queries(client, url)
    client.force_login(organiser)
    few_organiser = queries(client, url)
    add(18)
    client.force_login(volunteer)
    assert queries(client, url) == few_volunteer
    client.force_login(organiser)
    assert queries(client, url) == few_organiser


def test_attendance_sheet_query_count_is_flat(client):
    task = running_task(capacity=40)
    organiser = grid_worker(task.grid)
    client.force_login(organiser)

    def add(n):
        for _ in range(n):
            signup = confirmed(task, UserFactory())
            services.record_scan(
                task=task,
                signup=signup,
                kind="in",
                method=Scan.Method.PERSONAL_QR,
                actor=organiser,
                nonce=None,
            )
            SignUp.objects.create(task=task, person=UserFactory(), status=SignUp.Status.WAITLISTED)
            Scan.objects.create(
                nonce=f"conflict-{Scan.objects.count()}",
                task=task,
                signup=signup,
                kind="out",
                method=Scan.Method.OFFLINE,
                actor=organiser,
                scanned_at=timezone.now(),
                ok=False,
                code="check_out_before_check_in",
                conflict=True,
            )

    url = reverse("gridtasks:attendance", args=[task.public_code])
    add(2)
    few = queries(client, url)
    add(18)
    assert queries(client, url) == few
