"""Visits API: skills, teams, free slots, help requests, visits and group sessions, as JSON.

The rules live in app.visits.operations and app.authz; these views parse input, call them and
shape the answer. Times are ISO 8601 with an offset; answers are in Asia/Ho_Chi_Minh (+07:00).
A time without an offset (e.g. "2030-01-07T18:00") is refused with 422 rather than guessed, so
that no other system's clock setting can move a visit by seven hours.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from flask import jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select

from app import authz
from app.api.blueprint import bp
from app.api.common import ApiError, current_api_user, in_callers_language, json_body, token_required
from app.auth.models import User
from app.db import MAX_ID, utcnow
from app.extensions import db
from app.units.models import Unit
from app.units.operations import get_unit_by_code
from app.visits import operations
from app.visits.availability import LOCAL, find_slots
from app.visits.models import SKILL_TITLES, SKILLS, GroupSession, HelpRequest, SessionSignup, Team, Visit

#: The longest period one slot search may cover.
MAX_SLOT_RANGE = timedelta(days=31)
#: Times outside these years are refused (they cannot be meant, and would overflow arithmetic).
YEARS = (2000, 2100)
VISIT_ACTIONS = ("reschedule", "cancel", "no_show", "complete")
#: "+07:00" in a query string arrives as " 07:00" when the client did not encode the "+".
_UNENCODED_PLUS = re.compile(r"^(.*[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?) ([0-9]{2}(?::?[0-9]{2})?)$")


# --- input ---------------------------------------------------------------------------------


def _invalid(message: str, field: str) -> ApiError:
    return ApiError(422, message, "invalid", field=field)


def _forbidden(message: str) -> ApiError:
    return ApiError(403, message, "forbidden")


def _not_found(message: str) -> ApiError:
    return ApiError(404, message, "not_found")


def _moment(value, field: str, *, required: bool = True) -> datetime | None:
    """An ISO 8601 date and time with its offset, as an aware datetime; 422 otherwise."""
    if value is None or value == "":
        if required:
            raise _invalid(_("Give %(field)s as a date and time with offset.", field=field), field)
        return None
    if not isinstance(value, str) or "\x00" in value or len(value) > 40:
        raise _invalid(_("Give %(field)s as a date and time with offset.", field=field), field)
    value = value.strip()
    unencoded = _UNENCODED_PLUS.match(value)
    if unencoded:
        value = f"{unencoded.group(1)}+{unencoded.group(2)}"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        moment = None
    if moment is None:
        raise _invalid(
            _(
                "Give %(field)s as an ISO 8601 date and time with offset, e.g. 2030-01-07T18:00:00+07:00.",
                field=field,
            ),
            field,
        )
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise _invalid(_("Add the time zone offset to %(field)s, e.g. +07:00 for Vietnam.", field=field), field)
    if not YEARS[0] <= moment.year <= YEARS[1]:
        raise _invalid(
            _(
                "%(field)s must lie between %(first)d and %(last)d.",
                field=field,
                first=YEARS[0],
                last=YEARS[1],
            ),
            field,
        )
    return moment


def _int(value, field: str, *, required: bool = True, from_query: bool = False) -> int | None:
    """A JSON integer (or, in a query string, digits); 422 otherwise."""
    if value is None or (from_query and value == ""):
        if required:
            raise _invalid(_("Give %(field)s as a whole number.", field=field), field)
        return None
    if from_query and isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,9}", value.strip()):
        return int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_ID:
        raise _invalid(_("Give %(field)s as a whole number.", field=field), field)
    return value


def _id(value, field: str) -> int:
    number = _int(value, field)
    if number < 1:
        raise _invalid(_("Give %(field)s as a whole number.", field=field), field)
    return number


def _text(data: dict, field: str, *, required: bool = False) -> str | None:
    value = data.get(field)
    if value is None:
        if required:
            raise _invalid(_("Give %(field)s as text.", field=field), field)
        return None
    if not isinstance(value, str) or "\x00" in value:
        raise _invalid(_("Give %(field)s as text.", field=field), field)
    return value


def _bool(data: dict, field: str) -> bool:
    value = data.get(field)
    if not isinstance(value, bool):
        raise _invalid(_("Give %(field)s as true or false.", field=field), field)
    return value


def _skill(value, field: str = "skill") -> str:
    if not isinstance(value, str) or value not in SKILLS:
        raise _invalid(_("Unknown kind of help. Use one of: %(skills)s.", skills=", ".join(SKILLS)), field)
    return value


def _unit_arg(*, required: bool = True) -> Unit | None:
    """The unit named by ?unit=CODE: 422 when missing, 404 when unknown."""
    code = request.args.get("unit")
    if code is None or not code.strip():
        if required:
            raise _invalid(_("Give the unit code, e.g. ?unit=C1."), "unit")
        return None
    unit = get_unit_by_code(code.strip()) if "\x00" not in code and len(code) <= 64 else None
    if unit is None:
        raise _not_found(_("No unit has the code %(code)s.", code=code[:40]))
    return unit


def _ensure_in_scope(user: User, permission: str | None, unit: Unit | None) -> None:
    if permission is not None and not authz.has_permission(user, permission):
        raise _forbidden(_("You do not have access to this page or record."))
    if unit is not None and not authz.unit_in_scope(user, unit):
        raise _forbidden(_("This unit is outside your area."))


def _range_args() -> tuple[datetime | None, datetime | None]:
    start = _moment(request.args.get("from"), "from", required=False)
    end = _moment(request.args.get("to"), "to", required=False)
    if start is not None and end is not None and end <= start:
        raise _invalid(_("The end must come after the start."), "to")
    return start, end


# --- output --------------------------------------------------------------------------------


def _local(moment: datetime | None) -> str | None:
    return moment.astimezone(LOCAL).isoformat(timespec="seconds") if moment is not None else None


def visit_json(visit: Visit) -> dict:
    return {
        "id": visit.id,
        "member_id": visit.member_id,
        "member_name": visit.member.full_name,
        "unit_code": visit.unit.code,
        "request_id": visit.request_id,
        "resident_id": visit.resident_id,
        "skill": visit.skill,
        "place": visit.place,
        "start": _local(visit.starts_at),
        "end": _local(visit.ends_at),
        "duration_minutes": int((visit.ends_at - visit.starts_at).total_seconds() // 60),
        "status": visit.status,
        "cancel_reason": visit.cancel_reason,
        "skills_done": visit.skills_done,
        "resolved": visit.resolved,
        "follow_up_needed": visit.follow_up_needed,
        "minutes_spent": visit.minutes_spent,
        "notes": visit.notes,
        "rating": visit.rating,
        "completed_at": _local(visit.completed_at),
    }


def help_request_json(help_request: HelpRequest) -> dict:
    return {
        "id": help_request.id,
        "skill": help_request.skill,
        "unit_code": help_request.unit.code,
        "place": help_request.place,
        "note": help_request.note,
        "preferred_times": help_request.preferred_times,
        "name": help_request.name,
        "phone": help_request.phone,
        "resident_id": help_request.resident_id,
        "status": help_request.status,
        "created_at": _local(help_request.created_at),
    }


def session_json(session: GroupSession, *, signed_up: bool | None = None) -> dict:
    body = {
        "id": session.id,
        "title": session.title,
        "place": session.place,
        "unit_code": session.unit.code,
        "start": _local(session.starts_at),
        "end": _local(session.ends_at),
        "skills": list(session.skills or []),
        "host_id": session.host_id,
        "capacity": session.capacity,
        "signed_up": session.signed_up,
        "places_left": max(session.capacity - session.signed_up, 0),
    }
    if signed_up is not None:
        body["you_are_signed_up"] = signed_up
    return body


# --- skills and teams ----------------------------------------------------------------------


@bp.route("/skills")
@token_required
@in_callers_language
def list_skills():
    return jsonify([{"key": key, "name": str(SKILL_TITLES[key])} for key in SKILLS])


@bp.route("/teams")
@token_required
@in_callers_language
def list_teams():
    """Teams working in ?unit=CODE or below it, with their members and skills."""
    user = current_api_user()
    unit = _unit_arg()
    _ensure_in_scope(user, "visits.view", unit)
    teams = db.session.scalars(
        select(Team)
        .join(Unit, Unit.id == Team.unit_id)
        .where(Unit.path.startswith(unit.path, autoescape=True))
        .order_by(Team.name, Team.id)
    )
    return jsonify(
        [
            {
                "id": team.id,
                "name": team.name,
                "unit_code": team.unit.code,
                "members": [
                    {
                        "id": member.user.id,
                        "name": member.user.full_name,
                        "skills": [skill for skill in SKILLS if skill in (member.skills or [])],
                        "is_leader": member.is_leader,
                        "active": member.user.active,
                    }
                    for member in sorted(team.members, key=lambda m: (m.user.full_name, m.user.id))
                ],
            }
            for team in teams
        ]
    )


# --- slots ---------------------------------------------------------------------------------


@bp.route("/slots")
@token_required
@in_callers_language
def list_slots():
    """Free slots: ?unit=CODE&skill=SKILL&from=ISO&to=ISO&duration=MINUTES (at most 31 days)."""
    user = current_api_user()
    unit = _unit_arg()
    _ensure_in_scope(user, "visits.view", unit)
    skill = _skill(request.args.get("skill"))
    start = _moment(request.args.get("from"), "from")
    end = _moment(request.args.get("to"), "to")
    if end <= start:
        raise _invalid(_("The end must come after the start."), "to")
    if end - start > MAX_SLOT_RANGE:
        raise _invalid(_("Search at most %(days)d days at a time.", days=MAX_SLOT_RANGE.days), "to")
    duration = _int(request.args.get("duration"), "duration", from_query=True)
    if not operations.MIN_VISIT_MINUTES <= duration <= operations.MAX_VISIT_MINUTES:
        raise _invalid(
            _(
                "A visit lasts from %(min)d to %(max)d minutes.",
                min=operations.MIN_VISIT_MINUTES,
                max=operations.MAX_VISIT_MINUTES,
            ),
            "duration",
        )
    slots = find_slots(
        unit,
        skill,
        start,
        end,
        timedelta(minutes=duration),
        buffer=operations.travel_buffer(),
        daily_cap=operations.daily_cap(),
        not_before=utcnow(),
    )
    return jsonify(
        [{"member_id": slot.member.id, "start": _local(slot.start), "end": _local(slot.end)} for slot in slots]
    )


# --- help requests -------------------------------------------------------------------------


@bp.route("/help-requests", methods=["POST"])
@token_required
@in_callers_language
def create_help_request():
    """File a help request; "consent": true is required. Residents ask for themselves."""
    user = current_api_user()
    data = json_body()
    skill = _skill(data.get("skill"))
    code = _text(data, "unit_code", required=True)
    unit = get_unit_by_code(code.strip()) if len(code) <= 64 else None
    if unit is None:
        raise _invalid(_("No unit has the code %(code)s.", code=code[:40]), "unit_code")
    name = _text(data, "name")
    if name is None and user.role == "resident":
        name = user.full_name
    help_request = operations.create_help_request(
        user,
        skill=skill,
        unit=unit,
        place=_text(data, "place") or "",
        name=name or "",
        phone=_text(data, "phone"),
        note=_text(data, "note"),
        preferred_times=_text(data, "preferred_times"),
        consent=data.get("consent") is True,
    )
    db.session.commit()
    return jsonify(help_request_json(help_request)), 201


# --- visits --------------------------------------------------------------------------------


def _visit_or_404(visit_id: int) -> Visit:
    visit = db.session.get(Visit, visit_id) if visit_id <= MAX_ID else None
    if visit is None:
        raise _not_found(_("No visit has this id."))
    return visit


@bp.route("/visits")
@token_required
@in_callers_language
def list_visits():
    """Visits in the caller's area, optionally in ?unit=CODE and overlapping ?from=&to=."""
    user = current_api_user()
    unit = _unit_arg(required=False)
    _ensure_in_scope(user, "visits.view", unit)
    start, end = _range_args()
    visits = operations.visits_in_scope(user, unit=unit, start=start, end=end)
    return jsonify([visit_json(visit) for visit in visits])


