"""Notices in the Wagtail admin: what the form refuses (no target, places outside one's area, attachments of a
forbidden type or too large), the moderation workflow (community staff submit, street staff of the same
street approve, others cannot) and the groups staff are put in."""

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.documents.models import Document
from wagtail.models import TaskState, WorkflowState
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

from cms import moderation
from cms.models import NoticePage, NoticeTarget
from core.models import Notification
from tests.cms.support import make_notice
from volunteers.models import StaffPost

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def notice_form(title="周末停水通知", *, targets=(), attachments=(), public=False, must_read=False, **extra):
    data = {
        "title": title,
        "slug": "tingshui",
        "summary": "周六 8:00–12:00 停水。",
        "body": rich_text("<p>因管网维修，周六上午停水，请提前储水。</p>"),
        "issuer": "星兴社区网格化服务管理中心",
        "targets": inline_formset(
            [{"street": "", "community": "", "grid": "", "role": "", **t} for t in targets]
        ),
        "attachments": inline_formset([{"title": "", **a} for a in attachments]),
        **extra,
    }
    if public:
        data["is_public"] = "on"
    if must_read:
        data["must_read"] = "on"
    return nested_form_data(data)


def add_url(world):
    return reverse("wagtailadmin_pages:add", args=("cms", "noticepage", world.index.pk))


def create(client, world, data, action="action-submit"):
    return client.post(add_url(world), {**data, action: "1"})


def errors_of(response) -> str:
    return response.content.decode()


def zh(message: str) -> str:
    # The admin speaks the site's language (zh-hans) to staff; the tests read what they read.
    from django.utils.html import escape
    from django.utils.translation import gettext, override

    with override("zh-hans"):
        return escape(gettext(message))


# --- what the form refuses -----------------------------------------------------------------------------
def test_a_notice_with_no_target_is_refused_unless_public(client, world):
    client.force_login(world.staff_c1)
    response = create(client, world, notice_form())
    assert response.status_code == 200  # the form again, with the reason
    assert zh("Say who this notice is for: add at least one target, or mark it public.") in errors_of(
        response
    )
    assert "周末停水通知" in errors_of(response)  # what was typed is still there
    assert not NoticePage.objects.filter(title="周末停水通知").exists()

    response = create(client, world, notice_form(public=True))
    assert response.status_code == 302
    assert NoticePage.objects.filter(title="周末停水通知", is_public=True).exists()


def test_a_must_read_notice_needs_targets_even_when_public(client, world):
    client.force_login(world.staff_s1)
    response = create(client, world, notice_form(public=True, must_read=True))
    assert zh("A must-read notice needs targets: the people who must read it.") in errors_of(response)
    assert not NoticePage.objects.exists()


def test_a_target_names_one_place_at_most(client, world):
    client.force_login(world.staff_s1)
    response = create(client, world, notice_form(targets=[{"community": world.c1.pk, "grid": world.g3.pk}]))
    assert zh("Choose one place per target: a street, a community or a grid.") in errors_of(response)
    assert not NoticePage.objects.exists()


def test_community_staff_can_only_address_their_own_places(client, world):
    client.force_login(world.staff_c1)
    response = create(client, world, notice_form(targets=[{"grid": world.g1.pk}, {"grid": world.g4.pk}]))
    page = errors_of(response)
    assert "您只能向自己管辖范围内的地方发通知" in page and str(world.g4) in page
    assert not NoticePage.objects.exists()
    # A role across the whole district is for district staff only.
    response = create(client, world, notice_form(targets=[{"role": "identity:party_member"}]))
    assert zh("a role across the whole district") in errors_of(response)
    response = create(
        client, world, notice_form(targets=[{"grid": world.g1.pk, "role": "identity:party_member"}])
    )
    assert response.status_code == 302
    notice = NoticePage.objects.get()
    assert [(t.grid_id, t.role) for t in notice.targets.all()] == [(world.g1.pk, "identity:party_member")]


