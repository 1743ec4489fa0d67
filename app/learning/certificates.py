"""Certificate PDFs: one A4 landscape page in the learner's language, with a QR code that leads to
the public check at /verify/<code>."""

from __future__ import annotations

from pathlib import Path

import segno
from flask import current_app, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from fpdf import FPDF
from fpdf.drawing import DeviceRGB
from fpdf.enums import Align, XPos, YPos

from app.i18n import format_date
from app.learning.models import Certificate, translated

ISSUER = "Kỹ năng số"
#: Noto Sans covers Latin with Vietnamese diacritics; Noto Sans Bengali takes over for any
#: character Noto Sans lacks (fpdf2's fallback fonts), so mixed-script lines render.
FONT_FILES = {
    ("NotoSans", ""): "NotoSans-Regular.ttf",
    ("NotoSans", "B"): "NotoSans-Bold.ttf",
    ("NotoSansBengali", ""): "NotoSansBengali-Regular.ttf",
    ("NotoSansBengali", "B"): "NotoSansBengali-Bold.ttf",
}
# The site's colours (static/css/site.css).
INK = (26, 26, 26)
MUTED = (74, 74, 74)
ACCENT = (11, 83, 148)
ACCENT_DARK = (7, 55, 99)
LINE = (200, 200, 200)

PAGE_WIDTH, PAGE_HEIGHT = 297, 210  # A4 landscape, mm
TEXT_WIDTH = 237  # the centred text block, inside the frame
QR_SIZE = 34


def render_certificate_pdf(certificate: Certificate, lang: str) -> bytes:
    """The certificate as PDF bytes, every text in `lang` (the course title falls back to
    Vietnamese when the course has no text in that language)."""
    with force_locale(lang):
        texts = _certificate_texts(certificate, lang)
    pdf = _new_document(lang, title=texts["title"])
    _draw_frame(pdf)
    _draw_body(pdf, texts)
    _draw_footer(pdf, texts)
    return bytes(pdf.output())


def _certificate_texts(certificate: Certificate, lang: str) -> dict[str, str]:
    """Everything printed, translated while the certificate's locale is in force."""
    unit = certificate.user.unit
    commune = unit.commune()
    unit_name = unit.display_name
    if commune is not None and commune.id != unit.id:
        unit_name = _("%(unit)s, %(commune)s", unit=unit_name, commune=commune.display_name)
    return {
        "title": _("Certificate of completion"),
        "certifies": _("This certifies that"),
        "name": certificate.user.full_name,
        "completed": _("has completed the course"),
        "course": translated(certificate.course.titles, lang),
        "date": _("Completed on %(date)s", date=format_date(certificate.completed_on, "long")),
        "unit": _("Unit: %(unit)s", unit=unit_name),
        "code_label": _("Verification code"),
        "code": certificate.code,
        "check": _("Scan the QR code or open this address to check the certificate:"),
        "url": url_for("verify.verify", code=certificate.code, _external=True),
        "issued_by": _("Issued by"),
    }


def _new_document(lang: str, *, title: str) -> FPDF:
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(30, 20, 30)
    pdf.set_title(title)
    pdf.set_author(ISSUER)
    pdf.set_creator(ISSUER)
    pdf.set_lang(lang)
    fonts = Path(current_app.static_folder or "static") / "fonts"
    for (family, style), filename in FONT_FILES.items():
        pdf.add_font(family, style, str(fonts / filename))
    pdf.set_fallback_fonts(["NotoSansBengali"])
    # HarfBuzz shaping: Bengali conjuncts and vowel signs, and Vietnamese stacked diacritics.
    pdf.set_text_shaping(True)
    pdf.add_page()
    return pdf


def _draw_frame(pdf: FPDF) -> None:
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, PAGE_WIDTH - 20, PAGE_HEIGHT - 20)
    pdf.set_line_width(0.3)
    pdf.rect(13, 13, PAGE_WIDTH - 26, PAGE_HEIGHT - 26)


