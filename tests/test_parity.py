"""One rule, every door: the same refused input sent through the page and through the API is
refused by both with the same reason, and nothing is written.

Each row of RULES names a rule of the visits feature (and of recording a resident's milestone),
sets up the situation, and says what the page request and the API request are. The page answers
400 where the API answers 422 (a value it could read but not accept); 403 and 409 are the same on
both. The message is the same text.

`test_every_refusal_of_the_visit_operations_has_a_row` reads the visit operations and fails when
one of their refusals has neither a row here nor a stated reason to be left out: a rule added later
without a row is spotted by the suite, not only in review.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.db import LOCAL_TZ, local_today, utcnow
from app.extensions import db
from app.outcomes import operations as outcomes
from app.outcomes.models import Resident, ResidentMilestone
from app.visits import group_sessions, help_requests, operations
from app.visits.models import (
    AvailabilityException,
    GroupSession,
    SessionSignup,
    Team,
    TeamMember,
    Visit,
    WeeklyAvailability,
)
from tests.time_support import a_day_ahead, on

PAGE_STATUS = {"invalid": 400, "forbidden": 403, "not_found": 404, "conflict": 409}
API_STATUS = {"invalid": 422, "forbidden": 403, "not_found": 404, "conflict": 409}




@pytest.fixture
def w(db, units, make_user, client, login_as, api_token):
    """Commune C1: member `m` (e-ID, 08:00–17:00 every day), `safety_only` (offers only safety),
    commune manager `cm` (may set hours aside), tech-team `tech` (may book, may not set hours
    aside), residents `r1` and `r1b`, a cadre; commune C2 with its manager `cm2`, member `m2` and
    resident `r2`. A help request of `r1` for e-ID help."""
    w = SimpleNamespace(units=units, day=a_day_ahead(), client=client, login_as=login_as, api_token=api_token)
    w.cm = make_user("commune_manager", units["c1"], full_name="Chủ tịch Một")
    w.tech = make_user("tech_team", units["c1"], full_name="Tổ trưởng Tâm")
    w.m = make_user("tech_team", units["v1a"], full_name="Trần Văn Kỹ")
    w.safety_only = make_user("tech_team", units["c1"], full_name="Lê An Toàn")
    w.r1 = make_user("resident", units["v1a"], full_name="Bà Năm")
    w.r1b = make_user("resident", units["v1b"], full_name="Ông Sáu")
    w.cadre = make_user("cadre", units["c1"], full_name="Cán bộ Bảy")
    w.cm2 = make_user("commune_manager", units["c2"], full_name="Chủ tịch Hai")
    w.m2 = make_user("tech_team", units["c2"], full_name="Phạm Văn Ba")
    w.r2 = make_user("resident", units["v2a"], full_name="Chú Tám")
    team, team2 = Team(unit=units["c1"], name="Tổ xã Một"), Team(unit=units["c2"], name="Tổ xã Hai")
    db.session.add_all([team, team2])
    db.session.flush()
    db.session.add_all(
        [
            TeamMember(team_id=team.id, user_id=w.m.id, skills=["eid"]),
            TeamMember(team_id=team.id, user_id=w.tech.id, skills=["eid"]),
            TeamMember(team_id=team.id, user_id=w.safety_only.id, skills=["safety"]),
            TeamMember(team_id=team2.id, user_id=w.m2.id, skills=["eid"]),
        ]
    )
    for member in (w.m, w.tech, w.safety_only, w.m2):
        db.session.add_all(
            WeeklyAvailability(user_id=member.id, weekday=day, start_minute=8 * 60, end_minute=17 * 60)
            for day in range(7)
        )
    w.request = help_requests.create_help_request(
        w.r1, skill="eid", unit=units["v1a"], place="Nhà bà Năm", name="Bà Năm", consent=True
    )
    w.resident_record = Resident(unit_id=units["v1a"].id, full_name="Bà Lan", birth_year=1958)
    db.session.add(w.resident_record)
    db.session.flush()
    return w


def visit_at(w, hhmm: str, *, member=None, minutes: int = 60, resident=None) -> Visit:
    """A visit already booked (by the commune's manager, within the member's hours)."""
    member = member or w.m
    return operations.book_visit(
        member,
        on(w.day, hhmm),
        minutes,
        skill="eid",
        place="Nhà văn hoá",
        booked_by=w.cm if member is not w.m2 else w.cm2,
        resident=resident or (w.r1b if member is not w.m2 else w.r2),
    )


def session_of(w, hhmm: str = "10:00", *, capacity: int = 5, unit=None, host=None) -> GroupSession:
    return group_sessions.create_group_session(
        w.cm if unit is None else w.cm2,
        unit=unit or w.units["v1a"],
        title="Buổi hướng dẫn VNeID",
        place="Nhà văn hoá thôn",
        starts_at=on(w.day, hhmm),
        duration_minutes=120,
        skills=["eid"],
        capacity=capacity,
        host=host or w.m,
    )


# --- the two doors of each action ------------------------------------------------------------


@dataclass
class Call:
    method: str
    url: str
    data: dict | None = None


def book(w, hhmm: str, *, member=None, minutes: int = 60, day: date | None = None, override=None, reason=None):
    """Booking the help request: the booking page's "another time" form, and POST /api/v1/visits."""
    member = member or w.m
    day = day or w.day
    page = {
        "member": str(member.id),
        "date": day.isoformat(),
        "time": hhmm,
        "duration_minutes": str(minutes),
    }
    api = {
        "member_id": member.id,
        "start": on(day, hhmm).isoformat(),
        "duration_minutes": minutes,
        "skill": w.request.skill,
        "request_id": w.request.id,
    }
    if override:
        page["override"] = "y"
        api["override"] = True
    if reason is not None:
        page["override_reason"] = reason
        api["override_reason"] = reason
    return (
        Call("POST", f"/visits/requests/{w.request.id}/book-time", page),
        Call("POST", "/api/v1/visits", api),
    )


