"""Bulk import of grids and people from XLSX: parsing, validation, scope, all-or-nothing confirmation."""

import re
import zipfile
from datetime import timedelta
from io import BytesIO

import openpyxl
import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tests.factories import (
    CommunityFactory,
    DistrictFactory,
    GridFactory,
    StaffPostFactory,
    StreetFactory,
    UserFactory,
)
from volunteers import importing
from volunteers.models import (
    Community,
    Grid,
    IdentityClaim,
    IdentityEvent,
    ImportBatch,
    Skill,
    StaffPost,
    Street,
    User,
)
from volunteers.tasks import purge_stale_import_batches

pytestmark = pytest.mark.django_db

GRID_HEADER = ["街道", "社区", "网格名称", "网格编码", "户数", "党组织类型", "党组织名称"]
PEOPLE_HEADER = ["姓名", "手机号", "所属网格编码", "身份", "技能"]


def xlsx(*rows) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(data: bytes, name: str = "导入.xlsx"):
    return SimpleUploadedFile(name, data, content_type=importing.XLSX_CONTENT_TYPE)


def codes(batch) -> dict[int, list[str]]:
    """Row number → error codes, for the bad rows of a batch."""
    return {row["row"]: [error["code"] for error in row["errors"]] for row in batch.rows if row["errors"]}


# --- places and people --------------------------------------------------------------------------------
@pytest.fixture
def place():
    district = DistrictFactory()
    street = StreetFactory(district=district, name="江浦街道", code="jiangpu")
    community = CommunityFactory(street=street, name="求雨山社区", code="qiuyushan")
    other = CommunityFactory(street=street, name="象山社区", code="xiangshan")
    return {
        "district": district,
        "street": street,
        "community": community,
        "other": other,
        "grid": GridFactory(community=community, name="第一网格", code="qys-01"),
        "other_grid": GridFactory(community=other, name="第一网格", code="xs-01"),
    }


def staff_member(*, level, name, **place):
    person = UserFactory(name=name, is_staff=True)
    StaffPostFactory(person=person, level=level, **place)
    person.user_permissions.add(Permission.objects.get(codename="access_admin"))
    TOTP.activate(person, generate_totp_secret())  # staff reach /admin/ only with an authenticator
    return person


@pytest.fixture
def district_admin(place):
    return staff_member(level=StaffPost.Level.DISTRICT, name="区管理员", district=place["district"])


@pytest.fixture
def community_staff(place):
    return staff_member(level=StaffPost.Level.COMMUNITY, name="社区干部", community=place["community"])


def people_file(*rows):
    return xlsx(PEOPLE_HEADER, *rows)


def grids_file(*rows):
    return xlsx(GRID_HEADER, *rows)


# --- happy paths --------------------------------------------------------------------------------------
def test_grid_import_creates_grids_and_missing_places_for_a_district_admin(place, district_admin):
    data = grids_file(
        ["江浦街道", "求雨山社区", "第二网格", "qys-02", 380, "支部", "求雨山社区第二网格党支部"],
        ["jiangpu", "qiuyushan", "第三网格", "qys-03", "", "", ""],
        ["江浦街道", "新河村", "第一网格", "xh-01", "120", "小组", ""],
        ["汤泉街道", "泉东社区", "第一网格", "qd-01", 400, "党支部", ""],
        ["汤泉街道", "泉东社区", "第二网格", "qd-02", 410, "", ""],
    )
    batch = importing.do_upload_import(actor=district_admin, kind="grids", upload=upload(data))
    assert codes(batch) == {}
    assert Grid.objects.count() == 2  # the upload alone creates nothing

    importing.do_confirm_import(batch_id=batch.pk, actor=district_admin)

    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.CONFIRMED and batch.confirmed_by == district_admin
    assert batch.summary == {"grids": 5, "streets": 1, "communities": 2}
    second = Grid.objects.get(code="qys-02")
    assert second.community == place["community"] and second.households == 380
    assert (
        second.party_org_kind == Grid.PartyOrgKind.BRANCH
        and second.party_org_name == "求雨山社区第二网格党支部"
    )
    assert Grid.objects.get(code="qys-03").party_org_kind == Grid.PartyOrgKind.GROUP
    village = Community.objects.get(name="新河村")
    assert village.street == place["street"] and village.kind == Community.Kind.VILLAGE
    new_street = Street.objects.get(name="汤泉街道")
    assert new_street.district == place["district"]
    assert set(Grid.objects.filter(community__street=new_street).values_list("code", flat=True)) == {
        "qd-01",
        "qd-02",
    }


