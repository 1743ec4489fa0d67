"""The personal data of this package's tables, declared in the register (app.privacy.register).

Help requests and visits hold a resident's name, phone, home and what they needed help with, under
the consent recorded with the request. Free-text notes (a request's note, a visit's notes and
reason for cancelling) are declared sensitive: they are written about people at home and may
mention health, which the law counts as sensitive. A member's availability, team membership and
sessions they host are their work, held under their agreement with the team.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.phones import local_format
from app.privacy.register import Personal, declare, exporter
from app.privacy.rows import about, names_of, row
from app.visits.models import (
    REQUEST_STATUS_TITLES,
    SKILL_TITLES,
    VISIT_STATUS_TITLES,
    AvailabilityException,
    CalendarFeed,
    GroupSession,
    HelpRequest,
    SessionSignup,
    TeamMember,
    Visit,
    WeeklyAvailability,
)

HELP = Personal("basic", "help_visits", "consent", "record")
HELP_PHONE = Personal("basic", "help_visits", "consent", "inactive_phone")
# Free text about a person at home: may mention health (sensitive in law).
HELP_NOTE = Personal("sensitive", "help_visits", "consent", "closed_note")
WORK = Personal("basic", "team_work", "contract", "team_membership")
# An absence note may give the reason (an illness): sensitive.
WORK_NOTE = Personal("sensitive", "team_work", "contract", "availability_note")
STAFF = Personal("basic", "team_work", "contract", "record")
ACCOUNT = Personal("basic", "account", "state_task", "account")


def _minutes(value: int | None) -> str | None:
    return None if value is None else f"{value // 60:02d}:{value % 60:02d}"


declare("teams", _l("Tech teams"), not_personal={"id", "unit_id", "name", "created_at", "contact_promise_days"})

declare(
    "team_members",
    _l("Members of tech teams"),
    personal={"user_id": WORK, "skills": WORK, "is_leader": WORK, "work_phone": WORK},
    not_personal={"id", "team_id"},
)


@exporter("team_members")
def export_team_members(subject) -> list[dict]:
    rows = db.session.scalars(
        select(TeamMember)
        .where(about(subject, user_columns=[TeamMember.user_id]))
        .options(selectinload(TeamMember.team))
        .order_by(TeamMember.id)
    )
    return [
        row(
            team=m.team.name,
            skills=[SKILL_TITLES.get(s, s) for s in m.skills],
            leader=m.is_leader,
            work_phone=local_format(m.work_phone) or None,
        )
        for m in rows
    ]


declare(
    "weekly_availability",
    _l("Tech-team members' weekly hours"),
    personal={"user_id": WORK, "weekday": WORK, "start_minute": WORK, "end_minute": WORK},
    not_personal={"id"},
)


@exporter("weekly_availability")
def export_weekly_availability(subject) -> list[dict]:
    rows = db.session.scalars(
        select(WeeklyAvailability)
        .where(about(subject, user_columns=[WeeklyAvailability.user_id]))
        .order_by(WeeklyAvailability.weekday, WeeklyAvailability.start_minute)
    )
    # Weekday 0 is Monday.
    return [
        row(weekday=w.weekday + 1, **{"from": _minutes(w.start_minute), "to": _minutes(w.end_minute)}) for w in rows
    ]


declare(
    "availability_exceptions",
    _l("Tech-team members' days away and extra hours"),
    personal={
        "user_id": WORK,
        "on_date": WORK,
        "kind": WORK,
        "start_minute": WORK,
        "end_minute": WORK,
        "note": WORK_NOTE,
    },
    not_personal={"id"},
)


@exporter("availability_exceptions")
def export_availability_exceptions(subject) -> list[dict]:
    rows = db.session.scalars(
        select(AvailabilityException)
        .where(about(subject, user_columns=[AvailabilityException.user_id]))
        .order_by(AvailabilityException.on_date)
    )
    return [
        row(
            on_date=e.on_date,
            kind=e.kind,
            note=e.note,
            **{"from": _minutes(e.start_minute), "to": _minutes(e.end_minute)},
        )
        for e in rows
    ]


declare(
    "calendar_feeds",
    _l("Calendar feed addresses"),
    personal={"user_id": ACCOUNT, "token": ACCOUNT, "created_at": ACCOUNT},
    not_personal={"id"},
)


@exporter("calendar_feeds")
def export_calendar_feeds(subject) -> list[dict]:
    rows = db.session.scalars(select(CalendarFeed).where(about(subject, user_columns=[CalendarFeed.user_id])))
    # The feed's secret address is not repeated in an export that may be printed or forwarded.
    return [row(created_at=f.created_at) for f in rows]


declare(
    "help_requests",
    _l("Requests for help"),
    personal={
        "skill": HELP,
        # The village, or the commune when the village is not known.
        "unit_id": HELP,
        "place": HELP,
        "note": HELP_NOTE,
        "preferred_times": HELP,
        "name": HELP,
        "phone": HELP_PHONE,
        "resident_id": HELP,
        "resident_record_id": HELP,
        "created_by_id": STAFF,
        "created_at": HELP,
        "status": HELP,
        "consent_at": HELP,
        "consent_recorded_by_id": STAFF,
        "closed_at": HELP,
        "cancel_reason": HELP_NOTE,
        "time_wish": HELP,
        "time_wish_on": HELP,
        "time_wish_at": HELP,
        "contact_due_at": HELP,
        "first_contacted_at": HELP,
    },
    # The team's promise in force when the request was filed.
    not_personal={"id", "contact_promise_days"},
)


@exporter("help_requests")
def export_help_requests(subject) -> list[dict]:
    """The subject's own requests (as the person to help, or made by them for themselves)."""
    rows = list(
        db.session.scalars(
            select(HelpRequest)
            .where(
                about(
                    subject,
                    user_columns=[HelpRequest.resident_id],
                    resident_columns=[HelpRequest.resident_record_id],
                )
            )
            .options(selectinload(HelpRequest.unit))
            .order_by(HelpRequest.created_at)
        )
    )
    names = names_of(r.created_by_id for r in rows)
    return [
        row(
            skill=SKILL_TITLES.get(r.skill, r.skill),
            name=r.name,
            phone=local_format(r.phone) or None,
            place=r.place,
            village=r.unit.display_name,
            note=r.note,
            preferred_times=r.preferred_times,
            status=REQUEST_STATUS_TITLES.get(r.status, r.status),
            created_at=r.created_at,
            created_by=names.get(r.created_by_id),
            consent_at=r.consent_at,
            closed_at=r.closed_at,
            cancel_reason=r.cancel_reason,
            time_wish=r.time_wish,
            time_wish_on=r.time_wish_on,
            contact_by=r.contact_by,
            first_contacted_at=r.first_contacted_at,
        )
        for r in rows
    ]