def move(visit: Visit, when: datetime, *, minutes: int = 60, override=None, reason=None):
    """Moving a visit: the visit page's form, and PATCH /api/v1/visits/<id>."""
    local = when.astimezone(LOCAL_TZ)
    page = {"date": local.date().isoformat(), "time": local.strftime("%H:%M"), "duration_minutes": str(minutes)}
    api = {"action": "reschedule", "start": when.isoformat(), "duration_minutes": minutes}
    if override:
        page["override"] = "y"
        api["override"] = True
    if reason is not None:
        page["override_reason"] = reason
        api["override_reason"] = reason
    return (
        Call("POST", f"/visits/visits/{visit.id}/reschedule", page),
        Call("PATCH", f"/api/v1/visits/{visit.id}", api),
    )


def change(visit: Visit, action: str, **api_fields):
    """Cancelling, marking "not there" or completing a visit on its page and through the API."""
    pages = {
        "cancel": ("cancel", {"reason": api_fields.get("reason", "")}),
        "no_show": ("no-show", {}),
        "complete": (
            "complete",
            {"skills_done": ["eid"], "outcome": "resolved", "minutes_spent": "30"},
        ),
    }
    path, page = pages[action]
    api = {"action": action, **api_fields}
    if action == "complete":
        api = {"action": "complete", "skills_done": ["eid"], "resolved": True, "minutes_spent": 30}
    return (
        Call("POST", f"/visits/visits/{visit.id}/{path}", page),
        Call("PATCH", f"/api/v1/visits/{visit.id}", api),
    )


def sign_up(session: GroupSession, person=None):
    """Signing up for a group session: oneself, or (with `person`) a resident."""
    if person is None:
        return (
            Call("POST", f"/visits/sessions/{session.id}/sign-up", {}),
            Call("POST", f"/api/v1/sessions/{session.id}/signups", None),
        )
    return (
        Call("POST", f"/visits/sessions/{session.id}/sign-up-resident", {"person": str(person.id)}),
        Call("POST", f"/api/v1/sessions/{session.id}/signups", {"user_id": person.id}),
    )


