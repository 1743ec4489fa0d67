"""A learner who completes a course downloads a PDF certificate in their language; anyone can
check its code at /verify/<code> without signing in."""

import io
import re

import pytest
import yaml
from babel.dates import format_date
from pypdf import PdfReader

from app.db import utcnow
from app.learning import operations
from app.learning.models import Certificate

LEARNER_NAME = "Nguyễn Thị Lan"
TITLES = {
    "vi": "Kỹ năng dùng điện thoại an toàn",
    "en": "Using a phone safely",
    "bn": "নিরাপদে ফোন ব্যবহারের দক্ষতা",
}
BENGALI_NAME = "রহিমা খাতুন"


@pytest.fixture
def course(make_course):
    """A one-module course in three languages, with real titles in each."""
    course, folder = make_course(
        slug="safe-phone",
        languages=("vi", "en", "bn"),
        modules=[
            {
                "id": "m1",
                "lessons": ["l1", "l2"],
                "questions": [
                    {"id": "q1", "type": "single", "options": ["a", "b"], "correct": ["b"]},
                    {"id": "q2", "type": "true_false", "correct": True},
                ],
            }
        ],
    )
    manifest_path = folder / "course.yml"
    manifest = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    manifest["title"] = TITLES
    manifest_path.write_text(yaml.safe_dump(manifest, allow_unicode=True), encoding="utf-8")
    make_course.resync()
    assert course.titles == TITLES
    return course


@pytest.fixture
def learner(make_user, units):
    village = units["v1a"]
    village.name_en, village.name_bn = "Village 1A", "গ্রাম ১এ"
    units["c1"].name_en, units["c1"].name_bn = "Commune One", "ইউনিয়ন এক"
    return make_user("resident", village, username="lan.nguyen", full_name=LEARNER_NAME)


def complete(learner, course) -> Certificate:
    for module in course.active_modules:
        for lesson in module.active_lessons:
            operations.mark_lesson_read(learner, lesson)
        attempt = operations.open_attempt(learner, module.active_quiz)
        answers = {
            asked.question_id: {option.id for option in asked.question.options if option.is_correct}
            for asked in attempt.questions
        }
        assert operations.submit_attempt(learner, attempt, answers).passed
    certificate = operations.course_progress(learner, course).certificate
    assert certificate is not None
    return certificate


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


def embedded_fonts(data: bytes) -> set[str]:
    reader = PdfReader(io.BytesIO(data))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    return {str(font.get_object()["/BaseFont"]) for font in fonts.values()}


def has_bengali(text: str, expected: str) -> bool:
    """True if the letters of `expected` appear in `text` in order, with at most a few
    non-Bengali characters between two letters.

    With shaping on, a Bengali cluster can be drawn with more glyphs than it has characters (the
    two parts of the vowel sign ো, or a pre-base vowel sign). fpdf2 maps the cluster's characters
    onto its first glyph and leaves the others without a ToUnicode entry, so extractors (pypdf,
    pdfium) print those glyphs' raw codes: a control character or a stray ASCII one. Exact
    extraction is therefore impossible; every Bengali letter still comes out, in logical order.
    """
    letters = [re.escape(ch) for ch in expected if not ch.isspace()]
    return re.search(r"[^\u0980-\u09ff]{0,3}".join(letters), text) is not None


def download(client, course, lang):
    response = client.get(f"/learning/{course.slug}/certificate.pdf?lang={lang}")
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    return response


def test_the_vietnamese_certificate_shows_name_course_date_unit_and_code(client, login_as, learner, course):
    certificate = complete(learner, course)
    login_as(learner)
    response = download(client, course, "vi")
    assert certificate.code in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    assert "Chứng nhận hoàn thành" in text or "Certificate of completion" in text
    assert LEARNER_NAME in text
    assert TITLES["vi"] in text
    assert format_date(certificate.completed_on, "long", locale="vi") in text
    assert "Thôn 1A, Xã Một" in text
    assert certificate.code in text
    assert f"http://localhost/verify/{certificate.code}" in text
    assert "Kỹ năng số" in text
    assert all("Bengali" not in font for font in embedded_fonts(response.data))


def test_the_english_certificate_uses_the_english_title_date_and_unit_name(client, login_as, learner, course):
    certificate = complete(learner, course)
    login_as(learner)
    text = pdf_text(download(client, course, "en").data)
    assert "Certificate of completion" in text
    assert LEARNER_NAME in text
    assert TITLES["en"] in text
    assert TITLES["vi"] not in text
    assert format_date(certificate.completed_on, "long", locale="en") in text
    assert "Village 1A, Commune One" in text
    assert certificate.code in text


