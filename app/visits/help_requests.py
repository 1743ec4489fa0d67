"""Help requests: a resident (or someone on their behalf) asks for help, the team triages.

A request is filed with the person's consent to record their details for this help; booking a
visit for it marks it scheduled (app.visits.operations), completing the visit marks it done.

The person who asked may cancel the request while no visit has happened (a visit still to come
is cancelled with it) and ask for another time; the team sees the wish until it books or moves
the visit.

Each team promises to call within a number of working days (`Team.contact_promise_days`); the
promise of the team working where the request is, and the moment it ends, are kept with the
request when it is filed. The team has *contacted* the person when it first books a visit for the
request, records a call, or marks the request "could not reach" (an attempt counts too: the
promise is to try).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager

from app import authz
from app.audit.operations import record
from app.auth.models import User
from app.db import LOCAL_TZ, MAX_ID, local_today, utcnow
from app.exceptions import Conflict, Invalid, NotAllowed, NotFound
from app.extensions import db
from app.phones import normalise_phone
from app.privacy.deadlines import add_working_days
from app.reports import summaries
from app.units.models import Unit
from app.visits import operations
from app.visits.models import DEFAULT_CONTACT_PROMISE_DAYS, HelpRequest, Team, TeamMember, Visit
from app.visits.text import check_skill, clean_text

#: The statuses a person sets by hand; "scheduled" and "done" follow from the visits.
MANUAL_STATUSES = ("cancelled", "unreachable", "new")
#: The person who asked may cancel it or ask for another time while it is in one of these.
OPEN_STATUSES = ("new", "scheduled")
WISH_MAX_LENGTH = 200
REASON_MAX_LENGTH = 300
#: How far ahead a wished date may be.
WISH_DAYS_AHEAD = 366


# --- the team's promise ----------------------------------------------------------------------


def team_for(unit: Unit) -> Team | None:
    """The team working where `unit` is: a team of the unit itself, else of the nearest unit
    above it (a village's own team before the commune's); the oldest when there are several."""
    codes = [code for code in unit.path.split("/") if code]
    paths = ["/" + "/".join(codes[: n + 1]) + "/" for n in range(len(codes))]
    teams = db.session.scalars(
        select(Team).join(Unit, Unit.id == Team.unit_id).where(Unit.path.in_(paths)).order_by(Team.id)
    ).all()
    if not teams:
        return None
    return max(teams, key=lambda team: (len(team.unit.path), -team.id))


def promise_for(unit: Unit) -> int:
    """The working days the team of `unit` promises to call within."""
    team = team_for(unit)
    return team.contact_promise_days if team is not None else DEFAULT_CONTACT_PROMISE_DAYS


def contact_deadline(filed_at: datetime, working_days: int) -> datetime:
    """The end of the promise for a request filed at `filed_at`: the start of the local day after
    the promised day (`working_days` working days after the day it was filed)."""
    last_day = add_working_days(filed_at.astimezone(LOCAL_TZ).date(), working_days)
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=LOCAL_TZ)


def contacted_in_time(request: HelpRequest) -> bool | None:
    """True when the team contacted the person within its promise, False when it did late or the
    promise has passed, None while it still runs (or when no promise was recorded)."""
    if request.contact_due_at is None:
        return None
    if request.first_contacted_at is not None:
        return request.first_contacted_at < request.contact_due_at
    return False if utcnow() >= request.contact_due_at else None


def may_file(user: User) -> bool:
    return authz.has_permission(user, "help.request") or authz.has_permission(user, "visits.manage")


def create_help_request(
    actor: User,
    *,
    skill: str,
    unit: Unit | None,
    place: str,
    name: str,
    phone: str | None = None,
    note: str | None = None,
    preferred_times: str | None = None,
    consent: bool,
    resident: User | None = None,
) -> HelpRequest:
    """A request for help, by the resident or on their behalf. Needs the person's consent to
    record their details for this help. Raises Invalid or NotAllowed."""
    check_skill(skill)
    if not consent:
        raise Invalid(_("The person must agree that their details are recorded for this help."), field="consent")
    if unit is None or unit.level < 2:
        raise Invalid(_("Choose the village or commune where help is needed."), field="unit_code")
    if not may_file(actor):
        raise NotAllowed(_("You may not file help requests."))
    if not authz.unit_in_scope(actor, unit):
        raise NotAllowed(_("You can ask for help only within your own commune."))
    if actor.role == "resident":
        resident = actor  # residents ask for themselves; others file on someone's behalf
    request = HelpRequest(
        skill=skill,
        unit_id=unit.id,
        place=clean_text(place, "place", _("Enter the address or meeting point.")),
        name=clean_text(name, "name", _("Enter the name of the person to help."), max_length=200),
        phone=normalise_phone(phone),
        note=clean_text(note, "note", "", required=False, max_length=2000),
        preferred_times=clean_text(preferred_times, "preferred_times", "", required=False),
        resident_id=resident.id if resident else None,
        created_by_id=actor.id,
        consent_at=utcnow(),
        consent_recorded_by_id=actor.id,
    )
    request.created_at = utcnow()
    request.contact_promise_days = promise_for(unit)
    request.contact_due_at = contact_deadline(request.created_at, request.contact_promise_days)
    db.session.add(request)
    db.session.flush()
    summaries.on_request_filed(request)
    return request


def may_see_request(user: User, request: HelpRequest) -> bool:
    """Whoever filed it, the person it is for, and the team staff of its area."""
    return user.id in (request.created_by_id, request.resident_id) or authz.may(user, "visits.view", request.unit)


def request_for(user: User, request_id: int, *, to_manage: bool = False) -> HelpRequest:
    """The help request `user` asked for by id. Raises NotFound (also for another resident's
    request: it does not exist for them), or NotAllowed when it is outside the team staff's area
    (or, with `to_manage`, not theirs to triage and book)."""
    request = db.session.get(HelpRequest, request_id) if 0 < request_id <= MAX_ID else None
    if request is None:
        raise NotFound(_("No help request has this id."))
    if to_manage:
        ensure_may_manage(user, request)
    elif not may_see_request(user, request):
        if authz.has_permission(user, "visits.view"):
            raise NotAllowed(_("This is outside your area."))
        raise NotFound(_("No help request has this id."))
    return request


def ensure_may_manage(user: User, request: HelpRequest) -> None:
    """Triage and book: NotAllowed unless `user` manages visits in the request's area."""
    if not authz.may(user, "visits.manage", request.unit):
        raise NotAllowed(_("You may not change this request."))