def own(w, action: str, **fields):
    """What the person who asked does to their request: the request page's forms, and PATCH
    /api/v1/help-requests/<id>."""
    if action == "cancel":
        page = Call("POST", f"/visits/requests/{w.request.id}/cancel", {"reason": fields.get("reason", "")})
    else:
        page = Call(
            "POST",
            f"/visits/requests/{w.request.id}/another-time",
            {"wish": fields.get("wish", ""), "on_date": fields.get("date", "")},
        )
    return page, Call("PATCH", f"/api/v1/help-requests/{w.request.id}", {"action": action, **fields})


# --- the rules -------------------------------------------------------------------------------


@dataclass
class Rule:
    name: str
    #: Who tries, as an attribute of the world ("cm", "tech" …).
    actor: str
    #: Sets the situation up and returns (page call, API call).
    attempt: Callable
    kind: str
    message: str


HOURS = "This time is outside the member's hours, or they are away then. Choose a time from the list."
BUFFER = "The member needs 15 minutes to travel between visits. Choose a time further from their other visits."
DAILY_CAP = "This member already has 4 visits that day, the most for one day. Choose another day or member."
BUSY = "This member already has a visit at that time. Choose another time or member."
HOSTS_SESSION = "This member hosts a group session at that time. Choose another time or member."
PAST = "The start time is in the past."
NO_OVERRIDE = "Only a commune manager may book outside a member's hours."
OVERRIDE_REASON = "Say why the member's usual hours are set aside."
MAY_NOT_CHANGE_VISIT = "You may not change this visit."
MAY_NOT_CHANGE_REQUEST = "You may not change this request."
NOT_YET = "The visit has not started yet."


def _away(w) -> None:
    db.session.add(AvailabilityException(user_id=w.m.id, on_date=w.day, kind="away"))
    db.session.flush()


def _full_day(w) -> None:
    for hhmm in ("08:00", "09:30", "11:00", "12:30"):
        visit_at(w, hhmm)


def _past(w) -> Visit:
    visit = visit_at(w, "10:00")
    visit.starts_at, visit.ends_at = utcnow() - timedelta(hours=3), utcnow() - timedelta(hours=2)
    db.session.flush()
    return visit


def _closed_request(w):
    w.request.status = "cancelled"
    db.session.flush()
    return book(w, "10:00")


RESTRICTED = "Processing of this person's data is restricted at their request: no visit can be booked for them."


def _restricted(w, person, calls):
    """`calls`, sent once processing of `person` is restricted (app.privacy.restriction)."""
    person.restricted_at = utcnow()
    db.session.flush()
    return calls


def _session_full(w):
    session = session_of(w, capacity=1)
    group_sessions.sign_up(session, w.r1b, by=w.r1b)
    return sign_up(session)


def _session_started(w):
    session = session_of(w)
    session.starts_at, session.ends_at = utcnow() - timedelta(hours=1), utcnow() + timedelta(hours=1)
    db.session.flush()
    return sign_up(session)


def _signed_up_already(w):
    session = session_of(w)
    group_sessions.sign_up(session, w.r1, by=w.r1)
    return sign_up(session)


def milestone(w, *, resident=None, on_date: date | None = None, helper=None):
    """Recording a milestone for a resident: the resident page's form, and the API."""
    outcomes.ensure_default_milestones()
    resident = resident or w.resident_record
    on_date = on_date or local_today()
    page = {"milestone": "eid_installed", "on_date": on_date.isoformat(), "confirmation": "seen_on_phone"}
    api = {"milestone": "eid_installed", "date": on_date.isoformat(), "confirmed_by": "seen_on_phone"}
    if helper is not None:
        page["helped_by"] = str(helper.id)
        api["helped_by"] = helper.id
    return (
        Call("POST", f"/outcomes/residents/{resident.id}/milestones", page),
        Call("POST", f"/api/v1/residents/{resident.id}/milestones", api),
    )


def _cancelled(w) -> Visit:
    visit = visit_at(w, "10:00")
    operations.cancel_visit(w.cm, visit, "Bà ốm")
    return visit


def _request_closed(w) -> None:
    w.request.status = "done"
    db.session.flush()


def _request_visit_started(w) -> None:
    visit = operations.book_visit(
        w.m, on(w.day, "10:00"), 60, skill="eid", place="Nhà bà Năm", booked_by=w.cm, request=w.request
    )
    visit.starts_at, visit.ends_at = utcnow() - timedelta(minutes=10), utcnow() + timedelta(minutes=50)
    db.session.flush()