@bp.route("/visits", methods=["POST"])
@token_required
@in_callers_language
def book_visit():
    """Book a member: 201 with the visit; 409 when the member is busy then."""
    user = current_api_user()
    if not authz.has_permission(user, "visits.manage"):
        raise _forbidden(_("You may not book visits in this area."))
    data = json_body()
    member = db.session.get(User, _id(data.get("member_id"), "member_id"))
    if member is None:
        raise _invalid(_("This person is not a member of a team in this commune."), "member_id")
    starts_at = _moment(data.get("start"), "start")
    duration = _int(data.get("duration_minutes"), "duration_minutes")
    skill = _skill(data.get("skill"))
    place = _text(data, "place") or ""
    has_request, has_resident = data.get("request_id") is not None, data.get("resident_id") is not None
    if has_request == has_resident:
        raise _invalid(_("Give either request_id or resident_id."), "request_id")
    help_request = resident = None
    if has_request:
        help_request = db.session.get(HelpRequest, _id(data["request_id"], "request_id"))
        if help_request is None:
            raise _invalid(_("No help request has this id."), "request_id")
    else:
        resident = db.session.get(User, _id(data["resident_id"], "resident_id"))
        if resident is None:
            raise _invalid(_("No person has this id."), "resident_id")
    visit = operations.book_visit(
        member,
        starts_at,
        duration,
        skill=skill,
        place=place,
        booked_by=user,
        request=help_request,
        resident=resident,
    )
    db.session.commit()
    return jsonify(visit_json(visit)), 201


