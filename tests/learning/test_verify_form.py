"""The public /verify page: a box for the code printed on a certificate, typed as it comes
(spaces, dashes, lower case); a valid code leads to its check, anything else is answered on the
form, never with a server error."""

import pytest

from app.db import utcnow
from app.learning import operations
from app.learning.models import Certificate

LEARNER_NAME = "Trần Văn Bình"


@pytest.fixture
def certificate(make_course, make_user, units):
    course, _folder = make_course(modules=[{"id": "m1", "lessons": ["l1"]}])
    learner = make_user("resident", units["v1a"], full_name=LEARNER_NAME)
    for lesson in course.active_modules[0].active_lessons:
        operations.mark_lesson_read(learner, lesson)
    certificate = operations.course_progress(learner, course).certificate
    assert certificate is not None
    return certificate


def check(client, typed: str):
    return client.get("/verify", query_string={"code": typed})


def spaced(code: str) -> str:
    """The code as someone might type it off the paper: lower case, spaces instead of dashes."""
    return "  " + code.lower().replace("-", " ") + " "


def test_the_form_is_public_and_linked_from_every_pages_footer(client):
    response = client.get("/verify")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="code"' in html
    assert 'method="get"' in html
    assert "Check a certificate" in html
    sign_in = client.get("/login").get_data(as_text=True)
    assert 'href="/verify"' in sign_in


@pytest.mark.parametrize(
    "typing", [str, str.lower, spaced, lambda code: code.replace("-", ""), lambda code: f"{code[:7]} - {code[7:]}"]
)
def test_a_valid_code_as_typed_leads_to_its_check(client, certificate, typing):
    response = check(client, typing(certificate.code))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/verify/{certificate.code}")
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert LEARNER_NAME in page.get_data(as_text=True)


def test_an_unknown_code_is_answered_on_the_form(client, certificate):
    response = check(client, "zzzz 2222 zzzz")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "No valid certificate has the code ZZZZ-2222-ZZZZ." in html
    assert 'value="ZZZZ-2222-ZZZZ"' in html
    assert LEARNER_NAME not in html


def test_a_revoked_certificate_is_not_valid(client, certificate, db):
    certificate.revoked_at = utcnow()
    db.session.flush()
    response = check(client, certificate.code.lower())
    assert response.status_code == 404
    assert LEARNER_NAME not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "typed",
    [
        "<script>alert(1)</script>",
        "ABCD-EFGH",  # too short
        "ABCD-EFGH-JKMN-PQRS",  # too long
        "x" * 10_000,
        "ABCD_EFGH_JKMN",
        "ABCD-EFGH-JKM٣",  # an Arabic-Indic digit is not a code's digit
        "' OR 1=1 --",
        "%",
    ],
)
def test_text_that_cannot_be_a_code_is_refused_clearly(client, certificate, typed):
    response = check(client, typed)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "A certificate code has 12 letters and digits in three groups, like ABCD-EFGH-JKMN." in html
    assert "<script>alert" not in html
    assert LEARNER_NAME not in html


def test_control_characters_are_refused_not_a_server_error(client, certificate):
    assert check(client, certificate.code + "\x00").status_code == 400
    assert client.get("/verify?code=%ff%fe").status_code == 400


def test_an_empty_box_shows_the_form_again(client):
    for typed in ("", "   "):
        response = check(client, typed)
        assert response.status_code == 200
        assert "No valid certificate" not in response.get_data(as_text=True)


def test_reading_a_typed_code():
    assert operations.read_certificate_code(" abcd efgh jkmn ") == "ABCD-EFGH-JKMN"
    assert operations.read_certificate_code("ABCD-EFGH-JKMN") == "ABCD-EFGH-JKMN"
    assert Certificate.code.type.length >= len("ABCD-EFGH-JKMN")
