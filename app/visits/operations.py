"""Help requests, booking and changing visits, group sessions.

One member never holds two overlapping visits. On PostgreSQL an exclusion constraint guarantees
it (the losing booking gets a Conflict); on SQLite a booking first takes the database's write
lock, so bookings are serialised and the overlap check cannot race.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from app import authz
from app.auth.models import User
from app.db import utcnow
from app.exceptions import Conflict, Invalid, NotAllowed
from app.extensions import db
from app.reports import summaries
from app.units.models import Unit
from app.users.operations import clean_phone
from app.visits import notices
from app.visits.availability import LOCAL, members_for
from app.visits.models import (
    ACTIVE_VISIT_STATUSES,
    SKILLS,
    GroupSession,
    HelpRequest,
    SessionSignup,
    TeamMember,
    Visit,
)

MIN_VISIT_MINUTES = 15
MAX_VISIT_MINUTES = 8 * 60


def travel_buffer() -> timedelta:
    return timedelta(minutes=current_app.config["VISIT_TRAVEL_BUFFER_MINUTES"])


def daily_cap() -> int:
    return current_app.config["VISIT_DAILY_CAP"]


def _check_skill(skill: str) -> None:
    if skill not in SKILLS:
        raise Invalid(_("Choose a kind of help from the list."), field="skill")


def _clean_text(value: str | None, field: str, message: str, *, required=True, max_length=300) -> str | None:
    value = " ".join((value or "").split())
    if not value:
        if required:
            raise Invalid(message, field=field)
        return None
    if len(value) > max_length:
        raise Invalid(_("This text is too long (at most %(n)d characters).", n=max_length), field=field)
    return value


def member_skills(user: User) -> set[str]:
    skills: set[str] = set()
    for membership in db.session.scalars(select(TeamMember).where(TeamMember.user_id == user.id)):
        skills.update(membership.skills or [])
    return skills


# --- help requests -------------------------------------------------------------------------


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
    record their details for this help."""
    _check_skill(skill)
    if not consent:
        raise Invalid(_("The person must agree that their details are recorded for this help."), field="consent")
    if unit is None or unit.level < 2:
        raise Invalid(_("Choose the village or commune where help is needed."), field="unit_code")
    if not (authz.has_permission(actor, "help.request") or authz.has_permission(actor, "visits.manage")):
        raise NotAllowed(_("You may not file help requests."))
    if not authz.unit_in_scope(actor, unit):
        raise NotAllowed(_("You can ask for help only within your own commune."))
    if actor.role == "resident":
        resident = actor  # residents ask for themselves; others file on someone's behalf
    request = HelpRequest(
        skill=skill,
        unit_id=unit.id,
        place=_clean_text(place, "place", _("Enter the address or meeting point.")),
        name=_clean_text(name, "name", _("Enter the name of the person to help."), max_length=200),
        phone=clean_phone(phone),
        note=_clean_text(note, "note", "", required=False, max_length=2000),
        preferred_times=_clean_text(preferred_times, "preferred_times", "", required=False),
        resident_id=resident.id if resident else None,
        created_by_id=actor.id,
        consent_at=utcnow(),
        consent_recorded_by_id=actor.id,
    )
    db.session.add(request)
    db.session.flush()
    summaries.on_request_filed(request)
    return request


def triage_list(actor: User, *, statuses=("new",)) -> list[HelpRequest]:
    """Requests in the actor's scope, oldest first."""
    return list(
        db.session.scalars(
            select(HelpRequest)
            .join(Unit, Unit.id == HelpRequest.unit_id)
            .where(authz.unit_scope_filter(actor, Unit.path), HelpRequest.status.in_(statuses))
            .order_by(HelpRequest.created_at, HelpRequest.id)
        )
    )


