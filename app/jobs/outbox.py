"""The outbox: messages are written here first, then sent by `send_due` and shown in-app.

Each message goes by the first channel of the person's order that can carry it (Zalo, SMS,
e-mail; app.jobs.routing): a channel that refuses it for good (not a Zalo user, no template for
its kind, a permanent refusal) passes it to the next channel in the same run; one that is down
keeps it for a later try with the backoff below; quiet hours and the daily cap hold messages to a
phone back. Whatever the channel, a message is handed to a provider at most once, as below (the
mail server's guarantees hold for Zalo and the SMS gateway alike: a timeout after the provider
took it is the one duplicate).

Guarantees:

* **Once per key.** `enqueue` inserts a message under a unique key inside a savepoint; a second
  call with the same key (a job run twice, or two processes at once) creates nothing.
* **Handed over once, resent only when it may not have arrived.** `send_due` claims each
  message (pending → sending) and commits the claim in its own transaction *before* talking to
  the mail server, so two senders at once (two processes, or `flask jobs run-once` beside the
  scheduler) never both send it. Once the server has answered that it accepted a message, the
  message is marked "sent" and never sent again. A process stopped between the claim and that
  mark leaves the message in "sending"; it is never sent again automatically (a duplicate is
  worse than a miss to check by hand). `flask jobs stuck` lists such messages and
  `flask jobs retry ID` sends one again after an admin has checked the mail server's log.
* **The one duplicate.** When the connection drops or times out after the server accepted a
  message but before its answer arrived, the sender cannot tell this from a message that never
  arrived: the message goes back to "pending" and is sent again at a later run. The Message-ID
  stays the same, so mail programs can recognise the repeat.
* **Nothing lost while the mail server is down.** Connection errors and temporary (4xx) refusals
  put the message back to "pending" with exponential backoff (1, 2, 4, … minutes, at most an
  hour); after MAX_ATTEMPTS it becomes "failed". Permanent (5xx) refusals fail at once.

Messages are rendered in the recipient's language (their saved locale, else Vietnamese) from the
text templates in app/templates/email/. A message links to a page by its path, built without a
request (`page_link`), so jobs can write messages too.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import force_locale, format_time
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from werkzeug.routing import BuildError

from app.auth.models import User
from app.db import utcnow
from app.extensions import db
from app.i18n import format_date, format_datetime, format_day_month, format_month
from app.jobs import routing
from app.jobs.channels import (
    Refused,
    Unavailable,
    describe,
    plain_ascii,
    send_zns,
    sms_configured,
    sms_gateway,
    zalo_phone,
    zns_configured,
    zns_templates,
)
from app.jobs.models import Message
from app.jobs.template_data import template_data
from app.links import public_url
from app.monitoring.logs import current_request_id, request_id_context
from app.privacy.consents import may_contact

if TYPE_CHECKING:
    from app.jobs.mail import Mail

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
MAX_BACKOFF = timedelta(hours=1)
#: A claim older than this is reported by `flask jobs stuck`.
STUCK_AFTER = timedelta(minutes=10)


# --- creating messages --------------------------------------------------------------------


def recipient_language(user: User) -> str:
    languages = current_app.config["LANGUAGES"]
    return user.locale if user.locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


def render(template: str, user: User, **context) -> tuple[str, str]:
    """Render app/templates/email/<template>.txt in `user`'s language: (subject, body).

    The template sets `subject` with `{% set subject = _("...") %}`; the rest is the body. It is
    rendered with the Jinja environment alone (no request, no context processors), so it works
    inside scheduled jobs.
    """
    with force_locale(recipient_language(user)):
        module = current_app.jinja_env.get_template(f"email/{template}.txt").make_module(
            {
                "recipient": user,
                "format_date": format_date,
                "format_month": format_month,
                "format_day_month": format_day_month,
                "format_time": format_time,
                "format_datetime": format_datetime,
                **context,
            }
        )
        subject = " ".join(str(module.subject).split())
        body = str(module).strip() + "\n"
    return subject, body


def page_link(endpoint: str, **values) -> str | None:
    """The path of a page, built without a request (jobs run outside one); None if the page does
    not exist."""
    adapter = current_app.url_map.bind(
        current_app.config.get("SERVER_NAME") or "localhost",
        script_name=current_app.config.get("APPLICATION_ROOT") or "/",
    )
    try:
        return adapter.build(endpoint, values)
    except BuildError:
        return None


def enqueue(
    key: str,
    user: User,
    template: str,
    *,
    link: str | None = None,
    now: datetime | None = None,
    purpose: str | None = None,
    **context,
) -> Message | None:
    """Create the message `key` for `user` from the e-mail template `template`, once.

    Returns the new message, or None when a message with this key already exists (also when
    another process inserts it at the same moment), the account is deactivated, or processing is
    restricted for the person (app.privacy.restriction). The message records its kind (the
    template's name), the person's phone and its Zalo template data (app.jobs.template_data);
    it is "pending" when a channel of the person's order could carry it (app.jobs.routing), else
    in-app only (status "no_email", channel "in_app"). Flushes; the caller commits.

    `purpose` is what a message to a resident serves (help_visits for a booked visit's notices,
    messages for reminders); nothing is queued when the person's data may not serve it
    (app.privacy.consents.may_contact: e.g. they withdrew their consent to messages).
    """
    if not user.active or user.restricted_at is not None:
        return None
    if purpose is not None and not may_contact(user, purpose):
        return None
    if db.session.scalar(select(Message.id).where(Message.key == key)) is not None:
        return None
    now = now or utcnow()
    subject, body = render(template, user, **context)
    with force_locale(recipient_language(user)):  # the Zalo template's words too (a skill, a course)
        data = template_data(template, user, context)
    message = Message(
        key=key,
        user_id=user.id,
        email=(user.email or "").strip() or None,
        phone=user.phone or None,
        kind=template,
        template_data=data,
        subject=subject[:300],
        body=body,
        link=link,
        purpose=purpose,
        created_at=now,
        next_attempt_at=now,
        request_id=current_request_id(),
    )
    channels = routing.channels_for(message, user, current_app.config)
    # A pending message's channel is chosen when it is sent; an in-app one is in-app already.
    message.status = "pending" if channels else "no_email"
    message.channel = None if channels else "in_app"
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:
        # The unique key: someone else created it between our check and our insert.
        if db.session.scalar(select(Message.id).where(Message.key == key)) is None:
            raise
        return None
    return message


def existing_keys(keys: list[str]) -> set[str]:
    """Which of `keys` already have a message (one query per 500 keys)."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update(db.session.scalars(select(Message.key).where(Message.key.in_(chunk))))
    return found


# --- in-app -------------------------------------------------------------------------------


def unread_count(user_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Message).where(Message.user_id == user_id, Message.read_at.is_(None))
    )