def record_call(w):
    """The team records its call: the triage list's "Called", and PATCH /api/v1/help-requests/<id>."""
    return (
        Call("POST", f"/visits/requests/{w.request.id}/contacted", {}),
        Call("PATCH", f"/api/v1/help-requests/{w.request.id}", {"action": "record_contact"}),
    )


NO_REQUEST = "No help request has this id."
ONLY_THE_ASKER = "Only the person who asked for this help may do this."

RULES = [
    # The team's call to the person who asked.
    Rule("record a call: in another commune", "cm2", record_call, "forbidden", MAY_NOT_CHANGE_REQUEST),
    # The person who asked: cancelling the request, asking for another time.
    Rule("cancel request: another resident's", "r1b", lambda w: own(w, "cancel"), "not_found", NO_REQUEST),
    Rule("cancel request: by the team staff", "cm", lambda w: own(w, "cancel"), "forbidden", ONLY_THE_ASKER),
    Rule(
        "cancel request: already closed",
        "r1",
        lambda w: (_request_closed(w), own(w, "cancel"))[1],
        "conflict",
        "This request is already closed.",
    ),
    Rule(
        "cancel request: its visit has started",
        "r1",
        lambda w: (_request_visit_started(w), own(w, "cancel"))[1],
        "conflict",
        "The visit has already started; ask the team member instead.",
    ),
    Rule(
        "cancel request: a reason too long",
        "r1",
        lambda w: own(w, "cancel", reason="x" * 301),
        "invalid",
        "This text is too long (at most 300 characters).",
    ),
    Rule(
        "another time: another resident's",
        "r1b",
        lambda w: own(w, "ask_another_time", wish="Sáng thứ Bảy"),
        "not_found",
        NO_REQUEST,
    ),
    Rule(
        "another time: by the team staff",
        "tech",
        lambda w: own(w, "ask_another_time", wish="Sáng thứ Bảy"),
        "forbidden",
        ONLY_THE_ASKER,
    ),
    Rule(
        "another time: nothing said",
        "r1",
        lambda w: own(w, "ask_another_time", wish=""),
        "invalid",
        "Say when would suit you, or choose a date.",
    ),
    Rule(
        "another time: a date in the past",
        "r1",
        lambda w: own(w, "ask_another_time", wish="Sáng", date="2001-01-01"),
        "invalid",
        "Choose a date from today to a year ahead.",
    ),
    Rule(
        "another time: a closed request",
        "r1",
        lambda w: (_request_closed(w), own(w, "ask_another_time", wish="Sáng thứ Bảy"))[1],
        "conflict",
        "This request is already closed.",
    ),
    # Booking: the rules of the member's time.
    Rule("book: outside the member's hours", "cm", lambda w: book(w, "03:00"), "conflict", HOURS),
    Rule("book: on the member's away day", "cm", lambda w: (_away(w), book(w, "10:00"))[1], "conflict", HOURS),
    Rule(
        "book: no travel time after another visit",
        "cm",
        lambda w: (visit_at(w, "09:00"), book(w, "10:00"))[1],
        "conflict",
        BUFFER,
    ),
    Rule("book: over the daily cap", "cm", lambda w: (_full_day(w), book(w, "14:00"))[1], "conflict", DAILY_CAP),
    Rule(
        "book: over another visit",
        "cm",
        lambda w: (visit_at(w, "10:00"), book(w, "10:30"))[1],
        "conflict",
        BUSY,
    ),
    Rule(
        "book: while the member hosts a session",
        "cm",
        lambda w: (session_of(w, "10:00"), book(w, "10:30"))[1],
        "conflict",
        HOSTS_SESSION,
    ),
    Rule("book: in the past", "cm", lambda w: book(w, "10:00", day=local_today() - timedelta(days=2)), "invalid", PAST),
    Rule(
        "book: a member of another commune",
        "cm",
        lambda w: book(w, "10:00", member=w.m2),
        "invalid",
        "This person is not a member of a team in this commune.",
    ),
    Rule(
        "book: a member who does not offer this help",
        "cm",
        lambda w: book(w, "10:00", member=w.safety_only),
        "invalid",
        "This member does not offer this kind of help.",
    ),
    Rule(
        "book: a visit too long",
        "cm",
        lambda w: book(w, "08:00", minutes=600),
        "invalid",
        "A visit lasts from 15 to 480 minutes.",
    ),
    Rule("book: a closed request", "cm", _closed_request, "conflict", "This request is closed."),
    Rule(
        "book: a person whose processing is restricted",
        "cm",
        lambda w: _restricted(w, w.r1, book(w, "10:00")),
        "conflict",
        RESTRICTED,
    ),
    Rule(
        "move: a person whose processing is restricted",
        "cm",
        lambda w: (lambda visit: _restricted(w, w.r1b, move(visit, on(w.day, "12:00"))))(visit_at(w, "10:00")),
        "conflict",
        RESTRICTED,
    ),
    Rule("book: in another commune", "cm2", lambda w: book(w, "10:00"), "forbidden", MAY_NOT_CHANGE_REQUEST),
    Rule("book: a resident may not book", "r1", lambda w: book(w, "10:00"), "forbidden", MAY_NOT_CHANGE_REQUEST),
    # Setting the member's hours aside.
    Rule(
        "book: override by a tech-team member",
        "tech",
        lambda w: book(w, "03:00", override=True, reason="Bà chỉ ở nhà buổi sáng sớm"),
        "forbidden",
        NO_OVERRIDE,
    ),
    Rule(
        "book: override without a reason",
        "cm",
        lambda w: book(w, "03:00", override=True),
        "invalid",
        OVERRIDE_REASON,
    ),
    Rule(
        "book: override does not allow two visits at once",
        "cm",
        lambda w: (visit_at(w, "10:00"), book(w, "10:30", override=True, reason="Gấp"))[1],
        "conflict",
        BUSY,
    ),
    # Moving a visit: the same rules, the visit itself aside.
    Rule(
        "move: outside the member's hours",
        "cm",
        lambda w: move(visit_at(w, "10:00"), on(w.day, "03:00")),
        "conflict",
        HOURS,
    ),
    Rule(
        "move: next to another visit",
        "cm",
        lambda w: (visit_at(w, "13:00"), move(visit_at(w, "10:00"), on(w.day, "12:00")))[1],
        "conflict",
        BUFFER,
    ),
    Rule(
        "move: onto another visit",
        "cm",
        lambda w: (visit_at(w, "13:00"), move(visit_at(w, "10:00"), on(w.day, "13:30")))[1],
        "conflict",
        BUSY,
    ),
    Rule(
        "move: onto a session the member hosts",
        "cm",
        lambda w: (session_of(w, "14:00"), move(visit_at(w, "10:00"), on(w.day, "14:30")))[1],
        "conflict",
        HOSTS_SESSION,
    ),
    Rule(
        "move: into the past",
        "cm",
        lambda w: move(visit_at(w, "10:00"), utcnow() - timedelta(days=1)),
        "invalid",
        PAST,
    ),
    Rule(
        "move: override by the visit's own member",
        "m",
        lambda w: move(visit_at(w, "10:00"), on(w.day, "03:00"), override=True, reason="Hẹn sớm"),
        "forbidden",
        NO_OVERRIDE,
    ),
    Rule(
        "move: by another commune's manager",
        "cm2",
        lambda w: move(visit_at(w, "10:00"), on(w.day, "11:00")),
        "forbidden",
        MAY_NOT_CHANGE_VISIT,
    ),
    Rule(
        "move: by the visited resident",
        "r1b",
        lambda w: move(visit_at(w, "10:00"), on(w.day, "11:00")),
        "forbidden",
        MAY_NOT_CHANGE_VISIT,
    ),
    Rule(
        "move: a cancelled visit",
        "cm",
        lambda w: move(_cancelled(w), on(w.day, "11:00")),
        "conflict",
        "Only a booked visit can be moved.",
    ),
    # Other changes to a visit.
    Rule(
        "cancel: without a reason",
        "cm",
        lambda w: change(visit_at(w, "10:00"), "cancel", reason=""),
        "invalid",
        "Say why the visit is cancelled.",
    ),
    Rule(
        "cancel: by another commune's member",
        "m2",
        lambda w: change(visit_at(w, "10:00"), "cancel", reason="Bận"),
        "forbidden",
        MAY_NOT_CHANGE_VISIT,
    ),
    Rule(
        "cancel: a cancelled visit",
        "cm",
        lambda w: change(_cancelled(w), "cancel", reason="Lại"),
        "conflict",
        "Only a booked visit can be cancelled.",
    ),
    Rule("not there: before the visit", "m", lambda w: change(visit_at(w, "10:00"), "no_show"), "invalid", NOT_YET),
    Rule("complete: before the visit", "m", lambda w: change(visit_at(w, "10:00"), "complete"), "invalid", NOT_YET),
    Rule(
        "complete: a cancelled visit",
        "cm",
        lambda w: change(_cancelled(w), "complete"),
        "conflict",
        "This visit is already closed.",
    ),
    Rule(
        "complete: by a resident",
        "r1b",
        lambda w: change(_past(w), "complete"),
        "forbidden",
        MAY_NOT_CHANGE_VISIT,
    ),
    # Group sessions.
    Rule(
        "sign up: a session of another commune",
        "r2",
        lambda w: sign_up(session_of(w)),
        "forbidden",
        "This session is for another commune.",
    ),
    Rule("sign up: a full session", "r1", _session_full, "conflict", "This session is full."),
    Rule(
        "sign up: a resident whose processing is restricted",
        "cm",
        lambda w: _restricted(w, w.r1, sign_up(session_of(w), w.r1)),
        "conflict",
        "Processing of this person's data is restricted at their request: they cannot be signed up by others.",
    ),
    Rule("sign up: twice", "r1", _signed_up_already, "conflict", "Already signed up."),
    Rule(
        "sign up: a session that has started",
        "r1",
        _session_started,
        "conflict",
        "This session is no longer open for sign-up.",
    ),
    Rule(
        "sign up: a neighbour, as a resident",
        "r1",
        lambda w: sign_up(session_of(w), w.r1b),
        "forbidden",
        "You may not sign up other people for this session.",
    ),
    Rule(
        "sign up: another commune's resident, as a manager",
        "cm",
        lambda w: sign_up(session_of(w), w.r2),
        "invalid",
        "Choose a resident of this commune.",
    ),
    # Milestones of a resident.
    Rule(
        "milestone: a date in the future",
        "m",
        lambda w: milestone(w, on_date=local_today() + timedelta(days=2)),
        "invalid",
        "The date cannot be in the future.",
    ),
    Rule(
        "milestone: helped by another commune's member",
        "m",
        lambda w: milestone(w, helper=w.m2),
        "invalid",
        "Choose a member of the commune's teams.",
    ),
    Rule(
        "milestone: for another commune's resident",
        "m2",
        lambda w: milestone(w),
        "forbidden",
        "You may not record anything for this resident.",
    ),
    Rule(
        "milestone: by a cadre",
        "cadre",
        lambda w: milestone(w),
        "forbidden",
        "You may not record anything for this resident.",
    ),
    Rule(
        "sign up: a cadre, as a manager",
        "cm",
        lambda w: sign_up(session_of(w), w.cadre),
        "invalid",
        "Choose a resident of this commune.",
    ),
]