def set_request_status(actor: User, request: HelpRequest, status: str) -> None:
    if not authz.may(actor, "visits.manage", request.unit):
        raise NotAllowed(_("You may not change this request."))
    if status not in ("cancelled", "unreachable", "new"):
        raise Invalid(_("This status is set by booking or completing a visit."), field="status")
    request.status = status
    request.closed_at = utcnow() if status != "new" else None


# --- visits ------------------------------------------------------------------------------


def _serialise_writes(lock_user_id: int) -> None:
    """SQLite: take the database's write lock now, so a check and the write after it happen alone.

    SQLite refuses to upgrade a transaction that has already read to a writing one if someone
    else wrote in the meantime; so a transaction that has only read so far is ended first and
    the lock is taken at the start of a fresh one. (PostgreSQL needs none of this: its
    constraints decide.)
    """
    if db.session.get_bind().dialect.name != "sqlite":
        return
    if not (db.session.new or db.session.dirty or db.session.deleted):
        db.session.commit()
    try:
        db.session.execute(text("UPDATE users SET session_epoch = session_epoch WHERE id = :id"), {"id": lock_user_id})
    except OperationalError as error:  # another writer held the lock past the busy timeout
        db.session.rollback()
        raise Conflict(_("Someone else is booking right now. Please try again.")) from error


def _overlapping(member: User, starts_at: datetime, ends_at: datetime, ignore_visit_id=None) -> Visit | None:
    query = select(Visit).where(
        Visit.member_id == member.id,
        Visit.status.in_(ACTIVE_VISIT_STATUSES),
        Visit.starts_at < ends_at,
        Visit.ends_at > starts_at,
    )
    if ignore_visit_id is not None:
        query = query.where(Visit.id != ignore_visit_id)
    return db.session.scalar(query.limit(1))


def _check_times(starts_at: datetime, duration_minutes: int, *, allow_past=False, what="visit") -> datetime:
    if starts_at is None or starts_at.tzinfo is None:
        raise Invalid(_("Give the start time with its date."), field="start")
    if not isinstance(duration_minutes, int) or not MIN_VISIT_MINUTES <= duration_minutes <= MAX_VISIT_MINUTES:
        if what == "session":
            message = _(
                "A session lasts from %(min)d to %(max)d minutes.", min=MIN_VISIT_MINUTES, max=MAX_VISIT_MINUTES
            )
        else:
            message = _("A visit lasts from %(min)d to %(max)d minutes.", min=MIN_VISIT_MINUTES, max=MAX_VISIT_MINUTES)
        raise Invalid(message, field="duration_minutes")
    if not allow_past and starts_at < utcnow() - timedelta(minutes=5):
        raise Invalid(_("The start time is in the past."), field="start")
    return starts_at + timedelta(minutes=duration_minutes)


def _insert_or_conflict(visit: Visit) -> None:
    try:
        with db.session.begin_nested():
            db.session.add(visit)
    except IntegrityError as error:
        if getattr(error.orig, "sqlstate", None) == "23P01":  # exclusion_violation
            raise Conflict(_("This member already has a visit at that time. Choose another time or member.")) from error
        raise


