"""A resident manages their own help request: cancelling it (and the visit booked for it), asking
for another time, seeing who will come and their work phone, and when to expect the team's call;
the share of requests contacted within the team's promise in the reports. Pages and API alike."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from babel.dates import format_date
from markupsafe import escape
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.db import LOCAL_TZ, utcnow
from app.extensions import db as _db
from app.jobs.models import Message
from app.privacy.deadlines import add_working_days
from app.reports import analytics, queries, recount
from app.visits import help_requests, operations
from app.visits.models import HelpRequest, Team, TeamMember, Visit, WeeklyAvailability
from tests.time_support import a_day_ahead, on


@pytest.fixture
def w(db, units, make_user):
    """Commune C1 with its team (member `member`, 08:00–17:00 every day) and manager; residents
    `resident` and `neighbour` of C1; commune C2's manager. The resident asked for e-ID help."""
    w = SimpleNamespace(units=units, day=a_day_ahead())
    w.manager = make_user("commune_manager", units["c1"], full_name="Chủ tịch Một")
    w.manager_c2 = make_user("commune_manager", units["c2"], full_name="Chủ tịch Hai")
    w.member = make_user("tech_team", units["v1a"], full_name="Trần Văn Kỹ")
    w.resident = make_user("resident", units["v1a"], full_name="Bà Năm Mười", phone="0912345678")
    w.neighbour = make_user("resident", units["v1a"], full_name="Ông Sáu")
    w.department = make_user("department_manager", units["province"])
    w.team = Team(unit=units["c1"], name="Tổ công nghệ số xã Một")
    db.session.add(w.team)
    db.session.flush()
    w.membership = TeamMember(team_id=w.team.id, user_id=w.member.id, skills=["eid"])
    db.session.add(w.membership)
    db.session.add_all(
        WeeklyAvailability(user_id=w.member.id, weekday=d, start_minute=8 * 60, end_minute=17 * 60) for d in range(7)
    )
    w.request = help_requests.create_help_request(
        w.resident, skill="eid", unit=units["v1a"], place="Nhà bà Năm", name="Bà Năm Mười", consent=True
    )
    db.session.flush()
    return w


def book(w, hhmm: str = "10:00", request: HelpRequest | None = None) -> Visit:
    visit = operations.book_visit(
        w.member,
        on(w.day, hhmm),
        60,
        skill="eid",
        place="Nhà bà Năm",
        booked_by=w.manager,
        request=request or w.request,
    )
    _db.session.flush()
    return visit


def status_of(db, model, record_id):
    db.session.expire_all()
    return db.session.get(model, record_id).status


def send(client, api_token, actor, door: str, request_id: int, action: str, **fields):
    """One action of the asker through the page (a form) or the API (PATCH)."""
    if door == "api":
        return client.patch(
            f"/api/v1/help-requests/{request_id}", json={"action": action, **fields}, headers=api_token(actor)
        )
    if action == "cancel":
        return client.post(f"/visits/requests/{request_id}/cancel", data={"reason": fields.get("reason", "")})
    return client.post(
        f"/visits/requests/{request_id}/another-time",
        data={"wish": fields.get("wish", ""), "on_date": fields.get("date", "")},
    )


# --- cancelling ----------------------------------------------------------------------------


@pytest.mark.parametrize("door", ["page", "api"])
def test_the_resident_cancels_a_request_and_its_booked_visit_and_the_member_is_told(
    client, db, login_as, api_token, w, door
):
    visit = book(w)
    visit_id, request_id = visit.id, w.request.id
    login_as(w.manager)
    assert f'id="request-{request_id}"' in client.get("/visits/triage?status=scheduled").get_data(as_text=True)
    client.post("/logout")
    login_as(w.resident)
    page = client.get(f"/visits/requests/{request_id}").get_data(as_text=True)
    assert "Cancel my request" in page

    response = send(client, api_token, w.resident, door, request_id, "cancel", reason="Cháu tôi đã giúp rồi")

    assert response.status_code == (200 if door == "api" else 302)
    if door == "api":
        assert response.get_json()["status"] == "cancelled"
        assert response.get_json()["cancel_reason"] == "Cháu tôi đã giúp rồi"
    assert status_of(db, HelpRequest, request_id) == "cancelled"
    assert status_of(db, Visit, visit_id) == "cancelled"
    assert db.session.get(Visit, visit_id).cancel_reason == "Cháu tôi đã giúp rồi"
    assert db.session.get(HelpRequest, request_id).closed_at is not None
    # The member gets the usual notice of a cancelled visit; the resident, who cancelled, does not.
    keys = set(db.session.scalars(select(Message.key)))
    assert f"cancelled-visit:{visit_id}:{w.member.id}" in keys
    assert f"cancelled-visit:{visit_id}:{w.resident.id}" not in keys
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "help_request_status"))
    assert event.details == {"request": request_id, "from": "scheduled", "to": "cancelled"}
    assert event.actor_id == w.resident.id
    # The team's lists no longer show it waiting or booked.
    client.post("/logout")
    login_as(w.manager)
    for status in ("new", "scheduled"):
        html = client.get(f"/visits/triage?status={status}").get_data(as_text=True)
        assert f'id="request-{request_id}"' not in html
    assert f'id="request-{request_id}"' in client.get("/visits/triage?status=cancelled").get_data(as_text=True)