def overrides() -> list[dict]:
    return [
        event.details for event in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "visit_override"))
    ]


def written(w) -> tuple:
    """What a refused request must leave as it was."""
    db.session.expire_all()
    signups = db.session.scalar(select(func.count()).select_from(SessionSignup))
    visits = [(v.id, v.starts_at, v.ends_at, v.status) for v in db.session.scalars(select(Visit).order_by(Visit.id))]
    reached = db.session.scalar(select(func.count()).select_from(ResidentMilestone))
    request = (
        w.request.status,
        w.request.cancel_reason,
        w.request.time_wish,
        w.request.time_wish_at,
        w.request.first_contacted_at,
    )
    return signups, visits, len(overrides()), request, reached


def send(w, call: Call, *, actor, api: bool):
    if api:
        headers = w.api_token(actor)
        kwargs = {"json": call.data} if call.data is not None else {}
        return w.client.open(call.url, method=call.method, headers=headers, **kwargs)
    return w.client.open(call.url, method=call.method, data=call.data)


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_the_page_and_the_api_refuse_alike(w, rule):
    actor = getattr(w, rule.actor)
    page_call, api_call = rule.attempt(w)
    db.session.flush()
    w.login_as(actor)
    before = written(w)

    page = send(w, page_call, actor=actor, api=False)
    api = send(w, api_call, actor=actor, api=True)

    assert page.status_code == PAGE_STATUS[rule.kind], page.get_data(as_text=True)[:2000]
    assert str(escape(rule.message)) in page.get_data(as_text=True)
    assert api.status_code == API_STATUS[rule.kind], api.get_json()
    assert api.get_json()["error"]["message"] == rule.message
    assert written(w) == before


