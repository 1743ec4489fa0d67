"""Group help sessions: a member hosts residents at a community point, with a fixed number of
places that is never exceeded, however many sign up at once.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from app import authz
from app.auth.models import User
from app.db import MAX_ID, utcnow
from app.exceptions import Conflict, Invalid, NotAllowed, NotFound
from app.extensions import db
from app.privacy.restriction import check_may_be_signed_up
from app.units.models import Unit, path_within
from app.visits.availability import members_for
from app.visits.models import SKILLS, GroupSession, SessionSignup
from app.visits.text import clean_text
from app.visits.time_rules import check_member_is_free, check_times, serialise_writes

#: Who may be signed up by someone else: the people the sessions are for.
SIGN_UP_ROLES = ("resident",)


def find_group_session(session_id: int) -> GroupSession:
    session = db.session.get(GroupSession, session_id) if 0 < session_id <= MAX_ID else None
    if session is None:
        raise NotFound(_("No session has this id."))
    return session


def group_session_for(user: User, session_id: int) -> GroupSession:
    """The session `user` asked for. Raises NotFound, or NotAllowed for another commune's."""
    session = find_group_session(session_id)
    if not authz.may_see_group_session(user, session):
        raise NotAllowed(_("This session is for another commune."))
    return session


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
    """Plan a session hosted by a member of the commune's teams who is free then (no visit and
    no other session at that time). Raises Invalid, NotAllowed or Conflict."""
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
    ends_at = check_times(starts_at, duration_minutes, what="session")
    try:
        check_member_is_free(host, starts_at, ends_at)
    except Conflict as error:
        raise Conflict(_("The host has a visit at that time. Choose another time or host."), field="start") from error
    session = GroupSession(
        unit_id=unit.id,
        title=clean_text(title, "title", _("Give the session a title."), max_length=200),
        place=clean_text(place, "place", _("Enter the place.")),
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
    """Sign `person` up: themselves, or a resident of the session's commune by whoever runs the
    session. The place is taken with one conditional UPDATE, so the capacity is never exceeded
    however many sign up at once. Raises NotAllowed, Invalid, or Conflict when full, closed or
    already signed up."""
    if not authz.may_see_group_session(by, session):
        raise NotAllowed(_("This session is for another commune."))
    if by.id != person.id:
        if not authz.may_run_group_session(by, session):
            raise NotAllowed(_("You may not sign up other people for this session."))
        commune = session.unit.commune() or session.unit
        if person.role not in SIGN_UP_ROLES or not person.active or not commune.contains(person.unit):
            raise Invalid(_("Choose a resident of this commune."), field="user_id")
        check_may_be_signed_up(person)
    elif not person.active or not authz.may_see_group_session(person, session):
        raise NotAllowed(_("This session is for another commune."))
    if session.cancelled_at is not None or session.starts_at < utcnow():
        raise Conflict(_("This session is no longer open for sign-up."))
    serialise_writes(person.id)
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
    """Give a place back: one's own, or anyone's for whoever runs the session. Raises NotAllowed,
    or Conflict once the session has started (sign-ups are then the attendance record)."""
    if by.id != person.id and not authz.may_run_group_session(by, session):
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
    if not authz.may_run_group_session(actor, session):
        raise NotAllowed(_("You may not record attendance for this session."))
    if session.starts_at > utcnow():
        raise Invalid(_("Attendance is recorded after the session has started."))
    for signup in session.signups:
        signup.attended = signup.user_id in attended_user_ids


def signup_count(session: GroupSession) -> int:
    return db.session.scalar(
        select(func.count()).select_from(SessionSignup).where(SessionSignup.session_id == session.id)
    )


def sessions_between(
    user: User, start: datetime, end: datetime, *, host: User | None = None, unit: Unit | None = None
) -> list[GroupSession]:
    """Group sessions (not cancelled) in `user`'s area overlapping `start`–`end`, with their unit
    and host loaded."""
    query = (
        select(GroupSession, Unit, User)
        .join(Unit, Unit.id == GroupSession.unit_id)
        .join(User, User.id == GroupSession.host_id)
        .where(
            authz.unit_scope_filter(user, Unit.path),
            GroupSession.cancelled_at.is_(None),
            GroupSession.ends_at > start,
            GroupSession.starts_at < end,
        )
        .order_by(GroupSession.starts_at, GroupSession.id)
    )
    if host is not None:
        query = query.where(GroupSession.host_id == host.id)
    if unit is not None:
        query = query.where(path_within(Unit.path, unit.path))
    sessions = []
    for session, session_unit, session_host in db.session.execute(query):
        set_committed_value(session, "unit", session_unit)
        set_committed_value(session, "host", session_host)
        sessions.append(session)
    return sessions


def signed_up_session_ids(person: User, session_ids: list[int]) -> set[int]:
    """Which of these sessions `person` is signed up for."""
    if not session_ids:
        return set()
    return set(
        db.session.scalars(
            select(SessionSignup.session_id).where(
                SessionSignup.user_id == person.id, SessionSignup.session_id.in_(session_ids)
            )
        )
    )
