"""The personal data of this package's tables, declared in the register (app.privacy.register).

The security audit log records sign-ins and account changes: who, whom, from which address. It is
kept to keep the platform secure, an obligation of whoever holds personal data.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.extensions import db
from app.privacy.register import Personal, declare, exporter
from app.privacy.rows import about, names_of, row

SECURITY = Personal("basic", "security", "legal_obligation", "security_log")

declare(
    "audit_events",
    _l("Security audit log"),
    personal={
        "at": SECURITY,
        "action": SECURITY,
        "actor_id": SECURITY,
        "target_user_id": SECURITY,
        # The name typed at a failed sign-in.
        "username": SECURITY,
        "ip_address": SECURITY,
        "details": SECURITY,
    },
    not_personal={"id"},
)


@exporter("audit_events")
def export_audit_events(subject) -> list[dict]:
    """Events the person did or that were done to their account (the details stay in the log:
    they may name what others changed)."""
    rows = list(
        db.session.scalars(
            select(AuditEvent)
            .where(about(subject, user_columns=[AuditEvent.actor_id, AuditEvent.target_user_id]))
            .order_by(AuditEvent.at, AuditEvent.id)
        )
    )
    names = names_of(e.actor_id for e in rows)
    return [
        row(at=e.at, action=e.action_title, created_by=names.get(e.actor_id), ip_address=e.ip_address) for e in rows
    ]
