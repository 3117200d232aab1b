"""The world the notice tests share, and helpers to make notices the way Wagtail does.

Places: street S1 with community C1 (grids G1, G2) and C2 (grid G3); street S2 with community C3 (grid G4).
People (home grid in brackets): `in_g1` (G1), `in_g2` (G2, same community as in_g1), `in_g3` (C2, same
street), `in_g4` (S2), `party` (G4, a verified party member), `worker` (G3, a verified grid worker of G3),
`homeless` (no home grid, a verified party member); staff of C1, of S1, of S2 and of the district,
each with a TOTP authenticator as the back office requires.
"""

from dataclasses import dataclass
from datetime import datetime

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from cms.models import HomePage, NoticeIndexPage, NoticePage, NoticeTarget
from tests.factories import CommunityFactory, DistrictFactory, GridFactory, StreetFactory, UserFactory
from volunteers import services as volunteer_services
from volunteers.models import IdentityClaim, User


@dataclass
class World:
    district: object
    s1: object
    s2: object
    c1: object
    c2: object
    c3: object
    g1: object
    g2: object
    g3: object
    g4: object
    people: dict
    index: NoticeIndexPage

    def __getattr__(self, name):
        try:
            return self.__dict__["people"][name]
        except KeyError:
            raise AttributeError(name) from None


def verified(person, kind, grid):
    return IdentityClaim.objects.create(
        person=person, kind=kind, grid=grid, status=IdentityClaim.Status.VERIFIED
    )


def appoint(place, name):
    person = UserFactory(name=name)
    volunteer_services.do_appoint_staff(person=person, actor=None, place=place)
    TOTP.activate(person, generate_totp_secret())
    return User.objects.get(pk=person.pk)


def notice_index() -> NoticeIndexPage:
    index = NoticeIndexPage.objects.first()
    if index is None:
        home = HomePage.objects.first()
        index = home.add_child(instance=NoticeIndexPage(title="通知公告", slug="notices"))
        index.save_revision().publish()
    return index


@pytest.fixture
def world(db):
    district = DistrictFactory()
    s1 = StreetFactory(district=district, name="星甸街道")
    s2 = StreetFactory(district=district, name="汤泉街道")
    c1 = CommunityFactory(street=s1, name="星兴社区")
    c2 = CommunityFactory(street=s1, name="后圩社区")
    c3 = CommunityFactory(street=s2, name="泉西社区")
    g1 = GridFactory(community=c1, name="第一网格")
    g2 = GridFactory(community=c1, name="第二网格")
    g3 = GridFactory(community=c2, name="第一网格")
    g4 = GridFactory(community=c3, name="第一网格")
    people = {
        "in_g1": UserFactory(name="周一", home_grid=g1),
        "in_g2": UserFactory(name="吴二", home_grid=g2),
        "in_g3": UserFactory(name="郑三", home_grid=g3),
        "in_g4": UserFactory(name="王四", home_grid=g4),
        "party": UserFactory(name="冯党员", home_grid=g4),
        "worker": UserFactory(name="陈网格", home_grid=g3),
        "homeless": UserFactory(name="褚无格"),
    }
    verified(people["party"], "party_member", g4)
    verified(people["homeless"], "party_member", g4)
    verified(people["worker"], "grid_worker_full", g3)
    people["staff_c1"] = appoint(c1, "张社区")
    people["staff_s1"] = appoint(s1, "李街道")
    people["staff_s2"] = appoint(s2, "杨街道")
    people["staff_d"] = appoint(district, "王区")
    people["admin"] = UserFactory(name="管理员", is_superuser=True, is_staff=True)
    TOTP.activate(people["admin"], generate_totp_secret())
    return World(district, s1, s2, c1, c2, c3, g1, g2, g3, g4, people, notice_index())


def make_notice(
    title: str,
    *,
    targets=(),
    public: bool = False,
    must_read: bool = False,
    owner=None,
    publish: bool = True,
    go_live_at: datetime | None = None,
    expire_at: datetime | None = None,
    publisher=None,
) -> NoticePage:
    """A notice under the index, published through a revision as the admin publishes it. `targets` are
    dicts of NoticeTarget fields (street/community/grid/role)."""
    index = notice_index()
    notice = NoticePage(
        title=title,
        slug=f"n-{NoticePage.objects.count() + 1}",
        body=f"<p>{title}的正文。</p>",
        is_public=public,
        must_read=must_read,
        owner=owner,
        live=False,
        go_live_at=go_live_at,
        expire_at=expire_at,
        targets=[NoticeTarget(**target) for target in targets],
    )
    index.add_child(instance=notice)
    revision = notice.save_revision(user=owner)
    if publish:
        revision.publish(user=publisher)
    return NoticePage.objects.get(pk=notice.pk)
