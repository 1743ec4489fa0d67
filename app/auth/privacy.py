"""The personal data of this package's tables, declared in the register (app.privacy.register)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.auth.models import CONSENT_TITLES, ROLE_TITLES, Consent, User
from app.extensions import db
from app.privacy.register import Personal, declare, exporter
from app.privacy.rows import about, names_of, row

# The account is held for a task of the province's programme (training cadres and residents).
ACCOUNT = Personal("basic", "account", "state_task", "account")
# Sign-in secrets and records keep the platform secure, which the law requires of whoever holds data.
SECURITY = Personal("basic", "security", "legal_obligation", "account")

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
        "created_by_id": SECURITY,
        "created_at": ACCOUNT,
        "last_login_at": SECURITY,
    },
    # The state of the account: says nothing about the person once the fields above are gone.
    # erased_at: when the account was erased (app.privacy.erasure); nothing about the person is left.
    not_personal={"id", "active", "must_change_password", "session_epoch", "erased_at"},
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
            phone=user.phone,
            birth_year=user.birth_year,
            role=ROLE_TITLES[user.role],
            unit=user.unit.display_name,
            language=user.locale,
            active=user.active,
            created_at=user.created_at,
            created_by=creator,
            last_login_at=user.last_login_at,
        )
    ]


# Consents are the evidence that data is held lawfully; they stay while the account does.
CONSENT = Personal("basic", "account", "legal_obligation", "account")

declare(
    "consents",
    _l("Consents given for an account"),
    personal={
        "user_id": CONSENT,
        "purpose": CONSENT,
        "given_at": CONSENT,
        "recorded_by_id": CONSENT,
        "withdrawn_at": CONSENT,
        "note": CONSENT,
    },
    not_personal={"id"},
)


@exporter("consents")
def export_consents(subject) -> list[dict]:
    consents = list(
        db.session.scalars(
            select(Consent).where(about(subject, user_columns=[Consent.user_id])).order_by(Consent.given_at)
        )
    )
    names = names_of(c.recorded_by_id for c in consents)
    return [
        row(
            purpose=CONSENT_TITLES.get(c.purpose, c.purpose),
            given_at=c.given_at,
            recorded_by=names.get(c.recorded_by_id),
            withdrawn_at=c.withdrawn_at,
            note=c.note,
        )
        for c in consents
    ]
