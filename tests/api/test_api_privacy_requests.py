"""A person's requests, the correction of their record and the restriction of processing through
the API: each endpoint's success, scope (another commune's manager, a cadre, an unknown id), bad
input refused with nothing written, correction history only for changed fields, and a booking
refused while processing is restricted."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.db import LOCAL_TZ, local_today, utcnow
from app.extensions import db
from app.outcomes import operations as outcomes
from app.outcomes.models import Resident
from app.outcomes.residents import add_resident
from app.privacy import requests
from app.privacy.models import PersonalDataCorrection, PersonalDataRead, PersonRequest
from app.visits.models import Team, TeamMember, Visit, WeeklyAvailability

PREFIX = "/api/v1"
RESTRICTED = "Processing of this person's data is restricted at their request: no visit can be booked for them."


def assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    if field is not None:
        assert error.get("field") == field, error
    return error


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def w(db, units, make_user, api_token):
    """Commune C1: its manager, a tech-team member (free every day 08:00–17:00), a cadre, the
    admin (the data-protection officer), resident Lan (a record only) and resident Hoa (an account
    with its record); commune C2's manager."""
    w = SimpleNamespace(units=units, token=api_token)
    w.manager = make_user("commune_manager", units["c1"])
    w.manager_c2 = make_user("commune_manager", units["c2"])
    w.member = make_user("tech_team", units["c1"], full_name="Lê Văn Tâm")
    w.cadre = make_user("cadre", units["c1"])
    w.admin = make_user("admin", units["province"])
    w.lan = add_resident(
        w.member, village=units["v1a"], full_name="Nguyễn Thị Lan", birth_year=1960, legal_basis="state_task"
    )
    w.hoa_account = make_user("resident", units["v1a"], full_name="Phạm Thị Hoa")
    w.hoa = outcomes.resident_for_user(w.hoa_account, recorded_by=w.manager)
    db.session.add(
        Team(
            unit_id=units["c1"].id,
            name="Tổ Xã Một",
            members=[TeamMember(user_id=w.member.id, skills=["eid"], is_leader=True)],
        )
    )
    db.session.add_all(
        WeeklyAvailability(user_id=w.member.id, weekday=day, start_minute=8 * 60, end_minute=17 * 60)
        for day in range(7)
    )
    db.session.commit()
    return w


def url(resident_or_id, tail: str = "") -> str:
    resident_id = resident_or_id if isinstance(resident_or_id, int) else resident_or_id.id
    return f"{PREFIX}/residents/{resident_id}{tail}"


# --- requests ------------------------------------------------------------------------------


