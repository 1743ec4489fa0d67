"""The member's agenda, the team calendar and the visit page with its forms."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import datetime, time, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import event

from app.db import LOCAL_TZ, utcnow
from app.extensions import db
from app.visits import help_requests, operations
from app.visits.models import Visit
from tests.conftest import csrf_token_from
from tests.visits.pages_support import at, book, build_world, local_day, move_to_past, plan_session


@pytest.fixture
def w(db, units, make_user):
    return build_world(db, units, make_user)


def page(response) -> str:
    return response.get_data(as_text=True)


def visit_state(visit_id: int) -> tuple:
    db.session.expire_all()
    visit = db.session.get(Visit, visit_id)
    return (visit.status, visit.starts_at, visit.ends_at, visit.cancel_reason, visit.minutes_spent)


# --- the agenda --------------------------------------------------------------------------


def test_member_sees_their_visits_and_hosted_sessions_for_the_week(w, client, login_as):
    visit = book(w, start=at(1, 10), place="Nhà bà Năm, xóm Đông")
    book(w, w.colleague, at(1, 10), place="Nhà ông Sáu, xóm Tây", resident=w.resident2)
    session = plan_session(w, start=at(1, 15))
    login_as(w.member)

    response = client.get(f"/visits/agenda?week={local_day(1).isoformat()}")

    html = page(response)
    assert response.status_code == 200
    assert "Nhà bà Năm, xóm Đông" in html
    assert "E-ID app (VNeID)" in html
    assert "Bà Năm Mười" in html
    assert "10:00–11:00" in html
    assert "Booked" in html
    assert f'href="/visits/visits/{visit.id}"' in html
    assert f'href="/visits/sessions/{session.id}"' in html
    assert "Sáng Chủ nhật: VNeID" in html
    assert "Nhà ông Sáu" not in html  # a colleague's visit
    assert "0912345678" not in html  # phone numbers only on the visit page


def test_a_visit_later_today_is_listed_under_today(w, client, login_as):
    start = utcnow() + timedelta(minutes=10)
    # Ten minutes before local midnight the visit falls tomorrow: then it must not be under today.
    later_today = start.astimezone(LOCAL_TZ).date() == local_day(0)
    book(w, start=start, place="Chợ thôn 1A", anytime=True)
    login_as(w.member)

    html = page(client.get("/visits/agenda"))

    today_section = html.split('id="today-heading"')[1].split('id="week-heading"')[0]
    assert ("Chợ thôn 1A" in today_section) is later_today


def test_a_past_visit_without_an_outcome_is_shown_as_waiting(w, client, login_as):
    visit = book(w, start=at(1, 10), place="Nhà cô Bảy")
    visit.starts_at = utcnow() - timedelta(days=9)
    visit.ends_at = visit.starts_at + timedelta(hours=1)
    db.session.flush()
    login_as(w.member)

    html = page(client.get("/visits/agenda"))

    assert "Waiting for the outcome" in html
    assert f'/visits/visits/{visit.id}"' in html


def next_sunday_evening():
    """20:00 local on a Sunday one to two weeks ahead of the clock."""
    today = local_day(0)
    sunday = today + timedelta(days=7 + (6 - today.weekday()) % 7)
    return datetime.combine(sunday, time(20), tzinfo=LOCAL_TZ)


def test_on_a_sunday_the_agenda_shows_tomorrows_visit_without_paging(w, client, login_as, time_machine):
    sunday_evening = next_sunday_evening()
    monday, saturday = (sunday_evening + timedelta(days=1)).date(), (sunday_evening + timedelta(days=6)).date()
    book(w, start=datetime.combine(monday, time(9), tzinfo=LOCAL_TZ), place="Nhà ông Hai, sáng thứ Hai")
    book(w, start=datetime.combine(saturday, time(9), tzinfo=LOCAL_TZ), place="Nhà bà Ba, sáng thứ Bảy")
    book(w, start=datetime.combine(saturday + timedelta(days=1), time(9), tzinfo=LOCAL_TZ), place="Nhà chú Tư")
    time_machine.move_to(sunday_evening, tick=True)
    login_as(w.member)

    html = page(client.get("/visits/agenda"))

    upcoming = html.split('id="week-heading"')[1]
    assert "Nhà ông Hai, sáng thứ Hai" in upcoming
    assert "Nhà bà Ba, sáng thứ Bảy" in upcoming
    assert "Nhà chú Tư" not in html  # the eighth day is on the next page
    assert 'id="today-heading"' in html
    later = (sunday_evening.date() + timedelta(days=7)).isoformat()
    assert f'href="/visits/agenda?from={later}"' in html
    html = page(client.get(f"/visits/agenda?from={later}"))
    assert "Nhà chú Tư" in html
    assert "Nhà ông Hai" not in html
    assert 'id="today-heading"' not in html
    assert 'href="/visits/agenda"' in html  # back to today
    earlier = (sunday_evening.date() - timedelta(days=7)).isoformat()
    assert f'href="/visits/agenda?from={earlier}"' in page(client.get("/visits/agenda"))


def test_an_old_link_to_a_week_shows_that_week_from_its_monday(w, client, login_as, time_machine):
    sunday_evening = next_sunday_evening()
    monday = (sunday_evening + timedelta(days=1)).date()
    book(w, start=datetime.combine(monday, time(9), tzinfo=LOCAL_TZ), place="Nhà ông Hai")
    login_as(w.member)

    html = page(client.get(f"/visits/agenda?week={(monday + timedelta(days=3)).isoformat()}"))

    assert "Nhà ông Hai" in html


@pytest.mark.parametrize("value", ["tomorrow", "0001-01-01", "2026-02-30"])
def test_a_bad_first_day_is_refused(w, client, login_as, value):
    login_as(w.member)
    response = client.get(f"/visits/agenda?from={value}")
    assert response.status_code == 400


def test_the_agenda_is_for_tech_team_members(w, client, login_as):
    login_as(w.resident)
    assert client.get("/visits/agenda").status_code == 403


def test_a_manager_opening_the_agenda_goes_to_the_team_calendar(w, client, login_as):
    login_as(w.manager)
    response = client.get("/visits/agenda")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/visits/calendar")


def test_the_menu_links_to_the_agenda_or_the_team_calendar(w, client, login_as):
    login_as(w.member)
    html = page(client.get("/"))
    assert 'href="/visits/agenda"' in html
    client.post("/logout")
    login_as(w.manager)
    html = page(client.get("/"))
    assert 'href="/visits/calendar"' in html
    assert 'href="/visits/agenda"' not in html


@contextmanager
def counting_queries():
    counter = {"n": 0}

    def count(*args):
        counter["n"] += 1

    connection = db.engines[None]  # the test's connection, shared by the requests
    event.listen(connection, "before_cursor_execute", count)
    try:
        yield counter
    finally:
        event.remove(connection, "before_cursor_execute", count)


def test_the_team_calendar_needs_no_query_per_visit(w, client, login_as, make_user, units):
    book(w, start=at(1, 8))
    login_as(w.manager)
    week = local_day(1).isoformat()
    with counting_queries() as few:
        assert client.get(f"/visits/calendar?week={week}").status_code == 200
    for hour in range(9, 15):
        resident = make_user("resident", units["v1b"], full_name=f"Người dân {hour}")
        book(w, w.member if hour % 2 else w.colleague, at(1, hour), resident=resident, anytime=True)
    plan_session(w, start=at(2, 8))
    with counting_queries() as many:
        assert client.get(f"/visits/calendar?week={week}").status_code == 200
    assert many["n"] <= few["n"] + 1  # + one query for the sessions' people


# --- the team calendar ---------------------------------------------------------------------


def test_commune_manager_sees_every_visit_and_session_of_the_commune_for_the_week(w, client, login_as):
    book(w, start=at(1, 9), place="Nhà bà Năm")
    book(w, w.colleague, at(1, 9), place="Nhà ông Sáu", resident=w.resident2)
    book(w, w.member_c2, at(1, 9), place="Nhà chú Tám")
    plan_session(w, start=at(1, 14))
    login_as(w.manager)

    response = client.get(f"/visits/calendar?week={local_day(1).isoformat()}")

    html = page(response)
    assert response.status_code == 200
    assert "Nhà bà Năm" in html and "Nhà ông Sáu" in html
    assert "Trần Văn Kỹ" in html and "Lê Thị Hai" in html
    assert "Group session: Sáng Chủ nhật: VNeID" in html
    assert "Nhà chú Tám" not in html  # another commune


def test_the_team_calendar_can_show_one_village(w, client, login_as):
    book(w, start=at(1, 9), place="Nhà bà Năm")
    book(w, w.colleague, at(1, 9), place="Nhà ông Sáu", resident=w.resident2)
    login_as(w.manager)

    html = page(client.get(f"/visits/calendar?week={local_day(1).isoformat()}&unit=C1B"))

    assert "Nhà ông Sáu" in html
    assert "Nhà bà Năm" not in html


def test_another_communes_unit_on_the_team_calendar_is_refused(w, client, login_as):
    book(w, w.member_c2, at(1, 9), place="Nhà chú Tám")
    login_as(w.manager)
    response = client.get(f"/visits/calendar?week={local_day(1).isoformat()}&unit=C2")
    assert response.status_code == 403
    assert "Nhà chú Tám" not in page(response)


def test_unknown_unit_or_bad_week_on_the_team_calendar(w, client, login_as):
    login_as(w.manager)
    assert client.get("/visits/calendar?unit=NOPE").status_code == 404
    response = client.get("/visits/calendar?week=next-tuesday")
    assert response.status_code == 400
    assert "Give the week as a date" in page(response)


def test_residents_have_no_team_calendar(w, client, login_as):
    login_as(w.resident)
    assert client.get("/visits/calendar").status_code == 403


def test_department_manager_reads_the_calendar_and_visits_without_changing_them(w, client, login_as):
    visit = book(w, start=at(1, 9), place="Nhà bà Năm")
    before = visit_state(visit.id)
    login_as(w.department)

    html = page(client.get(f"/visits/calendar?week={local_day(1).isoformat()}&unit=C1"))
    assert "Nhà bà Năm" in html
    detail = page(client.get(f"/visits/visits/{visit.id}"))
    assert "Nhà bà Năm" in detail
    assert "Cancel the visit" not in detail

    response = client.post(f"/visits/visits/{visit.id}/cancel", data={"reason": "Thử"})
    assert response.status_code == 403
    assert visit_state(visit.id) == before


# --- the visit page ------------------------------------------------------------------------


def test_member_sees_the_visit_with_the_persons_phone_and_the_forms(w, client, login_as):
    visit = book(w, start=at(1, 10), place="Nhà bà Năm")
    login_as(w.member)

    response = client.get(f"/visits/visits/{visit.id}")

    html = page(response)
    assert response.status_code == 200
    assert "Bà Năm Mười" in html and "0912345678" in html
    assert "Move the visit" in html and "Cancel the visit" in html
    assert "You can record the outcome once the visit has started." in html


@pytest.mark.parametrize("who", ["member_c2", "manager_c2", "resident2"])
def test_the_visit_page_is_refused_outside_the_commune_and_to_other_residents(w, client, login_as, who):
    visit = book(w, start=at(1, 10))
    login_as(getattr(w, who))
    assert client.get(f"/visits/visits/{visit.id}").status_code == 403
    assert client.get(f"/visits/visits/{visit.id}.ics").status_code == 403


def test_the_department_manager_does_not_see_the_persons_phone(w, client, login_as):
    visit = book(w, start=at(1, 10))
    login_as(w.department)
    html = page(client.get(f"/visits/visits/{visit.id}"))
    assert "Bà Năm Mười" in html
    assert "0912345678" not in html


def test_the_visit_forms_carry_a_csrf_token(w, client, login_as, csrf_enabled):
    visit = book(w, start=at(1, 10))
    client.get("/login")
    token = csrf_token_from(page(client.get("/login")))
    client.post(
        "/login", data={"username": w.member.username, "password": "correct horse battery", "csrf_token": token}
    )
    html = page(client.get(f"/visits/visits/{visit.id}"))

    refused = client.post(f"/visits/visits/{visit.id}/cancel", data={"reason": "Không có mã"})
    assert refused.status_code == 400
    assert visit_state(visit.id)[0] == "booked"
    accepted = client.post(
        f"/visits/visits/{visit.id}/cancel", data={"reason": "Có mã", "csrf_token": csrf_token_from(html)}
    )
    assert accepted.status_code == 302
    assert visit_state(visit.id)[0] == "cancelled"


def test_the_visited_resident_sees_the_time_and_place_but_no_forms(w, client, login_as):
    visit = book(w, start=at(1, 10), place="Nhà bà Năm")
    login_as(w.resident)
    html = page(client.get(f"/visits/visits/{visit.id}"))
    assert "Nhà bà Năm" in html
    assert "Move the visit" not in html
    assert client.post(f"/visits/visits/{visit.id}/cancel", data={"reason": "x"}).status_code == 403


def test_unknown_visit_is_404(w, client, login_as):
    login_as(w.member)
    assert client.get("/visits/visits/999999").status_code == 404


def test_member_moves_a_visit(w, client, login_as):
    visit = book(w, start=at(1, 10))
    login_as(w.member)
    new_start = at(2, 15, 30)

    response = client.post(
        f"/visits/visits/{visit.id}/reschedule",
        data={"date": new_start.date().isoformat(), "time": "15:30", "duration_minutes": "90"},
    )

    assert response.status_code == 302
    status, starts_at, ends_at, *_ = visit_state(visit.id)
    assert status == "booked"
    assert starts_at == new_start
    assert ends_at == new_start + timedelta(minutes=90)


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"time": "15:30", "duration_minutes": "60"}, 400, "Enter the date."),
        ({"date": "2030-02-30", "time": "15:30", "duration_minutes": "60"}, 400, "Not a valid date value."),
        ({"date": "DAY", "time": "25:99", "duration_minutes": "60"}, 400, "Not a valid time value."),
        ({"date": "DAY", "time": "15:30", "duration_minutes": "5"}, 400, "A visit lasts from 15 to 480 minutes."),
        ({"date": "DAY", "time": "15:30", "duration_minutes": "lots"}, 400, "Not a valid integer value."),
        ({"date": "PAST", "time": "08:00", "duration_minutes": "60"}, 400, "The start time is in the past."),
        ({"date": "DAY", "time": "09:30", "duration_minutes": "60"}, 409, "already has a visit at that time"),
    ],
)
def test_bad_reschedule_input_changes_nothing(w, client, login_as, data, status, message):
    visit = book(w, start=at(1, 10))
    book(w, start=at(2, 9), place="Chỗ khác")  # the member is busy 09:00–10:00 the day after
    before = visit_state(visit.id)
    login_as(w.member)
    data = dict(data)
    if data.get("date") == "DAY":
        data["date"] = local_day(2).isoformat()
    elif data.get("date") == "PAST":
        data["date"] = local_day(-2).isoformat()

    response = client.post(f"/visits/visits/{visit.id}/reschedule", data=data)

    assert response.status_code == status
    assert message in page(response)
    assert visit_state(visit.id) == before


def test_member_cancels_a_visit_with_a_reason_and_the_request_goes_back_to_triage(w, client, login_as):
    request = help_requests.create_help_request(
        w.manager,
        skill="eid",
        unit=w.units["v1a"],
        place="Nhà bà Năm",
        name="Bà Năm Mười",
        consent=True,
    )
    visit = operations.book_visit(
        w.member, at(1, 10), 60, skill="eid", place="Nhà bà Năm", booked_by=w.manager, request=request
    )
    login_as(w.member)

    response = client.post(f"/visits/visits/{visit.id}/cancel", data={"reason": "Bà Năm bị ốm"})

    assert response.status_code == 302
    status, *_, reason, _minutes = visit_state(visit.id)
    assert (status, reason) == ("cancelled", "Bà Năm bị ốm")
    db.session.refresh(request)
    assert request.status == "new"
    again = client.post(f"/visits/visits/{visit.id}/cancel", data={"reason": "Lần nữa"})
    assert again.status_code == 409
    assert "Only a booked visit can be cancelled." in page(again)


@pytest.mark.parametrize("reason", ["", "   "])
def test_cancelling_without_a_reason_is_refused(w, client, login_as, reason):
    visit = book(w, start=at(1, 10))
    login_as(w.member)
    response = client.post(f"/visits/visits/{visit.id}/cancel", data={"reason": reason})
    assert response.status_code == 400
    assert "Say why the visit is cancelled." in page(response)
    assert visit_state(visit.id)[0] == "booked"


def test_a_member_of_another_commune_cannot_change_the_visit(w, client, login_as):
    visit = book(w, start=at(1, 10))
    move_to_past(db, visit)
    before = visit_state(visit.id)
    login_as(w.member_c2)
    for action, data in [
        ("cancel", {"reason": "x"}),
        ("no-show", {}),
        ("reschedule", {"date": local_day(3).isoformat(), "time": "10:00", "duration_minutes": "60"}),
        ("complete", {"skills_done": "eid", "outcome": "resolved", "minutes_spent": "30"}),
    ]:
        assert client.post(f"/visits/visits/{visit.id}/{action}", data=data).status_code == 403
    assert visit_state(visit.id) == before


def test_no_show_before_the_start_is_refused_and_after_it_is_recorded(w, client, login_as):
    visit = book(w, start=at(1, 10))
    login_as(w.member)

    early = client.post(f"/visits/visits/{visit.id}/no-show")
    assert early.status_code == 400
    assert "The visit has not started yet." in page(early)
    assert visit_state(visit.id)[0] == "booked"

    move_to_past(db, visit)
    assert client.post(f"/visits/visits/{visit.id}/no-show").status_code == 302
    assert visit_state(visit.id)[0] == "no_show"


def test_member_records_the_outcome_of_a_visit(w, client, login_as):
    visit = book(w, start=at(1, 10))
    move_to_past(db, visit)
    login_as(w.member)
    html = page(client.get(f"/visits/visits/{visit.id}"))
    assert "Record the outcome" in html

    response = client.post(
        f"/visits/visits/{visit.id}/complete",
        data={
            "skills_done": ["eid", "cashless"],
            "outcome": "follow_up",
            "minutes_spent": "45",
            "notes": "Cài VNeID xong, hẹn lần sau kích hoạt mức 2.",
            "rating": "5",
        },
    )

    assert response.status_code == 302
    db.session.expire_all()
    visit = db.session.get(Visit, visit.id)
    assert visit.status == "done"
    assert visit.skills_done == ["cashless", "eid"]
    assert (visit.resolved, visit.follow_up_needed) == (False, True)
    assert (visit.minutes_spent, visit.rating) == (45, 5)
    assert visit.notes.startswith("Cài VNeID")
    shown = page(client.get(f"/visits/visits/{visit.id}"))
    assert "Follow-up needed" in shown and "45 minutes" in shown
    again = client.post(
        f"/visits/visits/{visit.id}/complete",
        data={"skills_done": "eid", "outcome": "resolved", "minutes_spent": "30"},
    )
    assert again.status_code == 409
    assert "This visit is already closed." in page(again)


GOOD_OUTCOME = {"skills_done": "eid", "outcome": "resolved", "minutes_spent": "30", "rating": "4"}


def folds(html: str) -> dict[str, bool]:
    """{summary text: open?} of the folded parts of a page."""
    found = re.findall(r'<details class="fold[^"]*"( open)?>\s*<summary>(.*?)</summary>', html, re.S)
    return {re.sub(r"<[^>]+>", "", summary).strip(): bool(is_open) for is_open, summary in found}


def test_the_outcome_form_keeps_the_required_part_open_and_folds_the_rest(w, client, login_as):
    visit = book(w, start=at(1, 10))
    move_to_past(db, visit)
    login_as(w.member)

    html = page(client.get(f"/visits/visits/{visit.id}"))

    assert 'name="outcome"' in html.split('<details class="fold')[0]  # the required questions come first, unfolded
    assert 'name="minutes_spent"' in html.split('<details class="fold')[0]
    shown = folds(html)
    assert shown["If a follow-up is needed"] is False
    assert shown["Notes (optional)"] is False
    assert shown["Move the visit"] is False
    assert shown["Cancel the visit"] is False
    assert 'name="follow_up_reason"' in html  # folded, still in the page: it works without JavaScript


def test_the_outcome_form_comes_back_with_the_parts_holding_errors_or_answers_open(w, client, login_as):
    visit = book(w, start=at(1, 10))
    move_to_past(db, visit)
    login_as(w.member)

    response = client.post(
        f"/visits/visits/{visit.id}/complete",
        data={**GOOD_OUTCOME, "outcome": "follow_up", "follow_up_due": "31/31/2026", "notes": "Hẹn lần sau"},
    )

    assert response.status_code == 400
    shown = folds(page(response))
    assert shown["If a follow-up is needed"] is True
    assert shown["Notes (optional)"] is True
    assert shown["Move the visit"] is False
    assert "Hẹn lần sau" in page(response)
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).status == "booked"


def test_a_refused_move_comes_back_with_the_move_form_open(w, client, login_as):
    visit = book(w, start=at(1, 10))
    login_as(w.member)

    response = client.post(
        f"/visits/visits/{visit.id}/reschedule", data={"date": "", "time": "", "duration_minutes": "60"}
    )

    assert response.status_code == 400
    shown = folds(page(response))
    assert shown["Move the visit"] is True
    assert shown["Cancel the visit"] is False


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"skills_done": None}, "Tick what you helped with."),
        ({"skills_done": "astrology"}, "Tick what you helped with."),
        ({"outcome": None}, "Say whether the problem was resolved."),
        ({"outcome": "maybe"}, "Not a valid choice."),
        ({"minutes_spent": None}, "Enter the time spent in minutes."),
        ({"minutes_spent": "0"}, "Enter the time spent in minutes."),
        ({"rating": "9"}, "Not a valid choice."),
    ],
)
def test_bad_outcome_input_changes_nothing(w, client, login_as, changes, message):
    visit = book(w, start=at(1, 10))
    move_to_past(db, visit)
    before = visit_state(visit.id)
    login_as(w.member)
    data = {key: value for key, value in {**GOOD_OUTCOME, **changes}.items() if value is not None}

    response = client.post(f"/visits/visits/{visit.id}/complete", data=data)

    assert response.status_code == 400
    assert message in page(response)
    assert visit_state(visit.id) == before


def test_the_outcome_cannot_be_recorded_before_the_visit(w, client, login_as):
    visit = book(w, start=at(1, 10))
    login_as(w.member)
    response = client.post(f"/visits/visits/{visit.id}/complete", data=GOOD_OUTCOME)
    assert response.status_code == 400
    assert "The visit has not started yet." in page(response)
    assert visit_state(visit.id)[0] == "booked"


def test_a_commune_manager_may_cancel_a_members_visit(w, client, login_as):
    visit = book(w, start=at(1, 10))
    login_as(w.manager)
    response = client.post(f"/visits/visits/{visit.id}/cancel", data={"reason": "Trùng lịch họp xã"})
    assert response.status_code == 302
    assert visit_state(visit.id)[0] == "cancelled"


def test_the_visit_downloads_as_an_ics_file(w, client, login_as):
    visit = book(w, start=at(1, 10), place="Nhà bà Năm")
    login_as(w.member)

    response = client.get(f"/visits/visits/{visit.id}.ics")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    calendar = Calendar.from_ical(response.data)
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == visit.starts_at
    assert event.decoded("dtend") == visit.ends_at
    # The home address stays off calendars unless the member chose otherwise: the village instead.
    assert visit.unit.display_name in str(event["summary"])
    assert "Nhà bà Năm" not in response.get_data(as_text=True)
    assert str(event["uid"]) == f"visit-{visit.id}@localhost"