# --- setting a member's hours aside ------------------------------------------------------------


@pytest.mark.parametrize("door", ["page", "api"])
def test_a_commune_manager_books_outside_the_members_hours_with_a_reason_and_it_is_audited(w, door):
    page_call, api_call = book(w, "06:30", override=True, reason="Bà chỉ ở nhà buổi sáng sớm")
    w.login_as(w.cm)

    response = send(w, api_call if door == "api" else page_call, actor=w.cm, api=door == "api")

    assert response.status_code == (201 if door == "api" else 302)
    visit = db.session.scalar(select(Visit))
    assert visit.starts_at == on(w.day, "06:30")
    [details] = overrides()
    assert details["set_aside"] == ["hours"]
    assert details["reason"] == "Bà chỉ ở nhà buổi sáng sớm"
    assert details["visit"] == visit.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "visit_override"))
    assert (event.actor_id, event.target_user_id) == (w.cm.id, w.m.id)


@pytest.mark.parametrize("door", ["page", "api"])
def test_a_commune_manager_moves_a_visit_next_to_another_with_a_reason_and_it_is_audited(w, door):
    visit_at(w, "13:00")
    visit = visit_at(w, "10:00")
    page_call, api_call = move(visit, on(w.day, "12:00"), override=True, reason="Hai nhà cạnh nhau")
    w.login_as(w.cm)

    response = send(w, api_call if door == "api" else page_call, actor=w.cm, api=door == "api")

    assert response.status_code == (200 if door == "api" else 302)
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).starts_at == on(w.day, "12:00")
    [details] = overrides()
    assert (details["set_aside"], details["action"]) == (["buffer"], "moved")