@bp.route("/visits/<int:visit_id>", methods=["PATCH"])
@token_required
@in_callers_language
def change_visit(visit_id: int):
    """{"action": "reschedule" | "cancel" | "no_show" | "complete", ...} → 200 with the visit."""
    user = current_api_user()
    visit = _visit_or_404(visit_id)
    if visit.member_id != user.id and not authz.may(user, "visits.view", visit.unit):
        raise _forbidden(_("You may not change this visit."))
    data = json_body()
    action = data.get("action")
    if action not in VISIT_ACTIONS:
        raise _invalid(_("Unknown action. Use one of: %(actions)s.", actions=", ".join(VISIT_ACTIONS)), "action")
    if action == "reschedule":
        operations.reschedule_visit(
            user,
            visit,
            _moment(data.get("start"), "start"),
            _int(data.get("duration_minutes"), "duration_minutes", required=False),
        )
    elif action == "cancel":
        operations.cancel_visit(user, visit, _text(data, "reason") or "")
    elif action == "no_show":
        operations.mark_no_show(user, visit)
    else:
        skills_done = data.get("skills_done")
        if not isinstance(skills_done, list) or not all(isinstance(skill, str) for skill in skills_done):
            raise _invalid(_("Give skills_done as a list of kinds of help."), "skills_done")
        operations.complete_visit(
            user,
            visit,
            skills_done=skills_done,
            resolved=_bool(data, "resolved"),
            minutes_spent=_int(data.get("minutes_spent"), "minutes_spent"),
            notes=_text(data, "notes"),
            rating=_int(data.get("rating"), "rating", required=False),
        )
    db.session.commit()
    return jsonify(visit_json(visit))