declare(
    "visits",
    _l("Support visits"),
    personal={
        "member_id": STAFF,
        # Where the visit took place.
        "unit_id": HELP,
        "resident_id": HELP,
        "resident_record_id": HELP,
        "skill": HELP,
        "place": HELP,
        "starts_at": HELP,
        "ends_at": HELP,
        "status": HELP,
        "booked_by_id": STAFF,
        "created_at": HELP,
        "cancel_reason": HELP_NOTE,
        "skills_done": HELP,
        "resolved": HELP,
        "follow_up_needed": HELP,
        "minutes_spent": HELP,
        "notes": HELP_NOTE,
        "rating": HELP,
        "completed_at": HELP,
    },
    not_personal={"id", "request_id"},
)


@exporter("visits")
def export_visits(subject) -> list[dict]:
    """Visits to the subject in full; visits the subject made as a member, as their work (when,
    what, how long), without the visited person's place and notes."""
    visited = about(subject, user_columns=[Visit.resident_id], resident_columns=[Visit.resident_record_id])
    rows = list(
        db.session.scalars(
            select(Visit)
            .where(or_(visited, about(subject, user_columns=[Visit.member_id])))
            .order_by(Visit.starts_at, Visit.id)
        )
    )
    names = names_of(v.member_id for v in rows)
    result = []
    for v in rows:
        mine = v.resident_id == subject.user_id and subject.user_id is not None
        mine = mine or v.resident_record_id in subject.resident_ids
        common = {
            "skill": SKILL_TITLES.get(v.skill, v.skill),
            "starts_at": v.starts_at,
            "ends_at": v.ends_at,
            "status": VISIT_STATUS_TITLES.get(v.status, v.status),
            "minutes": v.minutes_spent,
        }
        if mine:
            result.append(
                row(
                    member=names.get(v.member_id),
                    place=v.place,
                    **common,
                    skills_done=[SKILL_TITLES.get(s, s) for s in v.skills_done or []],
                    resolved=v.resolved,
                    follow_up_needed=v.follow_up_needed,
                    notes=v.notes,
                    cancel_reason=v.cancel_reason,
                    rating=v.rating,
                )
            )
        else:
            result.append(row(your_part=_l("Visit you made"), **common))
    return result


declare(
    "group_sessions",
    _l("Group help sessions"),
    personal={"host_id": STAFF, "created_by_id": STAFF},
    # A session is held at a community point and open to all; the people in it are in session_signups.
    not_personal={
        "id",
        "unit_id",
        "title",
        "place",
        "starts_at",
        "ends_at",
        "skills",
        "capacity",
        "signed_up",
        "cancelled_at",
    },
)


@exporter("group_sessions")
def export_group_sessions(subject) -> list[dict]:
    rows = db.session.scalars(
        select(GroupSession)
        .where(about(subject, user_columns=[GroupSession.host_id, GroupSession.created_by_id]))
        .order_by(GroupSession.starts_at)
    )
    return [
        row(
            your_part=_l("Host") if s.host_id == subject.user_id else _l("Created"),
            title=s.title,
            place=s.place,
            starts_at=s.starts_at,
        )
        for s in rows
    ]


declare(
    "session_signups",
    _l("People signed up for group sessions"),
    personal={"user_id": HELP, "signed_up_by_id": STAFF, "created_at": HELP, "attended": HELP},
    not_personal={"id", "session_id"},
)


@exporter("session_signups")
def export_session_signups(subject) -> list[dict]:
    rows = db.session.scalars(
        select(SessionSignup)
        .where(about(subject, user_columns=[SessionSignup.user_id]))
        .options(selectinload(SessionSignup.session))
        .order_by(SessionSignup.created_at)
    )
    return [
        row(
            session=s.session.title,
            place=s.session.place,
            starts_at=s.session.starts_at,
            created_at=s.created_at,
            attended=s.attended,
        )
        for s in rows
    ]
