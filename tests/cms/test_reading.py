"""Reading receipts, must-read acknowledgements and the per-grid rates staff see in the back office."""

import random

import pytest
from django.urls import reverse

from cms import selectors, services
from cms.models import NoticeRead
from tests.cms.support import make_notice
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def must_read(world):
    return make_notice("冬季夜间巡防（必读）", targets=[{"community": world.c1}], must_read=True)


def ack_url(notice):
    return notice.url + notice.reverse_subpage("acknowledge")


def test_opening_a_notice_records_one_read_for_a_targeted_person_only(client, world, must_read):
    client.force_login(world.in_g1)
    client.get(must_read.url)
    first = NoticeRead.objects.get(notice=must_read, person=world.in_g1)
    client.get(must_read.url)
    assert NoticeRead.objects.filter(notice=must_read).count() == 1
    assert NoticeRead.objects.get(pk=first.pk).read_at == first.read_at  # the first opening counts
    # Staff of the community may read it, but it does not target them: no receipt.
    client.force_login(world.staff_c1)
    assert client.get(must_read.url).status_code == 200
    assert not NoticeRead.objects.filter(person=world.staff_c1).exists()


def test_acknowledging_is_idempotent_and_keeps_the_first_time(client, world, must_read):
    client.force_login(world.in_g2)
    page = client.get(must_read.url).content.decode()
    assert 'data-testid="acknowledge-button"' in page
    response = client.post(ack_url(must_read))
    assert response.status_code == 302
    first = NoticeRead.objects.get(notice=must_read, person=world.in_g2).acknowledged_at
    assert first is not None
    assert client.post(ack_url(must_read)).status_code == 302
    services.do_acknowledge(notice=must_read, actor=world.in_g2)
    assert NoticeRead.objects.filter(notice=must_read, person=world.in_g2).count() == 1
    assert NoticeRead.objects.get(notice=must_read, person=world.in_g2).acknowledged_at == first
    page = client.get(must_read.url).content.decode()
    assert 'data-testid="acknowledge-button"' not in page and "ack-done" in page


def test_only_targeted_people_can_acknowledge(client, world, must_read):
    client.force_login(world.staff_c1)  # may read it, is not targeted
    assert client.post(ack_url(must_read)).status_code == 404
    client.force_login(world.in_g4)  # may not even read it
    assert client.post(ack_url(must_read)).status_code == 404
    client.logout()
    response = client.post(ack_url(must_read))
    assert response.status_code == 404  # not public: the page itself is not found
    client.force_login(world.in_g1)
    assert client.get(ack_url(must_read)).status_code == 405
    assert not NoticeRead.objects.filter(acknowledged_at__isnull=False).exists()


def test_a_notice_that_is_not_must_read_cannot_be_acknowledged(client, world):
    notice = make_notice("普通通知", targets=[{"grid": world.g1}])
    client.force_login(world.in_g1)
    assert client.post(ack_url(notice)).status_code == 400
    assert not NoticeRead.objects.filter(acknowledged_at__isnull=False).exists()


