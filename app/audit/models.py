"""An append-only log of security-relevant events."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.db import UTCDateTime, utcnow
from app.extensions import db

ACTION_TITLES = {
    "login": _l("Signed in"),
    "login_failed": _l("Failed sign-in"),
    "login_throttled": _l("Sign-in blocked by the rate limit"),
    "sign_in_attack": _l("Many wrong passwords tried on an account"),
    "logout": _l("Signed out"),
    "password_changed": _l("Password changed"),
    "password_reset": _l("One-time password issued"),
    "recovery_requested": _l("Code for a forgotten password asked for"),
    "recovery_throttled": _l("Forgotten-password code blocked by the rate limit"),
    "recovery_failed": _l("Wrong code for a forgotten password"),
    "recovery_locked": _l("Forgotten-password code ended after too many wrong tries"),
    "password_recovered": _l("New password chosen with a code"),
    "user_created": _l("User created"),
    "assisted_account_created": _l("Assisted account created"),
    "user_updated": _l("User changed"),
    "user_deactivated": _l("User deactivated"),
    "user_reactivated": _l("User reactivated"),
    "api_token_issued": _l("API token issued"),
    "units_imported": _l("Units imported"),
    "residents_imported": _l("Household list imported"),
    "resident_added": _l("Resident record added"),
    "resident_account_linked": _l("Account linked to a resident record"),
    "milestone_recorded": _l("Milestone recorded"),
    "quiz_attempts_reset": _l("Quiz attempts given back"),
    "ledger_month_closed": _l("Ledger month closed"),
    "visit_override": _l("Visit booked or moved outside the member's hours"),
    "help_request_status": _l("Help request status changed"),
    "processing_restricted": _l("Processing of a person's data restricted"),
    "processing_restriction_lifted": _l("Restriction of processing lifted"),
}


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    target_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    #: The username typed at a failed sign-in (the account may not exist).
    username: Mapped[str | None] = mapped_column(String(64))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    #: What changed, e.g. {"role": ["cadre", "commune_manager"]}; never passwords or tokens.
    details: Mapped[dict | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    target_user: Mapped[User | None] = relationship(foreign_keys=[target_user_id])

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} actor={self.actor_id} at={self.at:%Y-%m-%d %H:%M}>"

    @property
    def action_title(self) -> str:
        title = ACTION_TITLES.get(self.action)
        return str(title) if title else self.action
