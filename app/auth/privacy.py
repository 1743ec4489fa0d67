"""The personal data of this package's tables, declared in the register (app.privacy.register)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.auth.models import ROLE_TITLES, RecoveryCode, User
from app.extensions import db
from app.phones import local_format
from app.privacy.register import Personal, declare, exporter
from app.privacy.rows import names_of, row

# The account is held for a task of the province's programme (training cadres and residents).
ACCOUNT = Personal("basic", "account", "state_task", "account")
# Sign-in secrets and records keep the platform secure, which the law requires of whoever holds data.
SECURITY = Personal("basic", "security", "legal_obligation", "account")
# Processing restricted at the person's objection (app.privacy.restriction), and by whom.
RESTRICTION = Personal("basic", "data_requests", "legal_obligation", "account")
# Codes for a forgotten password: kept a day, for the limits and in case of abuse.
RECOVERY = Personal("basic", "security", "legal_obligation", "recovery_code")

declare(
    "users",
    _l("Accounts"),
    personal={
        "username": ACCOUNT,
        "password_hash": SECURITY,
        "full_name": ACCOUNT,
        "email": ACCOUNT,
        "phone": Personal("basic", "account", "state_task", "inactive_phone"),
        "birth_year": ACCOUNT,
        "role": ACCOUNT,
        # Where the person lives or works.
        "unit_id": ACCOUNT,
        "locale": ACCOUNT,
        # How the person wants to be reached.
        "preferred_channels": Personal("basic", "messages", "consent", "account"),
        "created_by_id": SECURITY,
        "created_at": ACCOUNT,
        "last_login_at": SECURITY,
        "restricted_at": RESTRICTION,
        "restricted_by_id": RESTRICTION,
    },
    # The state of the account: says nothing about the person once the fields above are gone.
    # erased_at: when the account was erased (app.privacy.erasure); nothing about the person is left.
    not_personal={"id", "active", "must_change_password", "session_epoch", "visit_address_in_notices", "erased_at"},
)


@exporter("users")
def export_users(subject) -> list[dict]:
    if subject.user_id is None:
        return []
    user = db.session.get(User, subject.user_id)
    creator = names_of([user.created_by_id]).get(user.created_by_id)
    return [
        row(
            username=user.username,
            full_name=user.full_name,
            email=user.email,
            phone=local_format(user.phone) or None,
            birth_year=user.birth_year,
            role=ROLE_TITLES[user.role],
            unit=user.unit.display_name,
            language=user.locale,
            preferred_channels=user.preferred_channels,
            active=user.active,
            created_at=user.created_at,
            created_by=creator,
            last_login_at=user.last_login_at,
        )
    ]


declare(
    "recovery_codes",
    _l("Codes for a forgotten password"),
    personal={
        "user_id": RECOVERY,
        # A keyed hash of the code: says nothing without the server's key, but it is the person's.
        "code_hash": RECOVERY,
        "created_at": RECOVERY,
        "expires_at": RECOVERY,
        "tries": RECOVERY,
        "used_at": RECOVERY,
        "requested_from": RECOVERY,
    },
    not_personal={"id"},
)


@exporter("recovery_codes")
def export_recovery_codes(subject) -> list[dict]:
    if subject.user_id is None:
        return []
    codes = db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == subject.user_id).order_by(RecoveryCode.created_at)
    )
    # Never the hash: it is a secret of the server's, not information about the person.
    return [
        row(
            asked_at=code.created_at,
            expires_at=code.expires_at,
            wrong_tries=code.tries,
            used_at=code.used_at,
            asked_from=code.requested_from,
        )
        for code in codes
    ]
