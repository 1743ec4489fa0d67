"""What the privacy package stores. Each part keeps its own section."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime, utcnow
from app.extensions import db

# ---- consent per purpose -------------------------------------------------------------------


# ---- who read whose record -----------------------------------------------------------------


# ---- the person's requests and corrections -------------------------------------------------


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