def test_the_bengali_certificate_renders_bengali_script_next_to_a_vietnamese_name(client, login_as, learner, course):
    certificate = complete(learner, course)
    login_as(learner)
    data = download(client, course, "bn").data
    text = pdf_text(data)
    # Latin with Vietnamese diacritics comes through unchanged, whatever the page language.
    assert LEARNER_NAME in text
    assert certificate.code in text
    assert has_bengali(text, TITLES["bn"])
    assert has_bengali(text, format_date(certificate.completed_on, "MMMM", locale="bn"))
    assert has_bengali(text, "গ্রাম ১এ, ইউনিয়ন এক")
    assert not has_bengali(text, "নিরাপদে ফোন ব্যবহারের দক্ষতা নেই")
    fonts = embedded_fonts(data)
    assert any("NotoSansBengali" in font for font in fonts), fonts


def test_a_bengali_name_renders_on_a_vietnamese_certificate(client, login_as, make_user, units, course):
    learner = make_user("resident", units["c2"], full_name=BENGALI_NAME)
    complete(learner, course)
    login_as(learner)
    data = download(client, course, "vi").data
    assert has_bengali(pdf_text(data), BENGALI_NAME)
    assert TITLES["vi"] in pdf_text(data)


def test_the_course_title_falls_back_to_vietnamese_when_the_course_lacks_the_language(
    client, login_as, learner, make_course
):
    course, _folder = make_course(slug="vi-only", languages=("vi",))
    certificate = complete(learner, course)
    login_as(learner)
    text = pdf_text(download(client, course, "en").data)
    assert "Course vi-only vi" in text
    assert certificate.code in text


def test_the_certificate_embeds_font_subsets_and_stays_small(client, login_as, learner, course):
    complete(learner, course)
    login_as(learner)
    data = download(client, course, "bn").data
    # Whole fonts would be over 1 MB; subsets keep a certificate to tens of kilobytes.
    assert len(data) < 100_000
    assert all(re.fullmatch(r"/[A-Z]{6}\+NotoSans\w*", font) for font in embedded_fonts(data))


def test_a_learner_who_has_not_completed_the_course_gets_404(client, login_as, learner, course):
    lesson = course.active_modules[0].active_lessons[0]
    operations.mark_lesson_read(learner, lesson)
    login_as(learner)
    assert client.get(f"/learning/{course.slug}/certificate.pdf").status_code == 404
    assert client.get("/learning/no-such-course/certificate.pdf").status_code == 404


def test_the_certificate_download_needs_sign_in(client, learner, course):
    complete(learner, course)
    response = client.get(f"/learning/{course.slug}/certificate.pdf")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_another_learner_cannot_download_someone_elses_certificate(client, login_as, learner, make_user, units, course):
    certificate = complete(learner, course)
    neighbour = make_user("resident", units["v1a"])
    login_as(neighbour)
    response = client.get(f"/learning/{course.slug}/certificate.pdf")
    assert response.status_code == 404
    assert certificate.code.encode() not in response.data


def test_a_revoked_certificate_is_not_downloadable_nor_valid(client, login_as, learner, course, db):
    certificate = complete(learner, course)
    certificate.revoked_at = utcnow()
    db.session.commit()
    login_as(learner)
    assert client.get(f"/learning/{course.slug}/certificate.pdf").status_code == 404
    client.post("/logout")
    response = client.get(f"/verify/{certificate.code}")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "No valid certificate has the code" in html
    assert LEARNER_NAME not in html


def test_verification_works_signed_out_and_shows_only_name_course_and_date(client, learner, course):
    certificate = complete(learner, course)
    response = client.get(f"/verify/{certificate.code}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "This certificate is valid." in html
    assert LEARNER_NAME in html
    assert TITLES["en"] in html
    assert format_date(certificate.completed_on, "long", locale="en") in html
    for private in ("lan.nguyen", "Thôn 1A", "Village 1A", "Xã Một"):
        assert private not in html


def test_the_code_may_be_typed_in_lower_case_with_spaces_around_it(client, learner, course):
    certificate = complete(learner, course)
    response = client.get(f"/verify/%20{certificate.code.lower()}%20")
    assert response.status_code == 200
    assert LEARNER_NAME in response.get_data(as_text=True)


def test_an_unknown_code_is_404_with_a_clear_message(client):
    response = client.get("/verify/AAAA-BBBB-CCCC")
    assert response.status_code == 404
    assert "No valid certificate has the code AAAA-BBBB-CCCC." in response.get_data(as_text=True)


def test_the_certificate_links_to_its_public_verification_page(client, login_as, learner, course):
    certificate = complete(learner, course)
    login_as(learner)
    reader = PdfReader(io.BytesIO(download(client, course, "en").data))
    links = [
        annotation.get_object()["/A"]["/URI"]
        for annotation in reader.pages[0].get("/Annots", [])
        if annotation.get_object().get("/Subtype") == "/Link"
    ]
    assert links == [f"http://localhost/verify/{certificate.code}"]
    client.post("/logout")
    assert client.get(links[0].removeprefix("http://localhost")).status_code == 200