def test_an_override_that_sets_nothing_aside_is_not_logged(w):
    _page, api_call = book(w, "10:00", override=True, reason="Không cần")
    response = send(w, api_call, actor=w.cm, api=True)
    assert response.status_code == 201
    assert overrides() == []


def test_the_override_is_offered_on_the_pages_only_to_those_who_may(w):
    w.login_as(w.tech)
    assert 'name="override"' not in w.client.get(f"/visits/requests/{w.request.id}/book").get_data(as_text=True)
    w.client.post("/logout")
    w.login_as(w.cm)
    assert 'name="override"' in w.client.get(f"/visits/requests/{w.request.id}/book").get_data(as_text=True)
    visit = visit_at(w, "10:00")
    assert 'name="override"' in w.client.get(f"/visits/visits/{visit.id}").get_data(as_text=True)


# --- every refusal has a row -------------------------------------------------------------------

#: Refusals of the visit operations that are not a page-and-API rule, and why.
NOT_A_DOOR_RULE = {
    "Give the start time with its date.": "both doors always give a time with its zone",
    "Choose a date between %(first)d and %(last)d.": "the API's reader refuses such years before the operation",
    "Someone else is booking right now. Please try again.": "SQLite's lock timeout under load",
    "Choose the help request or the resident to visit.": "the page always books a request",
    "You may not book visits in this area.": "both doors refuse before, with MAY_NOT_CHANGE_REQUEST",
    "You may not book visits for this person.": "booking for a resident without a request is the API's alone",
    "Enter the address or meeting point.": "the page books at the request's place",
    "Choose a kind of help from the list.": "the request's kind of help is booked",
    "No visit has this id.": "not found, answered 404 by both",
    "You may not see this visit.": "viewing, not changing",
    "Tick what you helped with.": "the completion form's own checks, tested with the visit page",
    "Enter the time spent in minutes.": "the completion form's own checks, tested with the visit page",
    "The rating is from 1 to 5.": "the completion form's own checks, tested with the visit page",
    "Unknown milestone %(key)s.": "the completion form's own checks, tested with the visit page",
    "Only a booked visit can be marked.": "as 'cancel: a cancelled visit'",
    "A session lasts from %(min)d to %(max)d minutes.": "sessions are planned on the page only",
    "Choose the commune or village.": "slot search, tested in test_slots",
    "This unit is outside your area.": "slot search, tested in test_slots",
    "You do not have access to this page or record.": "slot search, tested in test_slots",
    "The end must come after the start.": "slot search, tested in test_slots",
    "Search at most %(days)d days at a time.": "slot search, tested in test_slots",
    "No session has this id.": "not found, answered 404 by both",
    "Choose the village or commune.": "sessions are planned on the page only",
    "You may not plan sessions in this area.": "sessions are planned on the page only",
    "The host must be a member of a team in this commune.": "sessions are planned on the page only",
    "Choose at least one kind of help.": "sessions are planned on the page only",
    "The number of places is from 1 to 500.": "sessions are planned on the page only",
    "The host has a visit at that time. Choose another time or host.": "sessions are planned on the page only",
    "Give the session a title.": "sessions are planned on the page only",
    "Enter the place.": "sessions are planned on the page only",
    "You may not change this sign-up.": "cancelling a sign-up: page only",
    "The session has started; its sign-ups are kept for the attendance record.": "cancelling a sign-up: page only",
    "You may not record attendance for this session.": "attendance is recorded on the page only",
    "Attendance is recorded after the session has started.": "attendance is recorded on the page only",
    "This text is too long (at most %(n)d characters).": "the forms limit lengths before the operation",
    "The person must agree that their details are recorded for this help.": "filing: test_request_pages, API tests",
    "Choose the village or commune where help is needed.": "filing: test_request_pages, API tests",
    "You may not file help requests.": "filing: test_request_pages, API tests",
    "You can ask for help only within your own commune.": "filing: test_request_pages, API tests",
    "This is outside your area.": "viewing a request, not changing it",
    "This status is set by booking or completing a visit.": "the triage list's status buttons are the page's alone",
}
OPERATION_MODULES = (
    "app/visits/operations.py",
    "app/visits/time_rules.py",
    "app/visits/group_sessions.py",
    "app/visits/help_requests.py",
)


