"""The certificate as a PDF, drawn from the certificate row alone (A4 landscape, Chinese).

Same row, same document: everything printed comes from the frozen row (never from the person's current
name or balance), the PDF's dates are the issue time, and fpdf2 derives the file id from the content, so
printing a certificate again gives the same file.

The font is embedded (a subset of the glyphs used, with a ToUnicode map so the text can be searched and
copied). It comes from a pinned npm package (@expo-google-fonts/noto-serif-sc, installed by `npm ci` with
the other front-end packages), so a machine with only Python and Node prints certificates; Debian's
fonts-noto-cjk is used when the package is missing.
"""

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

import qrcode
import qrcode.constants
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from fpdf import FPDF

from core.links import absolute

from . import exceptions
from .models import Certificate

# fontTools logs every table it subsets at INFO: some fifty lines per certificate in production's log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

_NPM_FONT = Path(settings.BASE_DIR) / "node_modules" / "@expo-google-fonts" / "noto-serif-sc"
_DEBIAN_FONT = Path("/usr/share/fonts/opentype/noto")


@dataclass(frozen=True)
class FontFiles:
    regular: Path
    bold: Path
    index: int = 0  # the face in a collection (.ttc): Debian's Noto Serif CJK has SC third


FONT_CANDIDATES = [
    FontFiles(
        _NPM_FONT / "400Regular" / "NotoSerifSC_400Regular.ttf",
        _NPM_FONT / "700Bold" / "NotoSerifSC_700Bold.ttf",
    ),
    FontFiles(_DEBIAN_FONT / "NotoSerifCJK-Regular.ttc", _DEBIAN_FONT / "NotoSerifCJK-Bold.ttc", index=2),
]

# Colours (RGB): a deep "certificate red" for the frame, title and seal; near-black ink for the text.
RED = (158, 27, 27)
SEAL = (200, 22, 29)
INK = (34, 34, 34)
GREY = (110, 110, 110)
GOLD = (191, 155, 96)

PAGE_W, PAGE_H = 297.0, 210.0
# Marks the values printed in bold inside a translated sentence (a character no name or number holds).
_MARK = "\x00"
# What the statement's lines are made of: a number or Latin word (kept whole), or any one character.
_TOKEN = re.compile(r"[0-9A-Za-z][0-9A-Za-z.:/_-]*|.", re.S)
_NO_LINE_START = set("。，、；：？！）」』”’》〉】…%·,.;:?!)")
_NO_LINE_END = set("（「『“‘《〈【(")


def font_files() -> FontFiles:
    for files in FONT_CANDIDATES:
        if files.regular.is_file() and files.bold.is_file():
            return files
    raise exceptions.FontMissing()


def verify_url(certificate: Certificate) -> str:
    return absolute(reverse("certificates:verify", args=[certificate.number]))


def _date(day) -> str:
    return _("%(year)d-%(month)02d-%(day)02d") % {"year": day.year, "month": day.month, "day": day.day}


def _long_date(day) -> str:
    return _("%(month)s %(day)s, %(year)s") % {"year": day.year, "month": day.month, "day": day.day}