#: Requests per page of the triage list: a commune's backlog can run to hundreds, and the page
#: is read on phones over mobile data.
TRIAGE_PAGE_SIZE = 25


def triage_list(actor: User, *, statuses=("new",), skill: str | None = None, page: int = 1):
    """One page (TRIAGE_PAGE_SIZE) of the requests in the actor's scope, oldest first, with their
    units: a Flask-SQLAlchemy pagination (`items`, `total`, `pages` …)."""
    query = (
        select(HelpRequest)
        .join(Unit, Unit.id == HelpRequest.unit_id)
        .where(authz.unit_scope_filter(actor, Unit.path), HelpRequest.status.in_(statuses))
        .options(contains_eager(HelpRequest.unit))
        .order_by(HelpRequest.created_at, HelpRequest.id)
    )
    if skill is not None:
        query = query.where(HelpRequest.skill == skill)
    return db.paginate(query, page=page, per_page=TRIAGE_PAGE_SIZE, error_out=False)


def requests_of(person: User, *, limit: int = 100) -> list[HelpRequest]:
    """The requests a person filed or that are for them, newest first."""
    return list(
        db.session.scalars(
            select(HelpRequest)
            .where(or_(HelpRequest.resident_id == person.id, HelpRequest.created_by_id == person.id))
            .order_by(HelpRequest.created_at.desc(), HelpRequest.id.desc())
            .limit(limit)
        )
    )


def booked_visits(request_ids: list[int]) -> dict[int, list[Visit]]:
    """Booked (not yet done) visits by request."""
    if not request_ids:
        return {}
    visits: dict[int, list[Visit]] = {}
    for visit in db.session.scalars(
        select(Visit).where(Visit.request_id.in_(request_ids), Visit.status == "booked").order_by(Visit.starts_at)
    ):
        visits.setdefault(visit.request_id, []).append(visit)
    return visits


def set_request_status(actor: User, request: HelpRequest, status: str) -> None:
    """The team marks a request cancelled, could not reach, or new again (audited). "Could not
    reach" counts as the team's first contact. Raises NotAllowed or Invalid."""
    ensure_may_manage(actor, request)
    if status not in MANUAL_STATUSES:
        raise Invalid(_("This status is set by booking or completing a visit."), field="status")
    previous = request.status
    now = utcnow()
    request.status = status
    request.closed_at = now if status != "new" else None
    if status == "unreachable":
        request.mark_contacted(now)
    _audit_status(actor, request, previous)


