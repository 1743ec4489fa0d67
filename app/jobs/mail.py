"""E-mail, a channel of the outbox (app.jobs.outbox): the SMTP connection of one sending run and
the message it hands over. The outbox imports it when a run sends, so a web worker that only
queues messages does not load smtplib and the e-mail header classes (tests/test_lean_start.py)."""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import datetime
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime as email_date
from email.utils import parseaddr

from flask import current_app

from app.jobs.channels import Refused, Unavailable, describe
from app.jobs.models import Message
from app.links import public_url

#: The outbox's logger: sending is one story in the log, whatever module tells it.
log = logging.getLogger("app.jobs.outbox")

SMTP_TIMEOUT_SECONDS = 20


def _is_permanent(error: smtplib.SMTPException) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return isinstance(error, smtplib.SMTPNotSupportedError)


def _connect() -> smtplib.SMTP:
    config = current_app.config
    smtp = smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=SMTP_TIMEOUT_SECONDS)
    try:
        smtp.ehlo_or_helo_if_needed()  # the greeting belongs to connecting (see Mail.open)
        if config["MAIL_USE_TLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    except BaseException:
        smtp.close()
        raise
    return smtp


def build_email(message: Message, now: datetime) -> EmailMessage:
    sender = current_app.config["MAIL_FROM"]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    email = EmailMessage()
    email["From"] = sender
    email["To"] = Address(addr_spec=message.email)
    email["Subject"] = message.subject
    email["Date"] = email_date(now)
    # Stable per message: a mail server that sees it twice can tell it is the same message.
    email["Message-ID"] = f"<outbox-{message.id}-{int(message.created_at.timestamp())}@{domain}>"
    email["Auto-Submitted"] = "auto-generated"
    body = message.body
    url = public_url(message.link)
    if url:
        body = f"{body.rstrip()}\n\n{url}\n"
    email.set_content(body, charset="utf-8")
    return email


class Mail:
    """The SMTP connection of one run, opened at the first e-mail. `send` raises Refused for a
    permanent refusal or an address that cannot be sent, Unavailable for a temporary one;
    `lost` is set when the connection dropped (the rest of the run waits for the next)."""

    def __init__(self):
        self.smtp: smtplib.SMTP | None = None
        self.down: BaseException | None = None
        self.lost = False

    def open(self) -> None:
        """Connect (once per run; a server that is down is remembered as `down`). Called before
        the first e-mail is claimed, so that connecting, the slow part with TLS and a login, is not
        between a claim and the hand-over, where a stopped sender leaves a message held."""
        if self.smtp is not None or self.down is not None:
            return
        try:
            self.smtp = _connect()
        except (OSError, smtplib.SMTPException) as error:
            # The server is down or refuses us: every e-mail of this run waits, none is lost.
            log.warning("mail server unavailable: %s", describe(error))
            self.down = error

    def send(self, message: Message, now: datetime) -> None:
        try:
            email = build_email(message, now)
        except (ValueError, TypeError, MessageError) as error:  # an address that cannot be sent
            raise Refused(describe(error)) from error
        self.open()
        if self.down is not None:
            raise Unavailable(describe(self.down))
        try:
            self.smtp.send_message(email)
        except smtplib.SMTPException as error:
            self.lost = isinstance(error, smtplib.SMTPServerDisconnected)
            if _is_permanent(error):
                raise Refused(describe(error)) from error
            raise Unavailable(describe(error)) from error
        except OSError as error:  # connection lost mid-run: the rest waits for the next run
            self.lost = True
            raise Unavailable(describe(error)) from error

    def close(self) -> None:
        if self.smtp is None:
            return
        try:
            self.smtp.quit()
        except (OSError, smtplib.SMTPException):
            self.smtp.close()
