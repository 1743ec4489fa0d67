"""The personal data of this package's tables, declared in the register (app.privacy.register).

The outbox holds each message with the address it went to and what it said.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.jobs.models import Message
from app.privacy.register import Personal, declare, exporter
from app.privacy.rows import about, row

MESSAGE = Personal("basic", "messages", "consent", "messages")

declare(
    "messages",
    _l("Messages and notifications"),
    personal={
        # The key names the person and what the message is about (e.g. a visit reminder).
        "key": MESSAGE,
        "user_id": MESSAGE,
        "email": MESSAGE,
        "subject": MESSAGE,
        "body": MESSAGE,
        "link": MESSAGE,
        "created_at": MESSAGE,
        "sent_at": MESSAGE,
        "read_at": MESSAGE,
        # A mail server's refusal usually quotes the address.
        "last_error": MESSAGE,
    },
    not_personal={"id", "status", "attempts", "next_attempt_at", "claimed_at"},
)


@exporter("messages")
def export_messages(subject) -> list[dict]:
    rows = db.session.scalars(
        select(Message).where(about(subject, user_columns=[Message.user_id])).order_by(Message.created_at)
    )
    return [
        row(
            subject=m.subject,
            body=m.body,
            email=m.email,
            created_at=m.created_at,
            sent_at=m.sent_at,
            read_at=m.read_at,
        )
        for m in rows
    ]
