"""The rules of a member's time, checked by every booking and move of a visit and by planning a
group session (app.visits.operations, app.visits.group_sessions):

* never two overlapping visits, nor a visit while the member hosts a group session (hard rules:
  no one may set them aside);
* inside the member's weekly hours and extra hours, not on an away date or during away hours;
* a travel buffer between one visit or session and the next;
* no more than the daily cap of visits on one day (the last three a commune manager may set
  aside for one booking or move, saying why; see `check_override`);
* not in the past, and of a sensible length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from app import authz
from app.auth.models import User
from app.db import LOCAL_TZ, utcnow
from app.exceptions import Conflict, Invalid, NotAllowed
from app.extensions import db
from app.units.models import Unit
from app.visits.availability import busy_times, is_within_availability, visits_per_day
from app.visits.models import ACTIVE_VISIT_STATUSES, GroupSession, Visit
from app.visits.text import clean_text

MIN_VISIT_MINUTES = 15
MAX_VISIT_MINUTES = 8 * 60
#: Visits and sessions are planned within these years (anything else is a typing mistake).
FIRST_YEAR, LAST_YEAR = 2000, 2100
#: The rules of a member's time that a manager may set aside, in the order they are checked.
OVERRIDABLE_RULES = ("hours", "buffer", "daily_cap")


def travel_buffer() -> timedelta:
    return timedelta(minutes=current_app.config["VISIT_TRAVEL_BUFFER_MINUTES"])


def daily_cap() -> int:
    return current_app.config["VISIT_DAILY_CAP"]


def visit_length_message() -> str:
    return _("A visit lasts from %(min)d to %(max)d minutes.", min=MIN_VISIT_MINUTES, max=MAX_VISIT_MINUTES)


def check_start_to_come(starts_at: datetime) -> None:
    """Raises Invalid (field "start") when the start time has passed (five minutes' grace)."""
    if starts_at < utcnow() - timedelta(minutes=5):
        raise Invalid(_("The start time is in the past."), field="start")


def check_times(starts_at: datetime | None, duration_minutes, *, what="visit") -> datetime:
    """The end of a visit or session starting at `starts_at`; Invalid for a start without its
    date and zone, a length out of bounds, or a start in the past."""
    if starts_at is None or starts_at.tzinfo is None:
        raise Invalid(_("Give the start time with its date."), field="start")
    if not FIRST_YEAR <= starts_at.year <= LAST_YEAR:
        raise Invalid(
            _("Choose a date between %(first)d and %(last)d.", first=FIRST_YEAR, last=LAST_YEAR), field="start"
        )
    if not isinstance(duration_minutes, int) or not MIN_VISIT_MINUTES <= duration_minutes <= MAX_VISIT_MINUTES:
        if what == "session":
            message = _(
                "A session lasts from %(min)d to %(max)d minutes.", min=MIN_VISIT_MINUTES, max=MAX_VISIT_MINUTES
            )
        else:
            message = visit_length_message()
        raise Invalid(message, field="duration_minutes")
    check_start_to_come(starts_at)
    return starts_at + timedelta(minutes=duration_minutes)


def serialise_writes(lock_user_id: int) -> None:
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


@dataclass(frozen=True)
class BrokenRule:
    """A rule of the member's time that a visit would break: `key` is one of OVERRIDABLE_RULES."""

    key: str
    message: str


def _overlapping_visit(member: User, starts_at: datetime, ends_at: datetime, ignore_visit_id=None) -> Visit | None:
    query = select(Visit).where(
        Visit.member_id == member.id,
        Visit.status.in_(ACTIVE_VISIT_STATUSES),
        Visit.starts_at < ends_at,
        Visit.ends_at > starts_at,
    )
    if ignore_visit_id is not None:
        query = query.where(Visit.id != ignore_visit_id)
    return db.session.scalar(query.limit(1))


def _hosted_session(member: User, starts_at: datetime, ends_at: datetime, ignore_session_id=None):
    query = select(GroupSession).where(
        GroupSession.host_id == member.id,
        GroupSession.cancelled_at.is_(None),
        GroupSession.starts_at < ends_at,
        GroupSession.ends_at > starts_at,
    )
    if ignore_session_id is not None:
        query = query.where(GroupSession.id != ignore_session_id)
    return db.session.scalar(query.limit(1))


def busy_message() -> str:
    return _("This member already has a visit at that time. Choose another time or member.")


def check_member_is_free(
    member: User, starts_at: datetime, ends_at: datetime, *, ignore_visit_id=None, ignore_session_id=None
) -> None:
    """The hard rules: Conflict when the member already has a visit, or hosts a group session,
    at that time. No one may set these aside."""
    if _overlapping_visit(member, starts_at, ends_at, ignore_visit_id) is not None:
        raise Conflict(busy_message(), field="start")
    if _hosted_session(member, starts_at, ends_at, ignore_session_id) is not None:
        raise Conflict(
            _("This member hosts a group session at that time. Choose another time or member."), field="start"
        )


def broken_time_rules(member: User, starts_at: datetime, ends_at: datetime, *, ignore_visit_id=None):
    """The rules a manager may set aside that a visit from `starts_at` to `ends_at` would break
    (hours, travel buffer, daily cap), in that order."""
    broken: list[BrokenRule] = []
    if not is_within_availability(member.id, starts_at, ends_at):
        broken.append(
            BrokenRule(
                "hours",
                _("This time is outside the member's hours, or they are away then. Choose a time from the list."),
            )
        )
    buffer = travel_buffer()
    if buffer and any(
        start < ends_at and end > starts_at
        for start, end in busy_times(member.id, starts_at, ends_at, buffer, ignore_visit_id=ignore_visit_id)
    ):
        minutes = int(buffer.total_seconds() // 60)
        broken.append(
            BrokenRule(
                "buffer",
                _(
                    "The member needs %(minutes)d minutes to travel between visits. Choose a time further from "
                    "their other visits.",
                    minutes=minutes,
                ),
            )
        )
    day = starts_at.astimezone(LOCAL_TZ).date()
    if visits_per_day(member.id, starts_at, ends_at, ignore_visit_id=ignore_visit_id).get(day, 0) >= daily_cap():
        broken.append(
            BrokenRule(
                "daily_cap",
                _(
                    "This member already has %(n)d visits that day, the most for one day. Choose another day or "
                    "member.",
                    n=daily_cap(),
                ),
            )
        )
    return broken


def check_override(actor: User, unit: Unit, override: bool, reason: str | None) -> str | None:
    """The override's reason, after checking the actor may set the member's hours aside."""
    if not override:
        return None
    if not authz.may(actor, "visits.override", unit):
        raise NotAllowed(_("Only a commune manager may book outside a member's hours."))
    return clean_text(reason, "override_reason", _("Say why the member's usual hours are set aside."))


def apply_time_rules(
    actor: User, member: User, visit_start: datetime, visit_end: datetime, *, override_reason, ignore_visit_id=None
) -> list[str]:
    """Conflict with the first broken rule, unless the manager set them aside (then the keys of
    the rules set aside)."""
    broken = broken_time_rules(member, visit_start, visit_end, ignore_visit_id=ignore_visit_id)
    if broken and override_reason is None:
        raise Conflict(broken[0].message, field="start", details={"rule": broken[0].key})
    return [rule.key for rule in broken]
