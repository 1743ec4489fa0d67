"""Visits: finding free slots, booking, moving, cancelling and completing them.

Whichever door a request comes in by (the booking page, the visit page, the API), it reaches
these functions, and they check every rule: who may, and the rules of the member's time
(app.visits.time_rules). A commune manager (permission ``visits.override``) may set the member's
hours, travel buffer and daily cap aside for one booking or move, saying why; that is written to
the audit log.

One member never holds two overlapping visits. On PostgreSQL an exclusion constraint guarantees
it (the losing booking gets a Conflict); on SQLite a booking first takes the database's write
lock, so bookings are serialised and the overlap check cannot race.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from app import authz
from app.audit.operations import record
from app.auth.models import User
from app.db import LOCAL_TZ, MAX_ID, utcnow
from app.exceptions import Conflict, Invalid, NotAllowed, NotFound
from app.extensions import db
from app.i18n import format_date
from app.outcomes import operations as outcomes
from app.outcomes.models import Resident
from app.privacy.restriction import check_may_schedule
from app.reports import summaries
from app.units.models import Unit, path_within
from app.visits import notices, time_rules
from app.visits.availability import Slot, find_slots, members_for
from app.visits.models import SKILLS, HelpRequest, TeamMember, Visit
from app.visits.text import check_skill, clean_text

#: The longest period one slot search may cover.
MAX_SLOT_RANGE = timedelta(days=31)


def member_skills(user: User) -> set[str]:
    skills: set[str] = set()
    for membership in db.session.scalars(select(TeamMember).where(TeamMember.user_id == user.id)):
        skills.update(membership.skills or [])
    return skills


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
    if not isinstance(minutes, int) or not time_rules.MIN_VISIT_MINUTES <= minutes <= time_rules.MAX_VISIT_MINUTES:
        raise Invalid(time_rules.visit_length_message(), field="duration")
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
        buffer=time_rules.travel_buffer(),
        daily_cap=time_rules.daily_cap(),
        not_before=utcnow(),
    )


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


def _ensure_may_schedule(account: User | None, record_id: int | None) -> None:
    """Conflict when processing is restricted for the person visited (their account or their
    resident record): no visit is booked or moved for them (app.privacy.restriction)."""
    check_may_schedule(account, db.session.get(Resident, record_id) if record_id is not None else None)


def _conflict_from(error: IntegrityError) -> None:
    if getattr(error.orig, "sqlstate", None) == "23P01":  # exclusion_violation
        raise Conflict(time_rules.busy_message(), field="start") from error


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
    ends_at = time_rules.check_times(starts_at, duration_minutes)
    unit = request.unit if request is not None else (unit or (resident.unit if resident else None))
    if unit is None:
        raise Invalid(_("Choose the help request or the resident to visit."), field="request_id")
    if not authz.may(booked_by, "visits.manage", unit):
        raise NotAllowed(_("You may not book visits in this area."))
    if resident is not None and not authz.unit_in_scope(booked_by, resident.unit):
        raise NotAllowed(_("You may not book visits for this person."))
    if request is not None:
        _ensure_may_schedule(request.resident, request.resident_record_id)
    _ensure_may_schedule(resident, None)
    reason = time_rules.check_override(booked_by, unit, override, override_reason)
    if member.role != "tech_team" or not member.active or member.id not in {m.id for m in members_for(unit)}:
        raise Invalid(_("This person is not a member of a team in this commune."), field="member_id")
    if skill not in member_skills(member):
        raise Invalid(_("This member does not offer this kind of help."), field="skill")
    if request is not None and request.status not in ("new", "scheduled"):
        raise Conflict(_("This request is closed."))
    place = clean_text(place, "place", _("Enter the address or meeting point."))
    time_rules.serialise_writes(member.id)
    time_rules.check_member_is_free(member, starts_at, ends_at)
    set_aside = time_rules.apply_time_rules(booked_by, member, starts_at, ends_at, override_reason=reason)
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
        request.mark_contacted(utcnow())
        request.clear_time_wish()  # the team chose a time
    _audit_override(booked_by, visit, set_aside, reason, "booked")
    notices.visit_booked(visit, booked_by)
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
    ends_at = time_rules.check_times(starts_at, minutes)
    _ensure_may_schedule(visit.resident, visit.resident_record_id)
    reason = time_rules.check_override(actor, visit.unit, override, override_reason)
    member = db.session.get(User, visit.member_id)
    time_rules.serialise_writes(member.id)
    time_rules.check_member_is_free(member, starts_at, ends_at, ignore_visit_id=visit.id)
    set_aside = time_rules.apply_time_rules(
        actor, member, starts_at, ends_at, override_reason=reason, ignore_visit_id=visit.id
    )
    moved_from = visit.starts_at
    try:
        with db.session.begin_nested():
            visit.starts_at, visit.ends_at = starts_at, ends_at
    except IntegrityError as error:
        _conflict_from(error)
        raise
    if visit.starts_at != moved_from:
        if visit.request is not None:
            visit.request.clear_time_wish()  # the team chose another time
        notices.visit_moved(visit, actor, moved_from)
        _audit_override(actor, visit, set_aside, reason, "moved")
    return visit


def cancel_visit(actor: User, visit: Visit, reason: str) -> Visit:
    """Cancel a booked visit (its member or those who manage visits in its area); the request
    goes back on the triage list. Tells the member and the resident. Raises NotAllowed, Conflict
    or Invalid."""
    ensure_may_change(actor, visit)
    if visit.status != "booked":
        raise Conflict(_("Only a booked visit can be cancelled."))
    return _cancel(actor, visit, clean_text(reason, "reason", _("Say why the visit is cancelled.")))


def cancel_visit_with_request(actor: User, visit: Visit, reason: str) -> Visit:
    """Cancel the booked visit of a help request its resident is cancelling (who may cancel the
    request is app.visits.help_requests.cancel_request's to check). Tells the member as any
    cancellation does."""
    return _cancel(actor, visit, reason)


def _cancel(actor: User, visit: Visit, reason: str) -> Visit:
    visit.cancel_reason = reason
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
        query = query.where(path_within(Unit.path, unit.path))
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