def test_a_new_request_cancelled_without_a_reason_leaves_the_team_view_waiting_nothing(client, db, login_as, w):
    request_id = w.request.id
    login_as(w.resident)
    response = client.post(f"/visits/requests/{request_id}/cancel", data={"reason": ""})
    assert response.status_code == 302
    assert "Your request has been cancelled." in client.get(response.headers["Location"]).get_data(as_text=True)
    help_request = db.session.get(HelpRequest, request_id)
    assert (help_request.status, help_request.cancel_reason) == ("cancelled", None)
    view = analytics.team_view(w.units["c1"], utcnow() - timedelta(days=7), utcnow() + timedelta(days=1))
    assert view.by_skill.totals["waiting"] == 0


def test_the_summaries_still_equal_a_recount_after_a_resident_cancels(client, db, login_as, w):
    recount.rebuild()  # the fixture wrote through operations; start from a known state
    visit = book(w)
    login_as(w.resident)
    assert client.post(f"/visits/requests/{w.request.id}/cancel", data={"reason": ""}).status_code == 302
    assert db.session.get(Visit, visit.id).cancel_reason == "The person who asked for help cancelled the request."
    assert recount.stored_rows() == recount.compute_from_scratch()


@pytest.mark.parametrize("door", ["page", "api"])
def test_another_resident_does_not_find_the_request(client, db, login_as, api_token, w, door):
    login_as(w.neighbour)
    response = send(client, api_token, w.neighbour, door, w.request.id, "cancel")
    assert response.status_code == 404
    assert client.get(f"/visits/requests/{w.request.id}").status_code == 404
    if door == "api":
        get = client.get(f"/api/v1/help-requests/{w.request.id}", headers=api_token(w.neighbour))
        assert get.status_code == 404
    assert status_of(db, HelpRequest, w.request.id) == "new"


@pytest.mark.parametrize("door", ["page", "api"])
def test_the_team_staff_use_their_own_path_not_the_residents(client, db, login_as, api_token, w, door):
    login_as(w.manager)
    response = send(client, api_token, w.manager, door, w.request.id, "cancel")
    assert response.status_code == 403
    assert status_of(db, HelpRequest, w.request.id) == "new"
    # The triage list's buttons still work for them, and the change is audited.
    response = client.post(f"/visits/requests/{w.request.id}/status", data={"status": "cancelled"})
    assert response.status_code == 302
    assert status_of(db, HelpRequest, w.request.id) == "cancelled"
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "help_request_status"))
    assert (event.actor_id, event.details["to"]) == (w.manager.id, "cancelled")


@pytest.mark.parametrize("door", ["page", "api"])
@pytest.mark.parametrize("status", ["done", "cancelled", "unreachable"])
def test_a_closed_request_cannot_be_cancelled(client, db, login_as, api_token, w, door, status):
    w.request.status = status
    db.session.flush()
    login_as(w.resident)
    response = send(client, api_token, w.resident, door, w.request.id, "cancel")
    assert response.status_code == 409
    message = "This request is already closed."
    if door == "api":
        assert response.get_json()["error"]["message"] == message
    else:
        assert message in response.get_data(as_text=True)
    assert status_of(db, HelpRequest, w.request.id) == status