def record_contact(actor: User, request: HelpRequest) -> HelpRequest:
    """The team called the person (only the first contact is kept). Raises NotAllowed, or
    Conflict when the request is closed."""
    ensure_may_manage(actor, request)
    if request.status not in OPEN_STATUSES:
        raise Conflict(_("This request is closed."))
    request.mark_contacted(utcnow())
    return request


def _audit_status(actor: User, request: HelpRequest, previous: str) -> None:
    if previous == request.status:
        return
    record(
        "help_request_status",
        actor=actor,
        target=request.resident,
        details={"request": request.id, "from": previous, "to": request.status},
    )


# --- what the person who asked may do --------------------------------------------------------


def is_askers(user: User, request: HelpRequest) -> bool:
    """Whether `user` filed the request or it is for them."""
    return user.id in (request.created_by_id, request.resident_id)


def own_request(user: User, request_id: int) -> HelpRequest:
    """The request `user` filed or that is for them. Raises NotFound (also for another
    resident's request), or NotAllowed for the team staff, who use the triage list."""
    request = request_for(user, request_id)
    if not is_askers(user, request):
        raise NotAllowed(_("Only the person who asked for this help may do this."))
    return request


def _ensure_open(request: HelpRequest) -> None:
    if request.status not in OPEN_STATUSES:
        raise Conflict(_("This request is already closed."))


def cancel_request(actor: User, request: HelpRequest, reason: str | None = None) -> HelpRequest:
    """The person who asked (or the person it is for) cancels the request while it is new or
    scheduled and no visit has taken place; a booked visit still to come is cancelled with it
    and its member told. Audited. Raises NotAllowed, Conflict (closed, or a visit has already
    started) or Invalid (a reason too long)."""
    if not is_askers(actor, request):
        raise NotAllowed(_("Only the person who asked for this help may do this."))
    _ensure_open(request)
    reason = clean_text(reason, "reason", "", required=False, max_length=REASON_MAX_LENGTH)
    visits = list(db.session.scalars(select(Visit).where(Visit.request_id == request.id, Visit.status == "booked")))
    now = utcnow()
    if any(visit.starts_at <= now for visit in visits):
        raise Conflict(_("The visit has already started; ask the team member instead."))
    for visit in visits:
        operations.cancel_visit_with_request(
            actor, visit, reason or _("The person who asked for help cancelled the request.")
        )
    previous = "scheduled" if visits else request.status
    request.status = "cancelled"
    request.closed_at = now
    request.cancel_reason = reason
    request.clear_time_wish()
    _audit_status(actor, request, previous)
    return request


def ask_another_time(actor: User, request: HelpRequest, wish: str | None, on_date: date | None = None) -> HelpRequest:
    """The person who asked says when would suit them better (words, a date, or both); the team
    sees it until it books or moves the visit. Nothing moves by itself. Raises NotAllowed,
    Conflict (closed) or Invalid."""
    if not is_askers(actor, request):
        raise NotAllowed(_("Only the person who asked for this help may do this."))
    _ensure_open(request)
    wish = clean_text(wish, "wish", "", required=False, max_length=WISH_MAX_LENGTH)
    if wish is None and on_date is None:
        raise Invalid(_("Say when would suit you, or choose a date."), field="wish")
    today = local_today()
    if on_date is not None and not today <= on_date <= today + timedelta(days=WISH_DAYS_AHEAD):
        raise Invalid(_("Choose a date from today to a year ahead."), field="date")
    request.time_wish, request.time_wish_on, request.time_wish_at = wish, on_date, utcnow()
    return request


def may_see_visitor(user: User, request: HelpRequest) -> bool:
    """Who will come, and their work phone, are shown to the person the request is for (or to
    whoever filed it when it is for someone without an account)."""
    return user.id == (request.resident_id if request.resident_id is not None else request.created_by_id)


def work_phones(member_ids) -> dict[int, str]:
    """The work phone each member set for their team work (E.164), by user id."""
    ids = set(member_ids)
    if not ids:
        return {}
    phones: dict[int, str] = {}
    for user_id, phone in db.session.execute(
        select(TeamMember.user_id, TeamMember.work_phone)
        .where(TeamMember.user_id.in_(ids), TeamMember.work_phone.is_not(None))
        .order_by(TeamMember.id)
    ):
        phones.setdefault(user_id, phone)
    return phones
