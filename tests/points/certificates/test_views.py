"""The certificate pages: "my certificates" (issue for a period, list, download), linked from the points
page; the public verification page (genuine, revoked, forged) and its form; query counts of the list."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from points.certificates import services
from points.certificates.models import Certificate
from tests.points.certificates.support import make_world, pdf_text, plain_certificate, serve

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def world():
    return make_world()


@pytest.fixture
def volunteer(client, world):
    serve(world.volunteer, day=dt.date(2026, 3, 1), minutes=150)
    client.force_login(world.volunteer)
    return world.volunteer


def text(response) -> str:
    return response.content.decode()


def issue(client, **data):
    return client.post(reverse("certificates:issue"), data, **ZH)


# --- my certificates ---------------------------------------------------------------------------------
def test_my_certificates_needs_sign_in(client):
    response = client.get(reverse("certificates:mine"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_points_page_links_to_my_certificates(client, volunteer):
    page = text(client.get(reverse("points:mine"), **ZH))
    assert f'href="{reverse("certificates:mine")}"' in page and "我的证明" in page


def test_issuing_this_year_lists_the_certificate_with_its_download(client, volunteer):
    response = issue(client, period="this_year")

    certificate = Certificate.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("certificates:mine") + f"#c-{certificate.number}"
    assert (certificate.period_start, certificate.period_end) == (dt.date(2026, 1, 1), dt.date(2026, 7, 1))
    page = text(client.get(reverse("certificates:mine"), **ZH))
    assert certificate.number in page and "已出具" in page
    assert reverse("certificates:pdf", args=[certificate.number]) in page
    assert "2.5" in page


def test_the_download_is_the_certificates_pdf(client, volunteer):
    issue(client, period="this_year")
    certificate = Certificate.objects.get()

    response = client.get(reverse("certificates:pdf", args=[certificate.number]))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert certificate.number in response["Content-Disposition"]
    assert "张三丰" in pdf_text(response.content) and "2.5小时" in pdf_text(response.content)


def test_issuing_the_same_period_twice_gives_the_same_number(client, volunteer):
    issue(client, period="custom", start="2026-01-01", end="2026-06-30")
    response = issue(client, period="custom", start="2026-01-01", end="2026-06-30")

    number = Certificate.objects.get().number
    assert response.status_code == 302 and response["Location"].endswith(f"#c-{number}")
    page = text(client.get(reverse("certificates:mine"), **ZH))
    assert f"该期间您已有证明 {number}" in page


def test_a_period_without_hours_is_refused_with_a_clear_message(client, volunteer):
    response = issue(client, period="last_year")

    assert response.status_code == 422
    assert "您在该期间没有经核验的志愿服务时长" in text(response)
    assert not Certificate.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"period": "custom", "start": "2026-06-30", "end": "2026-01-01"}, "结束日期不能早于开始日期"),
        ({"period": "custom", "start": "2026-01-01", "end": "2026-07-02"}, "期间最晚只能截至今天"),
        ({"period": "custom", "start": "2026-01-01"}, "请填写结束日期"),
        ({"period": "custom", "start": "yesterday", "end": "2026-01-02"}, "有效的日期"),
        ({"period": "next_year"}, "选择一个有效的选项"),
        ({}, "此项为必填项"),
    ],
)
def test_bad_periods_are_refused_with_the_reason_and_nothing_is_issued(client, volunteer, data, message):
    response = issue(client, **data)

    assert response.status_code == 400
    assert message in text(response)
    assert not Certificate.objects.exists()


def test_someone_elses_certificate_cannot_be_downloaded(client, world, volunteer):
    serve(world.other, day=dt.date(2026, 3, 1))
    theirs = services.do_issue_certificate(
        actor=world.other, start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30)
    ).certificate

    response = client.get(reverse("certificates:pdf", args=[theirs.number]), **ZH)

    assert response.status_code == 404 and "您没有该编号的证明" in text(response)


def test_staff_of_the_area_may_download_it_and_other_staff_may_not(client, world, volunteer):
    issue(client, period="this_year")
    number = Certificate.objects.get().number

    client.force_login(world.staff_c1)
    assert client.get(reverse("certificates:pdf", args=[number])).status_code == 200
    client.force_login(world.staff_s2)
    assert client.get(reverse("certificates:pdf", args=[number])).status_code == 404


def test_a_revoked_certificate_is_shown_with_its_reason_and_no_download(client, world, volunteer):
    issue(client, period="this_year")
    certificate = Certificate.objects.get()
    services.do_revoke_certificate(certificate_id=certificate.pk, actor=world.staff_s1, reason="时长登记有误")

    page = text(client.get(reverse("certificates:mine"), **ZH))
    assert "已撤销" in page and "时长登记有误" in page
    assert reverse("certificates:pdf", args=[certificate.number]) not in page
    response = client.get(reverse("certificates:pdf", args=[certificate.number]), **ZH)
    assert response.status_code == 409 and "该证明已被撤销，不能再下载" in text(response)


def test_my_certificates_costs_the_same_queries_for_few_or_many(client, world, volunteer):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("certificates:mine")).status_code == 200
        return len(ctx.captured_queries)

    for day in range(1, 3):
        plain_certificate(
            world.volunteer, start=dt.date(2026, 1, day), end=dt.date(2026, 2, 1), street=world.s1
        )
    few = count()
    for day in range(3, 23):
        plain_certificate(
            world.volunteer, start=dt.date(2026, 1, day), end=dt.date(2026, 2, 1), street=world.s1
        )
    certificate = Certificate.objects.first()
    services.do_revoke_certificate(certificate_id=certificate.pk, actor=world.staff_s1, reason="有误")
    assert count() == few


# --- the public verification page ---------------------------------------------------------------------
@pytest.fixture
def certificate(world):
    serve(world.volunteer, day=dt.date(2026, 3, 1), minutes=150)
    return services.do_issue_certificate(
        actor=world.volunteer, start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30)
    ).certificate


def test_the_verification_page_is_public_and_shows_only_masked_data(client, certificate):
    response = client.get(reverse("certificates:verify", args=[certificate.number]), **ZH)

    page = text(response)
    assert response.status_code == 200
    assert 'data-status="genuine"' in page and "证书真实有效" in page
    assert "张*丰" in page and "张三丰" not in page
    assert "13811112222" not in page and "1111" not in page
    for shown in (certificate.number, "2.5", "2026-01-01", "2026-06-30", "星甸街道网格化服务管理中心"):
        assert shown in page
    assert '<meta name="robots" content="noindex">' in page


def test_a_revoked_certificate_is_shown_as_revoked_not_genuine(client, world, certificate):
    services.do_revoke_certificate(certificate_id=certificate.pk, actor=world.staff_s1, reason="重复登记")

    response = client.get(reverse("certificates:verify", args=[certificate.number]), **ZH)

    page = text(response)
    assert response.status_code == 200
    assert 'data-status="revoked"' in page and "该证明已被撤销" in page
    assert "证书真实有效" not in page
    # The reason is for the holder, not for whoever holds the paper.
    assert "重复登记" not in page


@pytest.mark.parametrize("number", ["GZ-2026-ABCD2345", "GZ-2026-NOTAREAL", "hello", "GZ-2026-ABCD234O"])
def test_a_forged_or_unknown_number_is_a_404_with_a_clear_message(client, certificate, number):
    response = client.get(f"/certificates/verify/{number}/", **ZH)

    page = text(response)
    assert response.status_code == 404
    assert 'data-status="not_found"' in page and "查无此证明" in page
    assert "该证书不是真实证书" in page
    assert 'name="number"' in page  # and a form to try again


def test_a_number_in_another_spelling_leads_to_its_page(client, certificate):
    lower = certificate.number.lower().replace("-", " ")
    response = client.get(reverse("certificates:verify_form"), {"number": lower})
    assert response.status_code == 302
    assert response["Location"] == reverse("certificates:verify", args=[certificate.number])

    response = client.get(f"/certificates/verify/{certificate.number.lower()}/")
    assert response.status_code == 302
    assert response["Location"] == reverse("certificates:verify", args=[certificate.number])


def test_the_verification_form_asks_for_a_number_and_explains_a_wrong_one(client):
    page = text(client.get(reverse("certificates:verify_form"), **ZH))
    assert 'name="number"' in page and "核验证明" in page

    response = client.get(reverse("certificates:verify_form"), {"number": "12345"}, **ZH)
    assert response.status_code == 400 and "证书编号形如 GZ-2026-ABCD2345" in text(response)
    response = client.get(reverse("certificates:verify_form"), {"number": ""}, **ZH)
    assert response.status_code == 400