@pytest.mark.parametrize("door", ["page", "api"])
def test_a_request_whose_visit_has_started_cannot_be_cancelled(client, db, login_as, api_token, w, door):
    visit = book(w)
    visit.starts_at, visit.ends_at = utcnow() - timedelta(minutes=10), utcnow() + timedelta(minutes=50)
    db.session.flush()
    login_as(w.resident)
    assert "Cancel my request" not in client.get(f"/visits/requests/{w.request.id}").get_data(as_text=True)
    response = send(client, api_token, w.resident, door, w.request.id, "cancel")
    assert response.status_code == 409
    assert (status_of(db, HelpRequest, w.request.id), status_of(db, Visit, visit.id)) == ("scheduled", "booked")


@pytest.mark.parametrize("door", ["page", "api"])
@pytest.mark.parametrize(
    "fields",
    [{"reason": "x" * 301}, {"reason": "Không\x00cần"}],
    ids=["huge", "nul"],
)
def test_bad_reasons_are_refused_and_nothing_is_written(client, db, login_as, api_token, w, door, fields):
    visit = book(w)
    login_as(w.resident)
    response = send(client, api_token, w.resident, door, w.request.id, "cancel", **fields)
    assert response.status_code == (422 if door == "api" else 400)
    assert (status_of(db, HelpRequest, w.request.id), status_of(db, Visit, visit.id)) == ("scheduled", "booked")
    assert db.session.scalar(select(Message.id).where(Message.key.startswith("cancelled-visit"))) is None


def test_an_unknown_action_is_refused(client, db, api_token, w):
    response = client.patch(
        f"/api/v1/help-requests/{w.request.id}", json={"action": "book_itself"}, headers=api_token(w.resident)
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["field"] == "action"


# --- asking for another time ---------------------------------------------------------------


@pytest.mark.parametrize("door", ["page", "api"])
def test_the_wish_is_shown_to_the_team_and_cleared_when_the_visit_is_moved(client, db, login_as, api_token, w, door):
    visit = book(w)
    wished = w.day + timedelta(days=3)
    login_as(w.resident)

    wish = {"wish": "Sáng thứ Bảy", "date": wished.isoformat()}
    response = send(client, api_token, w.resident, door, w.request.id, "ask_another_time", **wish)

    assert response.status_code == (200 if door == "api" else 302)
    help_request = db.session.get(HelpRequest, w.request.id)
    assert (help_request.time_wish, help_request.time_wish_on) == ("Sáng thứ Bảy", wished)
    assert status_of(db, Visit, visit.id) == "booked"
    assert db.session.get(Visit, visit.id).starts_at == on(w.day, "10:00")  # nothing moves by itself
    client.post("/logout")
    login_as(w.manager)
    day_name = format_date(wished, "EEEE d MMMM", locale="en")
    expected = str(escape(f"The resident asks for another time: Sáng thứ Bảy, {day_name}"))
    assert expected in client.get("/visits/triage?status=scheduled").get_data(as_text=True)
    assert expected in client.get(f"/visits/visits/{visit.id}").get_data(as_text=True)

    moved = client.post(
        f"/visits/visits/{visit.id}/reschedule",
        data={"date": wished.isoformat(), "time": "09:00", "duration_minutes": "60"},
    )

    assert moved.status_code == 302
    db.session.expire_all()
    help_request = db.session.get(HelpRequest, w.request.id)
    assert (help_request.time_wish, help_request.time_wish_on, help_request.time_wish_at) == (None, None, None)
    assert "asks for another time" not in client.get("/visits/triage?status=scheduled").get_data(as_text=True)


def test_booking_a_visit_clears_the_wish_of_a_new_request(client, db, login_as, w):
    help_requests.ask_another_time(w.resident, w.request, "Chiều thứ Sáu")
    db.session.flush()
    login_as(w.manager)
    assert "Chiều thứ Sáu" in client.get("/visits/triage").get_data(as_text=True)
    book(w)
    assert w.request.time_wish is None
    assert w.request.first_contacted_at is not None


@pytest.mark.parametrize("door", ["page", "api"])
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"wish": ""}, "Say when would suit you, or choose a date."),
        ({"wish": "x" * 201}, "This text is too long (at most 200 characters)."),
        ({"wish": "Sáng", "date": "2000-01-03"}, "Choose a date from today to a year ahead."),
    ],
    ids=["nothing", "huge", "past"],
)
def test_a_wish_must_say_something_sensible(client, db, login_as, api_token, w, door, fields, message):
    login_as(w.resident)
    response = send(client, api_token, w.resident, door, w.request.id, "ask_another_time", **fields)
    assert response.status_code == (422 if door == "api" else 400)
    if door == "api":
        assert response.get_json()["error"]["message"] == message
    else:
        assert str(escape(message)) in response.get_data(as_text=True)
    assert db.session.get(HelpRequest, w.request.id).time_wish_at is None


