"""Per-case reward services: reporting, every transition of a case and a reward, and every refusal."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from core.api import InvalidInput
from core.models import Notification
from points.cases import exceptions, selectors, services
from points.cases.models import (
    Budget,
    Case,
    CaseEvent,
    CasePhoto,
    Contributor,
    Reward,
    RewardCategory,
    RewardEvent,
)
from points.models import Account, Entry
from tests.factories import GridFactory, IdentityClaimFactory, UserFactory
from tests.points.cases.support import (
    budget,
    category,
    closed,
    community_staff,
    grid_worker,
    pending_reward,
    png,
    report,
    street_staff,
    verified,
)

pytestmark = pytest.mark.django_db


def balance(person) -> int:
    account = Account.objects.filter(person=person, unit=Account.Unit.POINTS).first()
    return account.balance if account else 0


# --- who may report --------------------------------------------------------------------------------
def test_grid_worker_reports_a_case_and_is_its_first_contributor():
    grid = GridFactory()
    worker = grid_worker(grid)
    case = report(worker, grid, category())
    assert case.status == Case.Status.REPORTED
    assert case.reported_by == worker
    assert list(case.contributors.values_list("person_id", "role", "share")) == [(worker.pk, "reporter", 1)]
    assert list(CaseEvent.objects.filter(case=case).values_list("status", "actor_id")) == [
        ("reported", worker.pk)
    ]
    assert len(case.public_code) >= 12


@pytest.mark.parametrize("kind", ["legal_officer", "volunteer", "volunteer_team", "grid_worker_part"])
def test_verified_legal_officers_and_volunteers_may_report(kind):
    grid = GridFactory()
    person = verified(kind, grid)
    assert report(person, grid, category(kind="incident")).kind == "incident"


@pytest.mark.parametrize("kind", ["party_member", "deputy", "building_head"])
def test_other_identities_may_not_report(kind):
    grid = GridFactory()
    person = verified(kind, grid)
    with pytest.raises(exceptions.NotAReporter) as caught:
        report(person, grid, category())
    assert caught.value.code == "not_a_reporter" and caught.value.status == 403
    assert Case.objects.count() == 0


def test_an_unverified_claim_or_no_identity_may_not_report():
    grid = GridFactory()
    claimed = UserFactory(home_grid=grid)
    IdentityClaimFactory(person=claimed, kind="legal_officer", grid=grid, status="claimed")
    resident = UserFactory(home_grid=grid)
    for person in (claimed, resident):
        with pytest.raises(exceptions.NotAReporter):
            report(person, grid, category())
    assert Case.objects.count() == 0


def test_a_reporter_cannot_report_for_someone_elses_grid():
    worker = grid_worker()
    with pytest.raises(exceptions.GridNotAllowed):
        report(worker, GridFactory(), category())


def test_street_staff_may_record_a_case_in_their_street_only():
    grid = GridFactory()
    staff = street_staff(grid.community.street)
    assert report(staff, grid, category()).grid == grid
    with pytest.raises(exceptions.GridNotAllowed):
        report(staff, GridFactory(), category())


def test_category_must_exist_be_active_and_match_the_kind():
    grid = GridFactory()
    worker = grid_worker(grid)
    cat = category(kind="case")
    with pytest.raises(exceptions.CategoryKindMismatch):
        services.do_report_case(
            actor=worker, kind="incident", category_id=cat.pk, grid_id=grid.pk, title="t", description="d"
        )
    RewardCategory.objects.filter(pk=cat.pk).update(active=False)
    with pytest.raises(exceptions.UnknownCategory):
        report(worker, grid, cat)
    with pytest.raises(exceptions.UnknownCategory):
        services.do_report_case(
            actor=worker, kind="case", category_id=999999, grid_id=grid.pk, title="t", description="d"
        )


def test_blank_title_or_description_is_refused_with_field_messages():
    grid = GridFactory()
    worker = grid_worker(grid)
    cat = category()
    with pytest.raises(InvalidInput) as caught:
        services.do_report_case(
            actor=worker, kind="case", category_id=cat.pk, grid_id=grid.pk, title="  ", description=""
        )
    assert set(caught.value.fields) == {"title", "description"}


def test_contributors_must_be_distinct_known_people_with_valid_shares():
    grid = GridFactory()
    worker = grid_worker(grid)
    helper = UserFactory()
    cat = category()
    bad_lists = [
        [services.ContributorIn(helper.pk, "handler"), services.ContributorIn(helper.pk, "assistant")],
        [services.ContributorIn(helper.pk, "handler", share=11)],
        [services.ContributorIn(helper.pk, "handler", share=0)],
        [services.ContributorIn(helper.pk, "boss")],
    ]
    for contributors in bad_lists:
        with pytest.raises(exceptions.BadContributors):
            report(worker, grid, cat, contributors=contributors)
    with pytest.raises(exceptions.UnknownPerson):
        report(worker, grid, cat, contributors=[services.ContributorIn(987654, "handler")])
    assert Case.objects.count() == 0


# --- photos ----------------------------------------------------------------------------------------
def test_photos_are_stored_under_random_names_without_the_uploaded_name():
    grid = GridFactory()
    worker = grid_worker(grid)
    case = report(worker, grid, category(), photos=[png(), png(fmt="JPEG", name="x.jpeg"), png(fmt="WEBP")])
    names = [photo.image.name for photo in CasePhoto.objects.filter(case=case)]
    assert len(names) == 3
    for name in names:
        assert name.startswith("cases/") and "张三" not in name and "13800138000" not in name
    assert [n.rsplit(".", 1)[1] for n in names] == ["png", "jpg", "webp"]
    assert CasePhoto.objects.filter(case=case, width=8, height=8).count() == 3


def test_photos_lose_their_metadata_but_keep_their_orientation():
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display
    exif[0x013B] = "张三"  # Artist
    exif[0x8825] = {2: (32.0, 3.0, 0.0)}  # GPS IFD: a latitude
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "red").save(buffer, format="JPEG", exif=exif)
    upload = SimpleUploadedFile("IMG_0001.jpg", buffer.getvalue(), content_type="image/jpeg")
    grid = GridFactory()
    worker = grid_worker(grid)

    case = report(worker, grid, category(), photos=[upload])

    stored = CasePhoto.objects.get(case=case)
    with stored.image.open("rb") as f:
        data = f.read()
    assert "张三".encode() not in data
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (20, 40)  # turned upright
        assert not image.getexif()


def test_a_file_that_is_not_an_image_is_refused_whatever_its_name():
    grid = GridFactory()
    worker = grid_worker(grid)
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("photo.png", b"<script>alert(1)</script>", content_type="image/png")
    with pytest.raises(exceptions.BadPhoto) as caught:
        report(worker, grid, category(), photos=[fake])
    assert caught.value.code == "bad_photo" and caught.value.status == 422
    with pytest.raises(exceptions.BadPhoto):
        report(worker, grid, category(), photos=[png(fmt="GIF", name="a.gif")])
    assert Case.objects.count() == 0 and CasePhoto.objects.count() == 0


def test_a_photo_over_5_mb_or_a_seventh_photo_is_refused(monkeypatch):
    grid = GridFactory()
    worker = grid_worker(grid)
    big = png()
    big.size = services.MAX_PHOTO_BYTES + 1
    with pytest.raises(exceptions.PhotoTooLarge) as caught:
        report(worker, grid, category(), photos=[big])
    assert caught.value.status == 413
    with pytest.raises(exceptions.TooManyPhotos):
        report(worker, grid, category(), photos=[png() for _ in range(7)])
    assert Case.objects.count() == 0


# --- a case's transitions ------------------------------------------------------------------------
def test_staff_verify_then_close_and_a_pending_reward_is_proposed_for_each_contributor():
    grid = GridFactory()
    worker = grid_worker(grid)
    helper = UserFactory()
    staff = street_staff(grid.community.street)
    case = report(
        worker, grid, category(points=50), contributors=[services.ContributorIn(helper.pk, "handler")]
    )
    services.do_verify_case(case_id=case.pk, actor=staff, reason="现场核实")
    reward = services.do_close_case(case_id=case.pk, actor=staff)
    case.refresh_from_db()
    assert case.status == Case.Status.CLOSED
    assert list(case.events.values_list("status", "actor_id", "reason")) == [
        ("reported", worker.pk, ""),
        ("verified", staff.pk, "现场核实"),
        ("closed", staff.pk, ""),
    ]
    assert reward.status == Reward.Status.PENDING and reward.amount == 100
    assert reward.street == grid.community.street and reward.year == timezone.localdate().year
    assert dict(reward.shares.values_list("person_id", "amount")) == {worker.pk: 50, helper.pk: 50}
    assert Entry.objects.count() == 0  # nothing is paid before approval


def test_a_total_is_split_by_shares_and_adds_up_exactly():
    cat = category(points=10, split=RewardCategory.Split.TOTAL)
    people = [Contributor(person_id=i, share=1) for i in (1, 2, 3)]
    assert services.split_points(cat, people) == {1: 4, 2: 3, 3: 3}
    cat.points = 100
    assert services.split_points(
        cat, [Contributor(person_id=1, share=1), Contributor(person_id=2, share=2)]
    ) == {
        1: 33,
        2: 67,
    }
    cat.points = 1
    assert services.split_points(cat, people) == {1: 1}  # nobody gets a zero entry


def test_case_transitions_out_of_order_are_refused():
    grid = GridFactory()
    worker = grid_worker(grid)
    staff = street_staff(grid.community.street)
    case = report(worker, grid, category())
    with pytest.raises(exceptions.WrongCaseState):
        services.do_close_case(case_id=case.pk, actor=staff)  # not verified yet
    services.do_verify_case(case_id=case.pk, actor=staff)
    with pytest.raises(exceptions.WrongCaseState):
        services.do_verify_case(case_id=case.pk, actor=staff)
    with pytest.raises(exceptions.ReasonRequired):
        services.do_reject_case(case_id=case.pk, actor=staff, reason="  ")
    services.do_reject_case(case_id=case.pk, actor=staff, reason="重复上报")
    with pytest.raises(exceptions.WrongCaseState):
        services.do_close_case(case_id=case.pk, actor=staff)
    assert Reward.objects.count() == 0
    assert Notification.objects.filter(recipient=worker, key__startswith="cases:case:").count() == 1


def test_only_staff_of_the_cases_area_decide_it():
    grid = GridFactory()
    worker = grid_worker(grid)
    case = report(worker, grid, category())
    other_street = street_staff(GridFactory().community.street)
    colleague = grid_worker(grid)  # sees the grid's cases, does not decide them
    for actor in (other_street, colleague, worker):
        with pytest.raises(exceptions.OutOfScope) as caught:
            services.do_verify_case(case_id=case.pk, actor=actor)
        assert caught.value.code == "out_of_scope" and caught.value.status == 403
    services.do_verify_case(case_id=case.pk, actor=community_staff(grid.community))


# --- approving -------------------------------------------------------------------------------------
def test_approval_pays_every_contributor_once_and_tells_them():
    reward, reporter, staff, (helper,) = pending_reward(points=40, contributors=1, street_budget=1000)
    services.do_approve_reward(reward_id=reward.pk, actor=staff, reason="处置及时")
    reward.refresh_from_db()
    assert reward.status == Reward.Status.APPROVED and reward.decided_by == staff
    entries = Entry.objects.filter(source=f"reward:{reward.pk}")
    assert sorted(entries.values_list("account__person_id", "amount", "kind")) == sorted(
        [(reporter.pk, 40, Entry.Kind.CASE_REWARD), (helper.pk, 40, Entry.Kind.CASE_REWARD)]
    )
    assert balance(reporter) == 40 and balance(helper) == 40
    assert set(reward.shares.values_list("entry__key", flat=True)) == {
        f"case-reward:{reward.pk}:{reporter.pk}",
        f"case-reward:{reward.pk}:{helper.pk}",
    }
    assert Notification.objects.filter(key__startswith=f"cases:reward:{reward.pk}:approved:").count() == 2
    assert list(RewardEvent.objects.filter(reward=reward).values_list("status", flat=True)) == [
        "pending",
        "approved",
    ]


def test_an_incident_reward_posts_as_a_per_incident_entry():
    grid = GridFactory()
    worker = grid_worker(grid)
    staff = street_staff(grid.community.street)
    budget(grid.community.street, 500)
    reward = closed(report(worker, grid, category(kind="incident", points=30)), staff)
    services.do_approve_reward(reward_id=reward.pk, actor=staff)
    assert Entry.objects.get().kind == Entry.Kind.INCIDENT_REWARD


def test_a_replayed_approval_changes_nothing():
    reward, reporter, staff, _ = pending_reward(points=40, contributors=2, street_budget=1000)
    for _ in range(3):
        assert services.do_approve_reward(reward_id=reward.pk, actor=staff).status == Reward.Status.APPROVED
    assert Entry.objects.count() == 3  # one per contributor
    assert balance(reporter) == 40
    assert Notification.objects.filter(key__startswith="cases:reward:").count() == 3


def test_approving_outside_ones_scope_is_refused_and_pays_nothing():
    reward, _reporter, _staff, _ = pending_reward(street_budget=1000)
    stranger = street_staff(GridFactory().community.street)
    volunteer = verified("volunteer", reward.case.grid)
    for actor in (stranger, volunteer):
        with pytest.raises(exceptions.OutOfScope):
            services.do_approve_reward(reward_id=reward.pk, actor=actor)
    reward.refresh_from_db()
    assert reward.status == Reward.Status.PENDING and Entry.objects.count() == 0


def test_a_reward_over_the_remaining_budget_is_refused_and_pays_nothing():
    grid = GridFactory()
    first, _r, staff, _ = pending_reward(points=60, street_budget=100, grid=grid, title="第一件")
    second, *_ = pending_reward(points=50, grid=grid, title="第二件")
    services.do_approve_reward(reward_id=first.pk, actor=staff)
    with pytest.raises(exceptions.OverBudget) as caught:
        services.do_approve_reward(reward_id=second.pk, actor=staff)
    assert caught.value.code == "over_budget" and caught.value.status == 409
    second.refresh_from_db()
    assert second.status == Reward.Status.PENDING
    assert Entry.objects.filter(source=f"reward:{second.pk}").count() == 0
    figures = selectors.budgets_with_figures().get(street=grid.community.street)
    assert (figures.amount, figures.spent, figures.reserved, figures.remaining) == (100, 60, 50, 40)
    # Raising the budget lets it through: exactly filling the budget is allowed.
    Budget.objects.filter(pk=figures.pk).update(amount=110)
    services.do_approve_reward(reward_id=second.pk, actor=staff)
    assert selectors.budgets_with_figures().get(pk=figures.pk).remaining == 0


def test_without_a_budget_for_the_street_and_year_nothing_can_be_approved():
    reward, _reporter, staff, _ = pending_reward()
    budget(reward.street, 1000, year=reward.year - 1)
    with pytest.raises(exceptions.NoBudget):
        services.do_approve_reward(reward_id=reward.pk, actor=staff)
    assert Entry.objects.count() == 0


# --- rejecting and appealing ---------------------------------------------------------------------
def test_reject_appeal_and_approve_pays_the_contributors():
    reward, reporter, staff, _ = pending_reward(points=30, street_budget=100)
    with pytest.raises(exceptions.ReasonRequired):
        services.do_reject_reward(reward_id=reward.pk, actor=staff, reason="")
    services.do_reject_reward(reward_id=reward.pk, actor=staff, reason="证据不足")
    reward.refresh_from_db()
    assert reward.status == Reward.Status.REJECTED and reward.reason == "证据不足"
    services.do_appeal_reward(reward_id=reward.pk, actor=reporter, text="已补充照片")
    reward.refresh_from_db()
    assert reward.status == Reward.Status.APPEALED and reward.appeal_text == "已补充照片"
    services.do_approve_reward(reward_id=reward.pk, actor=staff)
    assert balance(reporter) == 30
    assert list(reward.events.values_list("status", flat=True)) == [
        "pending",
        "rejected",
        "appealed",
        "approved",
    ]


def test_an_appeal_rejected_is_final():
    reward, reporter, staff, _ = pending_reward(street_budget=1000)
    services.do_reject_reward(reward_id=reward.pk, actor=staff, reason="不符合条件")
    services.do_appeal_reward(reward_id=reward.pk, actor=reporter, text="请复核")
    services.do_reject_reward(reward_id=reward.pk, actor=staff, reason="维持原决定")
    reward.refresh_from_db()
    assert reward.status == Reward.Status.FINAL
    with pytest.raises(exceptions.AlreadyAppealed):
        services.do_appeal_reward(reward_id=reward.pk, actor=reporter, text="再次申诉")
    with pytest.raises(exceptions.WrongRewardState):
        services.do_approve_reward(reward_id=reward.pk, actor=staff)
    assert Entry.objects.count() == 0


def test_a_rejection_can_be_appealed_only_once_and_only_by_a_contributor():
    reward, reporter, staff, (helper,) = pending_reward(contributors=1, street_budget=1000)
    with pytest.raises(exceptions.NotAppealable):
        services.do_appeal_reward(reward_id=reward.pk, actor=reporter, text="还没被拒")
    services.do_reject_reward(reward_id=reward.pk, actor=staff, reason="不符合条件")
    with pytest.raises(exceptions.NotAContributor):
        services.do_appeal_reward(reward_id=reward.pk, actor=UserFactory(), text="路人")
    with pytest.raises(InvalidInput):
        services.do_appeal_reward(reward_id=reward.pk, actor=reporter, text="   ")
    services.do_appeal_reward(reward_id=reward.pk, actor=reporter, text="请复核")
    with pytest.raises(exceptions.AlreadyAppealed) as caught:
        services.do_appeal_reward(reward_id=reward.pk, actor=helper, text="我也申诉")
    assert caught.value.code == "already_appealed" and caught.value.status == 409


def test_a_rejected_reward_cannot_be_approved_without_an_appeal():
    reward, _reporter, staff, _ = pending_reward(street_budget=1000)
    services.do_reject_reward(reward_id=reward.pk, actor=staff, reason="不符合条件")
    with pytest.raises(exceptions.WrongRewardState):
        services.do_approve_reward(reward_id=reward.pk, actor=staff)
    with pytest.raises(exceptions.WrongRewardState):
        services.do_reject_reward(reward_id=reward.pk, actor=staff, reason="again")
    assert Entry.objects.count() == 0