def test_people_import_creates_accounts_with_identities_verified_by_the_importer(place, community_staff):
    data = people_file(
        ["王芳", "138 0013 8001", "qys-01", "党员;楼栋长", "理发、电工"],
        ["李强", 13800138002, "qys-01", "", ""],
        ["赵敏", "+86 138-0013-8003", "qys-01", "Volunteer，乡贤", "理发"],
    )
    batch = importing.do_upload_import(actor=community_staff, kind="people", upload=upload(data))
    assert codes(batch) == {}

    importing.do_confirm_import(batch_id=batch.pk, actor=community_staff)

    wang = User.objects.get(phone="+8613800138001")
    assert wang.name == "王芳" and wang.home_grid == place["grid"] and not wang.has_usable_password()
    assert set(wang.skills.values_list("name", flat=True)) == {"理发", "电工"}
    assert User.objects.get(phone="+8613800138002").identity_claims.count() == 0
    claims = IdentityClaim.objects.filter(person__phone__in=["+8613800138001", "+8613800138003"])
    assert sorted(claims.values_list("kind", flat=True)) == [
        "building_head",
        "local_worthy",
        "party_member",
        "volunteer",
    ]
    assert all(
        c.status == "verified" and c.decided_by == community_staff and c.grid == place["grid"] for c in claims
    )
    events = IdentityEvent.objects.filter(claim__in=claims)
    assert events.count() == 4
    assert all(e.status == "verified" and e.actor == community_staff for e in events)
    assert Skill.objects.filter(name="理发").count() == 1
    batch.refresh_from_db()
    assert batch.summary == {"people": 3, "identities": 4, "skills": 2}


def test_english_headers_below_a_title_row_are_understood(place, community_staff):
    data = xlsx(
        ["求雨山社区志愿者名单"],
        ["Name", "Mobile", "Grid code", "Identities", "Skills", "备注"],
        ["周杰", "13800138010", "qys-01", "party member", ""],
    )
    batch = importing.do_upload_import(actor=community_staff, kind="people", upload=upload(data))
    assert codes(batch) == {}
    assert batch.rows[0]["row"] == 3 and batch.ignored_columns == ["备注"]
    assert batch.rows[0]["plan"]["identities"] == ["party_member"]


def test_the_downloaded_template_is_a_workbook_the_import_reads(client, place, community_staff):
    client.force_login(community_staff)
    response = client.get(reverse("volunteers_import:template", args=["people"]))
    assert response.status_code == 200
    assert response["Content-Type"] == importing.XLSX_CONTENT_TYPE
    workbook = openpyxl.load_workbook(BytesIO(response.content))
    sheet = workbook.worksheets[0]
    assert [cell.value for cell in sheet[1]] == PEOPLE_HEADER
    sheet.append(["孙丽", "13800138020", "qys-01", "社区医生", ""])
    buffer = BytesIO()
    workbook.save(buffer)
    batch = importing.do_upload_import(actor=community_staff, kind="people", upload=upload(buffer.getvalue()))
    assert codes(batch) == {} and len(batch.rows) == 1

    grids = openpyxl.load_workbook(
        BytesIO(client.get(reverse("volunteers_import:template", args=["grids"])).content)
    )
    assert [cell.value for cell in grids.worksheets[0][1]] == GRID_HEADER


# --- all or nothing -----------------------------------------------------------------------------------
def test_one_bad_row_blocks_the_whole_import(place, community_staff):
    data = people_file(
        ["王芳", "13800138001", "qys-01", "党员", ""],
        ["李强", "12345", "qys-01", "", ""],
        ["赵敏", "13800138003", "qys-01", "", ""],
    )
    batch = importing.do_upload_import(actor=community_staff, kind="people", upload=upload(data))
    assert codes(batch) == {3: ["bad_phone"]}

    with pytest.raises(importing.BatchHasBadRows) as refused:
        importing.do_confirm_import(batch_id=batch.pk, actor=community_staff)

    assert refused.value.status == 409
    assert not User.objects.filter(phone__in=["+8613800138001", "+8613800138003"]).exists()
    assert not IdentityClaim.objects.exists()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PENDING