# --- who will come -------------------------------------------------------------------------


def test_the_member_sets_a_work_phone_and_only_the_resident_sees_it_with_the_member(
    client, db, login_as, api_token, w
):
    login_as(w.member)
    refused = client.post(f"/visits/availability/{w.member.id}/work-phone", data={"work-work_phone": "12"})
    assert refused.status_code == 400
    saved = client.post(f"/visits/availability/{w.member.id}/work-phone", data={"work-work_phone": "0987.654.321"})
    assert saved.status_code == 302
    assert db.session.get(TeamMember, w.membership.id).work_phone == "+84987654321"
    client.post("/logout")
    visit = book(w)

    login_as(w.resident)
    html = client.get(f"/visits/requests/{w.request.id}").get_data(as_text=True)
    assert "Trần Văn Kỹ" in html and "0987 654 321" in html
    body = client.get(f"/api/v1/help-requests/{w.request.id}", headers=api_token(w.resident)).get_json()
    assert body["visits"] == [
        {
            "id": visit.id,
            "start": on(w.day, "10:00").isoformat(),
            "end": on(w.day, "11:00").isoformat(),
            "place": "Nhà bà Năm",
            "member_name": "Trần Văn Kỹ",
            "member_work_phone": "+84987654321",
        }
    ]
    client.post("/logout")

    # The team staff see the request, not the resident's view of who comes; others see nothing.
    login_as(w.manager)
    html = client.get(f"/visits/requests/{w.request.id}").get_data(as_text=True)
    assert "0987 654 321" not in html and "Their work phone" not in html
    assert "visits" not in client.get(f"/api/v1/help-requests/{w.request.id}", headers=api_token(w.manager)).get_json()
    client.post("/logout")
    login_as(w.neighbour)
    assert client.get(f"/visits/requests/{w.request.id}").status_code == 404
    client.post("/logout")
    login_as(w.manager_c2)
    assert client.get(f"/visits/requests/{w.request.id}").status_code == 403


def test_without_a_work_phone_the_resident_is_told_the_team_will_call(client, db, login_as, w):
    book(w)
    login_as(w.resident)
    html = client.get(f"/visits/requests/{w.request.id}").get_data(as_text=True)
    assert "Trần Văn Kỹ" in html and "The team will call you." in html


# --- the team's promise ----------------------------------------------------------------------


def test_the_promise_is_set_on_the_team_page_and_shown_on_filing(client, db, login_as, api_token, w):
    login_as(w.manager)
    for wrong in ("0", "11", "hai"):
        response = client.post(f"/visits/teams/{w.team.id}/promise", data={"contact_promise_days": wrong})
        assert response.status_code == 400
    assert client.post(f"/visits/teams/{w.team.id}/promise", data={"contact_promise_days": "3"}).status_code == 302
    assert db.session.get(Team, w.team.id).contact_promise_days == 3
    client.post("/logout")
    login_as(w.member)  # a member does not manage the team
    assert client.post(f"/visits/teams/{w.team.id}/promise", data={"contact_promise_days": "5"}).status_code == 403
    client.post("/logout")

    login_as(w.resident)
    filed = client.post(
        "/visits/requests/new",
        data={"skill": "eid", "place": "Nhà bà Năm", "name": "Bà Năm Mười", "phone": "0912345678", "consent": "y"},
    )
    assert filed.status_code == 302
    help_request = db.session.scalars(select(HelpRequest).order_by(HelpRequest.id.desc())).first()
    by = add_working_days(help_request.created_at.astimezone(LOCAL_TZ).date(), 3)
    assert by.weekday() < 5
    html = client.get(filed.headers["Location"]).get_data(as_text=True)
    day_name = format_date(by, "EEEE d MMMM", locale="en")
    expected = f"The team promises to call you within 3 working days (by {day_name})."
    assert expected in html
    body = client.get(f"/api/v1/help-requests/{help_request.id}", headers=api_token(w.resident)).get_json()
    assert (body["contact_promise_days"], body["contact_by"]) == (3, by.isoformat())


