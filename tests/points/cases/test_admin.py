"""The back office for per-case rewards: staff see and decide only the cases, rewards and budgets of
their own area; another street's staff can neither list nor open nor decide them."""

import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse

from points.cases.models import Budget, Case, Reward, RewardCategory
from points.models import Entry
from tests.factories import CommunityFactory, DistrictFactory, GridFactory, StreetFactory, UserFactory
from tests.points.cases.support import budget, category, closed, grid_worker, report
from volunteers import services as volunteer_services
from volunteers.models import User

pytestmark = pytest.mark.django_db


def appoint(place):
    person = UserFactory(notify_sms=False)
    volunteer_services.do_appoint_staff(person=person, actor=None, place=place)
    person = User.objects.get(pk=person.pk)
    TOTP.activate(person, generate_totp_secret())
    return person


@pytest.fixture
def world():
    district = DistrictFactory()
    s1, s2 = (
        StreetFactory(district=district, name="江浦街道"),
        StreetFactory(district=district, name="泰山街道"),
    )
    g1 = GridFactory(community=CommunityFactory(street=s1))
    g2 = GridFactory(community=CommunityFactory(street=s2))
    w1, w2 = grid_worker(g1), grid_worker(g2)
    cat = category(points=80)
    return {
        "s1": s1,
        "s2": s2,
        "g1": g1,
        "g2": g2,
        "w1": w1,
        "case1": report(w1, g1, cat, title="江浦案件"),
        "case2": report(w2, g2, cat, title="泰山案件"),
        "staff1": appoint(s1),
        "staff2": appoint(s2),
        "district": appoint(district),
        "community1": appoint(g1.community),
    }


def rows(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def decide(client, url, action, reason=""):
    return client.post(url, {"action": action, f"{action}-reason": reason})


def test_staff_list_and_open_only_their_streets_cases(client, world):
    client.force_login(world["staff1"])
    page = rows(client.get(reverse("case_reports:index")))
    assert "江浦案件" in page and "泰山案件" not in page
    assert client.get(reverse("case_reports:edit", args=[world["case1"].pk])).status_code == 200
    assert client.get(reverse("case_reports:edit", args=[world["case2"].pk])).status_code == 404
    response = decide(client, reverse("case_reports:edit", args=[world["case2"].pk]), "verify")
    assert response.status_code == 404
    assert Case.objects.get(pk=world["case2"].pk).status == Case.Status.REPORTED


def test_verify_close_and_approve_through_the_back_office(client, world):
    budget(world["s1"], 1000)
    client.force_login(world["community1"])  # community staff decide their community's cases
    url = reverse("case_reports:edit", args=[world["case1"].pk])
    assert decide(client, url, "verify").status_code == 302
    assert decide(client, url, "close").status_code == 302
    reward = Reward.objects.get(case=world["case1"])
    assert reward.status == Reward.Status.PENDING and reward.amount == 80

    client.force_login(world["staff1"])
    assert "江浦案件" in rows(client.get(reverse("case_rewards:index")))
    reward_url = reverse("case_rewards:edit", args=[reward.pk])
    assert "1000" in rows(client.get(reward_url))
    assert decide(client, reward_url, "approve").status_code == 302
    assert Entry.objects.get().account.person == world["w1"]
    page = rows(client.get(reverse("reward_budgets:index")))
    assert "江浦街道" in page and "920" in page  # remaining after 80 spent


def test_rejecting_needs_a_reason_and_over_budget_approval_is_refused_with_its_message(client, world):
    budget(world["s1"], 50)
    reward = closed(world["case1"], world["staff1"])
    client.force_login(world["staff1"])
    url = reverse("case_rewards:edit", args=[reward.pk])
    assert decide(client, url, "reject").status_code == 400
    response = decide(client, url, "approve")
    assert response.status_code == 409
    assert "remaining budget" in response.content.decode() or "预算" in response.content.decode()
    assert Entry.objects.count() == 0
    assert decide(client, url, "reject", "超出预算").status_code == 302
    assert Reward.objects.get(pk=reward.pk).status == Reward.Status.REJECTED


def test_another_streets_staff_can_neither_see_nor_decide_a_reward(client, world):
    budget(world["s1"], 1000)
    reward = closed(world["case1"], world["staff1"])
    client.force_login(world["staff2"])
    assert "江浦案件" not in rows(client.get(reverse("case_rewards:index")))
    url = reverse("case_rewards:edit", args=[reward.pk])
    assert client.get(url).status_code == 404
    assert decide(client, url, "approve").status_code == 404
    assert "江浦街道" not in rows(client.get(reverse("reward_budgets:index")))
    assert Reward.objects.get(pk=reward.pk).status == Reward.Status.PENDING and Entry.objects.count() == 0


def test_budgets_and_the_reward_table_are_set_by_the_district(client, world):
    client.force_login(world["staff1"])
    assert client.get(reverse("reward_budgets:add")).status_code == 302  # street staff only read budgets
    assert client.get(reverse("reward_categories:add")).status_code == 302
    client.force_login(world["district"])
    response = client.post(
        reverse("reward_budgets:add"), {"street": world["s2"].pk, "year": 2026, "amount": 5000}
    )
    assert response.status_code == 302
    assert Budget.objects.get(street=world["s2"]).amount == 5000
    response = client.post(
        reverse("reward_categories:add"),
        {"name": "矛盾化解", "kind": "case", "points": 50, "split": "total", "active": "on", "sort_order": 1},
    )
    assert response.status_code == 302
    assert RewardCategory.objects.filter(name="矛盾化解", split="total").exists()
    response = client.post(
        reverse("reward_categories:add"), {"name": "零分", "kind": "case", "points": 0, "split": "each"}
    )
    assert response.status_code == 400
