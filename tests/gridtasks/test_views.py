"""The volunteer's pages: the task list, a task's page with sign-up, cancel, waitlist and offers, my tasks."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from tests.factories import GridFactory, IdentityClaimFactory, UserFactory
from tests.gridtasks.factories import GridTaskFactory
from tests.gridtasks.views_support import confirmed, hidden, text
from volunteers.gridtasks import exceptions, services
from volunteers.gridtasks.models import Attendance, GridTask, SignUp
from volunteers.models import DutyCategory

pytestmark = pytest.mark.django_db


def zh(message) -> str:
    """A message as the (Chinese) page shows it."""
    with translation.override("zh-hans"):
        return str(message)


@pytest.fixture
def person(client):
    person = UserFactory(name="王小明")
    client.force_login(person)
    return person


def detail(task):
    return reverse("gridtasks:detail", args=[task.public_code])


def action(name, task):
    return reverse(f"gridtasks:{name}", args=[task.public_code])


# --- the list -------------------------------------------------------------------------------------
def test_list_shows_published_upcoming_tasks_only(client):
    shown = GridTaskFactory(title="夜间巡防A")
    GridTaskFactory(title="草稿任务", status=GridTask.Status.DRAFT)
    GridTaskFactory(title="已取消任务", status=GridTask.Status.CANCELLED)
    past = timezone.now() - timedelta(days=2)
    GridTaskFactory(title="已结束任务", starts_at=past, ends_at=past + timedelta(hours=2))
    response = client.get(reverse("gridtasks:list"))
    assert response.status_code == 200
    page = text(response)
    assert shown.title in page
    assert "草稿任务" not in page and "已取消任务" not in page and "已结束任务" not in page


def test_list_filters_by_category_grid_community_date_and_open_places(client):
    patrol = DutyCategory.objects.get(code="patrol")
    other = DutyCategory.objects.exclude(pk=patrol.pk).first()
    grid_a, grid_b = GridFactory(), GridFactory()
    tomorrow = timezone.localtime() + timedelta(days=1)
    in_a = GridTaskFactory(title="A网格巡查", grid=grid_a, category=patrol, starts_at=tomorrow)
    in_b = GridTaskFactory(
        title="B网格宣讲", grid=grid_b, category=other, starts_at=tomorrow + timedelta(days=2)
    )
    full = GridTaskFactory(title="满员任务", grid=grid_a, category=patrol, capacity=1, starts_at=tomorrow)
    GridTask.objects.filter(pk=full.pk).update(taken=1)

    def titles(**params):
        return text(client.get(reverse("gridtasks:list"), params))

    page = titles(category=patrol.pk)
    assert in_a.title in page and in_b.title not in page
    page = titles(grid=grid_b.pk)
    assert in_b.title in page and in_a.title not in page
    page = titles(community=grid_a.community_id)
    assert in_a.title in page and in_b.title not in page
    page = titles(day=tomorrow.date().isoformat())
    assert in_a.title in page and in_b.title not in page
    page = titles(open="on")
    assert in_a.title in page and full.title not in page
    # A stale or mangled filter is ignored, not a 500.
    response = client.get(reverse("gridtasks:list"), {"grid": "999999", "day": "not-a-date", "category": "x"})
    assert response.status_code == 200 and in_a.title in text(response)


def test_list_shows_the_viewers_status_on_each_card(client, person):
    mine = GridTaskFactory(title="我报名的任务")
    services.do_sign_up(task_id=mine.pk, person=person)
    GridTaskFactory(title="别的任务")
    response = client.get(reverse("gridtasks:list"))
    html = response.content.decode()
    assert html.count('data-testid="my-status"') == 1
    assert zh(SignUp.Status.CONFIRMED.label) in text(response)


# --- sign-up ----------------------------------------------------------------------------------
def test_sign_up_from_the_task_page(client, person):
    task = GridTaskFactory(capacity=2)
    response = client.get(detail(task))
    assert response.status_code == 200 and 'id="signup-form"' in response.content.decode()
    response = client.post(action("sign_up", task))
    assert response.status_code == 302 and response["Location"] == detail(task)
    signup = SignUp.objects.get(task=task, person=person)
    assert signup.status == SignUp.Status.CONFIRMED
    page = client.get(detail(task)).content.decode()
    assert 'data-status="confirmed"' in page


def test_sign_up_twice_keeps_one_place(client, person):
    task = GridTaskFactory()
    client.post(action("sign_up", task))
    client.post(action("sign_up", task))
    assert SignUp.objects.filter(task=task, person=person).count() == 1
    task.refresh_from_db()
    assert task.taken == 1


def test_full_task_puts_the_volunteer_on_the_waitlist_with_their_position(client, person):
    task = GridTaskFactory(capacity=1)
    services.do_sign_up(task_id=task.pk, person=UserFactory())
    services.do_sign_up(task_id=task.pk, person=UserFactory())  # already waiting: we are second in line
    response = client.post(action("sign_up", task), follow=True)
    signup = SignUp.objects.get(task=task, person=person)
    assert signup.status == SignUp.Status.WAITLISTED
    assert 'data-status="waitlisted"' in response.content.decode()
    assert "2" in text(response)


def test_notice_must_be_acknowledged(client, person):
    task = GridTaskFactory(notice="夜间巡查须两人同行，穿反光背心。")
    response = client.post(action("sign_up", task))
    assert response.status_code == 400
    assert 'data-code="notice_not_acknowledged"' in response.content.decode()
    assert zh(exceptions.NoticeNotAcknowledged.default_message) in text(response)
    assert not SignUp.objects.filter(task=task).exists()

    response = client.post(action("sign_up", task), {"acknowledged": "on"})
    assert response.status_code == 302
    assert SignUp.objects.get(task=task, person=person).notice_acknowledged_at is not None


@pytest.mark.parametrize(
    ("setup", "status", "code"),
    [
        ("closed", 409, "signup_not_open"),
        ("overlap", 409, "overlapping_task"),
        ("identity", 403, "not_eligible"),
        ("home_grid", 403, "not_eligible"),
    ],
)
def test_refused_sign_ups_show_the_reason_with_a_4xx(client, person, setup, status, code):
    task = GridTaskFactory()
    if setup == "closed":
        task.signup_closes_at = timezone.now() - timedelta(minutes=1)
        task.save()
    elif setup == "overlap":
        other = GridTaskFactory(
            starts_at=task.starts_at + timedelta(hours=1), ends_at=task.ends_at + timedelta(hours=1)
        )
        services.do_sign_up(task_id=other.pk, person=person)
    elif setup == "identity":
        task.eligible_identities = ["party_member"]
        task.save()
        IdentityClaimFactory(person=person, kind="party_member", status="claimed")  # not verified yet
    elif setup == "home_grid":
        task.home_grid_only = True
        task.save()
    response = client.post(action("sign_up", task))
    assert response.status_code == status
    assert f'data-code="{code}"' in response.content.decode()
    assert not SignUp.objects.filter(task=task, person=person).exists()


def test_task_page_explains_why_sign_up_is_closed_before_trying(client, person):
    task = GridTaskFactory(signup_opens_at=timezone.now() + timedelta(hours=3))
    response = client.get(detail(task))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="closed"' in page and 'id="signup-form"' not in page


def test_signed_out_visitor_is_sent_to_sign_in_and_back(client):
    task = GridTaskFactory()
    page = client.get(detail(task)).content.decode()
    assert reverse("account_login") in page
    response = client.post(action("sign_up", task))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert response["Location"].endswith("next=" + detail(task))
    assert not SignUp.objects.exists()


def test_draft_task_page_is_hidden_from_volunteers(client, person):
    task = GridTaskFactory(status=GridTask.Status.DRAFT)
    assert client.get(detail(task)).status_code == 404
    assert client.post(action("sign_up", task)).status_code == 404
    assert client.get(reverse("gridtasks:detail", args=["nosuchcode12"])).status_code == 404


# --- cancel, waitlist promotion, offers -----------------------------------------------------------
def test_cancel_before_the_cut_off_frees_the_place_for_the_waitlist(client, person):
    task = GridTaskFactory(capacity=1)
    client.post(action("sign_up", task))
    waiting = UserFactory()
    services.do_sign_up(task_id=task.pk, person=waiting)
    response = client.post(action("cancel_signup", task))
    assert response.status_code == 302
    assert SignUp.objects.get(task=task, person=person).status == SignUp.Status.CANCELLED
    assert SignUp.objects.get(task=task, person=waiting).status == SignUp.Status.OFFERED


def test_cancel_after_the_cut_off_is_refused_with_a_reason(client, person):
    task = GridTaskFactory(starts_at=timezone.now() + timedelta(minutes=60), cancel_cutoff_minutes=120)
    client.post(action("sign_up", task))
    page = client.get(detail(task)).content.decode()
    assert 'action="' + action("cancel_signup", task) not in page  # no cancel button after the cut-off
    response = client.post(action("cancel_signup", task))
    assert response.status_code == 409
    assert 'data-code="cancel_too_late"' in response.content.decode()
    assert zh(exceptions.CancelTooLate.default_message) in text(response)
    assert SignUp.objects.get(task=task, person=person).status == SignUp.Status.CONFIRMED


def test_cancel_without_a_sign_up_is_a_clear_409(client, person):
    task = GridTaskFactory()
    response = client.post(action("cancel_signup", task))
    assert response.status_code == 409 and 'data-code="signup_not_live"' in response.content.decode()


def test_offered_place_is_confirmed_from_the_task_page(client, person):
    task = GridTaskFactory(capacity=1)
    first = UserFactory()
    s1, _ = services.do_sign_up(task_id=task.pk, person=first)
    client.post(action("sign_up", task))
    services.do_cancel_signup(signup_id=s1.pk, actor=first)
    page = client.get(detail(task)).content.decode()
    assert 'data-status="offered"' in page and action("confirm_offer", task) in page
    response = client.post(action("confirm_offer", task))
    assert response.status_code == 302
    assert SignUp.objects.get(task=task, person=person).status == SignUp.Status.CONFIRMED


def test_declining_an_offer_passes_the_place_on_even_after_the_cut_off(client, person):
    task = GridTaskFactory(
        capacity=1, starts_at=timezone.now() + timedelta(hours=3), cancel_cutoff_minutes=120
    )
    first = UserFactory()
    s1, _ = services.do_sign_up(task_id=task.pk, person=first)
    client.post(action("sign_up", task))
    third = UserFactory()
    services.do_sign_up(task_id=task.pk, person=third)
    services.do_cancel_signup(signup_id=s1.pk, actor=task.created_by)  # the organiser removes the first
    GridTask.objects.filter(pk=task.pk).update(
        starts_at=timezone.now() + timedelta(minutes=90)
    )  # past the cut-off
    response = client.post(action("decline_offer", task))
    assert response.status_code == 302
    assert SignUp.objects.get(task=task, person=person).status == SignUp.Status.CANCELLED
    assert SignUp.objects.get(task=task, person=third).status == SignUp.Status.OFFERED


def test_confirming_an_expired_offer_is_refused(client, person):
    task = GridTaskFactory(capacity=1)
    first = UserFactory()
    s1, _ = services.do_sign_up(task_id=task.pk, person=first)
    client.post(action("sign_up", task))
    services.do_cancel_signup(signup_id=s1.pk, actor=first)
    SignUp.objects.filter(task=task, person=person).update(
        offered_until=timezone.now() - timedelta(minutes=1)
    )
    response = client.post(action("confirm_offer", task))
    assert response.status_code == 409 and 'data-code="offer_not_open"' in response.content.decode()


def test_a_get_on_an_action_url_changes_nothing(client, person):
    task = GridTaskFactory()
    response = client.get(action("sign_up", task))
    assert response.status_code == 302 and response["Location"] == detail(task)
    assert not SignUp.objects.exists()


# --- my tasks -------------------------------------------------------------------------------------
def test_my_tasks_groups_offers_upcoming_waitlist_and_past_with_hours(client, person):
    upcoming = GridTaskFactory(title="下周巡查")
    services.do_sign_up(task_id=upcoming.pk, person=person)
    full = GridTaskFactory(
        title="满员任务",
        capacity=1,
        starts_at=timezone.now() + timedelta(days=3),
        ends_at=timezone.now() + timedelta(days=3, hours=2),
    )
    services.do_sign_up(task_id=full.pk, person=UserFactory())
    services.do_sign_up(task_id=full.pk, person=person)
    past_start = timezone.now() - timedelta(days=1)
    attended = GridTaskFactory(
        title="昨天的巡查", starts_at=past_start, ends_at=past_start + timedelta(hours=2)
    )
    signup = confirmed(attended, person)
    Attendance.objects.create(
        signup=signup,
        checked_in_at=past_start,
        checked_out_at=past_start + timedelta(hours=2),
        verified_minutes=120,
        counts=True,
        status=Attendance.Status.FINAL,
    )
    SignUp.objects.filter(pk=signup.pk).update(status=SignUp.Status.ATTENDED)
    missed = GridTaskFactory(
        title="缺席的任务",
        starts_at=past_start - timedelta(days=1),
        ends_at=past_start - timedelta(days=1, hours=-2),
    )
    SignUp.objects.create(task=missed, person=person, status=SignUp.Status.NO_SHOW)

    response = client.get(reverse("gridtasks:mine"))
    assert response.status_code == 200
    html = response.content.decode()
    upcoming_block = html[html.index('data-testid="upcoming"') :]
    assert "下周巡查" in upcoming_block.split("</ul>")[0]
    waiting_block = html[html.index('data-testid="waiting"') :]
    assert "满员任务" in waiting_block.split("</ul>")[0]
    past_block = html[html.index('data-testid="past"') :].split("</ul>")[0]
    assert "昨天的巡查" in past_block and "缺席的任务" in past_block
    assert "2.0" in text(response)  # verified hours


def test_my_tasks_lists_offers_with_their_deadline_and_confirm_button(client, person):
    task = GridTaskFactory(capacity=1, title="有空位了")
    first = UserFactory()
    s1, _ = services.do_sign_up(task_id=task.pk, person=first)
    services.do_sign_up(task_id=task.pk, person=person)
    services.do_cancel_signup(signup_id=s1.pk, actor=first)
    html = client.get(reverse("gridtasks:mine")).content.decode()
    offers = html[html.index('data-testid="offers"') :].split("</ul>")[0]
    assert "有空位了" in offers and action("confirm_offer", task) in offers


def test_my_tasks_requires_sign_in(client):
    response = client.get(reverse("gridtasks:mine"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_my_qr_page_shows_a_fresh_personal_code(client, person):
    response = client.get(reverse("gridtasks:my_qr"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html and 'data-testid="personal-qr"' in html
    assert person.name not in html and person.phone not in html  # only the masked name
    data = client.get(reverse("gridtasks:my_qr_json")).json()
    assert data["svg"].startswith("<?xml") or "<svg" in data["svg"]
    assert 0 < data["refresh_in"] < 600
    client.logout()
    assert client.get(reverse("gridtasks:my_qr_json")).status_code == 401


def test_nonce_field_helper_reads_forms():
    class R:
        content = b'<input type="hidden" name="nonce" value="abc12345">'

    assert hidden(R, "nonce") == "abc12345"
