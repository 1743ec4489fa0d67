"""A sender stopped between claiming a message and handing it over leaves it held (never resent
automatically: the outbox's at-most-once rule), so nothing but the hand-over stands in that
window: the mail connection (with TLS and a login, the slow part) is opened, and the message read
and routed, before it is claimed."""

from __future__ import annotations

import time
from datetime import timedelta

from aiosmtpd.controller import Controller
from sqlalchemy import event

from app.extensions import db as _db
from app.jobs.outbox import enqueue, send_due
from tests.jobs.conftest import Mailbox


class GreetingClock(Mailbox):
    """A mailbox that notes when each client greets it (EHLO)."""

    def __init__(self):
        super().__init__()
        self.greeted: list[float] = []

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.greeted.append(time.monotonic())
        session.host_name = hostname
        return responses


def test_the_mail_connection_is_open_before_a_message_is_claimed(db, world, mail_port):
    visit = world.book(timedelta(days=2))
    enqueue("test:window", world.member, "outcome_nudge", visit=visit, skill="eID")
    db.session.commit()
    mailbox = GreetingClock()
    controller = Controller(mailbox, hostname="127.0.0.1", port=mail_port)
    controller.start()
    claims: list[float] = []
    statements: list[str] = []

    def note_claims(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()).upper())
        if statement.lstrip().upper().startswith("UPDATE MESSAGES") and "claimed_at" in statement:
            claims.append(time.monotonic())

    engine = _db.engine
    event.listen(engine, "before_cursor_execute", note_claims)
    try:
        assert send_due() == {"sent": 1, "retry": 0, "failed": 0}
    finally:
        event.remove(engine, "before_cursor_execute", note_claims)
        controller.stop()
    assert len(mailbox.messages) == 1
    assert mailbox.greeted and claims
    assert mailbox.greeted[0] < claims[0]
    # Between the claim and the "sent" mark: no query, only the hand-over.
    claim = next(n for n, sql in enumerate(statements) if sql.startswith("UPDATE MESSAGES") and "CLAIMED_AT" in sql)
    sent = next(n for n, sql in enumerate(statements) if n > claim and sql.startswith("UPDATE MESSAGES"))
    assert not [sql for sql in statements[claim + 1 : sent] if sql.startswith("SELECT")]


def test_a_mail_server_that_is_down_before_the_claim_still_keeps_the_message(db, world, mail_port):
    visit = world.book(timedelta(days=2))
    enqueue("test:down", world.member, "outcome_nudge", visit=visit, skill="eID")
    db.session.commit()
    # Nothing listens on the port: the message waits for a later run, with its backoff.
    assert send_due() == {"sent": 0, "retry": 1, "failed": 0}


def test_a_message_deleted_after_the_sender_listed_it_is_skipped(db, world, smtp):
    """A visit moved while the sender works replaces its pending notices: the sender listed a
    message that is gone when it reads it. It goes on with the others."""
    visit = world.book(timedelta(days=2))
    gone = enqueue("test:gone", world.member, "outcome_nudge", visit=visit, skill="eID")
    kept = enqueue("test:kept", world.resident, "outcome_nudge", visit=visit, skill="eID")
    db.session.commit()
    gone_id = gone.id

    def delete_after_listing(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "next_attempt_at <=" in statement:
            conn.exec_driver_sql(f"DELETE FROM messages WHERE id = {int(gone_id)}")  # as the move does

    engine = _db.engine
    event.listen(engine, "after_cursor_execute", delete_after_listing)
    try:
        assert send_due() == {"sent": 1, "retry": 0, "failed": 0}
    finally:
        event.remove(engine, "after_cursor_execute", delete_after_listing)
    assert [m["Message-ID"].startswith(f"<outbox-{kept.id}-") for m in smtp.messages] == [True]