def document(name, content, title="附件"):
    doc = Document(title=title, file=SimpleUploadedFile(name, content))
    doc.save()
    return doc


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        # Wagtail's own checks (WAGTAILDOCS_EXTENSIONS, WAGTAILDOCS_MAX_UPLOAD_SIZE) speak in their words.
        ("setup.exe", b"MZ\x90\x00", "“exe”"),
        ("big.pdf", PDF + b"0" * 2048, "1.0\xa0KB"),
        # Ours: a program renamed to .pdf.
        ("scan.pdf", b"MZ\x90\x00 not a pdf", "不是真正的“pdf”文件"),
    ],
)
def test_uploading_a_forbidden_or_oversized_attachment_is_refused_and_nothing_is_stored(
    client, world, settings, name, content, reason
):
    settings.WAGTAILDOCS_MAX_UPLOAD_SIZE = 1024
    client.force_login(world.staff_c1)
    response = client.post(
        reverse("wagtaildocs:add"),
        {"title": "通知附件", "file": SimpleUploadedFile(name, content), "collection": "1"},
    )
    assert response.status_code == 200
    assert len(response.context["form"].errors["file"]) == 1  # one clear reason, not two
    assert reason in response.content.decode()
    assert not Document.objects.exists()


def test_a_good_attachment_uploads(client, world):
    client.force_login(world.staff_c1)
    response = client.post(
        reverse("wagtaildocs:add"),
        {"title": "报名表", "file": SimpleUploadedFile("form.pdf", PDF), "collection": "1"},
    )
    assert response.status_code == 302
    assert Document.objects.get().title == "报名表"


def test_a_notice_refuses_an_attachment_over_the_limit_and_keeps_what_was_typed(client, world, settings):
    too_big = document("plan.pdf", PDF + b"0" * 4096)  # stored before the limit was lowered
    ok = document("form.pdf", PDF)
    settings.WAGTAILDOCS_MAX_UPLOAD_SIZE = 1024
    client.force_login(world.staff_c1)
    data = notice_form(
        targets=[{"grid": world.g1.pk}], attachments=[{"document": ok.pk}, {"document": too_big.pk}]
    )
    response = create(client, world, data)
    page = errors_of(response)
    assert response.status_code == 200 and "上限为" in page
    # Nothing typed is lost (the body is there too, inside the editor's JSON).
    assert 'value="周末停水通知"' in page and "周六 8:00–12:00 停水。" in page
    assert not NoticePage.objects.exists()

    data = notice_form(targets=[{"grid": world.g1.pk}], attachments=[{"document": ok.pk}])
    assert create(client, world, data).status_code == 302
    assert [a.document_id for a in NoticePage.objects.get().attachments.all()] == [ok.pk]


# --- moderation ----------------------------------------------------------------------------------------
def test_staff_posts_put_people_in_the_notice_groups(world):
    editors, approvers = (
        Group.objects.get(name=moderation.EDITORS),
        Group.objects.get(name=moderation.APPROVERS),
    )
    assert set(editors.user_set.all()) >= {world.staff_c1, world.staff_s1, world.staff_s2, world.staff_d}
    assert set(approvers.user_set.all()) == {world.staff_s1, world.staff_s2, world.staff_d}
    StaffPost.objects.filter(person=world.staff_s2).delete()
    assert not world.staff_s2.groups.filter(pk__in=[editors.pk, approvers.pk]).exists()


def test_the_notice_index_has_the_approval_workflow(world):
    workflow = world.index.get_workflow()
    assert workflow is not None and workflow.name == moderation.WORKFLOW
    notice = make_notice("x", public=True, publish=False)
    assert notice.get_workflow() == workflow