def mark_all_read(user_id: int, now: datetime | None = None) -> int:
    """Mark the person's unread notifications read; returns how many."""
    result = db.session.execute(
        update(Message)
        .where(Message.user_id == user_id, Message.read_at.is_(None))
        .values(read_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


# --- sending ------------------------------------------------------------------------------


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1, 2, 4, … minutes, at most an hour."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _claim(message_id: int, now: datetime) -> bool:
    """pending → sending, committed on its own, so no other sender (or a restarted one) sends it."""
    result = db.session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == "pending")
        .values(status="sending", claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount == 1


def _finish(message_id: int, from_status: str, **values) -> None:
    db.session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == from_status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _retry_later(
    message_id: int, attempts: int, from_status: str, error: BaseException, now: datetime, **values
) -> str:
    attempts += 1
    status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
    _finish(
        message_id,
        from_status,
        status=status,
        claimed_at=None,
        **values,
        attempts=attempts,
        next_attempt_at=now + backoff(attempts),
        last_error=describe(error),
    )
    return "failed" if status == "failed" else "retry"


#: One SMS: the subject is shortened so that the text, code and link fit when they can.
SMS_LENGTH = 160


def sms_text(message: Message) -> str:
    """The SMS of a message: its subject (with the code of a sign-in or recovery message when
    the subject does not say it) and the link to its page, in one SMS where it fits; unaccented
    when SMS_ASCII is on."""
    subject = message.subject
    if current_app.config["SMS_ASCII"]:
        subject = plain_ascii(subject)
    extra = ""
    code = (message.template_data or {}).get("otp")
    if code and code not in subject:
        extra += f": {code}"
    url = public_url(message.link)
    if url:
        extra += f" {url}"
    room = max(SMS_LENGTH - len(extra), 40)
    if len(subject) > room:
        subject = subject[: room - 3].rstrip() + "..."
    return subject + extra


def _deliver(channel: str, message: Message, mail: Mail, now: datetime) -> str | None:
    """Hand `message` to `channel`; returns the provider's id (None for e-mail). Raises Refused
    or Unavailable (app.jobs.channels)."""
    if channel == "zalo":
        template_id = zns_templates(current_app.config).get(message.kind or "")
        if template_id is None:
            raise Refused("no Zalo template for this kind of message")
        return send_zns(zalo_phone(message.phone), template_id, message.template_data or {}, str(message.id), now)
    if channel == "sms":
        return sms_gateway(current_app.config).send(message.phone, sms_text(message), str(message.id))
    mail.send(message, now)
    return None


def _due_conditions(config) -> list:
    """What a due message needs to be worth a look: a configured channel that could carry it."""
    conditions = []
    if config["MAIL_SERVER"]:
        conditions.append(Message.email.is_not(None))
    if zns_configured(config) or sms_configured(config):
        conditions.append(Message.phone.is_not(None))
    return conditions


def _due(now: datetime, batch: int) -> list[tuple[int, int, bool, str | None]]:
    """(id, attempts, has an e-mail address, request id) of the messages due, oldest first."""
    conditions = _due_conditions(current_app.config)
    if not conditions:
        return []
    due = db.session.execute(
        select(Message.id, Message.attempts, Message.email.is_not(None), Message.request_id)
        .join(User, User.id == Message.user_id)
        # Messages to a person whose processing is restricted wait until it is lifted.
        .where(User.restricted_at.is_(None))
        .where(Message.status == "pending", Message.next_attempt_at <= now, or_(*conditions))
        .order_by(Message.next_attempt_at, Message.id)
        .limit(batch)
    ).all()
    db.session.commit()
    return due


def _read_for_sending(message_id: int) -> tuple[Message, list[str], bool] | None:
    """The message, detached, with the channels to try in order, and whether it waits for a mail
    server; None when it is gone (a moved visit's notices are replaced while pending). Read
    before the claim, so that only the hand-over itself stands between the claim and the
    provider's answer (a sender stopped there leaves the message held)."""
    config = current_app.config
    message = db.session.get(Message, message_id)
    if message is None:
        db.session.commit()
        return None
    channels = routing.channels_for(message, message.user, config, sending=True)
    waits_for_mail = bool(not channels and routing.channels_for(message, message.user, config))
    if message.channel in channels:  # a channel refused it before it had to wait: go on from there
        channels = channels[channels.index(message.channel) :]
    # End the read before anything else (and keep the message as read, detached): on SQLite a
    # transaction that has read cannot start writing once another sender has written since (it
    # fails at once, "database is locked"), and it would fail on the "sent" mark, after the
    # provider took the message.
    db.session.expunge(message)
    db.session.commit()
    return message, channels, waits_for_mail


def _send_one(
    message: Message,
    channels: list[str],
    waits_for_mail: bool,
    attempts: int,
    mail: Mail,
    down: dict[str, str],
    now: datetime,
) -> str | None:
    """Send one claimed message (read by _read_for_sending) by the first of `channels` that
    takes it. `down` holds the channels that were unavailable earlier in this run (with why).
    Returns the outcome for the report ("sent", "retry", "failed"), or None when it waits (quiet
    hours, daily cap) or ends in-app."""
    config = current_app.config
    message_id = message.id
    if waits_for_mail:  # e-mail is its only way and there is no mail server (yet)
        _finish(message_id, "sending", status="pending", next_attempt_at=now + MAX_BACKOFF, claimed_at=None)
        return None
    refusal: BaseException | None = None
    for channel in channels:
        held = routing.held_until(message, channel, now, config)
        db.session.commit()
        if held is not None:
            _finish(message_id, "sending", status="pending", channel=channel, next_attempt_at=held, claimed_at=None)
            return None
        try:
            if channel in down:  # it did not answer earlier in this run: do not wait on it again
                raise Unavailable(down[channel])
            provider_ref = _deliver(channel, message, mail, now)
        except Refused as error:
            log.info("message %s refused by %s: %s", message_id, channel, error)
            refusal = error
            continue
        except Unavailable as error:
            if channel != "email":  # the mail connection keeps its own state
                down.setdefault(channel, str(error))
            return _retry_later(message_id, attempts, "sending", error, now, channel=channel)
        _finish(
            message_id,
            "sending",
            status="sent",
            channel=channel,
            provider_ref=provider_ref,
            sent_at=now,
            attempts=attempts + 1,
            last_error=None,
        )
        log.info("message %s sent by %s", message_id, channel, extra={"message_id": message_id})
        return "sent"
    if refusal is None:  # the person wants it in-app only now
        _finish(message_id, "sending", status="no_email", channel="in_app")
        return None
    _finish(
        message_id, "sending", status="failed", channel="in_app", attempts=attempts + 1, last_error=describe(refusal)
    )
    return "failed"


def _claim_and_send(
    message_id: int, attempts: int, has_email: bool, request_id: str | None, *, mail: Mail, down: dict, now: datetime
) -> str | None:
    """Claim one due message and send it; its outcome, or None when it was deleted meanwhile or
    another sender took it (the claim sees either)."""
    # The lines of its sending (connecting included) carry the id of the request that wrote it.
    with request_id_context(request_id or current_request_id()):
        if has_email and current_app.config["MAIL_SERVER"]:
            mail.open()  # before the claim (see Mail.open)
        read = _read_for_sending(message_id)
        if read is None or not _claim(message_id, now):
            return None
        message, channels, waits_for_mail = read
        return _send_one(message, channels, waits_for_mail, attempts, mail, down, now)


def send_due(now: datetime | None = None, batch: int = 50) -> dict[str, int]:
    """Send up to `batch` pending messages whose time has come, each by the first channel of
    the person's order that takes it (app.jobs.routing): a channel that refuses it for good
    (not a Zalo user, no template, a permanent refusal) passes it to the next at once; one that
    is down keeps it for a later try with backoff; a message held by quiet hours or the daily
    cap waits. Returns counts by outcome ("sent", "retry", "failed"). Commits as it goes
    (claims before sending, results after).

    With no channel configured nothing is sent (messages stay in-app and pending).
    """
    now = now or utcnow()
    report = {"sent": 0, "retry": 0, "failed": 0}
    due = _due(now, batch)
    if not due:
        return report
    from app.jobs.mail import Mail  # smtplib only in the processes that send (app/jobs/mail.py)

    mail, down = Mail(), {}
    try:
        for row in due:
            outcome = _claim_and_send(*row, mail=mail, down=down, now=now)
            if outcome is not None:
                report[outcome] += 1
            if mail.lost:
                break
    finally:
        mail.close()
    return report


def send_now(key: str, now: datetime | None = None) -> str | None:
    """Send the one message `key` now if it is due, as send_due would (same claim, channels,
    holds and backoff), and nothing else: for a page that has just queued something the person
    is waiting for. Returns its outcome ("sent", "retry", "failed"), or None when it was not
    due, not found, or taken by another sender. Commits as send_due does."""
    now = now or utcnow()
    conditions = _due_conditions(current_app.config)
    if not conditions:
        return None
    due = db.session.execute(
        select(Message.id, Message.attempts, Message.email.is_not(None), Message.request_id)
        .join(User, User.id == Message.user_id)
        .where(User.restricted_at.is_(None))
        .where(Message.key == key, Message.status == "pending", Message.next_attempt_at <= now, or_(*conditions))
    ).first()
    db.session.commit()
    if due is None:
        return None
    from app.jobs.mail import Mail

    mail = Mail()
    try:
        return _claim_and_send(*due, mail=mail, down={}, now=now)
    finally:
        mail.close()


# --- for operators ------------------------------------------------------------------------


def stuck_messages(now: datetime | None = None) -> list[Message]:
    """Messages claimed for sending long ago and never marked sent: the process stopped
    mid-send. They may or may not have reached the mail server, so they are not resent."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(Message)
            .where(Message.status == "sending", Message.claimed_at < now - STUCK_AFTER)
            .order_by(Message.claimed_at)
        )
    )


def retry_message(message: Message, now: datetime | None = None) -> bool:
    """Put a stuck ("sending") or failed message back in the queue. Returns False for other
    states. For an operator who has checked it was not delivered."""
    if message.status not in ("sending", "failed") or not (message.email or message.phone):
        return False
    message.status = "pending"
    message.next_attempt_at = now or utcnow()
    message.claimed_at = None
    return True
