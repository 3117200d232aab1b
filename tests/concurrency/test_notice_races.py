"""Notice races on PostgreSQL with real threads: many taps on "I have read it" record one time, and two
workers delivering the same batch notify each person once."""

import pytest
from django.conf import settings

from cms import selectors, services, tasks
from cms.models import NoticeRead
from core.models import Notification
from tests.cms.support import make_notice
from tests.concurrency.support import errors, people, run_together
from tests.factories import GridFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def home_page():
    # A transactional test empties the tables the cms migration filled: build the page tree again.
    from wagtail.models import Locale, Page, Site

    from cms.models import HomePage

    home = HomePage.objects.first()
    if home is None:
        Locale.objects.get_or_create(language_code=settings.LANGUAGE_CODE)
        root = Page.get_first_root_node() or Page.add_root(instance=Page(title="Root", slug="root"))
        home = root.add_child(instance=HomePage(title="共治", slug="home"))
    if not Site.objects.filter(is_default_site=True).exists():
        Site.objects.create(hostname="localhost", port=80, root_page=home, is_default_site=True)


def test_many_taps_on_acknowledge_record_one_time():
    grid = GridFactory()
    (person,) = people(1, "601")
    person.home_grid = grid
    person.save(update_fields=["home_grid"])
    notice = make_notice("必读：防汛", targets=[{"grid": grid}], must_read=True)

    outcomes = run_together([lambda: services.do_acknowledge(notice=notice, actor=person)] * 12)
    assert errors(outcomes) == []
    read = NoticeRead.objects.get(notice=notice, person=person)
    assert {o.value.acknowledged_at for o in outcomes} == {read.acknowledged_at}


def test_two_workers_delivering_the_same_batches_notify_each_person_once(monkeypatch):
    grid = GridFactory()
    crowd = people(30, "602")
    for person in crowd:
        person.home_grid = grid
        person.save(update_fields=["home_grid"])
    # Publish without the delivery it queues (eager here): the workers below are the delivery.
    monkeypatch.setattr(tasks.deliver_notice, "delay_on_commit", lambda *args: None)
    notice = make_notice("网格通知", targets=[{"grid": grid}])
    assert not Notification.objects.exists()
    batches = services.delivery_batches(notice_id=notice.pk, size=10)
    jobs = [
        (
            lambda first=first, last=last: services.do_deliver_batch(
                notice_id=notice.pk, first_id=first, last_id=last
            )
        )
        for first, last in batches
    ] * 4
    outcomes = run_together(jobs, workers=12)
    assert errors(outcomes) == []
    messages = Notification.objects.filter(key__startswith=f"notice:{notice.pk}:")
    assert messages.count() == len(crowd) == selectors.audience(notice=notice).count()
    assert sorted(messages.values_list("recipient_id", flat=True)) == sorted(p.pk for p in crowd)
    # A later run finds everybody notified and hands nobody to the notification service.
    for first, last in batches:
        assert services.do_deliver_batch(notice_id=notice.pk, first_id=first, last_id=last) == 0
