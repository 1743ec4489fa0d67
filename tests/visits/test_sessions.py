"""Group help sessions: planning, sign-up within capacity, sign-up by a member, attendance, scope."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.visits.models import GroupSession, SessionSignup
from tests.visits.pages_support import at, build_world, local_day, move_to_past, plan_session


@pytest.fixture
def w(db, units, make_user):
    return build_world(db, units, make_user)


def page(response) -> str:
    return response.get_data(as_text=True)


def session_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(GroupSession))


def signed_up_ids(session) -> set[int]:
    return set(db.session.scalars(db.select(SessionSignup.user_id).where(SessionSignup.session_id == session.id)))


def fresh(session) -> GroupSession:
    db.session.expire_all()
    return db.session.get(GroupSession, session.id)


# --- planning ------------------------------------------------------------------------------


def session_form(w, **changes):
    data = {
        "title": "Chiều thứ Bảy: thanh toán không tiền mặt",
        "unit": "C1A",
        "place": "Nhà văn hoá thôn 1A",
        "date": local_day(3).isoformat(),
        "time": "14:00",
        "duration_minutes": "90",
        "skills": ["cashless", "safety"],
        "capacity": "15",
        "host": str(w.member.id),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_member_plans_a_session_that_residents_of_the_commune_see(w, client, login_as):
    login_as(w.member)
    assert "Plan a group session" in page(client.get("/visits/sessions/new"))

    response = client.post("/visits/sessions/new", data=session_form(w))

    assert response.status_code == 302
    session = db.session.scalar(db.select(GroupSession))
    assert response.headers["Location"].endswith(f"/visits/sessions/{session.id}")
    assert (session.capacity, session.skills, session.host_id) == (15, ["cashless", "safety"], w.member.id)
    assert session.starts_at == at(3, 14)
    client.post("/logout")
    login_as(w.resident2)  # another village of the same commune
    html = page(client.get("/visits/sessions"))
    assert "Chiều thứ Bảy: thanh toán không tiền mặt" in html
    assert "15 places left" in html


def test_a_manager_plans_a_session_hosted_by_a_member(w, client, login_as):
    login_as(w.manager)
    response = client.post("/visits/sessions/new", data=session_form(w, host=str(w.colleague.id)))
    assert response.status_code == 302
    assert db.session.scalar(db.select(GroupSession.host_id)) == w.colleague.id


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"title": None}, 400, "Give the session a title."),
        ({"title": "   "}, 400, "Give the session a title."),
        ({"place": None}, 400, "Enter the place."),
        ({"date": None}, 400, "Enter the date."),
        ({"time": "noon"}, 400, "Not a valid time value."),
        ({"date": "PAST"}, 400, "The start time is in the past."),
        ({"duration_minutes": "1000"}, 400, "A session lasts from 15 to 480 minutes."),
        ({"skills": None}, 400, "Choose at least one kind of help."),
        ({"skills": ["knitting"]}, 400, "Choose at least one kind of help."),
        ({"capacity": "0"}, 400, "The number of places is from 1 to 500."),
        ({"capacity": "many"}, 400, "Not a valid integer value."),
        ({"host": "OTHER"}, 400, "The host must be a member of a team in this commune."),
        ({"host": "999999"}, 400, "The host must be a member of a team in this commune."),
        ({"unit": "NOPE"}, 400, "Choose the village or commune."),
        ({"unit": "C2A"}, 403, ""),
    ],
)
def test_bad_session_input_creates_nothing(w, client, login_as, changes, status, message):
    if changes.get("date") == "PAST":
        changes = {"date": local_day(-1).isoformat()}
    if changes.get("host") == "OTHER":
        changes = {"host": str(w.member_c2.id)}
    login_as(w.member)

    response = client.post("/visits/sessions/new", data=session_form(w, **changes))

    assert response.status_code == status
    assert message in page(response)
    assert session_count() == 0


def test_residents_may_not_plan_sessions(w, client, login_as):
    login_as(w.resident)
    assert client.get("/visits/sessions/new").status_code == 403
    assert client.post("/visits/sessions/new", data=session_form(w)).status_code == 403
    assert session_count() == 0


# --- scope ---------------------------------------------------------------------------------


def test_another_communes_people_neither_see_nor_open_the_session(w, client, login_as):
    session = plan_session(w)
    for person in (w.resident_c2, w.member_c2, w.manager_c2):
        login_as(person)
        assert "Sáng Chủ nhật: VNeID" not in page(client.get("/visits/sessions"))
        assert client.get(f"/visits/sessions/{session.id}").status_code == 403
        assert client.post(f"/visits/sessions/{session.id}/sign-up").status_code == 403
        client.post("/logout")
    assert signed_up_ids(session) == set()


def test_unknown_session_is_404(w, client, login_as):
    login_as(w.resident)
    assert client.get("/visits/sessions/999999").status_code == 404


# --- sign-up and capacity ------------------------------------------------------------------


def test_residents_sign_up_until_full_and_the_next_one_is_told_it_is_full(w, client, login_as):
    session = plan_session(w, capacity=2)
    for person in (w.resident, w.resident2):
        login_as(person)
        response = client.post(f"/visits/sessions/{session.id}/sign-up")
        assert response.status_code == 302
        client.post("/logout")
    login_as(w.resident3)

    html = page(client.get(f"/visits/sessions/{session.id}"))
    assert "This session is full." in html
    response = client.post(f"/visits/sessions/{session.id}/sign-up")

    assert response.status_code == 409
    assert "This session is full." in page(response)
    assert signed_up_ids(session) == {w.resident.id, w.resident2.id}
    assert fresh(session).signed_up == 2


def test_signing_up_twice_is_refused_with_a_message(w, client, login_as):
    session = plan_session(w)
    login_as(w.resident)
    client.post(f"/visits/sessions/{session.id}/sign-up")
    response = client.post(f"/visits/sessions/{session.id}/sign-up")
    assert response.status_code == 409
    assert "Already signed up." in page(response)
    assert fresh(session).signed_up == 1


def test_a_resident_cancels_and_the_place_is_free_again(w, client, login_as):
    session = plan_session(w, capacity=1)
    login_as(w.resident)
    client.post(f"/visits/sessions/{session.id}/sign-up")
    assert "You are signed up" in page(client.get("/visits/sessions"))

    response = client.post(f"/visits/sessions/{session.id}/signups/{w.resident.id}/cancel")

    assert response.status_code == 302
    assert signed_up_ids(session) == set()
    assert fresh(session).signed_up == 0
    client.post("/logout")
    login_as(w.resident3)
    assert client.post(f"/visits/sessions/{session.id}/sign-up").status_code == 302


def test_a_resident_cannot_cancel_someone_elses_sign_up(w, client, login_as):
    session = plan_session(w)
    login_as(w.resident)
    client.post(f"/visits/sessions/{session.id}/sign-up")
    client.post("/logout")
    login_as(w.resident3)
    assert client.post(f"/visits/sessions/{session.id}/signups/{w.resident.id}/cancel").status_code == 403
    assert signed_up_ids(session) == {w.resident.id}


def test_sign_up_closes_when_the_session_has_started(w, client, login_as):
    session = plan_session(w)
    move_to_past(db, session, hours=1)
    login_as(w.resident)
    response = client.post(f"/visits/sessions/{session.id}/sign-up")
    assert response.status_code == 409
    assert "This session is no longer open for sign-up." in page(response)


def test_a_member_signs_up_a_resident_of_the_commune(w, client, login_as):
    session = plan_session(w)
    login_as(w.colleague)
    html = page(client.get(f"/visits/sessions/{session.id}"))
    assert "Sign up a resident" in html
    assert "Chú Tám" not in html  # residents of another commune are not offered

    response = client.post(f"/visits/sessions/{session.id}/sign-up-resident", data={"person": str(w.resident2.id)})

    assert response.status_code == 302
    signup = db.session.scalar(db.select(SessionSignup))
    assert (signup.user_id, signup.signed_up_by_id) == (w.resident2.id, w.colleague.id)
    assert "Ông Sáu" in page(client.get(f"/visits/sessions/{session.id}"))


def test_the_residents_offered_for_sign_up_cost_no_query_per_village(
    w, login_as, make_user, villages, queries_by_spread
):
    people = [make_user("resident", villages[0]) for _ in range(6)]
    session = plan_session(w)
    login_as(w.colleague)
    in_two, in_six = queries_by_spread(f"/visits/sessions/{session.id}", people)
    assert in_six == in_two


@pytest.mark.parametrize("person", ["resident_c2", "manager", "NONE", "abc"])
def test_signing_up_someone_who_is_not_a_resident_of_the_commune_is_refused(w, client, login_as, person):
    session = plan_session(w)
    value = {"NONE": "", "abc": "abc"}[person] if person in ("NONE", "abc") else str(getattr(w, person).id)
    login_as(w.member)

    response = client.post(f"/visits/sessions/{session.id}/sign-up-resident", data={"person": value})

    assert response.status_code == 400
    assert "Choose a resident" in page(response)
    assert signed_up_ids(session) == set()


def test_a_member_signing_up_a_resident_into_a_full_session_gets_409(w, client, login_as):
    session = plan_session(w, capacity=1)
    login_as(w.member)
    client.post(f"/visits/sessions/{session.id}/sign-up-resident", data={"person": str(w.resident.id)})
    response = client.post(f"/visits/sessions/{session.id}/sign-up-resident", data={"person": str(w.resident3.id)})
    assert response.status_code == 409
    assert "This session is full." in page(response)
    assert signed_up_ids(session) == {w.resident.id}


def test_residents_may_not_sign_up_others(w, client, login_as):
    session = plan_session(w)
    login_as(w.resident)
    response = client.post(f"/visits/sessions/{session.id}/sign-up-resident", data={"person": str(w.resident3.id)})
    assert response.status_code == 403
    assert signed_up_ids(session) == set()


def test_residents_do_not_see_who_else_signed_up(w, client, login_as):
    session = plan_session(w)
    login_as(w.member)
    client.post(f"/visits/sessions/{session.id}/sign-up-resident", data={"person": str(w.resident2.id)})
    client.post("/logout")
    login_as(w.resident)
    html = page(client.get(f"/visits/sessions/{session.id}"))
    assert "Ông Sáu" not in html
    assert "1 of 2 places taken" in html


# --- attendance ----------------------------------------------------------------------------


def test_attendance_is_recorded_after_the_start(w, client, login_as):
    session = plan_session(w, capacity=3)
    login_as(w.member)
    for person in (w.resident, w.resident2, w.resident3):
        client.post(f"/visits/sessions/{session.id}/sign-up-resident", data={"person": str(person.id)})

    early = client.post(f"/visits/sessions/{session.id}/attendance", data={"attended": [str(w.resident.id)]})
    assert early.status_code == 400
    assert "Attendance is recorded after the session has started." in page(early)
    assert all(s.attended is None for s in fresh(session).signups)

    move_to_past(db, session)
    assert "Who came?" in page(client.get(f"/visits/sessions/{session.id}"))
    response = client.post(
        f"/visits/sessions/{session.id}/attendance",
        data={"attended": [str(w.resident.id), str(w.resident3.id)]},
    )

    assert response.status_code == 302
    attended = {s.user_id: s.attended for s in fresh(session).signups}
    assert attended == {w.resident.id: True, w.resident2.id: False, w.resident3.id: True}


def test_attendance_with_bad_ids_is_refused(w, client, login_as):
    session = plan_session(w)
    move_to_past(db, session)
    login_as(w.member)
    response = client.post(f"/visits/sessions/{session.id}/attendance", data={"attended": ["x"]})
    assert response.status_code == 400


@pytest.mark.parametrize("who", ["resident", "department", "member_c2"])
def test_only_the_commune_team_records_attendance(w, client, login_as, who):
    session = plan_session(w)
    move_to_past(db, session)
    login_as(getattr(w, who))
    response = client.post(f"/visits/sessions/{session.id}/attendance", data={"attended": []})
    assert response.status_code == 403
