"""What the privacy package stores. Each part keeps its own section."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.db import UTCDateTime, string_enum, utcnow
from app.extensions import db
from app.privacy.purposes import CONSENT_CHANNELS, LEGAL_BASES, PURPOSES

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


# ---- the person's requests and corrections -------------------------------------------------


# ---- erasure ledger ------------------------------------------------------------------------
