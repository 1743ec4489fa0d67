"""The outbox: every message (e-mail and in-app notification) is a row here first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.db import UTCDateTime, utcnow
from app.extensions import db

MESSAGE_STATUSES = ("pending", "sending", "sent", "failed", "no_email")
#: The ways a message reaches a person, in the words of settings and the API.
CHANNELS = ("zalo", "sms", "email", "in_app")
#: What a delivery receipt from a provider says became of a message.
RECEIPT_STATUSES = ("delivered", "failed")


class Message(db.Model):
    """One message to one person. `key` is unique, so the job that creates a message can run
    any number of times and still create it once; the sender claims a message (pending →
    sending) in its own committed transaction before talking to SMTP, so it is sent at most once
    even if the process is stopped mid-run."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: None when the person has no e-mail: the message is then in-app only.
    email: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    #: A page the in-app notification links to.
    link: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[str] = mapped_column(
        Enum(*MESSAGE_STATUSES, name="message_status", native_enum=False, create_constraint=True, length=20),
        default="pending",
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(500))
    #: The purpose a message to a resident serves (app.privacy.purposes: help_visits, messages);
    #: None for staff work and account security. A withdrawn consent deletes its pending messages.
    purpose: Mapped[str | None] = mapped_column(String(40))
    #: In-app: when the person opened their notifications.
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: What the message is (its template's name, e.g. visit_booked): picks the Zalo template.
    kind: Mapped[str | None] = mapped_column(String(60))
    #: The channel that carried the message (or is carrying it): one of CHANNELS.
    channel: Mapped[str | None] = mapped_column(String(10))
    #: The person's phone (E.164) when the message was written, for Zalo and SMS.
    phone: Mapped[str | None] = mapped_column(String(32))
    #: The values a Zalo template is filled with (short texts by parameter name).
    template_data: Mapped[dict | None] = mapped_column(JSON)
    #: The provider's id of the message, which its delivery receipts quote.
    provider_ref: Mapped[str | None] = mapped_column(String(100), index=True)
    #: What the provider's receipt said (RECEIPT_STATUSES), and when.
    delivery_status: Mapped[str | None] = mapped_column(String(20))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: The id of the web request that wrote the message (app.monitoring.logs), so the log lines
    #: of its sending can be found beside those of the request; None when a job wrote it.
    request_id: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Message {self.key} {self.status}>"


class ChannelToken(db.Model):
    """A provider's current access token (Zalo's expires and is renewed with a refresh token
    that can be used once). Kept in the database so every app node and the scheduler share it."""

    __tablename__ = "channel_tokens"

    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    access_token: Mapped[str | None] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class JobRun(db.Model):
    """How often each scheduled job ran and failed, and when, written by the scheduler that ran
    it (app.jobs.scheduler.run_job), so /metrics of any node can report it."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(60), primary_key=True)
    runs: Mapped[int] = mapped_column(default=0)
    failures: Mapped[int] = mapped_column(default=0)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