def test_staff_file_a_request_and_list_the_residents_requests(client, w):
    response = client.post(
        url(w.lan, "/requests"), json={"kind": "access", "details": " Bà muốn xem dữ liệu. "}, headers=w.token(w.member)
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["kind"] == "access" and body["details"] == "Bà muốn xem dữ liệu."
    assert body["resident_id"] == w.lan.id and body["closed_at"] is None and body["late"] is False
    item = db.session.get(PersonRequest, body["id"])
    assert item.filed_by_id == w.member.id and item.due_by.isoformat() == body["due_by"]

    listed = client.get(url(w.lan, "/requests"), headers=w.token(w.manager))
    assert listed.status_code == 200
    assert [row["id"] for row in listed.get_json()] == [item.id]
    assert set(listed.get_json()[0]) >= {
        "kind",
        "details",
        "received_at",
        "acknowledge_by",
        "due_by",
        "acknowledged_at",
        "closed_at",
        "outcome",
        "late",
    }


def test_a_request_past_its_days_is_listed_late(client, w):
    requests.file_request("correction", filed_by=w.member, resident=w.lan, now=utcnow() - timedelta(days=40))
    db.session.commit()
    body = client.get(url(w.lan, "/requests"), headers=w.token(w.manager)).get_json()
    assert [(row["kind"], row["late"]) for row in body] == [("correction", True)]


def test_the_same_kind_open_twice_is_a_conflict_and_a_bad_kind_is_refused(client, w):
    assert client.post(url(w.lan, "/requests"), json={"kind": "erasure"}, headers=w.token(w.member)).status_code == 201
    before = count(PersonRequest)
    assert_error(client.post(url(w.lan, "/requests"), json={"kind": "erasure"}, headers=w.token(w.member)), 409)
    assert_error(client.post(url(w.lan, "/requests"), json={"kind": "gossip"}, headers=w.token(w.member)), 422, "kind")
    assert_error(client.post(url(w.lan, "/requests"), json={"kind": 7}, headers=w.token(w.member)), 422, "kind")
    assert_error(client.post(url(w.lan, "/requests"), json={}, headers=w.token(w.member)), 422, "kind")
    too_long = {"kind": "access", "details": "x" * 2001}
    assert_error(client.post(url(w.lan, "/requests"), json=too_long, headers=w.token(w.member)), 422, "details")
    assert count(PersonRequest) == before


def test_the_manager_acknowledges_and_closes_a_request(client, w):
    item = requests.file_request("access", filed_by=w.member, resident=w.lan)
    db.session.commit()
    acknowledged = client.post(f"{PREFIX}/requests/{item.id}/acknowledge", headers=w.token(w.manager))
    assert acknowledged.status_code == 200, acknowledged.get_json()
    assert acknowledged.get_json()["acknowledged_at"] is not None
    assert_error(client.post(f"{PREFIX}/requests/{item.id}/acknowledge", headers=w.token(w.manager)), 409)

    refused_without_reason = client.post(
        f"{PREFIX}/requests/{item.id}/close", json={"outcome": "refused"}, headers=w.token(w.manager)
    )
    assert_error(refused_without_reason, 422, "note")
    assert_error(
        client.post(f"{PREFIX}/requests/{item.id}/close", json={"outcome": "maybe"}, headers=w.token(w.manager)),
        422,
        "outcome",
    )
    db.session.expire_all()
    assert db.session.get(PersonRequest, item.id).closed_at is None

    closed = client.post(
        f"{PREFIX}/requests/{item.id}/close", json={"outcome": "done", "note": "Đã gửi."}, headers=w.token(w.manager)
    )
    assert closed.status_code == 200, closed.get_json()
    assert closed.get_json()["outcome"] == "done" and closed.get_json()["closed_at"] is not None
    again = client.post(f"{PREFIX}/requests/{item.id}/close", json={"outcome": "done"}, headers=w.token(w.manager))
    assert_error(again, 409)
    assert_error(client.post(f"{PREFIX}/requests/{item.id}/acknowledge", headers=w.token(w.manager)), 409)


def test_the_officer_handles_a_request_anywhere(client, w):
    item = requests.file_request("objection", filed_by=w.member, resident=w.lan)
    db.session.commit()
    response = client.post(f"{PREFIX}/requests/{item.id}/acknowledge", headers=w.token(w.admin))
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("who", ["manager_c2", "cadre", "member"])
def test_only_who_may_handle_a_request_acknowledges_or_closes_it(client, w, who):
    item = requests.file_request("access", filed_by=w.member, resident=w.lan)
    db.session.commit()
    headers = w.token(getattr(w, who))
    assert_error(client.post(f"{PREFIX}/requests/{item.id}/acknowledge", headers=headers), 403)
    assert_error(client.post(f"{PREFIX}/requests/{item.id}/close", json={"outcome": "done"}, headers=headers), 403)
    db.session.expire_all()
    item = db.session.get(PersonRequest, item.id)
    assert item.acknowledged_at is None and item.closed_at is None


def test_an_unknown_request_is_not_found(client, w):
    headers = w.token(w.manager)
    assert_error(client.post(f"{PREFIX}/requests/999999/acknowledge", headers=headers), 404)
    assert_error(client.post(f"{PREFIX}/requests/999999/close", json={"outcome": "done"}, headers=headers), 404)
    assert_error(client.post(f"{PREFIX}/requests/99999999999/acknowledge", headers=headers), 404)


# --- scope of the resident's endpoints -----------------------------------------------------

RESIDENT_CALLS = [
    ("GET", "/requests", None),
    ("POST", "/requests", {"kind": "access"}),
    ("PATCH", "", {"full_name": "Người Khác"}),
    ("GET", "/corrections", None),
    ("PUT", "/restriction", None),
    ("DELETE", "/restriction", None),
]


@pytest.mark.parametrize(("method", "tail", "body"), RESIDENT_CALLS)
@pytest.mark.parametrize("who", ["manager_c2", "cadre"])
def test_another_communes_manager_and_a_cadre_are_refused(client, w, method, tail, body, who):
    before = (count(PersonRequest), count(PersonalDataCorrection))
    response = client.open(url(w.lan, tail), method=method, json=body, headers=w.token(getattr(w, who)))
    assert_error(response, 403)
    db.session.expire_all()
    lan = db.session.get(Resident, w.lan.id)
    assert lan.full_name == "Nguyễn Thị Lan" and lan.restricted_at is None
    assert (count(PersonRequest), count(PersonalDataCorrection)) == before


@pytest.mark.parametrize(("method", "tail", "body"), RESIDENT_CALLS)
def test_an_unknown_or_erased_resident_is_not_found(client, w, method, tail, body):
    headers = w.token(w.manager)
    assert_error(client.open(url(999999, tail), method=method, json=body, headers=headers), 404)
    assert_error(client.open(url(10**30, tail), method=method, json=body, headers=headers), 404)
    w.lan.erased_at = utcnow()
    db.session.commit()
    assert_error(client.open(url(w.lan, tail), method=method, json=body, headers=headers), 404)


# --- correction ----------------------------------------------------------------------------


def test_only_the_fields_sent_and_changed_are_corrected_and_recorded(client, w):
    answered = requests.file_request("correction", filed_by=w.member, resident=w.lan)
    db.session.commit()
    response = client.patch(
        url(w.lan),
        json={"full_name": "Nguyễn Thị Lan", "birth_year": 1961, "phone": "0912 345 678"},
        headers=w.token(w.member),
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["resident"]["birth_year"] == 1961 and body["resident"]["phone"] == "+84912345678"
    assert body["resident"]["full_name"] == "Nguyễn Thị Lan"
    assert {(row["field"], row["old_value"], row["new_value"]) for row in body["changed"]} == {
        ("birth_year", "1960", "1961"),
        ("phone", None, "+84912345678"),
    }
    rows = db.session.scalars(select(PersonalDataCorrection).order_by(PersonalDataCorrection.id)).all()
    assert [(row.table_name, row.row_id, row.field) for row in rows] == [
        ("residents", w.lan.id, "birth_year"),
        ("residents", w.lan.id, "phone"),
    ]
    assert {row.request_id for row in rows} == {answered.id}
    assert {row.corrected_by_id for row in rows} == {w.member.id}

    unchanged = client.patch(url(w.lan), json={"birth_year": 1961}, headers=w.token(w.member))
    assert unchanged.status_code == 200 and unchanged.get_json()["changed"] == []
    assert count(PersonalDataCorrection) == 2

    history = client.get(url(w.lan, "/corrections"), headers=w.token(w.manager))
    assert history.status_code == 200
    assert sorted(row["field"] for row in history.get_json()) == ["birth_year", "phone"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"full_name": "  "}, "full_name"),
        ({"full_name": None}, "full_name"),
        ({"full_name": 12}, "full_name"),
        ({"birth_year": 1850}, "birth_year"),
        ({"birth_year": "1961"}, "birth_year"),
        ({"birth_year": True}, "birth_year"),
        ({"phone": "gọi tôi"}, "phone"),
        ({"phone": ["0912"]}, "phone"),
        ({"full_name": "Trần Thị Lan", "phone": "abc"}, "phone"),
    ],
)
def test_bad_input_is_refused_with_nothing_written(client, w, body, field):
    response = client.patch(url(w.lan), json=body, headers=w.token(w.member))
    assert_error(response, 422, field)
    db.session.expire_all()
    lan = db.session.get(Resident, w.lan.id)
    assert (lan.full_name, lan.birth_year, lan.phone) == ("Nguyễn Thị Lan", 1960, None)
    assert count(PersonalDataCorrection) == 0