# --- group sessions ------------------------------------------------------------------------


def _session_or_404(session_id: int) -> GroupSession:
    session = db.session.get(GroupSession, session_id) if session_id <= MAX_ID else None
    if session is None:
        raise _not_found(_("No session has this id."))
    return session


@bp.route("/sessions")
@token_required
@in_callers_language
def list_sessions():
    """Upcoming group sessions in the caller's area (or in ?unit=CODE), with places left."""
    user = current_api_user()
    unit = _unit_arg(required=False)
    _ensure_in_scope(user, None, unit)
    query = (
        select(GroupSession)
        .join(Unit, Unit.id == GroupSession.unit_id)
        .where(
            authz.unit_scope_filter(user, Unit.path),
            GroupSession.cancelled_at.is_(None),
            GroupSession.starts_at >= utcnow(),
        )
        .order_by(GroupSession.starts_at, GroupSession.id)
    )
    if unit is not None:
        query = query.where(Unit.path.startswith(unit.path, autoescape=True))
    sessions = list(db.session.scalars(query))
    mine = set(
        db.session.scalars(
            select(SessionSignup.session_id).where(
                SessionSignup.user_id == user.id,
                SessionSignup.session_id.in_([session.id for session in sessions]),
            )
        )
    )
    return jsonify([session_json(session, signed_up=session.id in mine) for session in sessions])


@bp.route("/sessions/<int:session_id>/signups", methods=["POST"])
@token_required
@in_callers_language
def sign_up_for_session(session_id: int):
    """Sign the caller up (no body), or {"user_id"} someone else: 201, or 409 when full."""
    user = current_api_user()
    session = _session_or_404(session_id)
    if not authz.unit_in_scope(user, session.unit):
        raise _forbidden(_("This session is for another commune."))
    data = json_body() if request.get_data(cache=True).strip() else {}
    person = user
    if data.get("user_id") is not None:
        person = db.session.get(User, _id(data["user_id"], "user_id"))
        if person is None:
            raise _invalid(_("No person has this id."), "user_id")
        if person.id != user.id and not authz.may_view_user(user, person):
            raise _forbidden(_("You may not sign up other people for this session."))
    signup = operations.sign_up(session, person, by=user)
    db.session.commit()
    return (
        jsonify(
            {
                "id": signup.id,
                "session_id": session.id,
                "user_id": person.id,
                "signed_up_by_id": user.id,
                "session": session_json(session),
            }
        ),
        201,
    )
