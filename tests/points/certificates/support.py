"""A small district for the certificate tests, and verified hours put in the ledger the way the site does it
(a finished attendance → an attendance award → its points and minutes posted)."""

import datetime as dt
import io
from dataclasses import dataclass

from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.db import transaction
from django.utils import timezone

from points.certificates.models import Certificate, new_number
from points.models import Award
from points.services.awards import do_post_award
from tests.factories import CommunityFactory, DistrictFactory, GridFactory, StreetFactory, UserFactory
from tests.points.support import finished_attendance, request
from volunteers import services as volunteer_services
from volunteers.models import User


def serve(person, *, day: dt.date, minutes: int = 120, grid=None) -> Award:
    """`person` worked a task of `minutes` on `day` (site time): the award is requested and posted."""
    start = timezone.make_aware(dt.datetime.combine(day, dt.time(9, 0)))
    attendance = finished_attendance(person, start=start, minutes=minutes, grid=grid or person.home_grid)
    # As the site does it: the award is requested in the transaction that made the attendance final.
    with transaction.atomic():
        assert request(attendance) is True
    award = Award.objects.get(attendance=attendance)
    return do_post_award(award_id=award.pk)


def appoint(place, phone: str, name: str) -> User:
    """A staff member of `place` who may open the back office (TOTP set up, as the site requires)."""
    person = UserFactory(name=name, phone=phone, notify_sms=False)
    volunteer_services.do_appoint_staff(person=person, actor=None, place=place)
    person = User.objects.get(pk=person.pk)
    TOTP.activate(person, generate_totp_secret())
    return person


@dataclass
class World:
    district: object
    s1: object
    s2: object
    c1: object
    g1: object
    g2: object
    volunteer: User
    other: User
    staff_s1: User
    staff_s2: User
    staff_c1: User


def make_world() -> World:
    district = DistrictFactory()
    s1 = StreetFactory(district=district, name="星甸街道")
    s2 = StreetFactory(district=district, name="汤泉街道")
    c1 = CommunityFactory(street=s1, name="星兴社区")
    c2 = CommunityFactory(street=s2, name="汤泉社区")
    g1, g2 = GridFactory(community=c1, name="第一网格"), GridFactory(community=c2, name="第二网格")
    volunteer = UserFactory(name="张三丰", phone="+8613811112222", home_grid=g1, notify_sms=False)
    other = UserFactory(name="李四光", phone="+8613811113333", home_grid=g2, notify_sms=False)
    return World(
        district=district,
        s1=s1,
        s2=s2,
        c1=c1,
        g1=g1,
        g2=g2,
        volunteer=volunteer,
        other=other,
        staff_s1=appoint(s1, "+8613922220001", "星甸干部"),
        staff_s2=appoint(s2, "+8613922220002", "汤泉干部"),
        staff_c1=appoint(c1, "+8613922220003", "星兴社区干部"),
    )


def plain_certificate(person, *, start: dt.date, end: dt.date, street, minutes: int = 60) -> Certificate:
    """A certificate row made directly (for list pages that need many rows quickly)."""
    return Certificate.objects.create(
        number=new_number(end.year),
        person=person,
        person_name=person.name,
        period_start=start,
        period_end=end,
        minutes=minutes,
        tasks=1,
        issuer_name=f"{street.name}网格化服务管理中心",
        district=street.district,
        street=street,
        issued_at=timezone.now(),
    )


def pdf_text(data: bytes) -> str:
    """The PDF's text as a reader extracts it, without white space (extractors differ in the spaces they
    put between CJK glyphs; the characters and their order are what the tests check)."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return "".join("".join(page.extract_text().split()) for page in reader.pages)


def pdfium_text(data: bytes) -> str:
    """The first page's text as PDFium (Chrome's PDF engine) extracts it, without white space. pypdf reads
    the CFF-flavoured CJK fonts of Debian's Noto with a NUL between glyphs; PDFium and poppler do not."""
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    try:
        return "".join(document[0].get_textpage().get_text_range().split())
    finally:
        document.close()


def decode_qr(data: bytes) -> list[str]:
    """Render the PDF's first page as a picture and read every QR code on it, as a phone camera would."""
    import pypdfium2
    import zxingcpp

    document = pypdfium2.PdfDocument(data)
    try:
        image = document[0].render(scale=3).to_pil()
    finally:
        document.close()
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]
