"""What the privacy package stores. Each part keeps its own section."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.db import UTCDateTime, string_enum, utcnow
from app.extensions import db
from app.outcomes.models import Resident
from app.privacy.deadlines import REQUEST_PERIODS
from app.units.models import Unit

# ---- consent per purpose -------------------------------------------------------------------


# ---- who read whose record -----------------------------------------------------------------


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
