"""A person's data: the signed-in person's own (page, download, API), a resident's for whoever acts
for residents in their area (403 elsewhere, 404 for an unknown id), and the register page for the
data-protection officer."""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.db import local_today, utcnow
from app.extensions import db
from app.outcomes import operations
from app.outcomes.models import FollowUp, Household, Resident
from app.privacy import register
from app.privacy.export import personal_data
from app.privacy.register import Subject
from app.visits.models import HelpRequest, Team, TeamMember, Visit

VISIT_NOTE = "Bà Lan cần kính đọc; đã cài VNeID"
REQUEST_NOTE = "Gọi trước khi đến, buổi chiều"


@pytest.fixture
def w(db, units, make_user):
    operations.ensure_default_milestones()
    w = SimpleNamespace(units=units)
    w.admin = make_user("admin", units["province"])
    w.member = make_user("tech_team", units["v1a"], full_name="Trần Văn Kỹ")
    w.manager = make_user("commune_manager", units["c1"])
    w.manager_c2 = make_user("commune_manager", units["c2"])
    w.department = make_user("department_manager", units["province"])
    w.cadre = make_user("cadre", units["c1"])
    w.account = make_user("resident", units["v1a"], full_name="Nguyễn Thị Lan", phone="0912345678")
    w.other = make_user("resident", units["v1a"], full_name="Phạm Văn Khác")
    team = Team(unit_id=units["c1"].id, name="Tổ C1")
    team.members = [TeamMember(user_id=w.member.id, skills=["eid"])]
    household = Household(unit_id=units["v1a"].id, code="H7", address="Số 7, ngõ Đình")
    db.session.add_all([team, household])
    db.session.flush()
    w.lan = Resident(
        unit_id=units["v1a"].id,
        household_id=household.id,
        full_name="Nguyễn Thị Lan",
        birth_year=1958,
        phone="0912345678",
        user_id=w.account.id,
        consent_at=utcnow(),
    )
    w.tam = Resident(unit_id=units["v2a"].id, full_name="Chú Tám", birth_year=1965)
    db.session.add_all([w.lan, w.tam])
    db.session.flush()
    start = utcnow() - timedelta(hours=3)
    request = HelpRequest(
        skill="eid",
        unit_id=units["v1a"].id,
        place="Số 7, ngõ Đình",
        note=REQUEST_NOTE,
        name=w.lan.full_name,
        phone=w.lan.phone,
        resident_id=w.account.id,
        resident_record_id=w.lan.id,
        status="done",
        consent_at=utcnow(),
    )
    db.session.add(request)
    db.session.flush()
    w.visit = Visit(
        member_id=w.member.id,
        unit_id=units["v1a"].id,
        request_id=request.id,
        resident_id=w.account.id,
        resident_record_id=w.lan.id,
        skill="eid",
        place="Số 7, ngõ Đình",
        starts_at=start,
        ends_at=start + timedelta(minutes=45),
        status="done",
        notes=VISIT_NOTE,
        minutes_spent=40,
        resolved=True,
        completed_at=start + timedelta(minutes=45),
    )
    db.session.add(w.visit)
    db.session.flush()
    db.session.add(
        FollowUp(
            resident_id=w.lan.id,
            visit_id=w.visit.id,
            unit_id=units["v1a"].id,
            assigned_to_id=w.member.id,
            due_on=local_today() + timedelta(days=7),
            reason="Kiểm tra lại mật khẩu",
            created_by_id=w.member.id,
        )
    )
    w.milestone = operations.active_milestones()[0]
    operations.record_milestone(
        w.member, w.lan, w.milestone, on_date=local_today(), confirmation="seen_on_phone", helped_by=w.member
    )
    db.session.flush()
    return w