def test_community_staff_submit_and_street_staff_of_the_same_street_approve(
    client, world, django_capture_on_commit_callbacks
):
    client.force_login(world.staff_c1)
    response = create(client, world, notice_form(targets=[{"community": world.c1.pk}]))
    assert response.status_code == 302
    notice = NoticePage.objects.get()
    assert not notice.live and notice.workflow_in_progress
    # Community staff cannot publish: they have no publish permission.
    assert not notice.permissions_for_user(world.staff_c1).can_publish()
    state = TaskState.objects.get(
        workflow_state__object_id=str(notice.pk), status=TaskState.STATUS_IN_PROGRESS
    )
    url = reverse("wagtailadmin_pages:workflow_action", args=(notice.pk, "approve", state.pk))

    # Street staff of the other street: not theirs to approve (and not in their review queue).
    client.force_login(world.staff_s2)
    response = client.post(url)
    assert response.status_code in (302, 403) and getattr(response, "url", "") != notice.url
    state.refresh_from_db()
    assert state.status == TaskState.STATUS_IN_PROGRESS
    assert not TaskState.objects.reviewable_by(world.staff_s2).filter(pk=state.pk).exists()
    assert client.get(reverse("wagtailadmin_pages:edit", args=(notice.pk,))).status_code == 302  # refused

    client.force_login(world.staff_s1)
    assert TaskState.objects.reviewable_by(world.staff_s1).filter(pk=state.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code in (200, 302)
    notice.refresh_from_db()
    assert notice.live
    assert WorkflowState.objects.get(pk=state.workflow_state_id).status == WorkflowState.STATUS_APPROVED
    # Delivered to the community's people on approval.
    assert Notification.objects.filter(recipient=world.in_g1, key__startswith=f"notice:{notice.pk}:").exists()


def test_street_staff_cannot_publish_a_notice_for_another_street(client, world):
    notice = make_notice("汤泉通知", targets=[{"street": world.s2}], publish=False, owner=world.staff_s2)
    client.force_login(world.staff_s1)
    response = client.post(
        reverse("wagtailadmin_pages:edit", args=(notice.pk,)),
        {**notice_form(targets=[{"street": world.s2.pk}]), "action-publish": "1"},
    )
    assert response.status_code == 302 and response.url == reverse("wagtailadmin_home")
    notice.refresh_from_db()
    assert not notice.live
    # …and the explorer does not list it for them.
    listing = client.get(reverse("wagtailadmin_explore", args=(world.index.pk,))).content.decode()
    assert "汤泉通知" not in listing
    client.force_login(world.staff_s2)
    assert "汤泉通知" in client.get(reverse("wagtailadmin_explore", args=(world.index.pk,))).content.decode()


def test_covers_and_covered_notices_agree(world):
    notices = [
        make_notice("a", targets=[{"grid": world.g1}], publish=False, owner=world.staff_c1),
        make_notice("b", targets=[{"grid": world.g3}], publish=False, owner=world.staff_s1),
        make_notice("c", targets=[{"street": world.s1}], publish=False, owner=world.staff_s1),
        make_notice("d", targets=[{"community": world.c3}], publish=False, owner=world.staff_s2),
        make_notice("e", public=True, publish=False, owner=world.staff_c1),
        make_notice("f", public=True, publish=False, owner=world.staff_s2),
        make_notice("g", targets=[{"role": "role:street_staff"}], publish=False, owner=world.staff_d),
    ]
    for staff in ("staff_c1", "staff_s1", "staff_s2", "staff_d", "in_g1"):
        user = world.people[staff]
        listed = set(moderation.covered_notices(user, NoticePage.objects.all()).values_list("pk", flat=True))
        for notice in notices:
            assert (notice.pk in listed) == moderation.covers(user, notice), (staff, notice.title)
    assert moderation.covers(world.staff_c1, notices[0]) and not moderation.covers(world.staff_c1, notices[1])
    assert moderation.covers(world.staff_s1, notices[4]) and not moderation.covers(world.staff_s1, notices[5])
    assert not moderation.covers(world.staff_s1, notices[6]) and moderation.covers(world.staff_d, notices[6])
    assert NoticeTarget.objects.count() == 5


def test_staff_can_preview_a_new_notice_and_a_draft(client, world):
    client.force_login(world.staff_c1)
    url = reverse("wagtailadmin_pages:preview_on_add", args=("cms", "noticepage", world.index.pk))
    data = notice_form(targets=[{"grid": world.g1.pk}], must_read=True)
    assert client.post(url, data).json()["is_valid"]
    response = client.get(url)
    assert response.status_code == 200 and "周末停水通知" in response.content.decode()

    draft = make_notice("草稿预览", targets=[{"grid": world.g1}], publish=False, owner=world.staff_c1)
    url = reverse("wagtailadmin_pages:preview_on_edit", args=(draft.pk,))
    assert client.post(url, notice_form("草稿预览", targets=[{"grid": world.g1.pk}])).json()["is_valid"]
    response = client.get(url)
    assert response.status_code == 200 and "草稿预览" in response.content.decode()
