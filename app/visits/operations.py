"""Visits: finding free slots, booking, moving, cancelling and completing them.

Every rule of a member's time is checked here, whichever door the request comes in by (the
booking page, the visit page, the API):

* never two overlapping visits, nor a visit while the member hosts a group session;
* inside the member's weekly hours and extra hours, not on an away date or during away hours;
* a travel buffer between one visit or session and the next;
* no more than the daily cap of visits on one day;
* not in the past.

The first two are hard rules. A commune manager (permission ``visits.override``) may set the
others aside for one booking or move, saying why; that is written to the audit log.

One member never holds two overlapping visits. On PostgreSQL an exclusion constraint guarantees
it (the losing booking gets a Conflict); on SQLite a booking first takes the database's write
lock, so bookings are serialised and the overlap check cannot race.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.attributes import set_committed_value

from app import authz
from app.audit.operations import record
from app.auth.models import User
from app.db import LOCAL_TZ, MAX_ID, utcnow
from app.exceptions import Conflict, Invalid, NotAllowed, NotFound
from app.extensions import db
from app.outcomes import operations as outcomes
from app.reports import summaries
from app.units.models import Unit
from app.visits import notices
from app.visits.availability import Slot, busy_times, find_slots, is_within_availability, members_for, visits_per_day
from app.visits.help_requests import check_skill
from app.visits.models import ACTIVE_VISIT_STATUSES, SKILLS, GroupSession, HelpRequest, TeamMember, Visit
from app.visits.text import clean_text

MIN_VISIT_MINUTES = 15
MAX_VISIT_MINUTES = 8 * 60
#: Visits and sessions are planned within these years (anything else is a typing mistake).
FIRST_YEAR, LAST_YEAR = 2000, 2100
#: The longest period one slot search may cover.
MAX_SLOT_RANGE = timedelta(days=31)
#: The rules of a member's time that a manager may set aside, in the order they are checked.
OVERRIDABLE_RULES = ("hours", "buffer", "daily_cap")


def travel_buffer() -> timedelta:
    return timedelta(minutes=current_app.config["VISIT_TRAVEL_BUFFER_MINUTES"])


def daily_cap() -> int:
    return current_app.config["VISIT_DAILY_CAP"]


def member_skills(user: User) -> set[str]:
    skills: set[str] = set()
    for membership in db.session.scalars(select(TeamMember).where(TeamMember.user_id == user.id)):
        skills.update(membership.skills or [])
    return skills


def visit_length_message() -> str:
    return _("A visit lasts from %(min)d to %(max)d minutes.", min=MIN_VISIT_MINUTES, max=MAX_VISIT_MINUTES)


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
    if starts_at < utcnow() - timedelta(minutes=5):
        raise Invalid(_("The start time is in the past."), field="start")
    return starts_at + timedelta(minutes=duration_minutes)


# --- free slots ----------------------------------------------------------------------------


def free_slots(actor: User, unit: Unit | None, skill: str, start: datetime, end: datetime, minutes: int) -> list[Slot]:
    """Times the members of `unit`'s commune who offer `skill` can take a visit of `minutes`
    between `start` and `end` (at most MAX_SLOT_RANGE; never in the past).

    Raises NotAllowed outside the actor's area, Invalid for a unit above a commune, an unknown
    skill, a length out of bounds or a range too long."""
    if not authz.has_permission(actor, "visits.view"):
        raise NotAllowed(_("You do not have access to this page or record."))
    if unit is None or unit.level < 2:
        raise Invalid(_("Choose the commune or village."), field="unit")
    if not authz.unit_in_scope(actor, unit):
        raise NotAllowed(_("This unit is outside your area."))
    check_skill(skill)
    if not isinstance(minutes, int) or not MIN_VISIT_MINUTES <= minutes <= MAX_VISIT_MINUTES:
        raise Invalid(visit_length_message(), field="duration")
    if end <= start:
        raise Invalid(_("The end must come after the start."), field="to")
    if end - start > MAX_SLOT_RANGE:
        raise Invalid(_("Search at most %(days)d days at a time.", days=MAX_SLOT_RANGE.days), field="to")
    return find_slots(
        unit,
        skill,
        start,
        end,
        timedelta(minutes=minutes),
        buffer=travel_buffer(),
        daily_cap=daily_cap(),
        not_before=utcnow(),
    )


# --- the rules of a member's time ----------------------------------------------------------


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


def _busy_message() -> str:
    return _("This member already has a visit at that time. Choose another time or member.")


def check_member_is_free(
    member: User, starts_at: datetime, ends_at: datetime, *, ignore_visit_id=None, ignore_session_id=None
) -> None:
    """The hard rules: Conflict when the member already has a visit, or hosts a group session,
    at that time. No one may set these aside."""
    if _overlapping_visit(member, starts_at, ends_at, ignore_visit_id) is not None:
        raise Conflict(_busy_message(), field="start")
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


def _check_override(actor: User, unit: Unit, override: bool, reason: str | None) -> str | None:
    """The override's reason, after checking the actor may set the member's hours aside."""
    if not override:
        return None
    if not authz.may(actor, "visits.override", unit):
        raise NotAllowed(_("Only a commune manager may book outside a member's hours."))
    return clean_text(reason, "override_reason", _("Say why the member's usual hours are set aside."))


def _apply_time_rules(
    actor: User, member: User, visit_start: datetime, visit_end: datetime, *, override_reason, ignore_visit_id=None
) -> list[str]:
    """Conflict with the first broken rule, unless the manager set them aside (then the keys of
    the rules set aside)."""
    broken = broken_time_rules(member, visit_start, visit_end, ignore_visit_id=ignore_visit_id)
    if broken and override_reason is None:
        raise Conflict(broken[0].message, field="start", details={"rule": broken[0].key})
    return [rule.key for rule in broken]


def _audit_override(actor: User, visit: Visit, set_aside: list[str], reason: str | None, action: str) -> None:
    if not set_aside:
        return  # the override was offered but nothing needed setting aside
    record(
        "visit_override",
        actor=actor,
        target=visit.member,
        details={
            "visit": visit.id,
            "action": action,
            "start": visit.starts_at.astimezone(LOCAL_TZ).isoformat(timespec="minutes"),
            "set_aside": set_aside,
            "reason": reason,
        },
    )


# --- booking -------------------------------------------------------------------------------


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


def _conflict_from(error: IntegrityError) -> None:
    if getattr(error.orig, "sqlstate", None) == "23P01":  # exclusion_violation
        raise Conflict(_busy_message(), field="start") from error


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
    override: bool = False,
    override_reason: str | None = None,
) -> Visit:
    """Book `member` for a visit, by the rules of their time (see the module's docstring).

    `override` (with `override_reason`) sets aside hours, buffer and daily cap, for those who
    may. Raises Invalid, NotAllowed, or Conflict naming the rule the time breaks (never two
    overlapping visits, also under simultaneous bookings)."""
    check_skill(skill)
    ends_at = check_times(starts_at, duration_minutes)
    unit = request.unit if request is not None else (unit or (resident.unit if resident else None))
    if unit is None:
        raise Invalid(_("Choose the help request or the resident to visit."), field="request_id")
    if not authz.may(booked_by, "visits.manage", unit):
        raise NotAllowed(_("You may not book visits in this area."))
    if resident is not None and not authz.unit_in_scope(booked_by, resident.unit):
        raise NotAllowed(_("You may not book visits for this person."))
    reason = _check_override(booked_by, unit, override, override_reason)
    if member.role != "tech_team" or not member.active or member.id not in {m.id for m in members_for(unit)}:
        raise Invalid(_("This person is not a member of a team in this commune."), field="member_id")
    if skill not in member_skills(member):
        raise Invalid(_("This member does not offer this kind of help."), field="skill")
    if request is not None and request.status not in ("new", "scheduled"):
        raise Conflict(_("This request is closed."))
    place = clean_text(place, "place", _("Enter the address or meeting point."))
    serialise_writes(member.id)
    check_member_is_free(member, starts_at, ends_at)
    set_aside = _apply_time_rules(booked_by, member, starts_at, ends_at, override_reason=reason)
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
    try:
        with db.session.begin_nested():
            db.session.add(visit)
    except IntegrityError as error:
        _conflict_from(error)
        raise
    if request is not None:
        request.status = "scheduled"
    _audit_override(booked_by, visit, set_aside, reason, "booked")
    return visit


# --- changing a visit ----------------------------------------------------------------------


def find_visit(visit_id: int) -> Visit:
    """The visit with this id; NotFound otherwise (also for an id no database id can be)."""
    visit = db.session.get(Visit, visit_id) if 0 < visit_id <= MAX_ID else None
    if visit is None:
        raise NotFound(_("No visit has this id."))
    return visit


def visit_for(user: User, visit_id: int) -> Visit:
    """The visit `user` asked to see. Raises NotFound, or NotAllowed unless they are its member,
    the team staff of its area, or the visited resident."""
    visit = find_visit(visit_id)
    if not authz.may_view_visit(user, visit):
        raise NotAllowed(_("You may not see this visit."))
    return visit


def ensure_may_change(actor: User, visit: Visit) -> None:
    """NotAllowed unless `actor` is the visit's member or manages visits in its area."""
    if not authz.may_change_visit(actor, visit):
        raise NotAllowed(_("You may not change this visit."))


def reschedule_visit(
    actor: User,
    visit: Visit,
    starts_at: datetime,
    duration_minutes: int | None = None,
    *,
    override: bool = False,
    override_reason: str | None = None,
) -> Visit:
    """Move a booked visit, by the same rules as booking it (the visit itself aside). Tells the
    member and the resident. Raises NotAllowed, Invalid or Conflict."""
    ensure_may_change(actor, visit)
    if visit.status != "booked":
        raise Conflict(_("Only a booked visit can be moved."))
    minutes = (
        duration_minutes
        if duration_minutes is not None
        else int((visit.ends_at - visit.starts_at).total_seconds() // 60)
    )
    ends_at = check_times(starts_at, minutes)
    reason = _check_override(actor, visit.unit, override, override_reason)
    member = db.session.get(User, visit.member_id)
    serialise_writes(member.id)
    check_member_is_free(member, starts_at, ends_at, ignore_visit_id=visit.id)
    set_aside = _apply_time_rules(actor, member, starts_at, ends_at, override_reason=reason, ignore_visit_id=visit.id)
    moved_from = visit.starts_at
    try:
        with db.session.begin_nested():
            visit.starts_at, visit.ends_at = starts_at, ends_at
    except IntegrityError as error:
        _conflict_from(error)
        raise
    if visit.starts_at != moved_from:
        notices.visit_moved(visit, actor, moved_from)
        _audit_override(actor, visit, set_aside, reason, "moved")
    return visit


def cancel_visit(actor: User, visit: Visit, reason: str) -> Visit:
    ensure_may_change(actor, visit)
    if visit.status != "booked":
        raise Conflict(_("Only a booked visit can be cancelled."))
    visit.cancel_reason = clean_text(reason, "reason", _("Say why the visit is cancelled."))
    visit.status = "cancelled"
    if visit.request is not None and visit.request.status == "scheduled":
        visit.request.status = "new"  # back on the triage list
    notices.visit_cancelled(visit, actor)
    return visit


def mark_no_show(actor: User, visit: Visit) -> Visit:
    ensure_may_change(actor, visit)
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
    Raises NotAllowed, Conflict (already closed) or Invalid.
    """
    ensure_may_change(actor, visit)
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
    visit.notes = clean_text(notes, "notes", "", required=False, max_length=4000)
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
                on_date=visit.starts_at.astimezone(LOCAL_TZ).date(),
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


def load_visit_details(visits: list[Visit]) -> None:
    """Fill each visit's member, resident, request and unit with four queries in all (for lists
    and agendas)."""
    if not visits:
        return
    people_ids = {v.member_id for v in visits} | {v.resident_id for v in visits if v.resident_id}
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(people_ids)))}
    request_ids = {v.request_id for v in visits if v.request_id}
    requests = (
        {r.id: r for r in db.session.scalars(select(HelpRequest).where(HelpRequest.id.in_(request_ids)))}
        if request_ids
        else {}
    )
    units = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_({v.unit_id for v in visits})))}
    for visit in visits:
        set_committed_value(visit, "member", people.get(visit.member_id))
        set_committed_value(visit, "resident", people.get(visit.resident_id))
        set_committed_value(visit, "request", requests.get(visit.request_id))
        set_committed_value(visit, "unit", units.get(visit.unit_id))


def visits_waiting_for_outcome(member: User, before: datetime, *, limit: int = 20) -> list[Visit]:
    """The member's booked visits that ended before `before` and still wait for their outcome."""
    return list(
        db.session.scalars(
            select(Visit)
            .where(
                Visit.member_id == member.id,
                Visit.status == "booked",
                Visit.ends_at <= utcnow(),
                Visit.starts_at < before,
            )
            .order_by(Visit.starts_at)
            .limit(limit)
        )
    )