def assert_error(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    return error


# --- what is gathered ------------------------------------------------------------------------


def test_a_person_s_data_holds_their_account_their_record_and_everything_linked_readably(app, w):
    with app.test_request_context():
        data = personal_data(Subject(w.account.id, (w.lan.id,)))
    json.dumps(data)  # JSON-safe throughout
    tables = data["tables"]
    assert tables["users"]["rows"][0]["full_name"] == "Nguyễn Thị Lan"
    assert tables["residents"]["rows"][0]["birth_year"] == 1958
    assert tables["households"]["rows"] == [{"code": "H7", "address": "Số 7, ngõ Đình", "village": "Thôn 1A"}]
    assert tables["visits"]["rows"][0]["notes"] == VISIT_NOTE
    assert tables["visits"]["rows"][0]["member"] == "Trần Văn Kỹ"
    assert tables["help_requests"]["rows"][0]["note"] == REQUEST_NOTE
    assert tables["follow_ups"]["rows"][0]["reason"] == "Kiểm tra lại mật khẩu"
    # Names rather than ids, ISO dates.
    assert tables["resident_milestones"]["rows"][0]["milestone"] == w.milestone.name
    assert tables["resident_milestones"]["rows"][0]["reached_on"] == local_today().isoformat()
    assert tables["visits"]["rows"][0]["starts_at"].endswith("+07:00")
    assert tables["milestone_evidence"]["rows"][0]["helped_by"] == "Trần Văn Kỹ"
    assert data["subject"] == {"user_id": w.account.id, "resident_ids": [w.lan.id]}
    assert "password_hash" not in json.dumps(data)
    # The title of each table is the register's.
    assert tables["visits"]["title"] == str(register.TABLES["visits"].title)


def test_a_member_s_data_shows_their_visits_as_work_without_the_resident_s_notes(app, w):
    with app.test_request_context("/?lang=en"):
        data = personal_data(Subject(w.member.id, ()))
    visits = data["tables"]["visits"]["rows"]
    assert len(visits) == 1 and visits[0]["your_part"] == "Visit you made"
    text = json.dumps(data, ensure_ascii=False)
    assert VISIT_NOTE not in text and REQUEST_NOTE not in text and "Số 7" not in text
    assert "Nguyễn Thị Lan" not in text


def test_someone_with_nothing_held_gets_empty_tables_but_their_account(app, w):
    with app.test_request_context():
        assert personal_data(Subject(None, ()))["tables"] == {}
        assert list(personal_data(Subject(w.other.id, ()))["tables"]) == ["users"]


# --- my data ---------------------------------------------------------------------------------


def test_my_data_page_shows_the_person_everything_printable_and_is_linked_from_the_menu(client, login_as, w):
    login_as(w.account)
    home = client.get("/").get_data(as_text=True)
    assert 'href="/privacy/me"' in home

    response = client.get("/privacy/me")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    for text in ("Nguyễn Thị Lan", "0912 345 678", "Số 7, ngõ Đình", "Kiểm tra lại mật khẩu", w.milestone.names["en"]):
        assert text in page
    assert "Bà Lan cần kính đọc" in page
    assert 'href="/privacy/me.json"' in page
    assert "Use your browser&#39;s Print command" in page or "Use your browser's Print command" in page
    assert "Support visits" in page and "Year of birth" in page


def test_my_data_page_speaks_the_person_s_language(client, login_as, w):
    login_as(w.account)
    page = client.get("/privacy/me?lang=vi").get_data(as_text=True)
    assert "Year of birth" not in page and "Năm sinh" in page


def test_my_data_downloads_as_a_json_attachment(client, login_as, w):
    login_as(w.account)

    response = client.get("/privacy/me.json")

    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.get_data(as_text=True))
    assert data["tables"]["residents"]["rows"][0]["full_name"] == "Nguyễn Thị Lan"
    assert data["tables"]["visits"]["rows"][0]["notes"] == VISIT_NOTE


def test_my_data_needs_signing_in(client, w):
    assert client.get("/privacy/me").status_code == 302
    assert client.get("/privacy/me.json").status_code == 302


# --- a resident's data ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["member", "manager", "admin"])
def test_whoever_acts_for_residents_in_the_area_sees_and_downloads_a_resident_s_data(client, login_as, w, who):
    login_as(getattr(w, who))

    page = client.get(f"/privacy/residents/{w.lan.id}")
    download = client.get(f"/privacy/residents/{w.lan.id}.json")

    assert page.status_code == 200
    assert VISIT_NOTE in page.get_data(as_text=True)
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment;")
    assert download.get_json()["tables"]["residents"]["rows"][0]["full_name"] == "Nguyễn Thị Lan"


@pytest.mark.parametrize("who", ["manager_c2", "cadre", "department", "other"])
def test_a_resident_s_data_is_refused_outside_the_area_or_without_the_right(client, login_as, w, who):
    login_as(getattr(w, who))
    for address in (f"/privacy/residents/{w.lan.id}", f"/privacy/residents/{w.lan.id}.json"):
        response = client.get(address)
        assert response.status_code == 403, address
        assert "Nguyễn Thị Lan" not in response.get_data(as_text=True)