def test_rows_are_checked_for_every_kind_of_mistake(place, community_staff):
    UserFactory(phone="+8613800138099")
    data = people_file(
        ["", "13800138001", "qys-01", "", ""],  # 2: name missing
        ["王芳", "13800138002", "qys-01", "", ""],  # 3: fine
        ["王芳二", "138 0013 8002", "qys-01", "", ""],  # 4: same number as row 3
        ["李强", "13800138099", "qys-01", "", ""],  # 5: already registered
        ["赵敏", "13800138005", "no-such-grid", "", ""],  # 6: unknown grid
        ["周杰", "13800138006", "qys-01", "党员;皇帝", ""],  # 7: unknown identity
        ["长" * 41, "13800138007", "qys-01", "", ""],  # 8: name too long
        ["孙丽", "13800138008", "qys-01", "", "技" * 41],  # 9: skill too long
    )
    batch = importing.do_upload_import(actor=community_staff, kind="people", upload=upload(data))
    assert codes(batch) == {
        2: ["required"],
        4: ["duplicate_in_file"],
        5: ["phone_exists"],
        6: ["unknown_grid"],
        7: ["unknown_identity"],
        8: ["too_long"],
        9: ["skill_too_long"],
    }
    assert batch.rows[2]["errors"][0]["other"] == 3
    # Every reason reads as a sentence naming the column or the value.
    assert "皇帝" in importing.describe_error("people", batch.rows[5]["errors"][0])


def test_grid_rows_are_checked_against_the_file_and_the_database(place, district_admin):
    data = grids_file(
        ["江浦街道", "求雨山社区", "第二网格", "qys-02", 300, "支部", ""],
        ["江浦街道", "求雨山社区", "第三网格", "qys-02", 300, "", ""],  # code repeated in the file
        ["江浦街道", "求雨山社区", "第四网格", "qys-01", 300, "", ""],  # code already in the database
        ["江浦街道", "求雨山社区", "第一网格", "qys-05", 300, "", ""],  # name already used in that community
        ["江浦街道", "求雨山社区", "第六网格", "网格六", -5, "总支", ""],  # bad code, households, party kind
    )
    batch = importing.do_upload_import(actor=district_admin, kind="grids", upload=upload(data))
    assert codes(batch) == {
        3: ["duplicate_in_file"],
        4: ["grid_code_exists"],
        5: ["grid_name_exists"],
        6: ["bad_households", "bad_party_kind", "bad_code"],
    }


# --- formula injection --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        '=HYPERLINK("http://evil.example","点我")',
        "+cmd|' /C calc'!A0",
        "-2+3+cmd",
        "@SUM(1+1)",
        "\t=1+1",
        " =1+1",
    ],
)
def test_cells_that_a_spreadsheet_would_run_as_formulas_are_refused(place, community_staff, name):
    data = people_file([name, "13800138001", "qys-01", "", ""], ["王芳", "13800138002", "qys-01", "", ""])
    batch = importing.do_upload_import(actor=community_staff, kind="people", upload=upload(data))
    assert codes(batch) == {2: ["formula"]}
    with pytest.raises(importing.BatchHasBadRows):
        importing.do_confirm_import(batch_id=batch.pk, actor=community_staff)
    assert not User.objects.filter(phone="+8613800138002").exists()


def test_a_real_formula_cell_is_kept_as_text_and_refused(place, district_admin):
    data = grids_file(["江浦街道", "求雨山社区", "第二网格", "qys-02", "=SUM(100,200)", "", ""])
    batch = importing.do_upload_import(actor=district_admin, kind="grids", upload=upload(data))
    assert codes(batch) == {2: ["formula"]}
    assert batch.rows[0]["values"]["households"] == "=SUM(100,200)"  # read, never evaluated


