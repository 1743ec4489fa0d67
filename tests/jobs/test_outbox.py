"""The outbox sends each message at most once over a real SMTP server, and keeps them while the
server is down."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.db import utcnow
from app.jobs.models import Message
from app.jobs.outbox import MAX_ATTEMPTS, backoff, enqueue, send_due


def messages(db):
    db.session.expire_all()
    return list(db.session.scalars(select(Message).order_by(Message.id)))


def test_a_message_is_created_once_per_key(db, world):
    visit = world.book(timedelta(days=2))
    first = enqueue("test:1", world.member, "outcome_nudge", visit=visit, skill="eID")
    second = enqueue("test:1", world.member, "outcome_nudge", visit=visit, skill="eID")
    assert first is not None
    assert second is None
    assert [m.key for m in messages(db)] == ["test:1"]


def test_pending_messages_are_sent_over_smtp_as_utf8_with_id_and_date(db, world, smtp):
    visit = world.book(timedelta(days=2))
    enqueue("test:utf8", world.resident, "visit_reminder_resident", visit=visit, soon=False, skill="eID")
    db.session.commit()

    assert send_due() == {"sent": 1, "retry": 0, "failed": 0}

    [email] = smtp.messages
    assert email.envelope_to == ["resident@example.org"]
    assert email["To"] == "resident@example.org"
    assert "Kỹ năng số" in str(email["From"])
    assert email["Message-ID"].startswith("<outbox-")
    assert email["Date"]
    body = email.get_content()
    assert "Nhà văn hoá thôn 1A" in body
    assert "Resident Vi" in body
    [message] = messages(db)
    assert message.status == "sent"
    assert message.sent_at is not None
    assert message.subject == str(email["Subject"])


def test_enqueue_and_send_twice_sends_one_email_per_key(db, world, smtp):
    visit = world.book(timedelta(days=2))
    for _ in range(2):
        enqueue("test:twice", world.member, "outcome_nudge", visit=visit, skill="eID")
        db.session.commit()
        send_due()
    assert len(smtp.messages) == 1


def test_people_without_email_get_the_message_in_app_only(db, world, make_user, smtp):
    no_email = make_user("tech_team", world.units["c1"], email=None)
    visit = world.book(timedelta(days=2))
    enqueue("test:noemail", no_email, "outcome_nudge", visit=visit, skill="eID")
    db.session.commit()

    assert send_due() == {"sent": 0, "retry": 0, "failed": 0}
    assert smtp.messages == []
    [message] = messages(db)
    assert message.status == "no_email"


def test_messages_wait_with_backoff_while_the_server_refuses_connections_then_go_once(db, world, start_smtp):
    visit = world.book(timedelta(days=2))
    now = utcnow()
    enqueue("test:down-1", world.member, "outcome_nudge", now=now, visit=visit, skill="eID")
    enqueue("test:down-2", world.resident, "visit_reminder_resident", now=now, visit=visit, soon=True, skill="eID")
    db.session.commit()

    # Nothing listens on the port: connection refused.
    assert send_due(now=now) == {"sent": 0, "retry": 2, "failed": 0}
    for message in messages(db):
        assert message.status == "pending"
        assert message.attempts == 1
        assert message.next_attempt_at == now + timedelta(minutes=1)
        assert "ConnectionRefusedError" in message.last_error
    # Not due again before the backoff is over; then refused again, waiting twice as long.
    assert send_due(now=now + timedelta(seconds=30)) == {"sent": 0, "retry": 0, "failed": 0}
    later = now + timedelta(minutes=1)
    assert send_due(now=later)["retry"] == 2
    assert {m.next_attempt_at for m in messages(db)} == {later + timedelta(minutes=2)}

    mailbox = start_smtp()
    assert send_due(now=later + timedelta(minutes=2)) == {"sent": 2, "retry": 0, "failed": 0}
    assert send_due(now=later + timedelta(hours=2)) == {"sent": 0, "retry": 0, "failed": 0}
    assert sorted(e.envelope_to[0] for e in mailbox.messages) == ["member@example.org", "resident@example.org"]
    assert {m.status for m in messages(db)} == {"sent"}


def test_a_temporary_refusal_is_retried_and_a_permanent_one_fails(db, world, smtp):
    visit = world.book(timedelta(days=2))
    now = utcnow()
    enqueue("test:451", world.member, "outcome_nudge", now=now, visit=visit, skill="eID")
    enqueue("test:550", world.resident, "visit_reminder_resident", now=now, visit=visit, soon=True, skill="eID")
    db.session.commit()
    smtp.refuse_next = ["451 4.3.0 Try again later", "550 5.1.1 Mailbox unavailable"]

    assert send_due(now=now) == {"sent": 0, "retry": 1, "failed": 1}
    by_key = {m.key: m for m in messages(db)}
    assert by_key["test:451"].status == "pending"
    assert "451" in by_key["test:451"].last_error
    assert by_key["test:550"].status == "failed"
    assert "550" in by_key["test:550"].last_error

    assert send_due(now=now + timedelta(minutes=1)) == {"sent": 1, "retry": 0, "failed": 0}
    assert [e.envelope_to for e in smtp.messages] == [["member@example.org"]]


def test_backoff_doubles_up_to_an_hour_and_gives_up_after_max_attempts(db, world, mail_port):
    assert [backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert backoff(7) == timedelta(hours=1)
    assert backoff(30) == timedelta(hours=1)

    visit = world.book(timedelta(days=2))
    now = utcnow()
    enqueue("test:giveup", world.member, "outcome_nudge", now=now, visit=visit, skill="eID")
    db.session.commit()
    for attempt in range(MAX_ATTEMPTS):
        send_due(now=now + timedelta(days=attempt))
    [message] = messages(db)
    assert message.status == "failed"
    assert message.attempts == MAX_ATTEMPTS


def test_a_message_claimed_by_a_run_that_stopped_is_not_sent_again(app, db, world, smtp):
    """At most once: a sender stopped after its claim (status "sending") may or may not have
    handed the message to the server, so a restarted sender leaves it for an admin."""
    visit = world.book(timedelta(days=2))
    now = utcnow()
    message = enqueue("test:crash", world.member, "outcome_nudge", now=now, visit=visit, skill="eID")
    db.session.commit()
    # The first run claimed it and was stopped before marking it sent.
    db.session.execute(
        update(Message)
        .where(Message.id == message.id, Message.status == "pending")
        .values(status="sending", claimed_at=now - timedelta(minutes=30))
    )
    db.session.commit()

    assert send_due(now=now) == {"sent": 0, "retry": 0, "failed": 0}
    assert smtp.messages == []

    runner = app.test_cli_runner()
    result = runner.invoke(args=["jobs", "stuck"])
    assert result.exit_code == 0, result.output
    assert "test:crash" in result.output
    assert "1 tin nhắn đang kẹt ở trạng thái đang gửi." in result.output  # the CLI speaks Vietnamese

    # An admin checked the mail server's log: not delivered, so it is sent again, once.
    result = runner.invoke(args=["jobs", "retry", str(message.id)])
    assert result.exit_code == 0, result.output
    assert send_due() == {"sent": 1, "retry": 0, "failed": 0}
    assert send_due() == {"sent": 0, "retry": 0, "failed": 0}
    assert len(smtp.messages) == 1
    result = runner.invoke(args=["jobs", "retry", str(message.id)])
    assert result.exit_code != 0
    assert "chỉ tin nhắn đang gửi hoặc gửi không được" in result.output


def test_without_a_mail_server_messages_stay_pending_in_app(db, world, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    visit = world.book(timedelta(days=2))
    enqueue("test:nomail", world.member, "outcome_nudge", visit=visit, skill="eID")
    db.session.commit()
    assert send_due() == {"sent": 0, "retry": 0, "failed": 0}
    assert [m.status for m in messages(db)] == ["pending"]
