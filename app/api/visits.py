"""Visits API: skills, teams, free slots, help requests, visits and group sessions, as JSON.

The rules live in app.visits (operations, help_requests, group_sessions) and app.authz, the same
functions the pages call; these views parse input (app.api.parsers), call them and shape the
answer. Times are ISO 8601 with an offset; answers are in Asia/Ho_Chi_Minh (+07:00). A time
without an offset (e.g. "2030-01-07T18:00") is refused with 422 rather than guessed, so that no
other system's clock setting can move a visit by seven hours.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select

from app import authz
from app.api import parsers
from app.api.blueprint import bp
from app.api.common import current_api_user, in_callers_language, json_body, token_required
from app.auth.models import User
from app.db import LOCAL_TZ, utcnow
from app.exceptions import Invalid, NotAllowed
from app.extensions import db
from app.privacy.access_log import record_read
from app.units.models import Unit, path_within
from app.units.operations import get_unit_by_code
from app.visits import group_sessions, help_requests, operations
from app.visits.models import SKILL_TITLES, SKILLS, GroupSession, HelpRequest, Team, Visit

VISIT_ACTIONS = ("reschedule", "cancel", "no_show", "complete")
REQUEST_ACTIONS = ("cancel", "ask_another_time", "record_contact")


def _skill(value, field: str = "skill") -> str:
    if not isinstance(value, str) or value not in SKILLS:
        raise Invalid(_("Unknown kind of help. Use one of: %(skills)s.", skills=", ".join(SKILLS)), field=field)
    return value


def _override(data: dict) -> dict:
    """{"override": true, "override_reason": "..."}: the operation checks who may and why."""
    return {
        "override": parsers.boolean(data, "override", default=False),
        "override_reason": parsers.text(data, "override_reason"),
    }


def _unit_in_scope(user: User, unit: Unit | None) -> None:
    if not authz.has_permission(user, "visits.view"):
        raise NotAllowed(_("You do not have access to this page or record."))
    if unit is not None and not authz.unit_in_scope(user, unit):
        raise NotAllowed(_("This unit is outside your area."))


# --- output --------------------------------------------------------------------------------


def _local(moment: datetime | None) -> str | None:
    return moment.astimezone(LOCAL_TZ).isoformat(timespec="seconds") if moment is not None else None


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


def help_request_json(help_request: HelpRequest, viewer: User | None = None) -> dict:
    """The request; for the person it is for (`viewer`), also the visits booked for it with the
    member who will come and their work phone."""
    body = {
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
        "contact_promise_days": help_request.contact_promise_days,
        "contact_by": help_request.contact_by.isoformat() if help_request.contact_by else None,
        "first_contacted_at": _local(help_request.first_contacted_at),
        "cancel_reason": help_request.cancel_reason,
        "time_wish": help_request.time_wish,
        "time_wish_on": help_request.time_wish_on.isoformat() if help_request.time_wish_on else None,
    }
    if viewer is not None and help_requests.may_see_visitor(viewer, help_request):
        visits = help_requests.booked_visits([help_request.id]).get(help_request.id, [])
        phones = help_requests.work_phones(visit.member_id for visit in visits)
        body["visits"] = [
            {
                "id": visit.id,
                "start": _local(visit.starts_at),
                "end": _local(visit.ends_at),
                "place": visit.place,
                "member_name": visit.member.full_name,
                "member_work_phone": phones.get(visit.member_id),
            }
            for visit in visits
        ]
    return body


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
    unit = parsers.unit_arg()
    _unit_in_scope(user, unit)
    teams = db.session.scalars(
        select(Team)
        .join(Unit, Unit.id == Team.unit_id)
        .where(path_within(Unit.path, unit.path))
        .order_by(Team.name, Team.id)
    ).all()
    record_read(user, users=[member.user for team in teams for member in team.members], kind="api")
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
    unit = parsers.unit_arg()
    _unit_in_scope(user, unit)
    skill = _skill(request.args.get("skill"))
    start, end = parsers.time_range(required=True)
    duration = parsers.integer(request.args.get("duration"), "duration", from_query=True)
    slots = operations.free_slots(user, unit, skill, start, end, duration)
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
    code = parsers.text(data, "unit_code", required=True)
    unit = get_unit_by_code(code)
    if unit is None:
        raise Invalid(_("No unit has the code %(code)s.", code=code[:40]), field="unit_code")
    name = parsers.text(data, "name")
    if name is None and user.role == "resident":
        name = user.full_name
    help_request = help_requests.create_help_request(
        user,
        skill=skill,
        unit=unit,
        place=parsers.text(data, "place") or "",
        name=name or "",
        phone=parsers.text(data, "phone"),
        note=parsers.text(data, "note"),
        preferred_times=parsers.text(data, "preferred_times"),
        consent=data.get("consent") is True,
    )
    db.session.commit()
    return jsonify(help_request_json(help_request, user)), 201


# One view for both methods: with a rule per method, an id beyond any database id would answer
# 405, not 404.
@bp.route("/help-requests/<int:request_id>", methods=["GET", "PATCH"])
@token_required
@in_callers_language
def help_request_detail(request_id: int):
    """GET: the request, for whoever may see it, with the team's promise, and for the person it
    is for the member who will come and their work phone. PATCH, by the person who asked:
    {"action": "cancel", "reason"?} or {"action": "ask_another_time", "wish"?, "date"?}; by the
    team: {"action": "record_contact"} (the first call counts for the team's promise)."""
    user = current_api_user()
    if request.method == "GET":
        help_request = help_requests.request_for(user, request_id)
        if not help_requests.is_askers(user, help_request):
            record_read(user, pairs=[(help_request.resident_record_id, help_request.resident_id)], kind="api")
        return jsonify(help_request_json(help_request, user))
    data = json_body()
    action = data.get("action")
    if action not in REQUEST_ACTIONS:
        raise Invalid(_("Unknown action. Use one of: %(actions)s.", actions=", ".join(REQUEST_ACTIONS)), field="action")
    if action == "record_contact":  # the team's door, as the triage list's "Called"
        help_request = help_requests.request_for(user, request_id, to_manage=True)
        help_requests.record_contact(user, help_request)
        db.session.commit()
        return jsonify(help_request_json(help_request, user))
    help_request = help_requests.own_request(user, request_id)
    if action == "cancel":
        help_requests.cancel_request(user, help_request, parsers.text(data, "reason"))
    else:
        wished_day = data.get("date")
        help_requests.ask_another_time(
            user,
            help_request,
            parsers.text(data, "wish"),
            parsers.day(wished_day, "date") if wished_day is not None else None,
        )
    db.session.commit()
    return jsonify(help_request_json(help_request, user))


# --- visits --------------------------------------------------------------------------------


@bp.route("/visits")
@token_required
@in_callers_language
def list_visits():
    """Visits in the caller's area, optionally in ?unit=CODE and overlapping ?from=&to=."""
    user = current_api_user()
    unit = parsers.unit_arg(required=False)
    _unit_in_scope(user, unit)
    start, end = parsers.time_range()
    visits = operations.visits_in_scope(user, unit=unit, start=start, end=end)
    operations.load_visit_details(visits)
    record_read(user, pairs=[(visit.resident_record_id, visit.resident_id) for visit in visits], kind="api")
    return jsonify([visit_json(visit) for visit in visits])


@bp.route("/visits", methods=["POST"])
@token_required
@in_callers_language
def book_visit():
    """Book a member for a help request or a resident: 201 with the visit; 409 naming the rule
    when the time is not free ("error.rule": hours, buffer or daily_cap, which a commune manager
    may set aside with "override": true and an "override_reason")."""
    user = current_api_user()
    data = json_body()
    member = db.session.get(User, parsers.identifier(data.get("member_id"), "member_id"))
    if member is None:
        raise Invalid(_("This person is not a member of a team in this commune."), field="member_id")
    starts_at = parsers.moment(data.get("start"), "start")
    duration = parsers.integer(data.get("duration_minutes"), "duration_minutes")
    skill = _skill(data.get("skill"))
    has_request, has_resident = data.get("request_id") is not None, data.get("resident_id") is not None
    if has_request == has_resident:
        raise Invalid(_("Give either request_id or resident_id."), field="request_id")
    help_request = resident = None
    if has_request:
        help_request = db.session.get(HelpRequest, parsers.identifier(data["request_id"], "request_id"))
        if help_request is None:
            raise Invalid(_("No help request has this id."), field="request_id")
        help_requests.ensure_may_manage(user, help_request)
    else:
        resident = db.session.get(User, parsers.identifier(data["resident_id"], "resident_id"))
        if resident is None or resident.erased_at is not None:
            raise Invalid(_("No person has this id."), field="resident_id")
    place = parsers.text(data, "place")
    if place is None and help_request is not None:
        place = help_request.place
    visit = operations.book_visit(
        member,
        starts_at,
        duration,
        skill=skill,
        place=place or "",
        booked_by=user,
        request=help_request,
        resident=resident,
        **_override(data),
    )
    db.session.commit()
    return jsonify(visit_json(visit)), 201


def _milestones(data: dict) -> list[tuple[str, str]]:
    """ "milestones": [{"milestone": KEY, "confirmed_by": HOW}, ...] → (key, confirmation) pairs."""
    value = data.get("milestones", [])
    message = _('Give milestones as a list of {"milestone": ..., "confirmed_by": ...}.')
    if not isinstance(value, list):
        raise Invalid(message, field="milestones")
    pairs = []
    for item in value:
        if not isinstance(item, dict):
            raise Invalid(message, field="milestones")
        key, confirmation = parsers.text(item, "milestone"), parsers.text(item, "confirmed_by")
        if not key or not confirmation:
            raise Invalid(message, field="milestones")
        pairs.append((key, confirmation))
    return pairs


@bp.route("/visits/<int:visit_id>", methods=["PATCH"])
@token_required
@in_callers_language
def change_visit(visit_id: int):
    """{"action": "reschedule" | "cancel" | "no_show" | "complete", ...} → 200 with the visit."""
    user = current_api_user()
    visit = operations.find_visit(visit_id)
    operations.ensure_may_change(user, visit)
    data = json_body()
    action = data.get("action")
    if action not in VISIT_ACTIONS:
        raise Invalid(_("Unknown action. Use one of: %(actions)s.", actions=", ".join(VISIT_ACTIONS)), field="action")
    if action == "reschedule":
        operations.reschedule_visit(
            user,
            visit,
            parsers.moment(data.get("start"), "start"),
            parsers.integer(data.get("duration_minutes"), "duration_minutes", required=False),
            **_override(data),
        )
    elif action == "cancel":
        operations.cancel_visit(user, visit, parsers.text(data, "reason") or "")
    elif action == "no_show":
        operations.mark_no_show(user, visit)
    else:
        skills_done = data.get("skills_done")
        if not isinstance(skills_done, list) or not all(isinstance(skill, str) for skill in skills_done):
            raise Invalid(_("Give skills_done as a list of kinds of help."), field="skills_done")
        follow_up_due = data.get("follow_up_due")
        operations.complete_visit(
            user,
            visit,
            skills_done=skills_done,
            resolved=parsers.boolean(data, "resolved"),
            minutes_spent=parsers.integer(data.get("minutes_spent"), "minutes_spent"),
            notes=parsers.text(data, "notes"),
            rating=parsers.integer(data.get("rating"), "rating", required=False),
            follow_up_reason=parsers.text(data, "follow_up_reason"),
            follow_up_due=parsers.day(follow_up_due, "follow_up_due") if follow_up_due is not None else None,
            milestones=_milestones(data),
            credit_learning=parsers.boolean(data, "credit_learning", default=False),
        )
    db.session.commit()
    return jsonify(visit_json(visit))


# --- group sessions ------------------------------------------------------------------------


@bp.route("/sessions")
@token_required
@in_callers_language
def list_sessions():
    """Upcoming group sessions in the caller's area (or in ?unit=CODE), with places left."""
    user = current_api_user()
    unit = parsers.unit_arg(required=False)
    if unit is not None and not authz.unit_in_scope(user, unit):
        raise NotAllowed(_("This unit is outside your area."))
    now = utcnow()
    sessions = [
        session
        for session in group_sessions.sessions_between(user, now, now + timedelta(days=366), unit=unit)
        if session.starts_at >= now
    ]
    mine = group_sessions.signed_up_session_ids(user, [session.id for session in sessions])
    return jsonify([session_json(session, signed_up=session.id in mine) for session in sessions])


@bp.route("/sessions/<int:session_id>/signups", methods=["POST"])
@token_required
@in_callers_language
def sign_up_for_session(session_id: int):
    """Sign the caller up (no body), or {"user_id"} a resident: 201, or 409 when full."""
    user = current_api_user()
    session = group_sessions.group_session_for(user, session_id)
    data = json_body() if request.get_data(cache=True).strip() else {}
    person = user
    if data.get("user_id") is not None:
        person = db.session.get(User, parsers.identifier(data["user_id"], "user_id"))
        if person is None or person.erased_at is not None:
            raise Invalid(_("Choose a resident of this commune."), field="user_id")
    signup = group_sessions.sign_up(session, person, by=user)
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