# --- files refused as a whole ---------------------------------------------------------------------------
def test_an_oversized_upload_is_refused_with_413(client, place, community_staff, settings):
    settings.IMPORT_MAX_BYTES = 1024
    client.force_login(community_staff)
    data = people_file(*[[f"人{i}", f"138001{i:05d}", "qys-01", "", "x" * 40] for i in range(200)])
    assert len(data) > 1024
    response = client.post(reverse("volunteers_import:index"), {"kind": "people", "file": upload(data)})
    assert response.status_code == 413
    assert 'data-testid="import-error"' in response.content.decode()
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("people.xlsx", "姓名,手机号,所属网格编码\n王芳,13800138001,qys-01\n".encode()),  # a CSV renamed
        ("people.csv", "姓名,手机号,所属网格编码\n王芳,13800138001,qys-01\n".encode("gbk")),
        ("people.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600),  # an old binary .xls
        ("notes.xlsx", None),  # a zip archive that is no workbook
    ],
)
def test_a_file_that_is_not_an_xlsx_is_refused_with_400(client, place, community_staff, name, data):
    if data is None:
        buffer = BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("readme.txt", "hello")
        data = buffer.getvalue()
    client.force_login(community_staff)
    response = client.post(reverse("volunteers_import:index"), {"kind": "people", "file": upload(data, name)})
    assert response.status_code == 400
    assert 'data-testid="import-error"' in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_too_many_rows_empty_sheets_and_missing_columns_are_refused(place, community_staff, settings):
    settings.IMPORT_MAX_ROWS = 3
    cases = [
        (people_file(*[[f"人{i}", f"1380013800{i}", "qys-01"] for i in range(4)]), importing.TooManyRows),
        (xlsx(), importing.EmptySheet),
        (xlsx(PEOPLE_HEADER), importing.EmptySheet),
        (xlsx(["姓名", "技能"], ["王芳", ""]), importing.MissingColumns),
        (xlsx(["甲", "乙"], ["1", "2"]), importing.MissingColumns),
        (
            xlsx(["姓名", "手机号", "手机号码", "所属网格编码"], ["王芳", "1", "2", "qys-01"]),
            importing.ImportRefused,
        ),
    ]
    for data, error in cases:
        with pytest.raises(error) as refused:
            importing.do_upload_import(actor=community_staff, kind="people", upload=upload(data))
        assert 400 <= refused.value.status < 500
    # A sheet of exactly the limit is fine.
    data = people_file(*[[f"人{i}", f"1380013800{i}", "qys-01"] for i in range(3)])
    assert (
        len(importing.do_upload_import(actor=community_staff, kind="people", upload=upload(data)).rows) == 3
    )
    assert ImportBatch.objects.count() == 1


def test_missing_columns_are_named_in_the_message(place, community_staff):
    with pytest.raises(importing.MissingColumns) as refused:
        importing.do_upload_import(
            actor=community_staff, kind="people", upload=upload(xlsx(["姓名", "技能"], ["a"]))
        )
    assert "手机号" in str(refused.value.message) and "所属网格编码" in str(refused.value.message)


# --- scope --------------------------------------------------------------------------------------------
def test_community_staff_cannot_import_people_into_another_communitys_grid(place, community_staff):
    data = people_file(["王芳", "13800138001", "xs-01", "党员", ""])
    batch = importing.do_upload_import(actor=community_staff, kind="people", upload=upload(data))
    assert codes(batch) == {2: ["grid_out_of_scope"]}
    with pytest.raises(importing.BatchHasBadRows):
        importing.do_confirm_import(batch_id=batch.pk, actor=community_staff)
    assert not User.objects.filter(phone="+8613800138001").exists()


def test_community_staff_add_grids_only_to_their_own_community_and_create_no_places(place, community_staff):
    data = grids_file(
        ["江浦街道", "求雨山社区", "第二网格", "qys-02", 300, "", ""],  # their community: fine
        ["江浦街道", "象山社区", "第二网格", "xs-02", 300, "", ""],  # the neighbour's
        ["江浦街道", "新河村", "第一网格", "xh-01", 300, "", ""],  # would create a community
        ["汤泉街道", "泉东社区", "第一网格", "qd-01", 300, "", ""],  # would create a street
    )
    batch = importing.do_upload_import(actor=community_staff, kind="grids", upload=upload(data))
    assert codes(batch) == {3: ["community_out_of_scope"], 4: ["unknown_community"], 5: ["unknown_street"]}


def test_a_district_admin_cannot_reach_into_another_district(place, district_admin):
    elsewhere = CommunityFactory(street=StreetFactory(district=DistrictFactory(code="gulou", name="鼓楼区")))
    GridFactory(community=elsewhere, code="gl-01")
    data = people_file(["王芳", "13800138001", "gl-01", "", ""])
    batch = importing.do_upload_import(actor=district_admin, kind="people", upload=upload(data))
    assert codes(batch) == {2: ["grid_out_of_scope"]}


def test_people_who_are_not_staff_cannot_import(place):
    resident = UserFactory()
    with pytest.raises(importing.NotImporter):
        importing.do_upload_import(actor=resident, kind="people", upload=upload(people_file(["a", "b", "c"])))


