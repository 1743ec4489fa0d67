"""What the privacy package stores. Each part keeps its own section."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.db import UTCDateTime, string_enum, utcnow
from app.extensions import db
from app.outcomes.models import Resident
from app.privacy.deadlines import REQUEST_PERIODS
from app.privacy.purposes import CONSENT_CHANNELS, LEGAL_BASES, PURPOSES
from app.units.models import Unit

# ---- consent per purpose -------------------------------------------------------------------

_ACTIVE = text("withdrawn_at IS NULL")


class PersonConsent(db.Model):
    """The basis one person's data is held on for one purpose: a consent (with the notice shown,
    the channel, who recorded it, and its withdrawal) or another legal basis such as a state task.

    A row belongs to a resident record or to an account, never both: a person with both has their
    rows on the resident record (app.privacy.consents decides). At most one row per person and
    purpose is active (not withdrawn); a withdrawn (or, for another basis,
    replaced) row stays as the history of the decision.
    """

    __tablename__ = "person_consents"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (resident_id IS NULL)", name="one_person"),
        CheckConstraint("basis <> 'consent' OR channel IS NOT NULL", name="consent_has_channel"),
        Index(
            "uq_person_consents_active_resident",
            "resident_id",
            "purpose",
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        ),
        Index(
            "uq_person_consents_active_user",
            "user_id",
            "purpose",
            unique=True,
            sqlite_where=_ACTIVE,
            postgresql_where=_ACTIVE,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(string_enum(PURPOSES, "person_consent_purpose", 40))
    basis: Mapped[str] = mapped_column(string_enum(LEGAL_BASES, "person_consent_basis", 30))
    #: How the consent was given (None for another basis recorded without one).
    channel: Mapped[str | None] = mapped_column(string_enum(CONSENT_CHANNELS, "person_consent_channel", 20))
    #: The privacy notice shown (app.privacy.purposes.NOTICE_VERSION then); None for decisions
    #: carried over from before the notice had versions.
    notice_version: Mapped[str | None] = mapped_column(String(20))
    #: The evidence of a consent on paper (the form's reference), or of an import's basis.
    evidence: Mapped[str | None] = mapped_column(String(200))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])

    def __repr__(self) -> str:
        owner = f"resident={self.resident_id}" if self.resident_id else f"user={self.user_id}"
        return f"<PersonConsent {self.purpose} {self.basis} {owner}>"

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


# ---- who read whose record -----------------------------------------------------------------

#: What kind of read a row records.
READ_KINDS = {
    "resident_page": _l("Resident's page"),
    "person_page": _l("Person's page"),
    "list": _l("List"),
    "export": _l("Export or print"),
    "api": _l("API read"),
}


class PersonalDataRead(db.Model):
    """One person's record shown to someone: who read it, when, how and where. Kept apart from
    the security audit (app.audit): this answers "who read my record", not "who signed in".

    Rows are written in bulk by app.privacy.access_log.record_read, one per person shown. When
    the person read is erased, their rows stay with the link to them dropped (both subject
    columns NULL), so what each reader read is still counted."""

    __tablename__ = "personal_data_reads"
    __table_args__ = (
        Index("ix_personal_data_reads_resident_id_read_at", "resident_id", "read_at"),
        Index("ix_personal_data_reads_user_id_read_at", "user_id", "read_at"),
        Index("ix_personal_data_reads_reader_id_read_at", "reader_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    #: Who read (None once that account is deleted).
    reader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Whose record: a resident record, an account, or both when the record is linked to one.
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(string_enum(READ_KINDS, "read_kind"))
    #: Where it was read: the page's endpoint ("outcomes.resident") or the API call
    #: ("GET /api/v1/residents/{resident_id}").
    endpoint: Mapped[str] = mapped_column(String(120))

    reader: Mapped[User | None] = relationship("User", foreign_keys=[reader_id])
    resident: Mapped[Resident | None] = relationship("Resident")
    person: Mapped[User | None] = relationship("User", foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<PersonalDataRead {self.id} by={self.reader_id} resident={self.resident_id} user={self.user_id}>"


# ---- the person's requests and corrections -------------------------------------------------

REQUEST_KINDS = tuple(REQUEST_PERIODS)
#: What a request asks for, as staff and the officer read it.
REQUEST_KIND_TITLES = {
    "access": _l("Access to the data (see or download)"),
    "correction": _l("Correction"),
    "withdrawal": _l("Withdrawal of a consent"),
    "objection": _l("Objection or restriction of processing"),
    "erasure": _l("Erasure"),
}
#: The same, as the person asks it.
REQUEST_KIND_CHOICES = {
    "access": _l("See or download my data"),
    "correction": _l("Correct my data"),
    "withdrawal": _l("Withdraw a consent"),
    "objection": _l("Object to or restrict processing"),
    "erasure": _l("Erase my data"),
}
REQUEST_OUTCOMES = ("done", "refused", "withdrawn")
REQUEST_OUTCOME_TITLES = {
    "done": _l("Done"),
    "refused": _l("Refused (with the reason)"),
    "withdrawn": _l("Withdrawn by the person"),
}


class PersonRequest(db.Model):
    """A person's request about their own data, with the law's deadlines
    (app.privacy.deadlines). About an account, a resident record, or both."""

    __tablename__ = "person_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(string_enum(REQUEST_KINDS, "person_request_kind"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="SET NULL"), index=True)
    #: The person's unit when the request was filed: whose area's staff see it.
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    #: The person themselves, or a member or manager acting for them.
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: What the person asks, in their words.
    details: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Last day (local) to acknowledge, and to carry the request out.
    acknowledge_by: Mapped[date]
    due_by: Mapped[date]
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    outcome: Mapped[str | None] = mapped_column(string_enum(REQUEST_OUTCOMES, "person_request_outcome"))
    #: What was done, or why it was refused.
    note: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    resident: Mapped[Resident | None] = relationship(foreign_keys=[resident_id])
    unit: Mapped[Unit] = relationship()
    filed_by: Mapped[User | None] = relationship(foreign_keys=[filed_by_id])
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])

    def __repr__(self) -> str:
        return f"<PersonRequest {self.id} {self.kind}>"

    @property
    def kind_title(self) -> str:
        return str(REQUEST_KIND_TITLES[self.kind])

    @property
    def status(self) -> str:
        if self.closed_at is not None:
            return "closed"
        return "acknowledged" if self.acknowledged_at is not None else "new"

    @property
    def person_name(self) -> str:
        person = self.resident or self.user
        return person.full_name if person is not None else ""


class PersonalDataCorrection(db.Model):
    """One field of one row changed at the person's request (or by staff for them): the history
    of corrections."""

    __tablename__ = "personal_data_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "users" or "residents", and the row's id.
    table_name: Mapped[str] = mapped_column(String(60))
    row_id: Mapped[int] = mapped_column(index=True)
    field: Mapped[str] = mapped_column(String(60))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    corrected_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    corrected_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("person_requests.id", ondelete="SET NULL"))

    corrected_by: Mapped[User | None] = relationship(foreign_keys=[corrected_by_id])

    def __repr__(self) -> str:
        return f"<PersonalDataCorrection {self.table_name}.{self.field} row={self.row_id}>"


# ---- erasure ledger ------------------------------------------------------------------------


class Erasure(db.Model):
    """One erasure of a person, by ids alone (no names), so that `flask privacy reapply` can erase
    them again after a backup taken before it is restored."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The subject's account and resident records at the time (plain ids: a restored backup may
    #: hold them again, an older one may not).
    user_id: Mapped[int | None]
    resident_ids: Mapped[list] = mapped_column(JSON, default=list)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    #: The person's request this erasure answers, when there is one.
    request_id: Mapped[int | None]
    #: What was erased and what was kept, and why: {"erased": [...], "kept": [{"what", "why"}]}.
    report: Mapped[dict] = mapped_column(JSON, default=dict)

    def __repr__(self) -> str:
        return f"<Erasure {self.id} user={self.user_id} residents={self.resident_ids}>"