def refusal_messages(path: Path) -> set[str]:
    """The msgids of every `raise Invalid/NotAllowed/Conflict/NotFound(_("..."))` in a module, and
    of the messages of BrokenRule (the rules a manager may set aside)."""
    messages = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in (
            "Invalid",
            "NotAllowed",
            "Conflict",
            "NotFound",
            "BrokenRule",
        ):
            for arg in node.args:
                for inner in ast.walk(arg):
                    if isinstance(inner, ast.Call) and getattr(inner.func, "id", None) == "_":
                        first = inner.args[0]
                        if isinstance(first, ast.Constant):
                            messages.add(first.value)
                        elif isinstance(first, ast.JoinedStr | ast.BinOp):  # pragma: no cover
                            raise AssertionError("build messages with %(name)s, not f-strings")
    return messages


def as_pattern(msgid: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"%\\\(\w+\\\)[ds]", ".+", re.escape(msgid)) + "$")


def test_every_refusal_of_the_visit_operations_has_a_row():
    root = Path(__file__).resolve().parents[1]
    in_rows = {rule.message for rule in RULES}
    missing = []
    for module in OPERATION_MODULES:
        for msgid in sorted(refusal_messages(root / module)):
            if msgid in NOT_A_DOOR_RULE:
                continue
            if not any(as_pattern(msgid).match(message) for message in in_rows):
                missing.append(f"{module}: {msgid}")
    assert missing == [], "refusals without a row in RULES or a reason in NOT_A_DOOR_RULE"