def test_the_import_screens_are_for_staff_only(client, place, community_staff):
    # Admin access alone (the Wagtail permission) is not enough without a staff post.
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="access_admin"))
    TOTP.activate(clerk, generate_totp_secret())
    client.force_login(clerk)
    # Wagtail answers a PermissionDenied in its admin by sending the person to the dashboard with a message.
    for url in (reverse("volunteers_import:index"), reverse("volunteers_import:template", args=["grids"])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"] == "/admin/"
    refused = client.post(
        reverse("volunteers_import:index"),
        {"kind": "people", "file": upload(people_file(["王芳", "13800138001"]))},
    )
    assert refused.status_code == 302 and not ImportBatch.objects.exists()
    client.logout()
    assert client.get(reverse("volunteers_import:index")).status_code == 302  # to the sign-in page
    client.force_login(community_staff)
    page = client.get(reverse("volunteers_import:index"))
    assert page.status_code == 200 and 'data-testid="kind-people"' in page.content.decode()


def test_someone_elses_batch_is_not_found(client, place, community_staff):
    batch = importing.do_upload_import(
        actor=community_staff,
        kind="people",
        upload=upload(people_file(["王芳", "13800138001", "qys-01", "", ""])),
    )
    colleague = staff_member(level=StaffPost.Level.COMMUNITY, name="同事", community=place["community"])
    client.force_login(colleague)
    assert client.get(reverse("volunteers_import:preview", args=[batch.pk])).status_code == 404
    assert client.post(reverse("volunteers_import:confirm", args=[batch.pk])).status_code == 404
    assert not User.objects.filter(phone="+8613800138001").exists()


# --- confirmation -------------------------------------------------------------------------------------
def test_a_batch_is_confirmed_once_only(client, place, community_staff):
    client.force_login(community_staff)
    data = people_file(["王芳", "13800138001", "qys-01", "党员", ""])
    response = client.post(reverse("volunteers_import:index"), {"kind": "people", "file": upload(data)})
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "volunteers_import:preview", args=[batch.pk]
    )
    confirm = reverse("volunteers_import:confirm", args=[batch.pk])

    assert client.post(confirm).status_code == 302
    second = client.post(confirm)  # a double click, or the back button and confirm again

    assert second.status_code == 409
    assert 'data-testid="import-error"' in second.content.decode()
    assert User.objects.filter(phone="+8613800138001").count() == 1
    assert IdentityClaim.objects.count() == 1
    with pytest.raises(importing.BatchAlreadyConfirmed):
        importing.do_confirm_import(batch_id=batch.pk, actor=community_staff)


def test_a_phone_registered_after_the_preview_makes_the_confirmation_fail_whole(
    client, place, community_staff
):
    client.force_login(community_staff)
    data = people_file(
        ["王芳", "13800138001", "qys-01", "党员", ""], ["李强", "13800138002", "qys-01", "", ""]
    )
    client.post(reverse("volunteers_import:index"), {"kind": "people", "file": upload(data)})
    batch = ImportBatch.objects.get()
    assert codes(batch) == {}
    UserFactory(phone="+8613800138002", name="李强本人")  # signed up on their own meanwhile

    response = client.post(reverse("volunteers_import:confirm", args=[batch.pk]))

    assert response.status_code == 409
    assert not User.objects.filter(phone="+8613800138001").exists()
    assert User.objects.get(phone="+8613800138002").name == "李强本人"  # not merged, not touched
    assert not IdentityClaim.objects.exists()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PENDING and codes(batch) == {3: ["phone_exists"]}
    page = response.content.decode()
    assert 'data-testid="bad-rows"' in page and re.search(r'data-testid="confirm"[^>]*disabled', page)


def test_a_grid_taken_after_the_preview_makes_the_confirmation_fail_whole(place, district_admin):
    data = grids_file(
        ["江浦街道", "新河村", "第一网格", "xh-01", 300, "", ""],
        ["江浦街道", "求雨山社区", "第二网格", "qys-02", 300, "", ""],
    )
    batch = importing.do_upload_import(actor=district_admin, kind="grids", upload=upload(data))
    GridFactory(community=place["other"], code="qys-02")
    with pytest.raises(importing.BatchOutdated):
        importing.do_confirm_import(batch_id=batch.pk, actor=district_admin)
    assert not Community.objects.filter(name="新河村").exists()
    assert not Grid.objects.filter(code="xh-01").exists()


def test_a_staff_post_lost_after_the_preview_makes_the_confirmation_fail(place, community_staff):
    batch = importing.do_upload_import(
        actor=community_staff,
        kind="people",
        upload=upload(people_file(["王芳", "13800138001", "qys-01", "", ""])),
    )
    StaffPost.objects.filter(person=community_staff).update(community=place["other"])
    community_staff.refresh_from_db()  # drops the cached scope
    with pytest.raises(importing.BatchOutdated):
        importing.do_confirm_import(batch_id=batch.pk, actor=community_staff)
    assert not User.objects.filter(phone="+8613800138001").exists()


