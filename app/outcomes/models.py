"""Digital-inclusion outcomes: households and residents (with or without an account), the
milestones they reach, confidence self-assessments, follow-ups, door-to-door campaigns and the
members' monthly ledger."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.db import UTCDateTime, string_enum, utcnow
from app.extensions import db
from app.learning.models import translated
from app.units.models import Unit

CONFIRMATIONS = ("seen_on_phone", "resident_word", "document")
CONFIRMATION_TITLES = {
    "seen_on_phone": _l("Seen on the phone"),
    "resident_word": _l("Resident's word"),
    "document": _l("Document"),
}
FOLLOW_UP_STATUSES = ("open", "done", "cancelled")
WALK_STATUSES = ("pending", "reached", "not_home", "declined")
WALK_STATUS_TITLES = {
    "pending": _l("Not visited yet"),
    "reached": _l("Reached"),
    "not_home": _l("Not at home"),
    "declined": _l("Declined"),
}
#: What a member records at a household (every list starts at "pending").
RECORDED_STATUSES = ("reached", "not_home", "declined")
ASSESSMENT_STAGES = ("first_contact", "close")
#: Adults are counted from this age (in the year of counting).
ADULT_AGE = 18


class Household(db.Model):
    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("unit_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The village or residential group.
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    #: The commune's own household number, used to match rows when a list is imported again.
    code: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    unit: Mapped[Unit] = relationship()
    residents: Mapped[list[Resident]] = relationship(back_populates="household", order_by="Resident.id")

    def __repr__(self) -> str:
        return f"<Household {self.code} unit={self.unit_id}>"


class Resident(db.Model):
    """A person the teams help. Needs no login; `user_id` links an account when there is one."""

    __tablename__ = "residents"
    __table_args__ = (
        UniqueConstraint("unit_id", "code"),
        CheckConstraint("birth_year IS NULL OR (birth_year >= 1900 AND birth_year <= 2100)", name="birth_year_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    #: The commune's own person number from the imported list (None for people added by hand).
    code: Mapped[str | None] = mapped_column(String(40))
    full_name: Mapped[str] = mapped_column(String(200))
    birth_year: Mapped[int | None]
    phone: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    #: Consent to keep this record for digital-skills support, and who recorded it.
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consent_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Processing restricted at the person's objection (app.privacy.restriction), and by whom.
    restricted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    restricted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: When the person's data was erased (app.privacy.erasure): the record is then an anonymous
    #: shell kept for the province's figures, found by no lookup, list or search.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    unit: Mapped[Unit] = relationship()
    household: Mapped[Household | None] = relationship(back_populates="residents")
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<Resident {self.id} {self.full_name!r}>"

    def is_adult(self, year: int) -> bool:
        return self.birth_year is None or year - self.birth_year >= ADULT_AGE


class Milestone(db.Model):
    __tablename__ = "milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(60), unique=True)
    names: Mapped[dict] = mapped_column(JSON)
    #: Skill keys (app.visits.models.SKILLS) whose help leads to this milestone.
    skills: Mapped[list] = mapped_column(JSON, default=list)
    #: "course-slug/module-key" of the modules that teach it.
    modules: Mapped[list] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    def __repr__(self) -> str:
        return f"<Milestone {self.key}>"

    @property
    def name(self) -> str:
        return translated(self.names)


class ResidentMilestone(db.Model):
    """A milestone reached: once per resident and milestone. Every later confirmation is kept
    as evidence."""

    __tablename__ = "resident_milestones"
    __table_args__ = (UniqueConstraint("resident_id", "milestone_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id"), index=True)
    reached_on: Mapped[date]
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    resident: Mapped[Resident] = relationship()
    milestone: Mapped[Milestone] = relationship()

    def __repr__(self) -> str:
        return f"<ResidentMilestone resident={self.resident_id} milestone={self.milestone_id}>"


class MilestoneEvidence(db.Model):
    __tablename__ = "milestone_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id"), index=True)
    on_date: Mapped[date]
    confirmation: Mapped[str] = mapped_column(string_enum(CONFIRMATIONS, "milestone_confirmation"))
    #: The member who helped (None when reached without help, e.g. confirmed by a document).
    helped_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("group_sessions.id"), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("training_classes.id"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    milestone: Mapped[Milestone] = relationship()
    helped_by: Mapped[User | None] = relationship(foreign_keys=[helped_by_id])

    def __repr__(self) -> str:
        return f"<MilestoneEvidence resident={self.resident_id} milestone={self.milestone_id} {self.on_date}>"


class ConfidenceAssessment(db.Model):
    """The resident's own 1–5 rating of a few statements, at first contact and at the close."""

    __tablename__ = "confidence_assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(string_enum(ASSESSMENT_STAGES, "assessment_stage"))
    taken_on: Mapped[date]
    #: statement key -> 1..5
    answers: Mapped[dict] = mapped_column(JSON)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<ConfidenceAssessment resident={self.resident_id} {self.stage}>"