def test_the_working_days_skip_the_weekend():
    friday = date(2026, 12, 11)
    assert add_working_days(friday, 2) == date(2026, 12, 15)
    deadline = help_requests.contact_deadline(datetime(2026, 12, 11, 20, 0, tzinfo=LOCAL_TZ), 2)
    assert deadline == datetime(2026, 12, 16, 0, 0, tzinfo=LOCAL_TZ)


def file_at(w, days_ago: int, *, due_in_days: int, contacted_after_days: int | None = None, unit=None):
    """A request filed `days_ago`, its promise ending `due_in_days` after filing, first contacted
    `contacted_after_days` after filing (None: never)."""
    unit = unit or w.units["v1b"]
    help_request = help_requests.create_help_request(
        w.manager if w.units["c1"].contains(unit) else w.manager_c2,
        skill="eid",
        unit=unit,
        place="Nhà văn hoá",
        name="Người dân",
        consent=True,
    )
    filed = utcnow() - timedelta(days=days_ago)
    help_request.created_at = filed
    help_request.contact_due_at = filed + timedelta(days=due_in_days)
    if contacted_after_days is not None:
        help_request.first_contacted_at = filed + timedelta(days=contacted_after_days)
    return help_request


@pytest.fixture
def promises(db, w):
    """C1: one request contacted in time, one contacted late, one never contacted (promise
    passed), one cancelled by its resident before its promise ended, one still within its
    promise, the resident's own request (within its promise), and one in time in C2."""
    in_time = file_at(w, 10, due_in_days=3, contacted_after_days=1)
    late = file_at(w, 10, due_in_days=3, contacted_after_days=5)
    never = file_at(w, 10, due_in_days=3)
    withdrawn = file_at(w, 10, due_in_days=3)
    withdrawn.status, withdrawn.closed_at = "cancelled", withdrawn.created_at + timedelta(days=1)
    file_at(w, 0, due_in_days=2)
    file_at(w, 10, due_in_days=3, contacted_after_days=1, unit=w.units["v2a"])
    db.session.flush()
    return SimpleNamespace(in_time=in_time, late=late, never=never)


def test_the_share_called_within_the_promise_in_the_team_view_and_the_province(
    client, db, login_as, api_token, w, promises
):
    view = analytics.team_view(w.units["c1"], utcnow() - timedelta(days=28), utcnow() + timedelta(days=1))
    totals = view.promise.totals
    assert (totals["requests"], totals["counted"], totals["in_time"], totals["late"]) == (6, 3, 1, 2)
    assert totals["share"] == pytest.approx(1 / 3)
    [village] = [row for row in view.promise.rows if row["village"].endswith("1B")]
    assert (village["counted"], village["in_time"]) == (3, 1)

    table = queries.visits_table(w.units["province"])
    shares = {row["unit_code"]: row["called_in_time_share"] for row in table.rows}
    assert shares["C1"] == pytest.approx(1 / 3)
    assert shares["C2"] == pytest.approx(1.0)
    assert table.totals["called_in_time_share"] == pytest.approx(2 / 4)

    body = client.get("/api/v1/reports/visits?unit=P", headers=api_token(w.department)).get_json()
    shares = {row["unit_code"]: row["called_in_time_share"] for row in body["rows"]}
    assert shares == {"C1": pytest.approx(0.3333, abs=1e-4), "C2": 1.0}

    login_as(w.manager)
    html = client.get("/reports/teams").get_data(as_text=True)
    assert "Calls within the team&#39;s promise" in html and "33" in html


