"""People who sign in and their roles (their consents: app.privacy.models.PersonConsent)."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Enum, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.db import UTCDateTime, utcnow
from app.extensions import db
from app.units.models import Unit

ROLES = ("admin", "department_manager", "commune_manager", "tech_team", "cadre", "resident")
ROLE_TITLES = {
    "admin": _l("Administrator"),
    "department_manager": _l("Department manager"),
    "commune_manager": _l("Commune manager"),
    "tech_team": _l("Tech-team member"),
    "cadre": _l("Cadre"),
    "resident": _l("Resident"),
}
# scrypt with werkzeug's defaults: memory-hard and salted.
PASSWORD_METHOD = "scrypt"  # noqa: S105 (a hashing method, not a password)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("username = lower(username)", name="username_lowercase"),
        CheckConstraint(
            "birth_year IS NULL OR (birth_year >= 1900 AND birth_year <= 2100)",
            name="birth_year_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    birth_year: Mapped[int | None]
    role: Mapped[str] = mapped_column(
        Enum(*ROLES, name="user_role", native_enum=False, create_constraint=True, length=32)
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    #: Preferred interface language; None means "from the browser".
    locale: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(default=True)
    #: Set for one-time passwords (assisted accounts, admin resets): change at next sign-in.
    must_change_password: Mapped[bool] = mapped_column(default=False)
    #: A team member's choice to see visits' home addresses in their calendar feed and e-mails
    #: about visits; by default those carry the village only (the page shows the address).
    visit_address_in_notices: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: Part of the session identity; raising it signs the user out everywhere.
    session_epoch: Mapped[int] = mapped_column(default=0)
    #: The channels to try for this person's messages, in order (comma-separated names from
    #: app.jobs.models.CHANNELS, e.g. "zalo,sms,in_app"); None: e-mail when there is an
    #: address, else in-app.
    preferred_channels: Mapped[str | None] = mapped_column(String(60))
    #: Who created an assisted account (None for self-managed and seeded accounts).
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Processing restricted at the person's objection (app.privacy.restriction): left out of
    #: scheduling, messages, campaigns and exports until lifted; and who restricted it.
    restricted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    restricted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: When the person's data was erased (app.privacy.erasure): the account is then an anonymous
    #: shell kept for the figures, found by no lookup, list or search.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    unit: Mapped[Unit] = relationship()
    created_by: Mapped[User | None] = relationship(remote_side=[id], foreign_keys=[created_by_id])

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"

    # Flask-Login: the epoch in the id makes every older session cookie stale.
    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def role_title(self) -> str:
        return str(ROLE_TITLES[self.role])

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def end_sessions(self) -> None:
        """Invalidate every session cookie and API token issued so far."""
        self.session_epoch += 1


class RecoveryCode(db.Model):
    """A 6-digit code sent to a person who forgot their password (app/auth/recovery.py).

    Only a keyed hash of the code is kept. A code ends when it is used, when it expires, after
    its last wrong try, or when a newer one is asked for (its expiry is then moved to that moment).
    """

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: HMAC-SHA256 of the account and the code under the server's secret key, in hex.
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: Wrong codes typed so far (a right one is not counted).
    tries: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The network address the code was asked from.
    requested_from: Mapped[str | None] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"<RecoveryCode user={self.user_id} at={self.created_at:%Y-%m-%d %H:%M}>"
