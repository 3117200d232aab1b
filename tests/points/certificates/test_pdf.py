"""The certificate's PDF: its text (extracted as a reader would) holds the right name, hours and number; the
font is embedded; its QR code, read off a rendering of the page, opens the verification page, which says the
certificate is genuine and shows masked data; printing it again gives the same file."""

import datetime as dt
import io
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings
from pypdf import PdfReader

from points.certificates import exceptions, pdf, services
from tests.points.certificates.support import decode_qr, make_world, pdf_text, pdfium_text, serve

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificate():
    world = make_world()
    with time_machine.travel(dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC), tick=False):
        serve(world.volunteer, day=dt.date(2026, 3, 1), minutes=90)
        serve(world.volunteer, day=dt.date(2026, 5, 1), minutes=60)
        return services.do_issue_certificate(
            actor=world.volunteer, start=dt.date(2026, 1, 1), end=dt.date(2026, 6, 30)
        ).certificate


def test_the_pdf_text_holds_the_name_hours_tasks_period_issuer_and_number(certificate):
    text = pdf_text(pdf.render(certificate))

    assert "志愿服务时长证明" in text
    assert "张三丰" in text
    assert "2.5小时" in text and "150分钟" in text
    assert "共2次" in text
    assert "2026年1月1日至2026年6月30日" in text
    assert certificate.number in text
    assert "星甸街道网格化服务管理中心" in text
    assert "2026年7月1日" in text  # issue date
    # Nothing personal beyond the name: no phone number on paper.
    assert "13811112222" not in text


def test_the_pdf_text_does_not_hold_another_certificates_values(certificate):
    text = pdf_text(pdf.render(certificate))
    assert "李四光" not in text and "3.5小时" not in text


def test_the_font_is_embedded_as_a_subset_with_a_unicode_map(certificate):
    reader = PdfReader(io.BytesIO(pdf.render(certificate)))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    assert fonts
    for ref in fonts.values():
        font = ref.get_object()
        assert font["/Subtype"] == "/Type0" and "/ToUnicode" in font
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, font["/BaseFont"]
        # A subset: the name carries the six-letter tag, and the file is far smaller than the font.
        assert "+" in str(font["/BaseFont"])
    assert len(pdf.render(certificate)) < 300_000


def test_the_qr_code_opens_the_verification_page_which_says_genuine_with_masked_data(client, certificate):
    urls = decode_qr(pdf.render(certificate))

    assert urls == [f"{settings.SITE_URL}/certificates/verify/{certificate.number}/"]
    response = client.get(urlsplit(urls[0]).path, HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-status="genuine"' in page and "证书真实有效" in page
    assert "张*丰" in page and "张三丰" not in page
    assert "2.5" in page and certificate.number in page and "星甸街道网格化服务管理中心" in page


def test_printing_again_gives_the_same_file_even_after_the_person_changes(certificate):
    first = pdf.render(certificate)
    certificate.person.name = "张三"
    certificate.person.save(update_fields=["name"])
    certificate.refresh_from_db()

    assert pdf.render(certificate) == first


def test_the_pdf_is_chinese_whatever_the_language_of_the_request(certificate):
    from django.utils import translation

    with translation.override("en"):
        text = pdf_text(pdf.render(certificate))
    assert "志愿服务时长证明" in text and "Certificate" not in text


def test_debians_noto_cjk_is_used_when_the_npm_font_is_missing(certificate, monkeypatch, tmp_path):
    debian = pdf.FONT_CANDIDATES[1]
    if not debian.regular.is_file():
        pytest.skip("Debian's fonts-noto-cjk is not installed on this machine")
    monkeypatch.setattr(
        pdf, "FONT_CANDIDATES", [pdf.FontFiles(tmp_path / "no.ttf", tmp_path / "no.ttf"), debian]
    )

    data = pdf.render(certificate)

    text = pdfium_text(data)
    assert "张三丰" in text and certificate.number in text and "2.5小时" in text
    fonts = PdfReader(io.BytesIO(data)).pages[0]["/Resources"]["/Font"].values()
    assert all("NotoSerifCJKSC" in str(font.get_object()["/BaseFont"]) for font in fonts)


def test_without_any_font_printing_is_refused_with_a_clear_error(certificate, monkeypatch, tmp_path):
    monkeypatch.setattr(pdf, "FONT_CANDIDATES", [pdf.FontFiles(tmp_path / "a.ttf", tmp_path / "b.ttf")])
    with pytest.raises(exceptions.FontMissing) as refused:
        pdf.render(certificate)
    assert refused.value.status == 503