# --- pages --------------------------------------------------------------------------------------------
def test_preview_lists_bad_rows_with_reasons_and_disables_the_button(client, place, community_staff):
    client.force_login(community_staff)
    data = people_file(["王芳", "13800138001", "qys-01", "", ""], ["=1+1", "13800138002", "qys-01", "", ""])
    client.post(reverse("volunteers_import:index"), {"kind": "people", "file": upload(data)})
    batch = ImportBatch.objects.get()
    page = client.get(reverse("volunteers_import:preview", args=[batch.pk])).content.decode()
    assert 'data-testid="bad-rows"' in page and "第3行" in page
    assert "姓名" in page  # the reason names the column
    assert re.search(r'data-testid="confirm"[^>]*disabled', page)
    response = client.post(reverse("volunteers_import:confirm", args=[batch.pk]))
    assert response.status_code == 409
    assert not User.objects.filter(phone="+8613800138001").exists()


def test_preview_then_confirm_through_the_admin(client, place, community_staff):
    client.force_login(community_staff)
    data = grids_file(["江浦街道", "求雨山社区", "第二网格", "qys-02", 300, "支部", "第二网格党支部"])
    client.post(reverse("volunteers_import:index"), {"kind": "grids", "file": upload(data)})
    batch = ImportBatch.objects.get()
    page = client.get(reverse("volunteers_import:preview", args=[batch.pk])).content.decode()
    assert 'data-testid="good-rows"' in page and "qys-02" in page
    assert not re.search(r'data-testid="confirm"[^>]*disabled', page)
    response = client.post(reverse("volunteers_import:confirm", args=[batch.pk]), follow=True)
    assert response.status_code == 200 and 'data-testid="import-done"' in response.content.decode()
    assert Grid.objects.get(code="qys-02").community == place["community"]
    assert client.get(reverse("volunteers_import:confirm", args=[batch.pk])).status_code == 405


def test_upload_without_a_file_is_a_400(client, place, community_staff):
    client.force_login(community_staff)
    assert client.post(reverse("volunteers_import:index"), {"kind": "people"}).status_code == 400
    empty = SimpleUploadedFile("empty.xlsx", b"", content_type=importing.XLSX_CONTENT_TYPE)
    assert (
        client.post(reverse("volunteers_import:index"), {"kind": "people", "file": empty}).status_code == 400
    )
    assert not ImportBatch.objects.exists()


def test_the_admin_menu_offers_the_import_to_staff(client, place, community_staff):
    assert Authenticator.objects.filter(user=community_staff).exists()
    client.force_login(community_staff)
    page = client.get("/admin/").content.decode()
    assert reverse("volunteers_import:index") in page


# --- housekeeping -------------------------------------------------------------------------------------
def test_stale_unconfirmed_batches_are_purged(place, community_staff):
    def batch(age_days, status=ImportBatch.Status.PENDING):
        made = ImportBatch.objects.create(kind="people", uploaded_by=community_staff, status=status)
        ImportBatch.objects.filter(pk=made.pk).update(created_at=timezone.now() - timedelta(days=age_days))
        return made

    old = batch(3)
    fresh = batch(1)
    done = batch(10, ImportBatch.Status.CONFIRMED)

    assert purge_stale_import_batches.delay().get() == 1

    assert set(ImportBatch.objects.values_list("pk", flat=True)) == {fresh.pk, done.pk}
    assert not ImportBatch.objects.filter(pk=old.pk).exists()


# --- concurrency (PostgreSQL: SQLite serialises whole transactions anyway) ----------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_confirmations_import_once(place, community_staff):
    import threading

    from django.db import connection

    data = people_file(*[[f"人{i}", f"1380013{i:04d}", "qys-01", "党员", ""] for i in range(50)])
    batch = importing.do_upload_import(actor=community_staff, kind="people", upload=upload(data))
    barrier = threading.Barrier(2)
    outcomes = []

    def confirm():
        actor = User.objects.get(pk=community_staff.pk)
        barrier.wait()
        try:
            importing.do_confirm_import(batch_id=batch.pk, actor=actor)
            outcomes.append("imported")
        except importing.BatchAlreadyConfirmed:
            outcomes.append("already")
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["already", "imported"]
    assert User.objects.filter(phone__startswith="+861380013").count() == 50
    assert IdentityClaim.objects.count() == 50