def test_an_unknown_resident_is_not_found(client, login_as, w):
    login_as(w.manager)
    assert client.get("/privacy/residents/999999").status_code == 404
    assert client.get("/privacy/residents/999999.json").status_code == 404


def test_the_resident_s_page_links_to_their_data_for_those_who_may_see_it(client, login_as, w):
    login_as(w.member)
    page = client.get(f"/outcomes/residents/{w.lan.id}").get_data(as_text=True)
    assert f'href="/privacy/residents/{w.lan.id}"' in page


# --- the register ----------------------------------------------------------------------------


def test_the_officer_reads_the_register_from_the_menu(client, login_as, w):
    login_as(w.admin)
    assert 'href="/privacy/register"' in client.get("/").get_data(as_text=True)

    response = client.get("/privacy/register")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for text in (
        "Support visits",
        "Sensitive personal data",
        "365 days after the help request, visit or follow-up is closed",
        "A task of a state agency",
        "Tables without personal data",
        "<code>notes</code>",
    ):
        assert text in page, text


def test_the_register_is_in_vietnamese_and_bengali_too(client, login_as, w):
    login_as(w.admin)
    english = client.get("/privacy/register?lang=en").get_data(as_text=True)
    for lang in ("vi", "bn"):
        page = client.get(f"/privacy/register?lang={lang}").get_data(as_text=True)
        assert "Sensitive personal data" not in page and "Why it is held" not in page, lang
        assert page != english


@pytest.mark.parametrize("who", ["manager", "member", "department", "cadre", "account"])
def test_only_the_officer_reads_the_register(client, login_as, w, who):
    login_as(getattr(w, who))
    assert client.get("/privacy/register").status_code == 403
    assert 'href="/privacy/register"' not in client.get("/").get_data(as_text=True)


# --- the API ---------------------------------------------------------------------------------


def test_the_api_gives_the_caller_everything_held_about_them(client, w, api_token):
    response = client.get("/api/v1/me/personal-data", headers=api_token(w.account))

    assert response.status_code == 200
    data = response.get_json()
    assert data["subject"]["resident_ids"] == [w.lan.id]
    assert data["tables"]["visits"]["rows"][0]["notes"] == VISIT_NOTE
    assert data["generated_at"]


@pytest.mark.parametrize("who", ["member", "manager"])
def test_the_api_gives_a_resident_s_data_to_whoever_acts_for_them(client, w, api_token, who):
    response = client.get(f"/api/v1/residents/{w.lan.id}/personal-data", headers=api_token(getattr(w, who)))

    assert response.status_code == 200
    assert response.get_json()["tables"]["residents"]["rows"][0]["full_name"] == "Nguyễn Thị Lan"


def test_the_person_may_read_their_own_record_by_its_id(client, w, api_token):
    response = client.get(f"/api/v1/residents/{w.lan.id}/personal-data", headers=api_token(w.account))

    assert response.status_code == 200
    assert response.get_json()["tables"]["residents"]["rows"][0]["full_name"] == "Nguyễn Thị Lan"
    assert_error(client.get(f"/api/v1/residents/{w.tam.id}/personal-data", headers=api_token(w.account)), 403)


@pytest.mark.parametrize("who", ["manager_c2", "cadre", "department"])
def test_the_api_refuses_a_resident_s_data_outside_the_area_or_without_the_right(client, w, api_token, who):
    audit_rows = db.session.scalar(select(func.count()).select_from(Resident))
    response = client.get(f"/api/v1/residents/{w.lan.id}/personal-data", headers=api_token(getattr(w, who)))

    error = assert_error(response, 403)
    assert "Nguyễn Thị Lan" not in json.dumps(error, ensure_ascii=False)
    assert db.session.scalar(select(func.count()).select_from(Resident)) == audit_rows


def test_the_api_refuses_another_commune_s_resident_to_a_commune_manager(client, w, api_token):
    assert_error(client.get(f"/api/v1/residents/{w.tam.id}/personal-data", headers=api_token(w.manager)), 403)
    response = client.get(f"/api/v1/residents/{w.tam.id}/personal-data", headers=api_token(w.manager_c2))
    assert response.status_code == 200


def test_the_api_answers_404_for_an_unknown_resident_and_401_without_a_token(client, w, api_token):
    assert_error(client.get("/api/v1/residents/999999/personal-data", headers=api_token(w.admin)), 404)
    assert client.get("/api/v1/me/personal-data").status_code == 401