def book_visit(
    member: User,
    starts_at: datetime,
    duration_minutes: int,
    *,
    skill: str,
    place: str,
    booked_by: User,
    request: HelpRequest | None = None,
    resident: User | None = None,
    unit: Unit | None = None,
) -> Visit:
    """Book `member` for a visit. Raises Invalid, NotAllowed, or Conflict when the member is
    already busy then (never two overlapping visits, also under simultaneous bookings)."""
    _check_skill(skill)
    ends_at = _check_times(starts_at, duration_minutes)
    unit = request.unit if request is not None else (unit or (resident.unit if resident else None))
    if unit is None:
        raise Invalid(_("Choose the help request or the resident to visit."), field="request_id")
    if not authz.may(booked_by, "visits.manage", unit):
        raise NotAllowed(_("You may not book visits in this area."))
    if member.role != "tech_team" or not member.active or member.id not in {m.id for m in members_for(unit)}:
        raise Invalid(_("This person is not a member of a team in this commune."), field="member_id")
    if skill not in member_skills(member):
        raise Invalid(_("This member does not offer this kind of help."), field="skill")
    if request is not None and request.status not in ("new", "scheduled"):
        raise Conflict(_("This request is closed."))
    if resident is not None and not authz.unit_in_scope(booked_by, resident.unit):
        raise NotAllowed(_("You may not book visits for this person."))
    place = _clean_text(place, "place", _("Enter the address or meeting point."))
    _serialise_writes(member.id)
    if _overlapping(member, starts_at, ends_at) is not None:
        raise Conflict(_("This member already has a visit at that time. Choose another time or member."))
    visit = Visit(
        member_id=member.id,
        unit_id=unit.id,
        request_id=request.id if request else None,
        resident_id=(resident.id if resident else (request.resident_id if request else None)),
        skill=skill,
        place=place,
        starts_at=starts_at,
        ends_at=ends_at,
        booked_by_id=booked_by.id,
    )
    _insert_or_conflict(visit)
    if request is not None:
        request.status = "scheduled"
    return visit


def _ensure_may_change(actor: User, visit: Visit) -> None:
    if visit.member_id != actor.id and not authz.may(actor, "visits.manage", visit.unit):
        raise NotAllowed(_("You may not change this visit."))


