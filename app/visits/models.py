"""Community digital-technology teams: members and skills, availability, help requests, visits,
group help sessions."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.db import LOCAL_TZ, UTCDateTime, string_enum, utcnow
from app.extensions import db
from app.units.models import Unit

SKILLS = ("eid", "public_services", "cashless", "safety", "phone_basics", "selling_online")
SKILL_TITLES = {
    "eid": _l("E-ID app (VNeID)"),
    "public_services": _l("Online public services"),
    "cashless": _l("Cashless payment"),
    "safety": _l("Scams and online safety"),
    "phone_basics": _l("Phone basics"),
    "selling_online": _l("Selling online"),
}
REQUEST_STATUSES = ("new", "scheduled", "done", "cancelled", "unreachable")
REQUEST_STATUS_TITLES = {
    "new": _l("New"),
    "scheduled": _l("Scheduled"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
    "unreachable": _l("Could not reach"),
}
VISIT_STATUSES = ("booked", "done", "cancelled", "no_show")
VISIT_STATUS_TITLES = {
    "booked": _l("Booked"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
    "no_show": _l("Resident not there"),
}
#: The vocabularies the visit and agenda templates show.
VISIT_TITLES = {"skill_titles": SKILL_TITLES, "status_titles": VISIT_STATUS_TITLES}
#: Visits in these states hold the member's time.
ACTIVE_VISIT_STATUSES = ("booked", "done")
EXCEPTION_KINDS = ("away", "extra")
#: Working days within which a team promises to call a resident who asked for help.
DEFAULT_CONTACT_PROMISE_DAYS = 2
CONTACT_PROMISE_RANGE = (1, 10)


class Team(db.Model):
    __tablename__ = "teams"
    __table_args__ = (CheckConstraint("contact_promise_days BETWEEN 1 AND 10", name="contact_promise_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: A commune/ward or a village the team works in.
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The team calls a resident who asked for help within this many working days.
    contact_promise_days: Mapped[int] = mapped_column(default=DEFAULT_CONTACT_PROMISE_DAYS, server_default="2")

    unit: Mapped[Unit] = relationship()
    members: Mapped[list[TeamMember]] = relationship(back_populates="team", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Team {self.name!r} unit={self.unit_id}>"


class TeamMember(db.Model):
    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: Skill keys from SKILLS.
    skills: Mapped[list] = mapped_column(JSON, default=list)
    #: Team leaders may book for other members and see the team's requests.
    is_leader: Mapped[bool] = mapped_column(default=False)
    #: The phone the member uses for team work, shown to the residents they visit (E.164).
    work_phone: Mapped[str | None] = mapped_column(String(32))

    team: Mapped[Team] = relationship(back_populates="members")
    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<TeamMember team={self.team_id} user={self.user_id}>"


class WeeklyAvailability(db.Model):
    """A recurring free window in local time (Asia/Ho_Chi_Minh), e.g. Tuesday 18:00–20:00."""

    __tablename__ = "weekly_availability"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("start_minute >= 0 AND end_minute <= 1440 AND end_minute > start_minute", name="window"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: Monday is 0.
    weekday: Mapped[int]
    #: Minutes after local midnight; an end of 1440 means midnight at the end of the day.
    start_minute: Mapped[int]
    end_minute: Mapped[int]

    def __repr__(self) -> str:
        return f"<WeeklyAvailability user={self.user_id} {self.weekday} {self.start_minute}-{self.end_minute}>"


class AvailabilityException(db.Model):
    """A date when the member is away (all day, or some hours) or has extra hours."""

    __tablename__ = "availability_exceptions"
    __table_args__ = (
        CheckConstraint(
            "(start_minute IS NULL AND end_minute IS NULL) OR "
            "(start_minute >= 0 AND end_minute <= 1440 AND end_minute > start_minute)",
            name="window",
        ),
        CheckConstraint("kind = 'away' OR start_minute IS NOT NULL", name="extra_has_hours"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    on_date: Mapped[date]
    kind: Mapped[str] = mapped_column(string_enum(EXCEPTION_KINDS, "availability_exception_kind"))
    #: None for a whole day away.
    start_minute: Mapped[int | None]
    end_minute: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(String(200))

    def __repr__(self) -> str:
        return f"<AvailabilityException user={self.user_id} {self.on_date} {self.kind}>"


class HelpRequest(db.Model):
    """A resident's request for in-person help, triaged into a visit."""

    __tablename__ = "help_requests"
    __table_args__ = (
        Index("ix_help_requests_status_created", "status", "created_at"),
        # The requests still waiting for a first call, which the promise figures count live.
        Index(
            "ix_help_requests_awaiting_call",
            "contact_due_at",
            postgresql_where=text("first_contacted_at IS NULL AND status <> 'cancelled'"),
            sqlite_where=text("first_contacted_at IS NULL AND status <> 'cancelled'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    skill: Mapped[str] = mapped_column(string_enum(SKILLS, "help_request_skill", 30))
    #: The village (or the commune when the village is not known).
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    #: Address or meeting point.
    place: Mapped[str] = mapped_column(String(300))
    note: Mapped[str | None] = mapped_column(Text)
    preferred_times: Mapped[str | None] = mapped_column(String(300))
    #: The person to help (may have no account).
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: The resident's record (app.outcomes), when known: milestones and follow-ups attach to it.
    resident_record_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(string_enum(REQUEST_STATUSES, "help_request_status"), default="new")
    #: When the person agreed that their details are recorded for this help, and who recorded it.
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    consent_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Why the person who asked cancelled it (optional).
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    #: The resident's wish for another time (free text and/or a date), until the team books or
    #: moves the visit.
    time_wish: Mapped[str | None] = mapped_column(String(300))
    time_wish_on: Mapped[date | None]
    time_wish_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The team's promise when the request was filed: working days, and the moment it ends (the
    #: start of the local day after the promised day).
    contact_promise_days: Mapped[int | None]
    contact_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: When the team first contacted the person: booked a visit, recorded a call, or marked the
    #: request "could not reach".
    first_contacted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    unit: Mapped[Unit] = relationship()
    resident: Mapped[User | None] = relationship(foreign_keys=[resident_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    def __repr__(self) -> str:
        return f"<HelpRequest {self.id} {self.skill} {self.status}>"

    @property
    def contact_by(self) -> date | None:
        """The last local day of the team's promise to call."""
        if self.contact_due_at is None:
            return None
        return (self.contact_due_at.astimezone(LOCAL_TZ) - timedelta(days=1)).date()

    def mark_contacted(self, moment: datetime) -> None:
        """The team reached (or tried to reach) the person; only the first time counts."""
        if self.first_contacted_at is None:
            self.first_contacted_at = moment

    def clear_time_wish(self) -> None:
        self.time_wish = self.time_wish_on = self.time_wish_at = None


class Visit(db.Model):
    """A member's support visit at a time and place. On PostgreSQL an exclusion constraint (added
    in the migration) forbids two active visits of one member that overlap in time."""

    __tablename__ = "visits"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        CheckConstraint("minutes_spent IS NULL OR minutes_spent >= 0", name="minutes_not_negative"),
        Index("ix_visits_member_starts", "member_id", "starts_at"),
        Index("ix_visits_unit_starts", "unit_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: Where the visit happens (village or commune), for scope and reports.
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("help_requests.id"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: The resident's record (app.outcomes), when known.
    resident_record_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    skill: Mapped[str] = mapped_column(string_enum(SKILLS, "visit_skill", 30))
    place: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(string_enum(VISIT_STATUSES, "visit_status"), default="booked")
    booked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    # The outcome, recorded when the visit is completed.
    skills_done: Mapped[list | None] = mapped_column(JSON)
    resolved: Mapped[bool | None]
    follow_up_needed: Mapped[bool | None]
    minutes_spent: Mapped[int | None]
    notes: Mapped[str | None] = mapped_column(Text)
    rating: Mapped[int | None]
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    member: Mapped[User] = relationship(foreign_keys=[member_id])
    resident: Mapped[User | None] = relationship(foreign_keys=[resident_id])
    request: Mapped[HelpRequest | None] = relationship()
    unit: Mapped[Unit] = relationship()

    def __repr__(self) -> str:
        return f"<Visit {self.id} member={self.member_id} {self.starts_at:%Y-%m-%d %H:%M} {self.status}>"


class GroupSession(db.Model):
    """A group help session, e.g. Sunday morning at the village cultural house."""

    __tablename__ = "group_sessions"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
        # The counter is raised with a conditional UPDATE, so the database itself keeps sign-ups
        # within capacity even when many arrive at once.
        CheckConstraint("signed_up >= 0 AND signed_up <= capacity", name="within_capacity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    skills: Mapped[list] = mapped_column(JSON, default=list)
    capacity: Mapped[int]
    signed_up: Mapped[int] = mapped_column(default=0)
    #: The member who runs it.
    host_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    unit: Mapped[Unit] = relationship()
    host: Mapped[User] = relationship(foreign_keys=[host_id])
    signups: Mapped[list[SessionSignup]] = relationship(back_populates="session", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<GroupSession {self.id} {self.title!r}>"


class SessionSignup(db.Model):
    __tablename__ = "session_signups"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("group_sessions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    signed_up_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Recorded after the session: True attended, False did not come, None not yet recorded.
    attended: Mapped[bool | None]

    session: Mapped[GroupSession] = relationship(back_populates="signups")
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<SessionSignup session={self.session_id} user={self.user_id}>"


class CalendarFeed(db.Model):
    """The secret address of a member's iCalendar feed; rotating the token revokes the old one."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<CalendarFeed user={self.user_id}>"
