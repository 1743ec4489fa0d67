"""Fixtures for the jobs tests: a real SMTP server on loopback and a commune with a team."""

from __future__ import annotations

import email
import socket
from datetime import timedelta
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import delete

from app.db import utcnow
from app.jobs.models import Message
from app.visits.models import Team, TeamMember, WeeklyAvailability
from app.visits.operations import book_visit

MAIL_SETTINGS = ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_FROM")


def free_port() -> int:
    """A loopback port nothing listens on (yet)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mailbox:
    """An aiosmtpd handler that keeps every message it accepts. `refuse_next` makes it answer
    the next DATA commands with that reply (e.g. "451 ..." or "550 ...")."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.refuse_next: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_next:
            return self.refuse_next.pop(0)
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        message.envelope_to = list(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m.envelope_to]


@pytest.fixture
def mail_port(app):
    """Point the app's mail settings at a loopback port where nothing listens yet."""
    saved = {key: app.config[key] for key in MAIL_SETTINGS}
    port = free_port()
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=port,
        MAIL_USE_TLS=False,
        MAIL_USERNAME="",
        MAIL_PASSWORD="",
        MAIL_FROM="Kỹ năng số <no-reply@kynangso.test>",
    )
    yield port
    app.config.update(saved)


@pytest.fixture
def start_smtp(mail_port):
    """Start a real SMTP server (aiosmtpd) on the configured port; returns its Mailbox."""
    controllers = []

    def start() -> Mailbox:
        mailbox = Mailbox()
        controller = Controller(mailbox, hostname="127.0.0.1", port=mail_port)
        controller.start()
        controllers.append(controller)
        return mailbox

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def smtp(start_smtp) -> Mailbox:
    return start_smtp()


class World:
    """A commune (C1) with a tech team: `member` (English), `member_bn` (Bengali), a commune
    manager (Vietnamese), a resident with e-mail in village C1A, and in commune C2 another team
    member."""

    def __init__(self, db, units, make_user):
        self.db = db
        self.units = units
        self.member = make_user(
            "tech_team", units["c1"], full_name="Member En", email="member@example.org", locale="en"
        )
        self.member_bn = make_user(
            "tech_team", units["v1b"], full_name="Member Bn", email="member-bn@example.org", locale="bn"
        )
        self.manager = make_user(
            "commune_manager", units["c1"], full_name="Manager Vi", email="manager@example.org", locale="vi"
        )
        self.resident = make_user(
            "resident", units["v1a"], full_name="Resident Vi", email="resident@example.org", locale="vi"
        )
        self.other_member = make_user(
            "tech_team", units["c2"], full_name="Member C2", email="member-c2@example.org", locale="en"
        )
        team = Team(unit=units["c1"], name="Tổ công nghệ số Xã Một")
        team.members.append(TeamMember(user=self.member, skills=["eid", "phone_basics"], is_leader=True))
        team.members.append(TeamMember(user=self.member_bn, skills=["eid"]))
        other_team = Team(unit=units["c2"], name="Tổ công nghệ số Xã Hai")
        other_team.members.append(TeamMember(user=self.other_member, skills=["eid"]))
        db.session.add_all([team, other_team])
        for user in (self.member, self.member_bn, self.other_member):
            db.session.add_all(
                WeeklyAvailability(user_id=user.id, weekday=day, start_minute=0, end_minute=1440) for day in range(7)
            )
        db.session.flush()

    def book(self, starts_in: timedelta, *, resident=True, minutes=60, keep_booking_notices=False):
        """Book `member` for a visit starting `starts_in` from now (through the real operation)."""
        visit = book_visit(
            self.member,
            utcnow() + starts_in,
            minutes,
            skill="eid",
            place="Nhà văn hoá thôn 1A",
            booked_by=self.manager,
            resident=self.resident if resident else None,
            unit=self.units["v1a"],
        )
        self.db.session.flush()
        if not keep_booking_notices:
            # The booking's own notices are tested in test_visit_notices.py; the tests that book
            # as a setting count only what comes after.
            self.db.session.execute(delete(Message).where(Message.key.startswith(f"booked-visit:{visit.id}:")))
        return visit


@pytest.fixture
def world(db, units, make_user) -> World:
    return World(db, units, make_user)


@pytest.fixture
def providers(app):
    """The fake Zalo and SMS gateway (tests/jobs/providers.py), and the app's settings pointing
    at them."""
    from tests.jobs import providers as fake

    providers = fake.Providers()
    server = fake.start(providers)
    settings = fake.settings(providers)
    saved = {key: app.config.get(key) for key in settings}
    app.config.update(settings)
    yield providers
    app.config.update(saved)
    server.shutdown()
    server.server_close()