def reschedule_visit(actor: User, visit: Visit, starts_at: datetime, duration_minutes: int | None = None) -> Visit:
    _ensure_may_change(actor, visit)
    if visit.status != "booked":
        raise Conflict(_("Only a booked visit can be moved."))
    minutes = (
        duration_minutes
        if duration_minutes is not None
        else int((visit.ends_at - visit.starts_at).total_seconds() // 60)
    )
    ends_at = _check_times(starts_at, minutes)
    member = db.session.get(User, visit.member_id)
    _serialise_writes(member.id)
    if _overlapping(member, starts_at, ends_at, ignore_visit_id=visit.id) is not None:
        raise Conflict(_("This member already has a visit at that time. Choose another time or member."))
    moved_from = visit.starts_at
    try:
        with db.session.begin_nested():
            visit.starts_at, visit.ends_at = starts_at, ends_at
    except IntegrityError as error:
        if getattr(error.orig, "sqlstate", None) == "23P01":
            raise Conflict(_("This member already has a visit at that time. Choose another time or member.")) from error
        raise
    if visit.starts_at != moved_from:
        notices.visit_moved(visit, actor, moved_from)
    return visit


def cancel_visit(actor: User, visit: Visit, reason: str) -> Visit:
    _ensure_may_change(actor, visit)
    if visit.status != "booked":
        raise Conflict(_("Only a booked visit can be cancelled."))
    visit.cancel_reason = _clean_text(reason, "reason", _("Say why the visit is cancelled."))
    visit.status = "cancelled"
    if visit.request is not None and visit.request.status == "scheduled":
        visit.request.status = "new"  # back on the triage list
    notices.visit_cancelled(visit, actor)
    return visit


def mark_no_show(actor: User, visit: Visit) -> Visit:
    _ensure_may_change(actor, visit)
    if visit.status != "booked":
        raise Conflict(_("Only a booked visit can be marked."))
    if visit.starts_at > utcnow():
        raise Invalid(_("The visit has not started yet."))
    visit.status = "no_show"
    if visit.request is not None:
        visit.request.status = "unreachable"
        visit.request.closed_at = utcnow()
    return visit


def complete_visit(
    actor: User,
    visit: Visit,
    *,
    skills_done: list[str],
    resolved: bool,
    minutes_spent: int,
    notes: str | None = None,
    rating: int | None = None,
    follow_up_reason: str | None = None,
    follow_up_due: date | None = None,
    milestones: list[tuple[str, str]] | None = None,
    credit_learning: bool = False,
) -> Visit:
    """Record what happened.

    `resolved=False` means a follow-up is needed: a dated follow-up is created on the resident
    (`follow_up_reason`, due `follow_up_due` or in a week). `milestones` are (milestone key,
    confirmation) pairs reached during the visit; `credit_learning` credits the lessons that teach
    the skills helped with as "completed with help" (for a resident with an account).
    """
    from app.outcomes import operations as outcomes

    _ensure_may_change(actor, visit)
    if visit.status not in ("booked",):
        raise Conflict(_("This visit is already closed."))
    if visit.starts_at > utcnow():
        raise Invalid(_("The visit has not started yet."))
    if not skills_done or any(skill not in SKILLS for skill in skills_done):
        raise Invalid(_("Tick what you helped with."), field="skills_done")
    if not isinstance(minutes_spent, int) or not 1 <= minutes_spent <= 24 * 60:
        raise Invalid(_("Enter the time spent in minutes."), field="minutes_spent")
    if rating is not None and (not isinstance(rating, int) or not 1 <= rating <= 5):
        raise Invalid(_("The rating is from 1 to 5."), field="rating")
    visit.skills_done = sorted(set(skills_done))
    visit.resolved = bool(resolved)
    visit.follow_up_needed = not resolved
    visit.minutes_spent = minutes_spent
    visit.notes = _clean_text(notes, "notes", "", required=False, max_length=4000)
    visit.rating = rating
    visit.status = "done"
    visit.completed_at = utcnow()
    if visit.request is not None:
        visit.request.status = "done"
        visit.request.closed_at = utcnow()
    summaries.on_visit_done(visit)
    if milestones or credit_learning or not resolved:
        resident = outcomes.resident_record_for_visit(actor, visit, required=bool(milestones or credit_learning))
        if not resolved:
            outcomes.create_follow_up(
                actor,
                visit,
                reason=follow_up_reason or _("Follow up the visit of %(date)s.", date=format_date(visit.starts_at)),
                due_on=follow_up_due,
                resident=resident,
            )
        for key, confirmation in milestones or []:
            milestone = outcomes.get_milestone(key)
            if milestone is None:
                raise Invalid(_("Unknown milestone %(key)s.", key=key), field="milestones")
            outcomes.record_milestone(
                actor,
                resident,
                milestone,
                on_date=visit.starts_at.astimezone(LOCAL).date(),
                confirmation=confirmation,
                helped_by=db.session.get(User, visit.member_id),
                visit=visit,
            )
        if credit_learning:
            outcomes.credit_learning_for_skills(resident, visit.skills_done)
    return visit


def visits_in_scope(actor: User, *, unit: Unit | None = None, start=None, end=None, member: User | None = None):
    query = select(Visit).join(Unit, Unit.id == Visit.unit_id).where(authz.unit_scope_filter(actor, Unit.path))
    if unit is not None:
        query = query.where(Unit.path.startswith(unit.path, autoescape=True))
    if start is not None:
        query = query.where(Visit.ends_at > start)
    if end is not None:
        query = query.where(Visit.starts_at < end)
    if member is not None:
        query = query.where(Visit.member_id == member.id)
    return list(db.session.scalars(query.order_by(Visit.starts_at, Visit.id)))


# --- group sessions ------------------------------------------------------------------------


def create_group_session(
    actor: User,
    *,
    unit: Unit | None,
    title: str,
    place: str,
    starts_at: datetime,
    duration_minutes: int,
    skills: list[str],
    capacity: int,
    host: User | None = None,
) -> GroupSession:
    if unit is None:
        raise Invalid(_("Choose the village or commune."), field="unit_code")
    if not authz.may(actor, "visits.manage", unit):
        raise NotAllowed(_("You may not plan sessions in this area."))
    host = host or actor
    if host.role != "tech_team" or host.id not in {m.id for m in members_for(unit)}:
        raise Invalid(_("The host must be a member of a team in this commune."), field="host_id")
    if not skills or any(skill not in SKILLS for skill in skills):
        raise Invalid(_("Choose at least one kind of help."), field="skills")
    if not isinstance(capacity, int) or not 1 <= capacity <= 500:
        raise Invalid(_("The number of places is from 1 to 500."), field="capacity")
    ends_at = _check_times(starts_at, duration_minutes, what="session")
    if _overlapping(host, starts_at, ends_at) is not None:
        raise Conflict(_("The host has a visit at that time. Choose another time or host."))
    session = GroupSession(
        unit_id=unit.id,
        title=_clean_text(title, "title", _("Give the session a title."), max_length=200),
        place=_clean_text(place, "place", _("Enter the place.")),
        starts_at=starts_at,
        ends_at=ends_at,
        skills=sorted(set(skills)),
        capacity=capacity,
        host_id=host.id,
        created_by_id=actor.id,
    )
    db.session.add(session)
    db.session.flush()
    return session


def sign_up(session: GroupSession, person: User, *, by: User) -> SessionSignup:
    """Sign `person` up. The place is taken with one conditional UPDATE, so the capacity is never
    exceeded however many sign up at once. Raises Conflict when full or already signed up."""
    if session.cancelled_at is not None or session.starts_at < utcnow():
        raise Conflict(_("This session is no longer open for sign-up."))
    if by.id != person.id and not authz.may(by, "visits.manage", session.unit):
        raise NotAllowed(_("You may not sign up other people for this session."))
    # Sessions are for the people of the commune they are held in.
    if not authz.unit_in_scope(person, session.unit) or not person.active:
        raise NotAllowed(_("This session is for another commune."))
    _serialise_writes(person.id)
    existing = db.session.scalar(
        select(SessionSignup).where(SessionSignup.session_id == session.id, SessionSignup.user_id == person.id)
    )
    if existing is not None:
        raise Conflict(_("Already signed up."))
    try:
        signup = _take_place(session, person, by)
    except IntegrityError as error:  # the same person signed up at the same moment
        raise Conflict(_("Already signed up.")) from error
    db.session.refresh(session)
    return signup


def _take_place(session: GroupSession, person: User, by: User) -> SessionSignup:
    with db.session.begin_nested():
        taken = db.session.execute(
            update(GroupSession)
            .where(GroupSession.id == session.id, GroupSession.signed_up < GroupSession.capacity)
            .values(signed_up=GroupSession.signed_up + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not taken:
            raise Conflict(_("This session is full."))
        signup = SessionSignup(session_id=session.id, user_id=person.id, signed_up_by_id=by.id)
        db.session.add(signup)
    return signup


def cancel_signup(session: GroupSession, person: User, *, by: User) -> None:
    if by.id != person.id and not authz.may(by, "visits.manage", session.unit):
        raise NotAllowed(_("You may not change this sign-up."))
    if session.starts_at <= utcnow():
        raise Conflict(_("The session has started; its sign-ups are kept for the attendance record."))
    signup = db.session.scalar(
        select(SessionSignup).where(SessionSignup.session_id == session.id, SessionSignup.user_id == person.id)
    )
    if signup is None:
        return
    db.session.delete(signup)
    db.session.execute(
        update(GroupSession)
        .where(GroupSession.id == session.id, GroupSession.signed_up > 0)
        .values(signed_up=GroupSession.signed_up - 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(session)


def record_attendance(actor: User, session: GroupSession, attended_user_ids: set[int]) -> None:
    if actor.id != session.host_id and not authz.may(actor, "visits.manage", session.unit):
        raise NotAllowed(_("You may not record attendance for this session."))
    if session.starts_at > utcnow():
        raise Invalid(_("Attendance is recorded after the session has started."))
    for signup in session.signups:
        signup.attended = signup.user_id in attended_user_ids


def signup_count(session: GroupSession) -> int:
    return db.session.scalar(
        select(func.count()).select_from(SessionSignup).where(SessionSignup.session_id == session.id)
    )