class _Certificate(FPDF):
    def __init__(self, fonts: FontFiles):
        super().__init__(orientation="L", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(0, 0, 0)
        self.add_font("serif", "", fonts.regular, collection_font_number=fonts.index)
        self.add_font("serif", "B", fonts.bold, collection_font_number=fonts.index)

    def centred(self, y: float, text: str, size: float, *, style="", colour=INK, spacing: float = 0.0):
        self.set_font("serif", style, size)
        self.set_text_color(*colour)
        self.set_char_spacing(spacing)
        self.set_xy(0, y)
        self.cell(PAGE_W, size * 0.45, text, align="C")
        self.set_char_spacing(0)

    def paragraph(self, x: float, y: float, width: float, text: str, *, size: float, leading: float) -> float:
        """Set `text` from (x, y) in lines of `width`, justified, the way Chinese is set: a line may break
        between any two characters, but not inside a number or a Latin word, not before closing
        punctuation (。，）…) and not after opening punctuation (（“…). Parts of `text` between two _MARKs
        are set in bold red. Returns the y below the last line."""
        tokens = []  # (text, bold, width)
        for index, piece in enumerate(text.split(_MARK)):
            bold = index % 2 == 1
            self.set_font("serif", "B" if bold else "", size)
            tokens += [(t, bold, self.get_string_width(t)) for t in _TOKEN.findall(piece)]
        lines, line, used = [], [], 0.0
        for token in tokens:
            if line and used + token[2] > width + 0.01:
                # Closing punctuation stays with the character before it (even a run of it, "）。"),
                # opening punctuation with the one after: move characters down until that holds.
                carried, head = [], token
                while len(line) > 1 and (head[0] in _NO_LINE_START or line[-1][0] in _NO_LINE_END):
                    head = line.pop()
                    carried.insert(0, head)
                lines.append(line)
                line = [t for t in carried if not t[0].isspace()]
                used = sum(t[2] for t in line)
            # A continuation line does not start with a space (the first line keeps its indent).
            if line or not lines or not token[0].isspace():
                line.append(token)
                used += token[2]
        lines.append(line)
        for number, line in enumerate(lines):
            last = number == len(lines) - 1
            gap = 0.0 if last or len(line) < 2 else (width - sum(t[2] for t in line)) / (len(line) - 1)
            cursor = x
            for token, bold, token_width in line:
                self.set_font("serif", "B" if bold else "", size)
                self.set_text_color(*(RED if bold else INK))
                self.text(cursor, y + leading * 0.72, token)
                cursor += token_width + gap
            y += leading
        return y

    # --- ornaments -------------------------------------------------------------------------------------
    def frame(self):
        self.set_draw_color(*RED)
        self.set_line_width(1.6)
        self.rect(8, 8, PAGE_W - 16, PAGE_H - 16)
        self.set_line_width(0.35)
        self.rect(11.5, 11.5, PAGE_W - 23, PAGE_H - 23)
        self.set_draw_color(*GOLD)
        self.set_line_width(0.5)
        self.rect(14, 14, PAGE_W - 28, PAGE_H - 28)
        # A bracket of two lines in each inner corner, like a frame's mitred corner pieces.
        self.set_draw_color(*RED)
        self.set_line_width(0.8)
        for x, y, dx, dy in ((17, 17, 1, 1), (PAGE_W - 17, 17, -1, 1), (17, PAGE_H - 17, 1, -1)):
            self._corner(x, y, dx, dy)
        self._corner(PAGE_W - 17, PAGE_H - 17, -1, -1)

    def _corner(self, x, y, dx, dy):
        for inset, length in ((0, 16), (2.5, 10)):
            self.line(x + dx * inset, y + dy * inset, x + dx * (inset + length), y + dy * inset)
            self.line(x + dx * inset, y + dy * inset, x + dx * inset, y + dy * (inset + length))

    def rule_with_diamond(self, y: float, half_width: float = 55):
        mid = PAGE_W / 2
        self.set_draw_color(*GOLD)
        self.set_line_width(0.4)
        self.line(mid - half_width, y, mid - 3.5, y)
        self.line(mid + 3.5, y, mid + half_width, y)
        self.set_fill_color(*RED)
        self.polygon([(mid, y - 2), (mid + 2.5, y), (mid, y + 2), (mid - 2.5, y)], style="F")

    def seal(self, cx: float, cy: float, issuer: str, radius: float = 21.0):
        """A round red mark of lines and text: the issuer's name on the arc, a star, and the words
        "electronic certificate" below it. It is drawn, not an image of anyone's official seal."""
        with self.local_context(stroke_opacity=0.85, fill_opacity=0.85):
            self.set_draw_color(*SEAL)
            self.set_fill_color(*SEAL)
            self.set_text_color(*SEAL)
            self.set_line_width(1.1)
            self.circle(cx, cy, radius, style="D")
            self.set_line_width(0.3)
            self.circle(cx, cy, radius - 1.6, style="D")
            self._star(cx, cy - 1.5, 5.5)
            count = len(issuer)
            size = 11 if count <= 14 else max(6.5, 11 * 14 / count)
            self.set_font("serif", "B", size)
            sweep = min(250.0, 18.0 * count)
            ring = radius - 2.2 - size * 0.1764  # keep the glyphs inside the inner ring
            for index, char in enumerate(issuer):
                step = sweep / (count - 1) if count > 1 else 0
                theta = math.radians(90 + sweep / 2 - index * step)
                x, y = cx + ring * math.cos(theta), cy - ring * math.sin(theta)
                with self.rotation(math.degrees(theta) - 90, x, y):
                    width = self.get_string_width(char)
                    self.text(x - width / 2, y + size * 0.3528 * 0.35, char)
            self.set_font("serif", "B", 8.5)
            label = _("Electronic certificate")
            self.text(cx - self.get_string_width(label) / 2, cy + radius * 0.66, label)

    def _star(self, cx: float, cy: float, r: float):
        points = []
        for k in range(10):
            radius = r if k % 2 == 0 else r * 0.382
            angle = math.radians(90 + k * 36)
            points.append((cx + radius * math.cos(angle), cy - radius * math.sin(angle)))
        self.polygon(points, style="F")

    def qr(self, x: float, y: float, size: float, data: str):
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
        code.add_data(data)
        code.make(fit=True)
        matrix = code.get_matrix()
        module = size / len(matrix)
        # A white quiet zone around the code, then one rectangle per run of dark modules in a row
        # (vector modules print sharp at any size and keep the file small).
        self.set_fill_color(255, 255, 255)
        self.rect(x - 2 * module, y - 2 * module, size + 4 * module, size + 4 * module, style="F")
        self.set_fill_color(0, 0, 0)
        for row, cells in enumerate(matrix):
            col = 0
            while col < len(cells):
                if not cells[col]:
                    col += 1
                    continue
                run = col
                while run < len(cells) and cells[run]:
                    run += 1
                self.rect(x + col * module, y + row * module, (run - col) * module, module, style="F")
                col = run


def render(certificate: Certificate) -> bytes:
    """The certificate's PDF. Always in the site's language (a certificate is a record, like the ledger),
    whatever the language of the request that prints it."""
    with translation.override(settings.LANGUAGE_CODE):
        return bytes(_render(certificate))


def _render(certificate: Certificate) -> bytearray:
    pdf = _Certificate(font_files())
    issued_local = timezone.localtime(certificate.issued_at)
    title = _("Certificate of Volunteer Service Hours")
    pdf.set_title(f"{title} {certificate.number}")
    pdf.set_author(certificate.issuer_name)
    pdf.set_creator("Gongzhi")
    pdf.set_producer("Gongzhi")
    pdf.set_lang("zh-CN")
    pdf.set_creation_date(certificate.issued_at)
    pdf.add_page()
    pdf.frame()

    pdf.set_font("serif", "", 10)
    pdf.set_text_color(*GREY)
    pdf.set_xy(0, 21)
    pdf.cell(PAGE_W - 24, 5, _("No. %(number)s") % {"number": certificate.number}, align="R")

    pdf.centred(31, title, 30, style="B", colour=RED, spacing=3)
    pdf.rule_with_diamond(49)

    # The statement: one justified paragraph, the name and the hours in bold red.
    statement = _(
        "This is to certify that %(name)s took part in volunteer service of grid-based community "
        "co-governance %(tasks)s times from %(start)s to %(end)s and, as verified by check-in and "
        "check-out records, served %(hours)s hours (%(minutes)s minutes) in total."
    ) % {
        "name": _MARK + certificate.person_name.replace(_MARK, "") + _MARK,
        "start": _long_date(certificate.period_start),
        "end": _long_date(certificate.period_end),
        "tasks": certificate.tasks,
        "hours": _MARK + certificate.hours + _MARK,
        "minutes": certificate.minutes,
    }
    left, width, size, leading = 40.0, PAGE_W - 80, 16, 10.5
    y = pdf.paragraph(left, 64, width, "\u3000\u3000" + statement, size=size, leading=leading)
    y = pdf.paragraph(
        left,
        y + 1,
        width,
        "\u3000\u3000" + _("This certificate is hereby issued."),
        size=size,
        leading=leading,
    )

    # The three facts in boxes, for a quick read.
    facts = [
        (_("Service period"), f"{_date(certificate.period_start)} — {_date(certificate.period_end)}"),
        (_("Tasks served"), _("%(count)s times") % {"count": certificate.tasks}),
        (_("Verified service time"), _("%(hours)s hours") % {"hours": certificate.hours}),
    ]
    box_w, gap, top = 68.0, 6.0, max(106.0, y + 2.5)
    x = (PAGE_W - (3 * box_w + 2 * gap)) / 2
    for label, value in facts:
        pdf.set_draw_color(*GOLD)
        pdf.set_line_width(0.35)
        pdf.set_fill_color(253, 248, 240)
        pdf.rect(x, top, box_w, 18, style="DF")
        pdf.set_font("serif", "", 9.5)
        pdf.set_text_color(*GREY)
        pdf.set_xy(x, top + 2.5)
        pdf.cell(box_w, 5, label, align="C")
        pdf.set_font("serif", "B", 13)
        pdf.set_text_color(*INK)
        pdf.set_xy(x, top + 9)
        pdf.cell(box_w, 7, value, align="C")
        x += box_w + gap

    # Bottom left: the verification QR and how to use it.
    url = verify_url(certificate)
    qr_x, qr_y, qr_size = 34.0, 144.0, 30.0
    pdf.qr(qr_x, qr_y, qr_size, url)
    pdf.set_text_color(*INK)
    pdf.set_font("serif", "B", 11)
    pdf.set_xy(qr_x + qr_size + 5, qr_y + 2)
    pdf.cell(80, 6, _("Scan to check that it is genuine"))
    pdf.set_font("serif", "", 8.5)
    pdf.set_text_color(*GREY)
    pdf.set_xy(qr_x + qr_size + 5, qr_y + 10)
    pdf.multi_cell(
        80,
        4.6,
        _("Or open %(url)s\nand type the certificate number.")
        % {"url": absolute(reverse("certificates:verify_form"))},
        align="L",
    )

    # Bottom right: the issuer and the date, under the seal.
    right_x, right_w = PAGE_W - 38 - 95, 95.0
    pdf.set_text_color(*INK)
    issuer_size = 14.0
    pdf.set_font("serif", "B", issuer_size)
    while issuer_size > 8 and pdf.get_string_width(certificate.issuer_name) > right_w + 20:
        issuer_size -= 0.5  # a long street name shrinks rather than runs into the frame
        pdf.set_font("serif", "B", issuer_size)
    pdf.set_xy(right_x, 152)
    pdf.cell(right_w, 8, certificate.issuer_name, align="C")
    pdf.set_font("serif", "", 13)
    pdf.set_xy(right_x, 162)
    pdf.cell(right_w, 8, _long_date(issued_local.date()), align="C")
    pdf.seal(right_x + right_w / 2, 158, certificate.issuer_name)

    pdf.set_font("serif", "", 7.5)
    pdf.set_text_color(*GREY)
    pdf.set_xy(0, PAGE_H - 25)
    pdf.cell(
        PAGE_W,
        4,
        _(
            "Made from the sign-in records and the points ledger of the Gongzhi platform. Whether it is "
            "genuine and still valid is shown by scanning the QR code."
        ),
        align="C",
    )
    return pdf.output()
