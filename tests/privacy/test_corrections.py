"""Correcting personal data: only what the person changed is checked and written, each change is
kept in the history with its old and new value, and scope is checked."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.privacy import corrections, requests
from app.privacy.models import PersonalDataCorrection
from app.privacy.register import ERASERS, EXPORTERS, load
from app.privacy.subjects import subject_of_user


def history() -> list[tuple]:
    return [
        (c.table_name, c.row_id, c.field, c.old_value, c.new_value, c.corrected_by_id, c.request_id)
        for c in db.session.scalars(select(PersonalDataCorrection).order_by(PersonalDataCorrection.id))
    ]


def account_form(person, **changes) -> dict:
    data = {
        "full_name": person.full_name,
        "phone": person.phone or "",
        "email": person.email or "",
        "birth_year": str(person.birth_year or ""),
    }
    return {**data, **changes}


def test_a_person_corrects_their_phone_and_only_the_phone_is_written_and_kept_in_history(people, login_as):
    client = login_as(people.r)

    response = client.post("/privacy/me/corrections", data=account_form(people.r, phone="0913 000 111"))

    assert response.status_code == 302
    db.session.expire_all()
    assert people.r.phone == "+84913000111"  # stored in E.164, shown in the local format
    assert people.r.full_name == "Bà Năm"
    assert history() == [("users", people.r.id, "phone", "0912 345 678", "+84913000111", people.r.id, None)]
    page = client.get("/privacy/me/requests").get_data(as_text=True)
    assert "0912 345 678" in page and "0913 000 111" in page


def test_a_correction_answers_the_persons_open_correction_request(people, login_as):
    open_request = requests.file_request("correction", filed_by=people.r, user=people.r)
    db.session.flush()
    login_as(people.r).post(
        "/privacy/me/corrections", data=account_form(people.r, birth_year="1961", email="nam@example.vn")
    )
    rows = history()
    assert {row[2] for row in rows} == {"birth_year", "email"}
    assert {row[6] for row in rows} == {open_request.id}
    db.session.expire_all()
    assert (people.r.birth_year, people.r.email) == (1961, "nam@example.vn")


def test_bad_input_is_refused_by_field_and_nothing_is_written(people, login_as):
    client = login_as(people.r)
    for changes, message in (
        ({"phone": "gọi tôi"}, "Enter the phone number as digits"),
        ({"birth_year": "1800"}, "Enter the year of birth"),
        ({"birth_year": "²⁰²⁰"}, "Enter the year of birth"),
        ({"email": "not-an-address"}, None),
        ({"full_name": "   "}, "Enter the person&#39;s full name."),
        ({"full_name": "B" * 201}, None),
    ):
        response = client.post(
            "/privacy/me/corrections", data=account_form(people.r, **{"full_name": "Tên mới", **changes})
        )
        assert response.status_code == 400, changes
        if message:
            assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert (people.r.full_name, people.r.phone) == ("Bà Năm", "0912 345 678")
    assert history() == []


def test_an_untouched_field_is_not_checked_again_nor_rewritten(people, login_as):
    people.r.phone = "gọi qua con gái"  # stored before phones were checked
    db.session.flush()
    response = login_as(people.r).post(
        "/privacy/me/corrections", data=account_form(people.r, full_name="Nguyễn Thị Năm")
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (people.r.full_name, people.r.phone) == ("Nguyễn Thị Năm", "gọi qua con gái")
    assert [row[2] for row in history()] == ["full_name"]


def test_staff_correct_a_resident_of_their_commune_and_not_of_another(people, login_as):
    client = login_as(people.tech)

    response = client.post(
        f"/privacy/residents/{people.rec.id}/corrections",
        data={"full_name": "Ông Sáu", "birth_year": "1956", "phone": "0987 654 321"},
    )
    assert response.status_code == 302
    assert history() == [("residents", people.rec.id, "birth_year", "1955", "1956", people.tech.id, None)]
    assert "1956" in client.get(f"/privacy/residents/{people.rec.id}/requests").get_data(as_text=True)

    response = client.post(f"/privacy/residents/{people.rec2.id}/corrections", data={"full_name": "Người khác"})
    assert response.status_code == 403
    db.session.expire_all()
    assert people.rec2.full_name == "Chú Tám"
    assert db.session.scalar(select(func.count()).select_from(PersonalDataCorrection)) == 1


def test_a_bad_phone_for_a_resident_is_refused(people, login_as):
    response = login_as(people.cm).post(
        f"/privacy/residents/{people.rec.id}/corrections", data={"full_name": "Ông Sáu", "phone": "abc"}
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert people.rec.phone == "0987 654 321"
    assert history() == []


def test_nothing_changed_writes_nothing(people, login_as):
    response = login_as(people.r).post("/privacy/me/corrections", data=account_form(people.r))
    assert response.status_code == 302
    assert history() == []


def test_the_persons_requests_and_corrections_are_exported_and_erased_with_them(people):
    load()
    requests.file_request("correction", filed_by=people.r, user=people.r, details="Sai năm sinh")
    requests.file_request("access", filed_by=people.tech, resident=people.rec)
    corrections.correct_account(people.r, people.r, {"birth_year": "1962"})
    subject = subject_of_user(people.r)

    exported = EXPORTERS["person_requests"](subject)
    assert [(row["kind"], row["details"]) for row in exported] == [("correction", "Sai năm sinh")]
    assert [(row["field"], row["new_value"]) for row in EXPORTERS["personal_data_corrections"](subject)] == [
        ("birth_year", "1962")
    ]

    ERASERS["person_requests"](subject, None)
    ERASERS["personal_data_corrections"](subject, None)
    assert [row["details"] for row in EXPORTERS["person_requests"](subject)] == [None]
    assert EXPORTERS["personal_data_corrections"](subject) == []
    assert history() == []
