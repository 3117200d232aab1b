"""Case photos carry personal data: they live outside MEDIA_ROOT, have no public address, and are handed out
only to the people who may see the case — on the case page, in the admin review and over the API."""

import pytest
from django.test import Client
from PIL import Image

from points.cases.models import CasePhoto
from tests.api.support import AppClient, assert_error, session_token_for
from tests.factories import GridFactory, UserFactory
from tests.points.cases.support import category, grid_worker, png, report, street_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def case_with_photos():
    grid = GridFactory()
    worker = grid_worker(grid)
    case = report(
        worker, grid, category(), photos=[png(size=(8, 8)), png(size=(16, 4), fmt="JPEG", name="b.jpg")]
    )
    return case, worker


def _signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_photos_have_no_public_address(case_with_photos):
    case, _worker = case_with_photos
    photo = case.photos.first()
    with pytest.raises(ValueError, match="no public URL"):
        photo.image.url  # noqa: B018


def test_the_reporter_sees_each_photo_through_the_access_checked_address(case_with_photos):
    case, worker = case_with_photos
    client = _signed_in(worker)
    page = client.get(f"/cases/{case.public_code}/").content.decode()
    first, second = f"/api/v1/cases/{case.public_code}/photos/1", f"/api/v1/cases/{case.public_code}/photos/2"
    assert f'src="{first}"' in page and f'src="{second}"' in page
    response = client.get(second)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Cache-Control"] == "private, max-age=3600"
    image = Image.open(__import__("io").BytesIO(b"".join(response.streaming_content)))
    assert image.size == (16, 4)


def test_the_app_reads_the_photo_addresses_it_is_given(case_with_photos):
    case, worker = case_with_photos
    app = AppClient(session_token_for(worker))
    urls = app.get(f"/api/v1/cases/{case.public_code}").json()["photos"]
    assert urls == [f"/api/v1/cases/{case.public_code}/photos/{n}" for n in (1, 2)]
    response = app.get(urls[0])
    assert response.status_code == 200 and response["Content-Type"] == "image/png"


def test_staff_of_the_area_see_the_photo_in_the_review(case_with_photos):
    case, _worker = case_with_photos
    staff = street_staff(case.grid.community.street)
    assert _signed_in(staff).get(f"/api/v1/cases/{case.public_code}/photos/1").status_code == 200


def test_nobody_else_gets_a_photo(case_with_photos):
    case, _worker = case_with_photos
    address = f"/api/v1/cases/{case.public_code}/photos/1"
    assert_error(AppClient().get(address), 401, "not_authenticated")
    stranger = AppClient(session_token_for(UserFactory()))
    assert_error(stranger.get(address), 404, "photo_not_found")
    other_street = street_staff(GridFactory().community.street)
    assert_error(AppClient(session_token_for(other_street)).get(address), 404, "photo_not_found")


@pytest.mark.parametrize("number", ["0", "3", "-1", "x", "99999999999999999999"])
def test_a_photo_number_that_is_not_there_is_a_clear_4xx(case_with_photos, number):
    case, worker = case_with_photos
    response = AppClient(session_token_for(worker)).get(f"/api/v1/cases/{case.public_code}/photos/{number}")
    assert 400 <= response.status_code < 500
    assert response.json()["error"]["code"] in ("photo_not_found", "invalid", "not_found")


def test_the_photo_file_is_stored_in_the_private_storage(case_with_photos, settings):
    case, _worker = case_with_photos
    photo = CasePhoto.objects.filter(case=case).first()
    assert photo.image.storage.__class__.__name__.startswith("Private")
    assert settings.STORAGES["private"]["BACKEND"].startswith("core.storage.Private")


def test_a_report_that_fails_half_way_leaves_no_photo_file_behind(monkeypatch):
    from django.core.files.storage import storages

    grid = GridFactory()
    worker = grid_worker(grid)
    written, save = [], CasePhoto.save

    def save_then_fail_on_the_second(self, *args, **kwargs):
        if written:
            raise RuntimeError("the database went away")
        save(self, *args, **kwargs)
        written.append(self.image.name)

    monkeypatch.setattr(CasePhoto, "save", save_then_fail_on_the_second)
    with pytest.raises(RuntimeError):
        report(worker, grid, category(), photos=[png(), png()])
    assert len(written) == 1
    assert not storages["private"].exists(written[0])
    assert not CasePhoto.objects.exists()