def _centred(pdf: FPDF, text: str, *, size: float, style: str = "", color=INK, height: float | None = None):
    pdf.set_font("NotoSans", style, size)
    pdf.set_text_color(*color)
    pdf.set_x((PAGE_WIDTH - TEXT_WIDTH) / 2)
    pdf.multi_cell(TEXT_WIDTH, height or size * 0.5, text, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _fitting_size(pdf: FPDF, text: str, *, size: float, minimum: float, style: str = "B") -> float:
    """The largest size up to `size` at which `text` fits on one line (never below `minimum`;
    longer texts wrap)."""
    pdf.set_font("NotoSans", style, size)
    while size > minimum and pdf.get_string_width(text) > TEXT_WIDTH:
        size -= 1
        pdf.set_font_size(size)
    return size


def _draw_body(pdf: FPDF, texts: dict[str, str]) -> None:
    pdf.set_y(28)
    _centred(pdf, ISSUER.upper(), size=12, style="B", color=ACCENT)
    pdf.ln(4)
    _centred(pdf, texts["title"], size=30, style="B", color=ACCENT_DARK, height=14)
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.8)
    pdf.line(PAGE_WIDTH / 2 - 20, pdf.get_y() + 2, PAGE_WIDTH / 2 + 20, pdf.get_y() + 2)
    pdf.ln(12)
    _centred(pdf, texts["certifies"], size=13, color=MUTED, height=7)
    pdf.ln(2)
    _centred(pdf, texts["name"], size=_fitting_size(pdf, texts["name"], size=28, minimum=18), style="B")
    pdf.ln(4)
    _centred(pdf, texts["completed"], size=13, color=MUTED, height=7)
    pdf.ln(2)
    course_size = _fitting_size(pdf, texts["course"], size=20, minimum=15)
    _centred(pdf, texts["course"], size=course_size, style="B", color=ACCENT_DARK)
    pdf.ln(6)
    _centred(pdf, texts["date"], size=12, height=6.5)
    _centred(pdf, texts["unit"], size=12, color=MUTED, height=6.5)


def _draw_footer(pdf: FPDF, texts: dict[str, str]) -> None:
    top = PAGE_HEIGHT - 24 - QR_SIZE
    _draw_qr(pdf, texts["url"], x=24, y=top, size=QR_SIZE)
    left = 24 + QR_SIZE + 6
    width = 120
    pdf.set_xy(left, top + 2)
    pdf.set_font("NotoSans", "", 9)
    pdf.set_text_color(*MUTED)
    pdf.cell(width, 5, texts["code_label"], new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font("NotoSans", "B", 15)
    pdf.set_text_color(*INK)
    pdf.cell(width, 8, texts["code"], new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_x(left)
    pdf.set_font("NotoSans", "", 8.5)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(width, 4.5, texts["check"], new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_text_color(*ACCENT)
    pdf.multi_cell(width, 4.5, texts["url"], link=texts["url"], new_x=XPos.LEFT, new_y=YPos.NEXT)

    right = PAGE_WIDTH - 24 - 70
    line_y = PAGE_HEIGHT - 40
    pdf.set_draw_color(*LINE)
    pdf.set_line_width(0.3)
    pdf.line(right, line_y, right + 70, line_y)
    pdf.set_xy(right, line_y + 2)
    pdf.set_font("NotoSans", "", 9)
    pdf.set_text_color(*MUTED)
    pdf.cell(70, 5, texts["issued_by"], align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font("NotoSans", "B", 14)
    pdf.set_text_color(*ACCENT_DARK)
    pdf.cell(70, 7, ISSUER, align=Align.C)


def _draw_qr(pdf: FPDF, url: str, *, x: float, y: float, size: float) -> None:
    """The QR code as vector squares: one filled path, so no seams show between modules. Drawn
    on the white page, which gives the quiet zone around it."""
    matrix = segno.make(url, error="m", micro=False).matrix
    module = size / len(matrix)
    with pdf.new_path() as path:
        path.style.fill_color = DeviceRGB(0, 0, 0)
        path.style.stroke_color = None
        for row, cells in enumerate(matrix):
            column = 0
            while column < len(cells):
                if not cells[column]:
                    column += 1
                    continue
                start = column
                while column < len(cells) and cells[column]:
                    column += 1
                path.rectangle(x + start * module, y + row * module, (column - start) * module, module)