def test_a_correction_needs_a_json_object(client, w):
    assert_error(client.patch(url(w.lan), data="full_name=x", headers=w.token(w.member)), 415)
    assert_error(client.patch(url(w.lan), json=["x"], headers=w.token(w.member)), 400)


# --- restriction ---------------------------------------------------------------------------


def book(client, w):
    day = local_today() + timedelta(days=8)
    start = datetime.combine(day, time(10, 0), tzinfo=LOCAL_TZ)
    return client.post(
        f"{PREFIX}/visits",
        json={
            "member_id": w.member.id,
            "start": start.isoformat(),
            "duration_minutes": 60,
            "skill": "eid",
            "resident_id": w.hoa_account.id,
            "place": "Nhà chị Hoa",
        },
        headers=w.token(w.manager),
    )


def test_a_restricted_person_is_not_booked_until_the_restriction_is_lifted(client, w):
    response = client.put(url(w.hoa, "/restriction"), headers=w.token(w.member))
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"resident_id": w.hoa.id, "restricted": True}
    db.session.expire_all()
    assert db.session.get(Resident, w.hoa.id).restricted_at is not None
    assert_error(client.put(url(w.hoa, "/restriction"), headers=w.token(w.member)), 409)

    error = assert_error(book(client, w), 409)
    assert error["message"] == RESTRICTED
    assert count(Visit) == 0

    lifted = client.delete(url(w.hoa, "/restriction"), headers=w.token(w.manager))
    assert lifted.status_code == 200, lifted.get_json()
    assert lifted.get_json() == {"resident_id": w.hoa.id, "restricted": False}
    assert_error(client.delete(url(w.hoa, "/restriction"), headers=w.token(w.manager)), 409)
    booked = book(client, w)
    assert booked.status_code == 201, booked.get_json()


def test_reading_a_residents_requests_and_corrections_is_logged(client, w):
    headers = w.token(w.manager)
    assert client.get(url(w.lan, "/requests"), headers=headers).status_code == 200
    assert client.get(url(w.lan, "/corrections"), headers=headers).status_code == 200
    assert client.patch(url(w.lan), json={"phone": "0912 345 678"}, headers=headers).status_code == 200
    db.session.expire_all()
    logged = db.session.scalars(select(PersonalDataRead).order_by(PersonalDataRead.id)).all()
    assert [(row.reader_id, row.resident_id, row.kind, row.endpoint) for row in logged] == [
        (w.manager.id, w.lan.id, "api", "GET /api/v1/residents/{resident_id}/requests"),
        (w.manager.id, w.lan.id, "api", "GET /api/v1/residents/{resident_id}/corrections"),
        (w.manager.id, w.lan.id, "api", "PATCH /api/v1/residents/{resident_id}"),
    ]