class FollowUp(db.Model):
    """A dated next step for a resident, e.g. after an unresolved visit."""

    __tablename__ = "follow_ups"
    __table_args__ = (Index("ix_follow_ups_status_due", "status", "due_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), unique=True)
    #: Where the resident lives, for scope and the team's list.
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    #: Who should take the next step (usually the member of the visit).
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    due_on: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(string_enum(FOLLOW_UP_STATUSES, "follow_up_status"), default="open")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    resident: Mapped[Resident | None] = relationship()
    unit: Mapped[Unit] = relationship()
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])

    def __repr__(self) -> str:
        return f"<FollowUp {self.id} due {self.due_on} {self.status}>"


class Campaign(db.Model):
    """A door-to-door drive for one milestone in some villages, e.g. e-ID activation this month."""

    __tablename__ = "campaigns"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id"))
    #: The commune or ward that runs it.
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    #: Codes of the villages targeted.
    village_codes: Mapped[list] = mapped_column(JSON)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    milestone: Mapped[Milestone] = relationship()
    unit: Mapped[Unit] = relationship()
    entries: Mapped[list[WalkListEntry]] = relationship(back_populates="campaign", cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<Campaign {self.id} {self.name!r}>"


class WalkListEntry(db.Model):
    """One household on a campaign's walk list, assigned to one member."""

    __tablename__ = "walk_list_entries"
    __table_args__ = (UniqueConstraint("campaign_id", "household_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: Order on the member's list (by village, then address).
    position: Mapped[int]
    status: Mapped[str] = mapped_column(string_enum(WALK_STATUSES, "walk_status"), default="pending")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(String(300))

    campaign: Mapped[Campaign] = relationship(back_populates="entries")
    household: Mapped[Household] = relationship()
    member: Mapped[User] = relationship(foreign_keys=[member_id])

    def __repr__(self) -> str:
        return f"<WalkListEntry campaign={self.campaign_id} household={self.household_id} {self.status}>"


class LedgerMonth(db.Model):
    """A member's figures for a closed month, frozen so they can back support payments."""

    __tablename__ = "ledger_months"
    __table_args__ = (
        UniqueConstraint("member_id", "month"),
        CheckConstraint("hours_minutes >= 0", name="minutes_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    #: First day of the month.
    month: Mapped[date] = mapped_column(index=True)
    visits: Mapped[int]
    sessions: Mapped[int]
    #: Time spent, in minutes (visits as recorded, sessions as scheduled).
    hours_minutes: Mapped[int]
    residents_helped: Mapped[int]
    milestones_confirmed: Mapped[int]
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    member: Mapped[User] = relationship(foreign_keys=[member_id])

    def __repr__(self) -> str:
        return f"<LedgerMonth member={self.member_id} {self.month:%Y-%m}>"


class ClosedMonth(db.Model):
    """A month closed for the whole province: its ledger rows are final."""

    __tablename__ = "closed_months"

    month: Mapped[date] = mapped_column(primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<ClosedMonth {self.month:%Y-%m}>"
