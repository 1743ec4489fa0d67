"""Two outbox senders at once — two scheduler processes for a moment, or `flask jobs run-once
send_outbox` beside the scheduler — against a real SMTP server and a committed database (SQLite
file or PostgreSQL): neither crashes, every message goes out once and is marked "sent"."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import select

from app import create_app
from app.auth.models import User
from app.db import utcnow
from app.extensions import db
from app.jobs.models import Message
from app.jobs.outbox import send_due
from app.units.models import Unit

MESSAGES = 40
SENDERS = 2
ROUNDS = 3


@pytest.fixture
def sender_app(empty_database_url, smtp, mail_port):
    """An app of its own on an empty database (its commits are real), mailing the test server."""
    options = {"pool_size": SENDERS + 2}
    if empty_database_url.startswith("sqlite"):
        options["connect_args"] = {"check_same_thread": False}
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": empty_database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": options,
            "SEED_DEMO": False,
            "SCHEDULER_IN_PROCESS": False,
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": mail_port,
            "MAIL_USE_TLS": False,
            "MAIL_USERNAME": "",
            "MAIL_PASSWORD": "",
        }
    )
    with app.app_context():
        db.create_all()
        unit = Unit(code="P", kind="province", name="Tỉnh", path="/P/")
        user = User(
            username="member", full_name="Member", role="admin", unit=unit, password_hash="!", email="m@example.org"
        )
        db.session.add_all([unit, user])
        db.session.commit()
        app.config["TEST_USER_ID"] = user.id
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def queue_messages(app, round_number: int) -> None:
    with app.app_context():
        now = utcnow()
        db.session.add_all(
            Message(
                key=f"race:{round_number}:{n}",
                user_id=app.config["TEST_USER_ID"],
                email="m@example.org",
                subject=f"Message {round_number}-{n}",
                body="Hello\n",
                created_at=now,
                next_attempt_at=now,
            )
            for n in range(MESSAGES)
        )
        db.session.commit()


def run_senders(app) -> tuple[list[dict], list[BaseException]]:
    start = threading.Barrier(SENDERS)
    reports, errors = [], []

    def sender():
        with app.app_context():
            try:
                start.wait()
                reports.append(send_due(batch=MESSAGES))
            except BaseException as error:  # collected and asserted by the test
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return reports, errors


def test_two_senders_at_once_never_crash_and_send_each_message_once(sender_app, smtp):
    for round_number in range(ROUNDS):
        queue_messages(sender_app, round_number)
        reports, errors = run_senders(sender_app)

        assert errors == []
        assert sum(report["sent"] for report in reports) == MESSAGES
        assert sum(report["retry"] + report["failed"] for report in reports) == 0
    with sender_app.app_context():
        statuses = Counter(db.session.scalars(select(Message.status)))
    assert statuses == {"sent": MESSAGES * ROUNDS}
    subjects = Counter(str(email["Subject"]) for email in smtp.messages)
    assert len(subjects) == MESSAGES * ROUNDS
    assert set(subjects.values()) == {1}
