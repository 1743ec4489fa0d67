"""What the privacy package stores. Each part keeps its own section."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, string_enum, utcnow
from app.extensions import db

if TYPE_CHECKING:
    from app.auth.models import User
    from app.outcomes.models import Resident


# ---- consent per purpose -------------------------------------------------------------------


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


# ---- erasure ledger ------------------------------------------------------------------------