def test_the_promise_from_the_summaries_equals_the_count_from_the_requests(
    client, db, login_as, make_user, w, promises
):
    """Settled requests are read from PromiseStat/PromiseTotal and waiting ones from the
    requests: the same figures as counting every request, for every area, period and moment,
    through calls, a cancellation after the promise ended, a filing date moved, an erasure and a
    deletion."""
    from app.privacy.erasure import erase_account
    from app.reports.promise import _counted_from_requests, promise_by_unit
    from app.reports.summaries import week_of

    late_cancel = file_at(w, 20, due_in_days=2)
    late_cancel.status, late_cancel.closed_at = "cancelled", late_cancel.created_at + timedelta(days=5)
    moved = file_at(w, 3, due_in_days=1, contacted_after_days=2)
    db.session.flush()
    moved.created_at -= timedelta(days=14)  # a filing date corrected: its week changes
    waiting = file_at(w, 5, due_in_days=2, unit=w.units["v2a"])
    db.session.flush()
    login_as(w.manager)
    assert client.post(f"/visits/requests/{promises.never.id}/contacted").status_code == 302
    erase_account(make_user("admin", w.units["province"]), w.resident, "request")
    db.session.delete(promises.late)  # no door deletes a request; the summaries would follow
    db.session.flush()

    units = [w.units["province"], w.units["c1"], w.units["c2"], w.units["v1b"], w.units["v2a"]]
    monday = datetime.combine(week_of(utcnow().astimezone(LOCAL_TZ)), datetime.min.time(), tzinfo=LOCAL_TZ)
    periods = [(None, None), (monday - timedelta(weeks=4), None), (monday - timedelta(weeks=3), monday)]
    periods.append((monday - timedelta(days=9, hours=5), utcnow()))  # not whole weeks: counted from the requests
    for now in (utcnow(), utcnow() - timedelta(days=4), utcnow() + timedelta(days=30)):
        for start, end in periods:
            from_requests = _counted_from_requests(units, start, end, now, waiting_only=False)
            assert promise_by_unit(units, start, end, now=now) == from_requests, (now, start, end)
    counted, _in_time = promise_by_unit([w.units["c2"]], now=utcnow() + timedelta(days=30))[w.units["c2"].id]
    assert counted == 2  # C2's request in time, and the one waiting once its promise has passed
    assert waiting.first_contacted_at is None
    stored, fresh = recount.stored_rows(), recount.compute_from_scratch()
    assert stored["promise_stats"] == fresh["promise_stats"] and stored["promise_totals"] == fresh["promise_totals"]


def test_a_call_recorded_late_counts_late_and_one_in_time_counts_in_time(client, db, login_as, w, promises):
    fresh = file_at(w, 0, due_in_days=2)
    db.session.flush()
    login_as(w.manager)
    html = client.get("/visits/triage").get_data(as_text=True)
    assert "late" in html  # the uncontacted request whose promise has passed
    assert client.post(f"/visits/requests/{promises.never.id}/contacted").status_code == 302
    assert client.post(f"/visits/requests/{fresh.id}/contacted").status_code == 302
    # Only the first contact counts.
    first = db.session.get(HelpRequest, promises.never.id).first_contacted_at
    assert client.post(f"/visits/requests/{promises.never.id}/contacted").status_code == 302
    assert db.session.get(HelpRequest, promises.never.id).first_contacted_at == first

    assert help_requests.contacted_in_time(db.session.get(HelpRequest, promises.never.id)) is False
    assert help_requests.contacted_in_time(db.session.get(HelpRequest, fresh.id)) is True
    view = analytics.team_view(w.units["c1"], utcnow() - timedelta(days=28), utcnow() + timedelta(days=1))
    assert (view.promise.totals["counted"], view.promise.totals["in_time"]) == (4, 2)
    # Another commune's manager may not record a call.
    client.post("/logout")
    login_as(w.manager_c2)
    assert client.post(f"/visits/requests/{fresh.id}/contacted").status_code == 403


def test_marking_a_request_could_not_reach_is_a_contact(client, db, login_as, w):
    login_as(w.manager)
    assert client.post(f"/visits/requests/{w.request.id}/status", data={"status": "unreachable"}).status_code == 302
    assert db.session.get(HelpRequest, w.request.id).first_contacted_at is not None


def test_the_team_records_a_call_through_the_api_too(client, db, api_token, w):
    response = client.patch(
        f"/api/v1/help-requests/{w.request.id}", json={"action": "record_contact"}, headers=api_token(w.manager)
    )
    assert response.status_code == 200
    assert response.get_json()["first_contacted_at"] is not None
    other = client.patch(
        f"/api/v1/help-requests/{w.request.id}", json={"action": "record_contact"}, headers=api_token(w.manager_c2)
    )
    assert other.status_code == 403
    assert other.get_json()["error"]["message"] == "You may not change this request."
    resident = client.patch(
        f"/api/v1/help-requests/{w.request.id}", json={"action": "record_contact"}, headers=api_token(w.resident)
    )
    assert resident.status_code == 403
    w.request.status = "done"
    db.session.flush()
    closed = client.patch(
        f"/api/v1/help-requests/{w.request.id}", json={"action": "record_contact"}, headers=api_token(w.manager)
    )
    assert closed.status_code == 409