def test_anonymous_acknowledgement_of_a_public_must_read_notice_asks_to_sign_in(client, world):
    notice = make_notice("公开必读", public=True, must_read=True, targets=[{"street": world.s1}])
    response = client.post(ack_url(notice))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_rates_per_grid_equal_counts_made_independently(world, must_read):
    """Random people in the grids; some open the notice, some acknowledge it. The rates per grid, as street
    staff of S1 and as district staff see them, equal counts made here person by person."""
    rng = random.Random(6)
    grids = [world.g1, world.g2, world.g3, world.g4]
    notice = make_notice(
        "全街道必读",
        targets=[{"street": world.s1}, {"role": "identity:party_member"}],
        must_read=True,
    )
    people = [UserFactory(home_grid=rng.choice(grids)) for _ in range(40)]
    people += [world.in_g1, world.in_g2, world.in_g3, world.in_g4, world.party, world.homeless, world.worker]
    for person in people:
        roll = rng.random()
        if roll < 0.3:
            continue
        services.do_record_read(notice=notice, actor=person)
        if roll > 0.6 and selectors.is_targeted(person=person, notice=notice):
            services.do_acknowledge(notice=notice, actor=person)

    def expected(grid_ids, with_no_grid):
        counts = {}
        for person in {p.pk: p for p in people}.values():
            person.refresh_from_db()
            if not selectors.is_targeted(person=person, notice=notice):
                continue
            if person.home_grid_id is None and not with_no_grid:
                continue
            if person.home_grid_id is not None and person.home_grid_id not in grid_ids:
                continue
            read = NoticeRead.objects.filter(notice=notice, person=person).first()
            row = counts.setdefault(person.home_grid_id, [0, 0, 0])
            row[0] += 1
            row[1] += read is not None
            row[2] += bool(read and read.acknowledged_at)
        return counts

    def got(actor):
        return {
            r.grid_id: [r.targeted, r.read, r.acknowledged]
            for r in selectors.reading_rates(notice=notice, actor=actor)
        }

    s1_grids = {world.g1.pk, world.g2.pk, world.g3.pk}
    assert got(world.staff_s1) == expected(s1_grids, with_no_grid=False)
    assert got(world.staff_c1) == expected({world.g1.pk, world.g2.pk}, with_no_grid=False)
    everything = expected({g.pk for g in grids}, with_no_grid=True)
    assert got(world.staff_d) == everything
    assert None in everything and world.g4.pk in everything  # party members elsewhere, and without a grid


def test_rates_screens_in_the_back_office_are_scoped(client, world, must_read):
    for person in (world.in_g1, world.in_g2):
        services.do_record_read(notice=must_read, actor=person)
    services.do_acknowledge(notice=must_read, actor=world.in_g1)
    other = make_notice("汤泉通知", targets=[{"street": world.s2}], must_read=True)

    client.force_login(world.staff_s1)
    index = client.get(reverse("cms_reading:index")).content.decode()
    assert must_read.title in index and other.title not in index
    page = client.get(reverse("cms_reading:rates", args=[must_read.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-grid="{world.g1.pk}"' in html and f'data-grid="{world.g2.pk}"' in html
    assert client.get(reverse("cms_reading:rates", args=[other.pk])).status_code == 404

    client.force_login(world.in_g1)  # not staff
    assert client.get(reverse("cms_reading:rates", args=[must_read.pk])).status_code in (302, 403)


def test_reading_index_query_count_does_not_grow(client, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(world.staff_s1)
    url = reverse("cms_reading:index")

    def count():
        client.get(url)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx)

    make_notice("一", targets=[{"grid": world.g1}], must_read=True)
    few = count()
    for i in range(8):
        make_notice(f"通知{i}", targets=[{"community": world.c1}], must_read=bool(i % 2))
    assert count() == few


def test_an_attachment_is_served_only_to_those_who_may_read_its_notice(client, world, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from wagtail.documents.models import Document

    from cms.models import NoticeAttachment

    # Files on disk, as in production: Wagtail serves documents from a local path.
    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    doc = Document(title="演练路线图", file=SimpleUploadedFile("route.pdf", b"%PDF-1.4 route"))
    doc.save()
    loose = Document(title="公开材料", file=SimpleUploadedFile("open.pdf", b"%PDF-1.4 open"))
    loose.save()
    notice = make_notice("第一网格演练", targets=[{"grid": world.g1}])
    NoticeAttachment.objects.create(page=notice, document=doc)

    assert client.get(doc.url).status_code == 404
    assert client.get(loose.url).status_code == 200  # not attached to a notice: Wagtail's usual rules
    client.force_login(world.in_g4)
    assert client.get(doc.url).status_code == 404
    client.force_login(world.in_g1)
    response = client.get(doc.url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4 route"
    client.force_login(world.staff_s2)  # staff in the back office may open any attachment they can pick
    assert client.get(doc.url).status_code == 200
