"""The personal data of this package's tables, declared in the register (app.privacy.register).

The outbox holds each message with the address it went to and what it said.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.jobs.models import Message
from app.phones import local_format
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
        "phone": MESSAGE,
        # The names, times and places a Zalo template is filled with.
        "template_data": MESSAGE,
        "provider_ref": MESSAGE,
        "delivery_status": MESSAGE,
        "delivered_at": MESSAGE,
    },
    # request_id: a random id of the web request (or job run) that wrote the message, tying it to
    # log lines; it names no one.
    not_personal={
        "id",
        "status",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "purpose",
        "kind",
        "channel",
        "request_id",
    },
)

# A provider's credentials: about the province's account with the provider, no one else.
declare(
    "channel_tokens",
    _l("Message provider tokens"),
    personal={},
    not_personal={"channel", "access_token", "refresh_token", "expires_at", "updated_at"},
)

# Counts and times of the scheduled jobs' runs, for /metrics.
declare(
    "job_runs",
    _l("Runs of scheduled jobs"),
    personal={},
    not_personal={"job", "runs", "failures", "last_started_at", "last_success_at", "last_failure_at"},
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
            phone=local_format(m.phone) or None,
            channel=m.channel,
            delivery_status=m.delivery_status,
            delivered_at=m.delivered_at,
            created_at=m.created_at,
            sent_at=m.sent_at,
            read_at=m.read_at,
        )
        for m in rows
    ]
