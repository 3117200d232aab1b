"""The reporter's pages: my cases, the report form, a case's page and the appeal form."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from points.cases import services
from points.cases.models import Case, CasePhoto, Reward
from tests.factories import GridFactory, UserFactory
from tests.points.cases.support import (
    category,
    closed,
    grid_worker,
    pending_reward,
    png,
    report,
    street_staff,
)

pytestmark = pytest.mark.django_db


def text(response) -> str:
    html = response.content.decode()
    start, end = html.find("<main"), html.find("</main>")
    return " ".join(re.sub(r"<[^>]+>", " ", html[start:end] if start != -1 else html).split())


def detail(case):
    return reverse("cases:detail", args=[case.public_code])


# --- my cases ----------------------------------------------------------------------------------------
def test_my_cases_needs_sign_in(client):
    response = client.get(reverse("cases:mine"))
    assert response.status_code == 302 and "/accounts/" in response.url


def test_my_cases_lists_what_i_contributed_to_and_offers_the_form_to_reporters(client):
    grid = GridFactory()
    worker = grid_worker(grid)
    mine = report(worker, grid, category(), title="我的案件")
    elsewhere = GridFactory()
    report(grid_worker(elsewhere), elsewhere, category(), title="别人的案件")
    client.force_login(worker)
    response = client.get(reverse("cases:mine"))
    page = text(response)
    assert "我的案件" in page and "别人的案件" not in page
    assert reverse("cases:report") in response.content.decode()
    assert detail(mine) in response.content.decode()

    helper = UserFactory()
    report(
        worker,
        grid,
        category(),
        title="协助的案件",
        contributors=[services.ContributorIn(helper.pk, "handler")],
    )
    client.force_login(helper)
    response = client.get(reverse("cases:mine"))
    assert "协助的案件" in text(response)
    assert reverse("cases:report") not in response.content.decode()  # a plain resident cannot report


def test_my_cases_query_count_does_not_grow_with_rows(client):
    grid = GridFactory()
    worker = grid_worker(grid)
    staff = street_staff(grid.community.street)
    cat = category()

    def count():
        client.force_login(worker)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("cases:mine")).status_code == 200
        return len(queries)

    closed(report(worker, grid, cat), staff)
    report(worker, grid, cat)
    small = count()
    for _ in range(8):
        closed(report(worker, grid, cat), staff)
    assert count() == small


# --- reporting ---------------------------------------------------------------------------------------
def test_a_resident_gets_a_403_on_the_report_form(client):
    client.force_login(UserFactory())
    response = client.get(reverse("cases:report"))
    assert response.status_code == 403
    assert "Only grid workers" in response.content.decode() or "网格员" in response.content.decode()


def test_a_grid_worker_reports_with_a_photo_and_a_helper(client):
    grid = GridFactory()
    worker = grid_worker(grid)
    helper = UserFactory(phone="+8613911112222")
    cat = category(kind="incident")
    client.force_login(worker)
    assert client.get(reverse("cases:report")).status_code == 200
    response = client.post(
        reverse("cases:report"),
        {
            "kind": "incident",
            "category": cat.pk,
            "grid": grid.pk,
            "title": "井盖缺失",
            "description": "路口井盖缺失，已设置警示。",
            "photos": [png()],
            "my_role": "reporter",
            "my_share": 2,
            "c1_phone": "139 1111 2222",
            "c1_role": "handler",
            "c1_share": 1,
            "c2_role": "handler",
            "c2_share": 1,
            "c3_role": "handler",
            "c3_share": 1,
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302 and response.url == detail(case)
    assert dict(case.contributors.values_list("person_id", "share")) == {worker.pk: 2, helper.pk: 1}
    assert CasePhoto.objects.filter(case=case).count() == 1
    page = client.get(detail(case))
    assert page.status_code == 200 and "井盖缺失" in text(page)


def _form(grid, cat, **extra):
    data = {
        "kind": cat.kind,
        "category": cat.pk,
        "grid": grid.pk,
        "title": "t",
        "description": "d",
        "my_role": "reporter",
        "my_share": 1,
    }
    for i in (1, 2, 3):
        data.update({f"c{i}_role": "handler", f"c{i}_share": 1})
    data.update(extra)
    return data


def test_bad_photos_unknown_helpers_and_foreign_grids_are_refused_on_the_form(client):
    grid = GridFactory()
    worker = grid_worker(grid)
    cat = category()
    client.force_login(worker)
    not_an_image = SimpleUploadedFile("a.jpg", b"not an image", content_type="image/jpeg")
    for data in (
        _form(grid, cat, photos=[not_an_image]),
        _form(grid, cat, c1_phone="+8613700000000"),
        _form(GridFactory(), cat),
        _form(grid, category(kind="incident"), kind="case"),
    ):
        response = client.post(reverse("cases:report"), data)
        assert response.status_code == 400
        assert "errorlist" in response.content.decode()
    assert Case.objects.count() == 0


# --- a case's page and the appeal --------------------------------------------------------------------
def test_a_case_page_shows_history_and_reward_to_contributors_and_404_to_others(client):
    reward, reporter, staff, _ = pending_reward(points=20, street_budget=100)
    case = reward.case
    client.force_login(reporter)
    page = text(client.get(detail(case)))
    assert "20" in page and "楼道堆物隐患" in page
    assert page.count(staff.name) >= 2  # verified and closed by them
    for outsider in (UserFactory(), street_staff(GridFactory().community.street)):
        client.force_login(outsider)
        assert client.get(detail(case)).status_code == 404
        assert client.get(reverse("cases:appeal", args=[case.public_code])).status_code == 404
    client.force_login(staff)
    assert client.get(detail(case)).status_code == 200


def test_a_contributor_appeals_a_rejection_once_through_the_form(client):
    reward, reporter, staff, _ = pending_reward(street_budget=100)
    url = reverse("cases:appeal", args=[reward.case.public_code])
    client.force_login(reporter)
    # Nothing to appeal yet: the form sends the person back to the case.
    assert client.get(url).status_code == 302
    services.do_reject_reward(reward_id=reward.pk, actor=staff, reason="证据不足")
    assert "证据不足" in text(client.get(detail(reward.case)))
    assert client.get(url).status_code == 200
    assert client.post(url, {"text": ""}).status_code == 400
    response = client.post(url, {"text": "已补充现场照片"})
    assert response.status_code == 302
    reward.refresh_from_db()
    assert reward.status == Reward.Status.APPEALED
    again = client.post(url, {"text": "再来一次"})
    assert again.status_code == 409
    reward.refresh_from_db()
    assert reward.appeal_text == "已补充现场照片"
