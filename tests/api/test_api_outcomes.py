"""The outcomes API: milestones, residents with or without a milestone, recording a milestone
(201 then 200), indicators per unit — each with its refusals from another commune's side."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from app.db import local_today, utcnow
from app.extensions import db
from app.learning import operations as learning
from app.outcomes import operations
from app.outcomes.models import MilestoneEvidence, Resident, ResidentMilestone
from app.visits.models import Team, TeamMember, Visit


def assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    if field is not None:
        assert error.get("field") == field, error
    return error


@pytest.fixture
def w(db, units, make_user, api_token):
    ensure = operations.ensure_default_milestones
    ensure()
    w = SimpleNamespace(units=units)
    w.member = make_user("tech_team", units["v1a"], full_name="Trần Văn Kỹ")
    w.member_c2 = make_user("tech_team", units["v2a"])
    w.manager = make_user("commune_manager", units["c1"])
    w.manager_c2 = make_user("commune_manager", units["c2"])
    w.department = make_user("department_manager", units["province"])
    w.cadre = make_user("cadre", units["c1"])
    team = Team(unit_id=units["c1"].id, name="Tổ C1")
    team.members = [TeamMember(user_id=w.member.id, skills=["eid"])]
    db.session.add(team)
    w.lan = Resident(unit_id=units["v1a"].id, full_name="Nguyễn Thị Lan", birth_year=1958)
    w.hoa = Resident(unit_id=units["v1b"].id, full_name="Lê Thị Hoa", birth_year=1970)
    w.tam = Resident(unit_id=units["v2a"].id, full_name="Chú Tám", birth_year=1965)
    db.session.add_all([w.lan, w.hoa, w.tam])
    db.session.flush()
    w.token = api_token
    return w


def milestone_body(**changes) -> dict:
    body = {
        "milestone": "eid_installed",
        "date": local_today().isoformat(),
        "confirmed_by": "seen_on_phone",
        **changes,
    }
    return {key: value for key, value in body.items() if value is not None}


# --- milestones ---------------------------------------------------------------------------


def test_milestones_are_listed_in_the_request_language(w, client):
    headers = w.token(w.member)
    english = client.get("/api/v1/milestones", headers=headers).get_json()
    assert english[0] == {"key": "eid_installed", "name": "E-ID app installed"}
    assert [m["key"] for m in english][-1] == "scam_briefing"
    vietnamese = client.get("/api/v1/milestones", headers={**headers, "Accept-Language": "vi"}).get_json()
    assert vietnamese[0]["name"] == "Đã cài ứng dụng VNeID"


def test_the_api_needs_a_token(w, client):
    assert client.get("/api/v1/milestones").status_code == 401
    assert client.get("/api/v1/residents").status_code == 401
    assert client.post(f"/api/v1/residents/{w.lan.id}/milestones", json=milestone_body()).status_code == 401
    assert client.get("/api/v1/indicators?unit=C1").status_code == 401


# --- residents ------------------------------------------------------------------------------


def test_residents_are_listed_in_the_callers_commune(w, client):
    answer = client.get("/api/v1/residents", headers=w.token(w.member)).get_json()
    assert {item["name"] for item in answer["items"]} == {"Nguyễn Thị Lan", "Lê Thị Hoa"}
    assert (answer["page"], answer["per_page"], answer["total"]) == (1, 50, 2)
    item = next(i for i in answer["items"] if i["id"] == w.lan.id)
    assert item["village"] == "C1A"
    village = client.get("/api/v1/residents?unit=C1B", headers=w.token(w.member)).get_json()
    assert [i["name"] for i in village["items"]] == ["Lê Thị Hoa"]


def test_residents_are_filtered_by_a_milestone_reached_or_not(w, client):
    operations.record_milestone(
        w.member,
        w.lan,
        operations.get_milestone("eid_installed"),
        on_date=local_today(),
        confirmation="document",
    )
    headers = w.token(w.manager)
    not_yet = client.get("/api/v1/residents?unit=C1&milestone=eid_installed&reached=false", headers=headers)
    assert [i["name"] for i in not_yet.get_json()["items"]] == ["Lê Thị Hoa"]
    reached = client.get("/api/v1/residents?unit=C1&milestone=eid_installed&reached=true", headers=headers)
    assert [i["name"] for i in reached.get_json()["items"]] == ["Nguyễn Thị Lan"]
    other = client.get("/api/v1/residents?milestone=cashless_setup&reached=false", headers=headers)
    assert other.get_json()["total"] == 2


def test_residents_are_paginated(w, client):
    db.session.add_all([Resident(unit_id=w.units["v1b"].id, full_name=f"Người {n:02d}") for n in range(5)])
    db.session.flush()
    answer = client.get("/api/v1/residents?per_page=3&page=2", headers=w.token(w.member)).get_json()
    assert (answer["page"], answer["per_page"], answer["total"], len(answer["items"])) == (2, 3, 7, 3)
    last = client.get("/api/v1/residents?per_page=3&page=3", headers=w.token(w.member)).get_json()
    assert len(last["items"]) == 1


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("unit=C2", 403, None),
        ("unit=C2A", 403, None),
        ("unit=NOPE", 404, None),
        ("milestone=flying", 422, "milestone"),
        ("milestone=eid_installed&reached=maybe", 422, "reached"),
        ("reached=false", 422, "milestone"),
        ("per_page=0", 422, "per_page"),
        ("per_page=100000", 422, "per_page"),
        ("page=-1", 422, "page"),
        ("page=x", 422, "page"),
    ],
)
def test_bad_or_out_of_scope_resident_queries_are_refused(w, client, query, status, field):
    assert_error(client.get(f"/api/v1/residents?{query}", headers=w.token(w.member)), status, field)


def test_people_without_access_to_residents_are_refused(w, client):
    assert_error(client.get("/api/v1/residents", headers=w.token(w.cadre)), 403)


def test_another_commune_sees_only_its_own_residents(w, client):
    answer = client.get("/api/v1/residents", headers=w.token(w.member_c2)).get_json()
    assert [i["name"] for i in answer["items"]] == ["Chú Tám"]
    province = client.get("/api/v1/residents", headers=w.token(w.department)).get_json()
    assert province["total"] == 3


# --- recording a milestone ------------------------------------------------------------------


def test_a_milestone_is_201_when_new_then_200_and_the_evidence_is_kept(w, client):
    headers = w.token(w.member)
    first = client.post(
        f"/api/v1/residents/{w.lan.id}/milestones",
        json=milestone_body(date=(local_today() - timedelta(days=2)).isoformat()),
        headers=headers,
    )
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["newly_reached"] is True
    again = client.post(
        f"/api/v1/residents/{w.lan.id}/milestones", json=milestone_body(confirmed_by="document"), headers=headers
    )
    assert again.status_code == 200
    assert again.get_json()["reached_on"] == (local_today() - timedelta(days=2)).isoformat()
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count()).select_from(ResidentMilestone)) == 1
    confirmations = db.session.scalars(db.select(MilestoneEvidence.confirmation).order_by(MilestoneEvidence.id)).all()
    assert confirmations == ["seen_on_phone", "document"]


def test_a_milestone_from_a_visit_is_credited_to_the_visits_member(w, client):
    start = utcnow() - timedelta(hours=2)
    visit = Visit(
        member_id=w.member.id,
        unit_id=w.units["v1a"].id,
        resident_record_id=w.lan.id,
        skill="eid",
        place="Nhà văn hóa",
        starts_at=start,
        ends_at=start + timedelta(minutes=45),
        booked_by_id=w.member.id,
    )
    db.session.add(visit)
    db.session.flush()
    response = client.post(
        f"/api/v1/residents/{w.lan.id}/milestones",
        json=milestone_body(visit_id=visit.id),
        headers=w.token(w.manager),
    )
    assert response.status_code == 201
    evidence = db.session.scalar(db.select(MilestoneEvidence))
    assert (evidence.visit_id, evidence.helped_by_id, evidence.recorded_by_id) == (visit.id, w.member.id, w.manager.id)
    other = client.post(
        f"/api/v1/residents/{w.hoa.id}/milestones", json=milestone_body(visit_id=visit.id), headers=w.token(w.manager)
    )
    assert_error(other, 422, "visit_id")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"milestone": "flying"}, "milestone"),
        ({"milestone": None}, "milestone"),
        ({"milestone": 7}, "milestone"),
        ({"date": "yesterday"}, "date"),
        ({"date": None}, "date"),
        ({"date": "2999-01-01"}, "date"),
        ({"confirmed_by": "gut_feeling"}, "confirmed_by"),
        ({"confirmed_by": None}, "confirmed_by"),
        ({"visit_id": "seven"}, "visit_id"),
        ({"visit_id": 999999}, "visit_id"),
        ({"helped_by": 999999}, "helped_by"),
    ],
)
def test_bad_milestone_input_is_422_and_records_nothing(w, client, changes, field):
    response = client.post(
        f"/api/v1/residents/{w.lan.id}/milestones", json=milestone_body(**changes), headers=w.token(w.member)
    )
    assert_error(response, 422, field)
    assert db.session.scalar(db.select(db.func.count()).select_from(MilestoneEvidence)) == 0


def test_recording_a_milestone_is_refused_outside_the_callers_commune(w, client):
    for person in (w.member_c2, w.manager_c2, w.department, w.cadre):
        response = client.post(
            f"/api/v1/residents/{w.lan.id}/milestones", json=milestone_body(), headers=w.token(person)
        )
        assert_error(response, 403)
    assert_error(
        client.post("/api/v1/residents/999999/milestones", json=milestone_body(), headers=w.token(w.member)), 404
    )
    assert db.session.scalar(db.select(db.func.count()).select_from(MilestoneEvidence)) == 0


def test_a_milestone_must_be_sent_as_json(w, client):
    response = client.post(
        f"/api/v1/residents/{w.lan.id}/milestones", data="milestone=eid_installed", headers=w.token(w.member)
    )
    assert_error(response, 415)


# --- indicators ---------------------------------------------------------------------------


def test_indicators_count_per_child_unit_with_self_study_and_help_apart(w, client, make_user, real_courses):
    core = real_courses["smartphone-basics"]
    self_learner = make_user("resident", w.units["v1a"])
    helped = make_user("resident", w.units["v1a"])
    for module in core.active_modules:
        learning.credit_module(self_learner, module, mode="self")
        learning.credit_module(helped, module, mode="assisted")
    operations.record_milestone(
        w.member,
        w.lan,
        operations.get_milestone("eid_installed"),
        on_date=local_today(),
        confirmation="document",
    )
    rows = client.get("/api/v1/indicators?unit=C1", headers=w.token(w.manager)).get_json()
    by_code = {row["unit_code"]: row for row in rows}
    assert set(by_code) == {"C1A", "C1B"}
    village = by_code["C1A"]
    assert village["adults"] == 2000
    assert village["residents_reached"] == 1
    assert village["milestones"]["eid_installed"] == {"count": 1, "share": 0.0005}
    assert village["milestones"]["cashless_setup"] == {"count": 0, "share": 0.0}
    assert village["basic_digital_skills"] == {"self_study": 1, "with_help": 1, "share": 0.001}
    assert by_code["C1B"]["basic_digital_skills"] == {"self_study": 0, "with_help": 0, "share": 0.0}
    province = client.get("/api/v1/indicators?unit=P", headers=w.token(w.department)).get_json()
    assert {row["unit_code"] for row in province} == {"C1", "C2"}


@pytest.mark.parametrize(
    ("who", "query", "status"),
    [
        ("manager", "unit=P", 403),  # a commune manager asking for the province
        ("manager", "unit=C2", 403),
        ("manager_c2", "unit=C1", 403),
        ("member_c2", "unit=C1A", 403),
        ("cadre", "unit=C1", 403),
        ("manager", "unit=NOPE", 404),
        ("manager", "", 422),
    ],
)
def test_indicators_are_refused_outside_the_callers_area(w, client, who, query, status):
    assert_error(client.get(f"/api/v1/indicators?{query}", headers=w.token(getattr(w, who))), status)
