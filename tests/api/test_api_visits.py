"""The visits API: skills, teams, slots, help requests, visits and group sessions, each with its
refusals (no token, another commune, bad input)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from flask_babel import force_locale

from app.db import LOCAL_TZ, utcnow
from app.extensions import db
from app.visits import group_sessions, help_requests
from app.visits.models import (
    SKILL_TITLES,
    SKILLS,
    GroupSession,
    HelpRequest,
    SessionSignup,
    Team,
    TeamMember,
    Visit,
    WeeklyAvailability,
)


def next_monday() -> date:
    """A Monday at least a week ahead, so every booking is in the future."""
    today = datetime.now(LOCAL_TZ).date()
    return today + timedelta(days=7 + (7 - today.weekday()) % 7)


def at(day: date, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=LOCAL_TZ)


def iso(day: date, hhmm: str) -> str:
    return at(day, hhmm).isoformat()


def assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    if field is not None:
        assert error.get("field") == field, error
    return error


@pytest.fixture
def world(db, units, make_user, api_token):
    """Commune C1 with a team (member m1: e-ID and cashless, Mondays 18:00–20:00) and a village
    team in C1A; commune C2 with its own team; managers, residents and a cadre."""
    w = SimpleNamespace(units=units, monday=next_monday())
    w.admin = make_user("admin", units["province"])
    w.dept = make_user("department_manager", units["province"])
    w.cm1 = make_user("commune_manager", units["c1"])
    w.cm2 = make_user("commune_manager", units["c2"])
    w.m1 = make_user("tech_team", units["c1"], full_name="Anh Một")
    w.m1v = make_user("tech_team", units["v1a"], full_name="Bình Thôn")
    w.m2 = make_user("tech_team", units["c2"], full_name="Chi Hai")
    w.r1 = make_user("resident", units["v1a"], full_name="Dì Năm")
    w.r1b = make_user("resident", units["v1b"])
    w.r2 = make_user("resident", units["v2a"])
    w.cadre1 = make_user("cadre", units["v1a"])
    w.team1 = Team(unit=units["c1"], name="Đội Xã Một")
    w.team1v = Team(unit=units["v1a"], name="Tổ Thôn 1A")
    w.team2 = Team(unit=units["c2"], name="Đội Xã Hai")
    db.session.add_all([w.team1, w.team1v, w.team2])
    db.session.add_all(
        [
            TeamMember(team=w.team1, user=w.m1, skills=["eid", "cashless"], is_leader=True),
            TeamMember(team=w.team1v, user=w.m1v, skills=["phone_basics"]),
            TeamMember(team=w.team2, user=w.m2, skills=["eid"]),
            WeeklyAvailability(user_id=w.m1.id, weekday=0, start_minute=18 * 60, end_minute=20 * 60),
            WeeklyAvailability(user_id=w.m2.id, weekday=0, start_minute=18 * 60, end_minute=20 * 60),
        ]
    )
    db.session.commit()
    w.token = api_token
    return w


def book(client, headers, world, hhmm="18:00", minutes=60, **fields):
    payload = {
        "member_id": world.m1.id,
        "start": iso(world.monday, hhmm),
        "duration_minutes": minutes,
        "skill": "eid",
        "place": "Nhà văn hoá thôn 1A",
        "resident_id": world.r1.id,
    }
    payload.update(fields)
    return client.post("/api/v1/visits", json={k: v for k, v in payload.items() if v is not None}, headers=headers)


def past_visit(world, **fields) -> Visit:
    """A visit that has already happened (the API books only future times)."""
    values = {
        "member_id": world.m1.id,
        "unit_id": world.units["v1a"].id,
        "resident_id": world.r1.id,
        "skill": "eid",
        "place": "Nhà Dì Năm",
        "starts_at": utcnow() - timedelta(hours=3),
        "ends_at": utcnow() - timedelta(hours=2),
        "booked_by_id": world.cm1.id,
    }
    values.update(fields)
    visit = Visit(**values)
    db.session.add(visit)
    db.session.commit()
    return visit


# --- authentication ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/v1/skills"),
        ("get", "/api/v1/teams?unit=C1"),
        (
            "get",
            "/api/v1/slots?unit=C1&skill=eid&from=2030-01-07T00:00:00%2B07:00&to=2030-01-08T00:00:00%2B07:00&duration=60",
        ),
        ("post", "/api/v1/help-requests"),
        ("get", "/api/v1/visits"),
        ("post", "/api/v1/visits"),
        ("patch", "/api/v1/visits/1"),
        ("get", "/api/v1/sessions"),
        ("post", "/api/v1/sessions/1/signups"),
    ],
)
def test_every_visits_endpoint_needs_a_token(client, method, url):
    response = getattr(client, method)(url, json={})
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


# --- skills --------------------------------------------------------------------------------


def test_skills_are_the_vocabulary_in_the_requests_language(client, world):
    response = client.get("/api/v1/skills", headers=world.token(world.cm1))
    assert response.status_code == 200
    with force_locale("en"):
        expected = [{"key": key, "name": str(SKILL_TITLES[key])} for key in SKILLS]
    assert response.get_json() == expected
    assert {"key": "cashless", "name": "Cashless payment"} in response.get_json()


def test_skills_follow_the_callers_saved_language(client, world, make_user):
    vietnamese = make_user("resident", world.units["v1a"], locale="vi")
    response = client.get("/api/v1/skills", headers=world.token(vietnamese))
    with force_locale("vi"):
        expected = [{"key": key, "name": str(SKILL_TITLES[key])} for key in SKILLS]
    assert response.get_json() == expected


# --- teams ---------------------------------------------------------------------------------


def test_teams_of_a_commune_include_its_village_teams_with_members_and_skills(client, world):
    response = client.get("/api/v1/teams?unit=C1", headers=world.token(world.cm1))
    assert response.status_code == 200
    teams = {team["name"]: team for team in response.get_json()}
    assert set(teams) == {"Tổ Thôn 1A", "Đội Xã Một"}
    commune_team = teams["Đội Xã Một"]
    assert commune_team["id"] == world.team1.id
    assert commune_team["unit_code"] == "C1"
    assert commune_team["members"] == [
        {
            "id": world.m1.id,
            "name": "Anh Một",
            "skills": ["eid", "cashless"],
            "is_leader": True,
            "active": True,
        }
    ]


def test_teams_of_a_village_are_only_those_in_the_village(client, world):
    response = client.get("/api/v1/teams?unit=C1A", headers=world.token(world.m1))
    assert [team["name"] for team in response.get_json()] == ["Tổ Thôn 1A"]


def test_teams_of_another_commune_are_refused(client, world):
    headers = world.token(world.cm1)
    assert_error(client.get("/api/v1/teams?unit=C2", headers=headers), 403)
    assert_error(client.get("/api/v1/teams?unit=C2A", headers=headers), 403)
    assert_error(client.get("/api/v1/teams?unit=P", headers=headers), 403)


def test_province_wide_roles_see_every_communes_teams(client, world):
    for user in (world.admin, world.dept):
        response = client.get("/api/v1/teams?unit=C2", headers=world.token(user))
        assert [team["name"] for team in response.get_json()] == ["Đội Xã Hai"]


def test_teams_need_a_known_unit_and_the_right_role(client, world):
    headers = world.token(world.cm1)
    assert_error(client.get("/api/v1/teams", headers=headers), 422, "unit")
    assert_error(client.get("/api/v1/teams?unit=NOPE", headers=headers), 404)
    assert_error(client.get("/api/v1/teams?unit=C1%00", headers=headers), 422, "unit")
    assert_error(client.get("/api/v1/teams?unit=C1", headers=world.token(world.r1)), 403)
    assert_error(client.get("/api/v1/teams?unit=C1", headers=world.token(world.cadre1)), 403)


# --- slots ---------------------------------------------------------------------------------


def slots_url(world, **overrides) -> str:
    params = {
        "unit": "C1A",
        "skill": "eid",
        "from": iso(world.monday, "00:00"),
        "to": iso(world.monday + timedelta(days=1), "00:00"),
        "duration": "60",
    }
    params.update(overrides)
    return "/api/v1/slots?" + urlencode({k: v for k, v in params.items() if v is not None})


def test_slots_list_free_times_with_the_vietnam_offset(client, world):
    response = client.get(slots_url(world), headers=world.token(world.cm1))
    assert response.status_code == 200
    day = world.monday.isoformat()
    assert response.get_json() == [
        {"member_id": world.m1.id, "start": f"{day}T18:00:00+07:00", "end": f"{day}T19:00:00+07:00"},
        {"member_id": world.m1.id, "start": f"{day}T18:30:00+07:00", "end": f"{day}T19:30:00+07:00"},
        {"member_id": world.m1.id, "start": f"{day}T19:00:00+07:00", "end": f"{day}T20:00:00+07:00"},
    ]


def test_slots_leave_out_booked_times_and_members_without_the_skill(client, world):
    headers = world.token(world.cm1)
    assert book(client, headers, world, hhmm="18:00", minutes=30).status_code == 201
    # 18:00–18:30 booked, plus 15 minutes of travel: the next 60-minute slot starts at 19:00.
    starts = [slot["start"][11:16] for slot in client.get(slots_url(world), headers=headers).get_json()]
    assert starts == ["19:00"]
    assert client.get(slots_url(world, skill="phone_basics"), headers=headers).get_json() == []
    assert client.get(slots_url(world, skill="safety"), headers=headers).get_json() == []


def test_slots_accept_an_offset_whose_plus_was_not_url_encoded(client, world):
    day = world.monday.isoformat()
    url = f"/api/v1/slots?unit=C1&skill=eid&from={day}T00:00:00+07:00&to={day}T23:59:00+07:00&duration=120"
    response = client.get(url, headers=world.token(world.cm1))
    assert response.status_code == 200
    assert [slot["start"] for slot in response.get_json()] == [f"{day}T18:00:00+07:00"]


def test_slots_accept_other_offsets_and_answer_in_vietnam_time(client, world):
    day = world.monday.isoformat()
    # 11:00 UTC is 18:00 in Vietnam.
    url = slots_url(world, **{"from": f"{day}T11:00:00Z", "to": f"{day}T12:00:00+00:00"})
    response = client.get(url, headers=world.token(world.cm1))
    assert [slot["start"] for slot in response.get_json()] == [f"{day}T18:00:00+07:00"]


def test_slots_of_another_commune_are_refused(client, world):
    assert_error(client.get(slots_url(world, unit="C2"), headers=world.token(world.cm1)), 403)
    assert_error(client.get(slots_url(world, unit="C1"), headers=world.token(world.m2)), 403)
    assert_error(client.get(slots_url(world, unit="C1"), headers=world.token(world.r1)), 403)
    assert_error(client.get(slots_url(world, unit="ZZ"), headers=world.token(world.cm1)), 404)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"unit": None}, "unit"),
        ({"skill": None}, "skill"),
        ({"skill": "knitting"}, "skill"),
        ({"from": None}, "from"),
        ({"from": "next monday"}, "from"),
        ({"from": "2030-01-07T08:00:00"}, "from"),  # no offset: refused, not guessed
        ({"to": "2030-13-01T00:00:00+07:00"}, "to"),
        ({"from": "1900-01-01T00:00:00+07:00"}, "from"),
        ({"to": "9999-12-31T23:59:00-12:00"}, "to"),
        ({"duration": None}, "duration"),
        ({"duration": "sixty"}, "duration"),
        ({"duration": "10"}, "duration"),
        ({"duration": "481"}, "duration"),
        ({"duration": "-60"}, "duration"),
    ],
)
def test_slots_refuse_bad_parameters_naming_the_field(client, world, overrides, field):
    assert_error(client.get(slots_url(world, **overrides), headers=world.token(world.cm1)), 422, field)


def test_slots_refuse_an_empty_or_too_long_range(client, world):
    headers = world.token(world.cm1)
    start = world.monday
    same = slots_url(world, **{"from": iso(start, "18:00"), "to": iso(start, "18:00")})
    backwards = slots_url(world, **{"from": iso(start, "18:00"), "to": iso(start, "08:00")})
    too_long = slots_url(world, **{"from": iso(start, "00:00"), "to": iso(start + timedelta(days=32), "00:00")})
    for url in (same, backwards, too_long):
        assert_error(client.get(url, headers=headers), 422, "to")
    month = slots_url(world, **{"from": iso(start, "00:00"), "to": iso(start + timedelta(days=31), "00:00")})
    assert len(client.get(month, headers=headers).get_json()) == 5 * 3  # five Mondays


# --- help requests -------------------------------------------------------------------------


def help_payload(**fields) -> dict:
    payload = {
        "skill": "eid",
        "unit_code": "C1A",
        "place": "Nhà văn hoá thôn 1A",
        "note": "Cài VNeID mức 2",
        "name": "Bà Tư",
        "phone": "0912 345 678",
        "consent": True,
    }
    payload.update(fields)
    return {k: v for k, v in payload.items() if v is not None}


def test_a_resident_files_a_help_request_for_themselves(client, world):
    response = client.post(
        "/api/v1/help-requests", json=help_payload(name=None, phone=None), headers=world.token(world.r1)
    )
    assert response.status_code == 201
    body = response.get_json()
    request = db.session.get(HelpRequest, body["id"])
    assert request.resident_id == world.r1.id and request.created_by_id == world.r1.id
    assert request.consent_at is not None and request.status == "new"
    assert body["name"] == "Dì Năm" and body["unit_code"] == "C1A" and body["status"] == "new"
    assert body["created_at"].endswith("+07:00")


def test_a_cadre_files_a_help_request_on_someones_behalf(client, world):
    response = client.post("/api/v1/help-requests", json=help_payload(), headers=world.token(world.cadre1))
    assert response.status_code == 201
    request = db.session.get(HelpRequest, response.get_json()["id"])
    assert (request.name, request.phone, request.resident_id) == ("Bà Tư", "+84912345678", None)
    assert request.consent_recorded_by_id == world.cadre1.id


@pytest.mark.parametrize("consent", [None, False, "true", 1, "yes"])
def test_a_help_request_without_consent_is_refused(client, world, consent):
    response = client.post(
        "/api/v1/help-requests", json=help_payload(consent=consent), headers=world.token(world.cadre1)
    )
    assert_error(response, 422, "consent")
    assert db.session.scalar(db.select(db.func.count()).select_from(HelpRequest)) == 0


def test_a_help_request_for_another_commune_is_refused(client, world):
    for user in (world.r1, world.cadre1, world.m1):
        response = client.post("/api/v1/help-requests", json=help_payload(unit_code="C2A"), headers=world.token(user))
        assert_error(response, 403)
    response = client.post("/api/v1/help-requests", json=help_payload(), headers=world.token(world.dept))
    assert_error(response, 403)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"skill": "knitting"}, "skill"),
        ({"skill": 3}, "skill"),
        ({"unit_code": "NOPE"}, "unit_code"),
        ({"unit_code": "P"}, "unit_code"),
        ({"unit_code": ["C1A"]}, "unit_code"),
        ({"place": "   "}, "place"),
        ({"place": 12}, "place"),
        ({"place": "x" * 301}, "place"),
        ({"place": "bad\u0000byte"}, "place"),
        ({"name": None}, "name"),
        ({"name": {"first": "Tư"}}, "name"),
        ({"phone": "call me"}, "phone"),
        ({"phone": 912345678}, "phone"),
        ({"note": ["a"]}, "note"),
    ],
)
def test_a_help_request_with_bad_fields_is_refused_naming_the_field(client, world, fields, field):
    response = client.post("/api/v1/help-requests", json=help_payload(**fields), headers=world.token(world.cadre1))
    assert_error(response, 422, field)


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": "{not json", "content_type": "application/json"}, 400),
        ({"json": ["a", "list"]}, 400),
        ({"data": "skill=eid", "content_type": "application/x-www-form-urlencoded"}, 415),
    ],
)
def test_a_help_request_that_is_not_a_json_object_is_refused(client, world, kwargs, status):
    assert_error(client.post("/api/v1/help-requests", headers=world.token(world.cadre1), **kwargs), status)


# --- booking -------------------------------------------------------------------------------


def test_booking_a_visit_returns_it_in_vietnam_time(client, world):
    response = book(client, world.token(world.cm1), world)
    assert response.status_code == 201
    body = response.get_json()
    day = world.monday.isoformat()
    assert body["start"] == f"{day}T18:00:00+07:00" and body["end"] == f"{day}T19:00:00+07:00"
    assert body["member_id"] == world.m1.id and body["resident_id"] == world.r1.id
    assert (body["status"], body["unit_code"], body["duration_minutes"]) == ("booked", "C1A", 60)
    visit = db.session.get(Visit, body["id"])
    assert visit.starts_at == at(world.monday, "18:00") and visit.starts_at.utcoffset() == timedelta(0)


def test_booking_from_a_request_schedules_the_request(client, world):
    request = help_requests.create_help_request(
        world.cadre1, skill="cashless", unit=world.units["v1b"], place="Chợ", name="Ông Ba", consent=True
    )
    db.session.commit()
    response = book(client, world.token(world.m1), world, skill="cashless", resident_id=None, request_id=request.id)
    assert response.status_code == 201
    assert response.get_json()["unit_code"] == "C1B" and response.get_json()["request_id"] == request.id
    assert db.session.get(HelpRequest, request.id).status == "scheduled"


def test_an_overlapping_booking_gets_409_with_a_friendly_message(client, world):
    headers = world.token(world.cm1)
    assert book(client, headers, world, hhmm="18:00").status_code == 201
    error = assert_error(book(client, headers, world, hhmm="18:30", resident_id=world.r1b.id), 409)
    assert error["code"] == "conflict"
    assert "already has a visit at that time" in error["message"]
    assert db.session.scalar(db.select(db.func.count()).select_from(Visit)) == 1


def test_booking_in_another_commune_is_refused(client, world):
    request = help_requests.create_help_request(
        world.cadre1, skill="eid", unit=world.units["v1a"], place="Chợ", name="Ông Ba", consent=True
    )
    db.session.commit()
    headers = world.token(world.cm2)
    assert_error(book(client, headers, world), 403)  # the resident lives in C1
    assert_error(book(client, headers, world, resident_id=None, request_id=request.id), 403)
    assert_error(book(client, world.token(world.r1), world), 403)
    assert_error(book(client, world.token(world.dept), world), 403)
    assert db.session.scalar(db.select(db.func.count()).select_from(Visit)) == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"member_id": "m1"}, "member_id"),
        ({"member_id": None}, "member_id"),
        ({"member_id": 10**12}, "member_id"),
        ({"member_id": True}, "member_id"),
        ({"start": "2030-01-07T18:00:00"}, "start"),
        ({"start": "soon"}, "start"),
        ({"start": 1893931200}, "start"),
        ({"start": "2001-01-01T18:00:00+07:00"}, "start"),  # in the past
        ({"duration_minutes": 5}, "duration_minutes"),
        ({"duration_minutes": 600}, "duration_minutes"),
        ({"duration_minutes": "60"}, "duration_minutes"),
        ({"duration_minutes": 60.5}, "duration_minutes"),
        ({"skill": "knitting"}, "skill"),
        ({"skill": "phone_basics"}, "skill"),  # m1 does not offer it
        ({"place": ""}, "place"),
        ({"place": ["x"]}, "place"),
        ({"resident_id": None}, "request_id"),
        ({"request_id": 1}, "request_id"),  # both
        ({"resident_id": 999999}, "resident_id"),
        ({"resident_id": "r1"}, "resident_id"),
    ],
)
def test_booking_with_bad_fields_is_refused_naming_the_field(client, world, fields, field):
    assert_error(book(client, world.token(world.cm1), world, **fields), 422, field)


def test_booking_a_member_of_another_commune_is_refused(client, world):
    assert_error(book(client, world.token(world.cm1), world, member_id=world.m2.id), 422, "member_id")
    assert_error(book(client, world.token(world.cm1), world, member_id=world.r1b.id), 422, "member_id")


def test_booking_from_an_unknown_request_is_refused(client, world):
    response = book(client, world.token(world.cm1), world, resident_id=None, request_id=424242)
    assert_error(response, 422, "request_id")


def test_booking_with_malformed_json_is_refused(client, world):
    headers = world.token(world.cm1)
    response = client.post("/api/v1/visits", data="{", content_type="application/json", headers=headers)
    assert_error(response, 400)
    assert_error(client.post("/api/v1/visits", json="text", headers=headers), 400)
    deep = "[" * 100_000 + "]" * 100_000  # deeper than Python's JSON decoder can go
    assert_error(client.post("/api/v1/visits", data=deep, content_type="application/json", headers=headers), 400)


# --- changing visits -----------------------------------------------------------------------


def patch(client, headers, visit_id, **payload):
    return client.patch(f"/api/v1/visits/{visit_id}", json=payload, headers=headers)


def test_a_visit_is_rescheduled(client, world):
    headers = world.token(world.cm1)
    visit_id = book(client, headers, world).get_json()["id"]
    response = patch(client, headers, visit_id, action="reschedule", start=iso(world.monday, "19:00"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["start"].endswith("T19:00:00+07:00") and body["duration_minutes"] == 60
    response = patch(
        client, headers, visit_id, action="reschedule", start=iso(world.monday, "18:00"), duration_minutes=90
    )
    assert response.get_json()["end"].endswith("T19:30:00+07:00")


def test_rescheduling_onto_another_visit_gets_409(client, world):
    headers = world.token(world.cm1)
    first = book(client, headers, world, hhmm="18:00").get_json()["id"]
    # Back to back leaves no travel time: the manager books it anyway, saying why.
    second = book(
        client, headers, world, hhmm="19:00", resident_id=world.r1b.id, override=True, override_reason="Hàng xóm"
    )
    assert second.status_code == 201, second.get_json()
    assert_error(patch(client, headers, first, action="reschedule", start=iso(world.monday, "18:30")), 409)
    assert db.session.get(Visit, first).starts_at == at(world.monday, "18:00")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"action": "reschedule"}, "start"),
        ({"action": "reschedule", "start": "tomorrow"}, "start"),
        ({"action": "reschedule", "start": "2030-01-07T18:00"}, "start"),
        ({"action": "reschedule", "start": "2001-01-01T18:00:00+07:00"}, "start"),
        ({"action": "reschedule", "start": None, "duration_minutes": 60}, "start"),
        (
            {"action": "reschedule", "start": "2099-01-05T18:00:00+07:00", "duration_minutes": "1h"},
            "duration_minutes",
        ),
        (
            {"action": "reschedule", "start": "2099-01-05T18:00:00+07:00", "duration_minutes": 0},
            "duration_minutes",
        ),
        ({"action": "cancel"}, "reason"),
        ({"action": "cancel", "reason": "  "}, "reason"),
        ({"action": "cancel", "reason": 7}, "reason"),
        ({"action": "postpone"}, "action"),
        ({"action": None}, "action"),
        ({"action": ["cancel"]}, "action"),
        ({}, "action"),
    ],
)
def test_changing_a_visit_with_bad_input_is_refused(client, world, payload, field):
    headers = world.token(world.cm1)
    visit_id = book(client, headers, world).get_json()["id"]
    assert_error(patch(client, headers, visit_id, **payload), 422, field)
    assert db.session.get(Visit, visit_id).status == "booked"


def test_a_cancelled_visit_frees_the_request_and_cannot_be_changed_again(client, world):
    request = help_requests.create_help_request(
        world.cadre1, skill="eid", unit=world.units["v1a"], place="Chợ", name="Ông Ba", consent=True
    )
    db.session.commit()
    headers = world.token(world.cm1)
    visit_id = book(client, headers, world, resident_id=None, request_id=request.id).get_json()["id"]
    response = patch(client, headers, visit_id, action="cancel", reason="Mưa bão")
    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled" and response.get_json()["cancel_reason"] == "Mưa bão"
    assert db.session.get(HelpRequest, request.id).status == "new"
    assert_error(patch(client, headers, visit_id, action="cancel", reason="again"), 409)
    assert_error(patch(client, headers, visit_id, action="reschedule", start=iso(world.monday, "19:00")), 409)
    # The time is free again.
    assert book(client, headers, world).status_code == 201


def test_no_show_is_only_for_a_visit_that_has_started(client, world):
    headers = world.token(world.m1)
    future = book(client, world.token(world.cm1), world).get_json()["id"]
    assert_error(patch(client, headers, future, action="no_show"), 422)
    past = past_visit(world)
    response = patch(client, headers, past.id, action="no_show")
    assert response.status_code == 200 and response.get_json()["status"] == "no_show"


def test_completing_a_visit_records_the_outcome(client, world):
    visit = past_visit(world)
    response = patch(
        client,
        world.token(world.m1),
        visit.id,
        action="complete",
        skills_done=["eid", "safety", "eid"],
        resolved=False,
        minutes_spent=50,
        notes="Cần quay lại cài mức 2",
        rating=5,
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "done" and body["skills_done"] == ["eid", "safety"]
    assert (body["resolved"], body["follow_up_needed"], body["minutes_spent"], body["rating"]) == (
        False,
        True,
        50,
        5,
    )
    assert body["completed_at"].endswith("+07:00")
    again = patch(
        client,
        world.token(world.m1),
        visit.id,
        action="complete",
        skills_done=["eid"],
        resolved=True,
        minutes_spent=5,
    )
    assert_error(again, 409)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"skills_done": "eid"}, "skills_done"),
        ({"skills_done": []}, "skills_done"),
        ({"skills_done": ["knitting"]}, "skills_done"),
        ({"skills_done": [1]}, "skills_done"),
        ({"resolved": "yes"}, "resolved"),
        ({"resolved": None}, "resolved"),
        ({"minutes_spent": 0}, "minutes_spent"),
        ({"minutes_spent": "30"}, "minutes_spent"),
        ({"minutes_spent": 10**15}, "minutes_spent"),
        ({"rating": 6}, "rating"),
        ({"rating": 0}, "rating"),
        ({"rating": "5"}, "rating"),
        ({"rating": 4.5}, "rating"),
        ({"notes": 12}, "notes"),
    ],
)
def test_completing_with_bad_outcome_fields_is_refused(client, world, fields, field):
    visit = past_visit(world)
    payload = {"action": "complete", "skills_done": ["eid"], "resolved": True, "minutes_spent": 30}
    payload.update(fields)
    assert_error(patch(client, world.token(world.m1), visit.id, **payload), 422, field)
    assert db.session.get(Visit, visit.id).status == "booked"


def test_completing_a_future_visit_is_refused(client, world):
    visit_id = book(client, world.token(world.cm1), world).get_json()["id"]
    payload = {"action": "complete", "skills_done": ["eid"], "resolved": True, "minutes_spent": 30}
    assert_error(patch(client, world.token(world.m1), visit_id, **payload), 422)


def test_changing_another_communes_visit_is_refused(client, world):
    visit = past_visit(world)
    for user in (world.cm2, world.m2, world.r1, world.dept):
        assert_error(patch(client, world.token(user), visit.id, action="cancel", reason="no"), 403)
    assert db.session.get(Visit, visit.id).status == "booked"


def test_changing_an_unknown_visit_is_404(client, world):
    headers = world.token(world.cm1)
    assert_error(patch(client, headers, 424242, action="no_show"), 404)
    assert_error(patch(client, headers, 2**40, action="no_show"), 404)


def test_changing_a_visit_with_malformed_json_is_refused(client, world):
    visit = past_visit(world)
    response = client.patch(
        f"/api/v1/visits/{visit.id}",
        data="[oops",
        content_type="application/json",
        headers=world.token(world.cm1),
    )
    assert_error(response, 400)


# --- listing visits ------------------------------------------------------------------------


def test_visits_are_listed_within_the_callers_commune(client, world):
    mine = past_visit(world)
    theirs = past_visit(world, member_id=world.m2.id, unit_id=world.units["v2a"].id, resident_id=world.r2.id)
    response = client.get("/api/v1/visits", headers=world.token(world.cm1))
    assert [visit["id"] for visit in response.get_json()] == [mine.id]
    response = client.get("/api/v1/visits?unit=C1A", headers=world.token(world.m1))
    assert [visit["id"] for visit in response.get_json()] == [mine.id]
    assert client.get("/api/v1/visits?unit=C1B", headers=world.token(world.m1)).get_json() == []
    response = client.get("/api/v1/visits", headers=world.token(world.admin))
    assert {visit["id"] for visit in response.get_json()} == {mine.id, theirs.id}


def test_visits_are_filtered_by_time(client, world):
    past = past_visit(world)
    upcoming = book(client, world.token(world.cm1), world).get_json()["id"]
    headers = world.token(world.cm1)
    query = urlencode({"from": iso(world.monday, "00:00"), "to": iso(world.monday, "23:00")})
    assert [v["id"] for v in client.get(f"/api/v1/visits?{query}", headers=headers).get_json()] == [upcoming]
    query = urlencode({"to": iso(world.monday, "00:00")})
    assert [v["id"] for v in client.get(f"/api/v1/visits?{query}", headers=headers).get_json()] == [past.id]


def test_listing_visits_is_refused_outside_the_callers_area(client, world):
    assert_error(client.get("/api/v1/visits?unit=C2", headers=world.token(world.cm1)), 403)
    assert_error(client.get("/api/v1/visits?unit=NOPE", headers=world.token(world.cm1)), 404)
    assert_error(client.get("/api/v1/visits", headers=world.token(world.r1)), 403)
    assert_error(client.get("/api/v1/visits", headers=world.token(world.cadre1)), 403)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"from": "2030-01-07T00:00:00"}, "from"),
        ({"to": "2030-01-07"}, "to"),
        ({"from": "2030-01-08T00:00:00+07:00", "to": "2030-01-07T00:00:00+07:00"}, "to"),
    ],
)
def test_listing_visits_with_bad_times_is_refused(client, world, query, field):
    response = client.get(f"/api/v1/visits?{urlencode(query)}", headers=world.token(world.cm1))
    assert_error(response, 422, field)


# --- group sessions ------------------------------------------------------------------------


@pytest.fixture
def sessions(world):
    start = at(world.monday + timedelta(days=6), "08:00")  # the Sunday after
    s = SimpleNamespace()
    s.c1 = group_sessions.create_group_session(
        world.cm1,
        unit=world.units["v1a"],
        title="Sáng Chủ nhật",
        place="Nhà văn hoá thôn 1A",
        starts_at=start,
        duration_minutes=120,
        skills=["eid", "safety"],
        capacity=2,
        host=world.m1,
    )
    s.c2 = group_sessions.create_group_session(
        world.cm2,
        unit=world.units["v2a"],
        title="Xã Hai",
        place="Hội trường",
        starts_at=start,
        duration_minutes=120,
        skills=["eid"],
        capacity=10,
        host=world.m2,
    )
    s.cancelled = group_sessions.create_group_session(
        world.cm1,
        unit=world.units["c1"],
        title="Huỷ",
        place="UBND",
        starts_at=start + timedelta(hours=3),
        duration_minutes=60,
        skills=["eid"],
        capacity=10,
        host=world.m1,
    )
    s.cancelled.cancelled_at = utcnow()
    s.past = GroupSession(
        unit_id=world.units["c1"].id,
        title="Đã qua",
        place="UBND",
        starts_at=utcnow() - timedelta(days=2),
        ends_at=utcnow() - timedelta(days=2) + timedelta(hours=1),
        skills=["eid"],
        capacity=5,
        host_id=world.m1.id,
        created_by_id=world.cm1.id,
    )
    db.session.add(s.past)
    db.session.commit()
    return s


def test_residents_see_upcoming_sessions_of_their_commune_with_places_left(client, world, sessions):
    response = client.get("/api/v1/sessions", headers=world.token(world.r1))
    assert response.status_code == 200
    listed = response.get_json()
    assert [session["id"] for session in listed] == [sessions.c1.id]
    assert listed[0]["places_left"] == 2 and listed[0]["capacity"] == 2 and listed[0]["signed_up"] == 0
    assert listed[0]["start"].endswith("T08:00:00+07:00") and listed[0]["you_are_signed_up"] is False
    assert listed[0]["skills"] == ["eid", "safety"] and listed[0]["unit_code"] == "C1A"
    response = client.get("/api/v1/sessions?unit=C1B", headers=world.token(world.cm1))
    assert response.get_json() == []
    response = client.get("/api/v1/sessions", headers=world.token(world.admin))
    assert {session["id"] for session in response.get_json()} == {sessions.c1.id, sessions.c2.id}


def test_sessions_of_another_commune_are_refused(client, world, sessions):
    assert_error(client.get("/api/v1/sessions?unit=C2", headers=world.token(world.r1)), 403)
    assert_error(client.get("/api/v1/sessions?unit=C2A", headers=world.token(world.cm1)), 403)
    assert_error(client.get("/api/v1/sessions?unit=NOPE", headers=world.token(world.r1)), 404)


def signup(client, headers, session_id, **payload):
    url = f"/api/v1/sessions/{session_id}/signups"
    if payload:
        return client.post(url, json=payload, headers=headers)
    return client.post(url, headers=headers)


def test_a_resident_signs_up_and_the_places_left_go_down(client, world, sessions):
    headers = world.token(world.r1)
    response = signup(client, headers, sessions.c1.id)
    assert response.status_code == 201
    body = response.get_json()
    assert (body["user_id"], body["signed_up_by_id"], body["session"]["places_left"]) == (
        world.r1.id,
        world.r1.id,
        1,
    )
    listed = client.get("/api/v1/sessions", headers=headers).get_json()
    assert listed[0]["you_are_signed_up"] is True and listed[0]["places_left"] == 1
    error = assert_error(signup(client, headers, sessions.c1.id), 409)
    assert error["message"] == "Already signed up."


def test_a_member_signs_someone_up_and_a_full_session_gets_409(client, world, sessions):
    headers = world.token(world.m1)
    assert signup(client, headers, sessions.c1.id, user_id=world.r1.id).status_code == 201
    response = signup(client, world.token(world.cm1), sessions.c1.id, user_id=world.r1b.id)
    assert response.status_code == 201 and response.get_json()["signed_up_by_id"] == world.cm1.id
    error = assert_error(signup(client, world.token(world.cadre1), sessions.c1.id), 409)
    assert error["message"] == "This session is full."
    assert db.session.get(GroupSession, sessions.c1.id).signed_up == 2
    assert group_sessions.signup_count(db.session.get(GroupSession, sessions.c1.id)) == 2


def test_a_cancelled_or_past_session_takes_no_sign_ups(client, world, sessions):
    headers = world.token(world.r1)
    assert_error(signup(client, headers, sessions.cancelled.id), 409)
    assert_error(signup(client, headers, sessions.past.id), 409)


def test_signing_up_for_another_commune_or_for_other_people_is_refused(client, world, sessions):
    assert_error(signup(client, world.token(world.r2), sessions.c1.id), 403)
    assert_error(signup(client, world.token(world.r1), sessions.c2.id), 403)
    assert_error(signup(client, world.token(world.cm1), sessions.c2.id, user_id=world.r2.id), 403)
    # A resident cannot sign up a neighbour; a manager cannot sign up another commune's resident.
    assert_error(signup(client, world.token(world.r1), sessions.c1.id, user_id=world.r1b.id), 403)
    assert_error(signup(client, world.token(world.cm1), sessions.c1.id, user_id=world.r2.id), 422, "user_id")
    assert db.session.scalar(db.select(db.func.count()).select_from(SessionSignup)) == 0


def test_signing_up_with_bad_input_is_refused(client, world, sessions):
    headers = world.token(world.cm1)
    assert_error(signup(client, headers, 424242), 404)
    assert_error(signup(client, headers, 2**40), 404)
    assert_error(signup(client, headers, sessions.c1.id, user_id="r1"), 422, "user_id")
    assert_error(signup(client, headers, sessions.c1.id, user_id=-3), 422, "user_id")
    assert_error(signup(client, headers, sessions.c1.id, user_id=999999), 422, "user_id")
    url = f"/api/v1/sessions/{sessions.c1.id}/signups"
    assert_error(client.post(url, data="{", content_type="application/json", headers=headers), 400)
    assert_error(client.post(url, data="user_id=3", content_type="text/plain", headers=headers), 415)
