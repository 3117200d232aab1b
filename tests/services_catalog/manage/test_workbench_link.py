"""People who run the loop find the workbench on their "me" page; residents do not see the link."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

LINK = 'data-testid="workbench-link"'


@pytest.mark.parametrize("who", ["a_admin", "a_member", "gw", "staff_c1", "staff_s1"])
def test_me_page_links_to_the_workbench_for_those_who_run_the_loop(world, client_for, who):
    page = client_for(getattr(world, who)).get(reverse("volunteers:profile")).content.decode()
    assert LINK in page and f'href="{reverse("services:manage")}"' in page


def test_me_page_has_no_workbench_link_for_a_resident(world, client_for):
    assert LINK not in client_for(world.r1).get(reverse("volunteers:profile")).content.decode()


def test_workbench_pages_are_not_cached(world, client_for):
    response = client_for(world.gw).get(reverse("services:manage_residents"))
    assert "no-store" in response["Cache-Control"]
