"""The scheduler survives being killed: reminders are delivered once while the lock holder dies.

    python bench/scheduler_kill.py                      # 100 kills (about 10 minutes here)
    python bench/scheduler_kill.py --kills 20 --mail-outage 20 --cut-db   # the outage variant

Needs PostgreSQL on 127.0.0.1:5432 that lets `postgres` in without a password (as in .ci/run).
It **drops and recreates** the database `kns_scheduler_kill` (or --database-url), creates the
schema and a commune with a tech team (8 members, 20 residents, all with e-mail), and starts a
local SMTP sink (aiosmtpd). Then:

1. starts three `flask scheduler run` processes (production profile) against that database and
   the sink, with short intervals: SCHEDULER_INTERVALS={"send_outbox": 1, "visit_reminders": 1}
   and SCHEDULER_LOCK_RETRY_SECONDS=0.5 (the defaults are 30 s, 300 s and 30 s). Each connects
   with its own application_name, so pg_locks tells which one holds the advisory lock;
2. books and moves visits all along (through app.visits.operations, as a commune manager), each
   starting 20 minutes to 23 hours ahead: every booking and move writes notices, and the next
   run of visit_reminders (every second) writes the member's and the resident's reminders for
   the visit's new time, due at once;
3. SIGKILLs the lock holder --kills times, after a random 0.5-3 s (--min-gap, --max-gap) once a
   standby is waiting: a third of the kills (--in-send) land *while it is sending*, from inside
   the SMTP sink as it receives a message (the server has the message, the sender never hears
   its "250"); the others at a random moment. A new standby replaces each killed process. The
   takeover time is from the kill to the moment pg_locks shows another process holding the lock;
4. optionally stops the SMTP sink for --mail-outage seconds a third of the way through, and
   two thirds of the way through either (--cut-db) ends every scheduler connection with
   pg_terminate_backend — what a database restart does to them, without touching the server,
   which other databases may share — or (--restart-db COMMAND) really restarts PostgreSQL with
   the command given (e.g. "pg_ctlcluster 15 main restart"; everything else on that server sees
   the restart too). The holder notices before its next job, stops and exits; a standby takes
   over once the server answers again;
5. stops the bookings, waits until nothing is left to send (messages in retry wait for their
   backoff: 1, 2, 4 … minutes), stops the schedulers and counts, for every message of the outbox
   with an e-mail address, how many times it reached the sink.

The outbox's rule (app/jobs/outbox.py): a message is claimed (pending -> sending, committed)
before it is handed to the mail server and marked "sent" once the server accepted it; a message
left in "sending" by a process that died is never sent again automatically (a duplicate is worse
than a miss an operator can check: `flask jobs stuck`, then `flask jobs retry ID`). So a kill
between the claim and the server's "250" may leave a message *held* (not delivered, listed by
`flask jobs stuck`); a kill after it leaves it delivered once and still "sending". The one
duplicate the rule allows is a connection lost after the server accepted a message: it goes back
to "pending" with an error and is sent again (same Message-ID). The report counts:

* delivered once: reached the sink exactly once (also those killed after the "250");
* held by the at-most-once rule: never reached the sink, left in "sending" by a killed sender;
* duplicates explained by the rule: reached the sink more than once after a failed attempt;
* lost: never reached the sink and not held (a bug), duplicates not explained (a bug);
* reminders missing: a booked visit within 24 hours whose reminder was never written (a bug).

With --retry-held the script then does what an operator does for held messages that the mail
log does not show (here: the sink): `flask jobs retry ID`, and checks they arrive once.

Prints the counts and takeover times (median, max) and writes them as JSON with --json FILE;
exits 1 when anything was lost or duplicated without explanation. The database is dropped at the
end unless --keep.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import json
import os
import random
import re
import secrets
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from email import policy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/kns_scheduler_kill"
NAME_PREFIX = "kns-sched-"
MESSAGE_ID = re.compile(r"<outbox-(\d+)-")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the SMTP sink ----------------------------------------------------------------------------


class Sink:
    """Keeps the outbox id of every message it accepts. When `kill_pid` is set, the next message
    it receives kills that process after taking the message and before answering "250"."""

    def __init__(self):
        self.lock = threading.Lock()
        self.received: list[int | None] = []
        self.kill_pid: int | None = None
        self.killed = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        found = MESSAGE_ID.match(str(message.get("Message-ID", "")))
        with self.lock:
            self.received.append(int(found.group(1)) if found else None)
            pid, self.kill_pid = self.kill_pid, None
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            self.killed.set()
        return "250 Message accepted for delivery"


class MailServer:
    def __init__(self, port: int):
        self.port = port
        self.sink = Sink()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the database and the people ----------------------------------------------------------------


def recreate_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def drop_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def make_app(url: str):
    os.environ.setdefault("APP_ENV", "testing")
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SEED_DEMO": False, "MAIL_SERVER": "", "QUIET_HOURS": ""})


def seed(app, members: int, residents: int) -> dict:
    """A commune with a team of `members` and `residents` residents, all with e-mail."""
    from app.auth.models import User
    from app.extensions import db
    from app.units.models import Unit
    from app.visits.models import Team, TeamMember, WeeklyAvailability

    with app.app_context():
        db.create_all()
        province = Unit(code="KP", kind="province", name="Tỉnh thử", path="/KP/")
        commune = Unit(code="KC", kind="commune", name="Xã thử", parent=province, path="/KP/KC/", population=5000)
        village = Unit(code="KV", kind="village", name="Thôn thử", parent=commune, path="/KP/KC/KV/", population=900)
        db.session.add_all([province, commune, village])
        password_hash = "scrypt:32768:8:1$unused$" + "0" * 64  # nobody signs in here

        def person(username, role, unit):
            user = User(
                username=username,
                full_name=username,
                role=role,
                unit=unit,
                email=f"{username}@kns.test",
                locale="vi",
                password_hash=password_hash,
            )
            db.session.add(user)
            return user

        manager = person("manager", "commune_manager", commune)
        team = Team(unit=commune, name="Tổ công nghệ số")
        staff = [person(f"member{n:02d}", "tech_team", commune) for n in range(members)]
        for n, member in enumerate(staff):
            team.members.append(TeamMember(user=member, skills=["eid"], is_leader=n == 0))
        people = [person(f"resident{n:02d}", "resident", village) for n in range(residents)]
        db.session.add(team)
        db.session.flush()
        for member in staff:
            db.session.add_all(
                WeeklyAvailability(user_id=member.id, weekday=day, start_minute=0, end_minute=1440) for day in range(7)
            )
        db.session.commit()
        ids = {"manager": manager.id, "members": [m.id for m in staff], "residents": [r.id for r in people]}
        db.session.remove()
    return ids


class Bookings(threading.Thread):
    """Books and moves visits until stopped, committing each, as a commune manager would."""

    def __init__(self, app, ids: dict, seed_value: int, pause: float):
        super().__init__(daemon=True)
        self.app, self.ids, self.pause = app, ids, pause
        self.rng = random.Random(seed_value)
        self.stop_event = threading.Event()
        self.booked = self.moved = self.refused = 0
        self.errors: list[str] = []

    def run(self) -> None:
        from app.auth.models import User
        from app.db import utcnow
        from app.exceptions import Conflict, Invalid, NotAllowed
        from app.extensions import db
        from app.visits import operations
        from app.visits.models import Visit

        with self.app.app_context():
            while not self.stop_event.is_set():
                try:
                    manager = db.session.get(User, self.ids["manager"])
                    start = utcnow().replace(second=0, microsecond=0) + timedelta(minutes=self.rng.randint(20, 23 * 60))
                    visits = db.session.scalars(select(Visit.id).where(Visit.status == "booked")).all()
                    if visits and self.rng.random() < 0.4:
                        visit = db.session.get(Visit, self.rng.choice(visits))
                        operations.reschedule_visit(
                            manager, visit, start, override=True, override_reason="Đổi lịch (thử tải)"
                        )
                        self.moved += 1
                    else:
                        operations.book_visit(
                            db.session.get(User, self.rng.choice(self.ids["members"])),
                            start,
                            30,
                            skill="eid",
                            place="Nhà văn hoá thôn",
                            booked_by=manager,
                            resident=db.session.get(User, self.rng.choice(self.ids["residents"])),
                            override=True,
                            override_reason="Lịch thử tải",
                        )
                        self.booked += 1
                    db.session.commit()
                except (Conflict, Invalid, NotAllowed):
                    db.session.rollback()
                    self.refused += 1
                except Exception as error:  # reported at the end; the run goes on
                    db.session.rollback()
                    self.errors.append(f"{type(error).__name__}: {error}"[:300])
                finally:
                    db.session.remove()
                self.stop_event.wait(self.pause)


# --- the scheduler processes ----------------------------------------------------------------------


class Schedulers:
    """The `flask scheduler run` processes this run started (only these are ever signalled)."""

    def __init__(self, url: str, mail_port: int, log_dir: Path, lock_retry: float, intervals: dict):
        self.url, self.log_dir = url, log_dir
        self.processes: dict[str, subprocess.Popen] = {}
        self.count = 0
        self.exits: list[tuple[str, int]] = []
        self.env = {
            **os.environ,
            "APP_ENV": "production",
            "SECRET_KEY": secrets.token_hex(32),
            "WEB_CONCURRENCY": "1",
            "FLASK_APP": "app:create_app",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(mail_port),
            "MAIL_FROM": "Kỹ năng số <no-reply@kns.test>",
            "QUIET_HOURS": "",
            "MESSAGE_DAILY_CAP": "0",
            "SCHEDULER_INTERVALS": json.dumps(intervals),
            "SCHEDULER_LOCK_RETRY_SECONDS": str(lock_retry),
            "PYTHONUNBUFFERED": "1",
        }
        for name in ("TEST_DATABASE_URL", "SMS_API_URL", "ZNS_ACCESS_TOKEN", "ZNS_REFRESH_TOKEN"):
            self.env.pop(name, None)

    def start(self) -> str:
        self.count += 1
        name = f"{NAME_PREFIX}{self.count}"
        url = make_url(self.url).update_query_dict({"application_name": name})
        env = {**self.env, "DATABASE_URL": url.render_as_string(hide_password=False)}
        log_file = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "flask", "scheduler", "run"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log_file.close()
        return name

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
        process.wait()

    def reap(self) -> list[str]:
        """Processes that ended by themselves (e.g. after losing their lock): forget them."""
        ended = [name for name, process in self.processes.items() if process.poll() is not None]
        for name in ended:
            self.exits.append((name, self.processes.pop(name).returncode))
        return ended

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()


class Watcher:
    """Who holds the scheduler lock and who waits, read from pg_locks and pg_stat_activity."""

    def __init__(self, url: str):
        from app.jobs.scheduler import SCHEDULER_LOCK_KEY

        self.engine = create_engine(url, poolclass=NullPool)
        self.high, self.low = SCHEDULER_LOCK_KEY >> 32, SCHEDULER_LOCK_KEY & 0xFFFFFFFF

    def holder(self) -> str | None:
        try:
            return self._holder()
        except OperationalError:  # the server is restarting
            return None

    def _holder(self) -> str | None:
        with self.engine.connect() as connection:
            return connection.execute(
                text(
                    "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
                    " AND l.classid::bigint = :high AND l.objid::bigint = :low"
                    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                ),
                {"high": self.high, "low": self.low},
            ).scalar()

    def connected(self) -> set[str]:
        try:
            return self._connected()
        except OperationalError:  # the server is restarting
            return set()

    def _connected(self) -> set[str]:
        with self.engine.connect() as connection:
            return set(
                connection.execute(
                    text(
                        "SELECT DISTINCT application_name FROM pg_stat_activity"
                        " WHERE datname = current_database() AND application_name LIKE :prefix"
                    ),
                    {"prefix": NAME_PREFIX + "%"},
                ).scalars()
            )

    def cut_connections(self) -> int:
        """What a database restart does to the schedulers: end every one of their connections."""
        with self.engine.connect() as connection:
            ended = connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND application_name LIKE :prefix"
                ),
                {"prefix": NAME_PREFIX + "%"},
            ).scalar()
            connection.commit()
            return ended

    def outbox(self) -> dict[str, int]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                text("SELECT status, count(*) FROM messages WHERE email IS NOT NULL GROUP BY status")
            ).all()
        return dict(rows)

    def due_left(self) -> int:
        with self.engine.connect() as connection:
            return connection.execute(
                text("SELECT count(*) FROM messages WHERE email IS NOT NULL AND status = 'pending'")
            ).scalar()


def wait_for(condition, timeout: float, step: float = 0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(step)
    return None


# --- the run --------------------------------------------------------------------------------------


def run(
    kills: int = 100,
    *,
    database_url: str = DEFAULT_DATABASE,
    schedulers: int = 3,
    min_gap: float = 0.5,
    max_gap: float = 3.0,
    in_send: float = 1 / 3,
    mail_outage: float = 0.0,
    cut_db: bool = False,
    restart_db: str | None = None,
    retry_held: bool = False,
    lock_retry: float = 0.5,
    seed_value: int = 1,
    drain_timeout: float = 420.0,
    replace: bool = True,
    send_wait: float = 10.0,
    keep: bool = False,
    log_dir: Path | None = None,
) -> dict:
    rng = random.Random(seed_value)
    started = time.monotonic()
    log_dir = log_dir or Path(os.environ.get("TMPDIR", "/tmp")) / f"kns-scheduler-kill-{os.getpid()}"
    log_dir.mkdir(parents=True, exist_ok=True)
    recreate_database(database_url)
    app = make_app(database_url)
    ids = seed(app, members=8, residents=20)
    mail = MailServer(free_port())
    mail.start()
    pool = Schedulers(database_url, mail.port, log_dir, lock_retry, {"send_outbox": 1, "visit_reminders": 1})
    watcher = Watcher(database_url)
    bookings = Bookings(app, ids, seed_value, pause=0.3)
    takeovers: list[float] = []
    events: Counter = Counter()
    result: dict = {}
    try:
        for _ in range(schedulers):
            pool.start()
        log(f"{schedulers} schedulers starting (logs in {log_dir})")
        if not wait_for(watcher.holder, 120, 0.1):
            raise RuntimeError(f"no scheduler took the lock within 120 s; see {log_dir}")
        bookings.start()
        outage_at = kills // 3 if mail_outage else -1
        cut_at = (2 * kills) // 3 if cut_db or restart_db else -1
        for number in range(kills):
            for _name in pool.reap():
                events["exited by itself"] += 1
                if replace:
                    pool.start()
            if number == outage_at:
                mail.stop()
                events["mail outages"] += 1
                log(f"mail server stopped for {mail_outage:.0f} s")
                threading.Timer(mail_outage, mail.start).start()
            if number == cut_at:
                holder = wait_for(watcher.holder, 60)
                cut_moment = time.monotonic()
                if restart_db:
                    subprocess.run(shlex.split(restart_db), check=True, timeout=180)
                    events["database restarts"] += 1
                    what = f"restarted the database ({restart_db}, {time.monotonic() - cut_moment:.1f} s)"
                else:
                    what = f"cut {watcher.cut_connections()} scheduler connections (as a database restart does)"
                    events["database connections cut"] += 1
                new = wait_for(lambda h=holder: (watcher.holder() or h) != h and watcher.holder(), 60)
                log(f"{what}; new holder: {new}")
                if new:
                    cut_takeover = round(time.monotonic() - cut_moment, 3)
                    takeovers.append(cut_takeover)
                    result["takeover_after_cut_s"] = cut_takeover
                wait_for(lambda: pool.reap() or None, 10 + 2 * lock_retry, 0.1)
                if replace:
                    pool.start()
            # A holder, and a standby waiting beside it.
            holder = wait_for(watcher.holder, 120)
            standby = wait_for(lambda h=holder: watcher.connected() - {h}, 120, 0.1)
            if holder is None or not standby:
                raise RuntimeError(f"no holder or no standby before kill {number + 1}; see {log_dir}")
            time.sleep(rng.uniform(min_gap, max_gap))
            holder = watcher.holder()
            if holder is None or holder not in pool.processes:
                continue
            process = pool.processes[holder]
            if rng.random() < in_send:
                mail.sink.killed.clear()
                mail.sink.kill_pid = process.pid
                if mail.sink.killed.wait(send_wait):
                    events["killed while sending"] += 1
                else:
                    mail.sink.kill_pid = None
                    events["killed at a random moment"] += 1
            else:
                events["killed at a random moment"] += 1
            pool.kill(holder)  # (already dead when the sink killed it) reaped here
            killed_at = time.monotonic()
            new_holder = wait_for(lambda h=holder: (watcher.holder() or h) != h and watcher.holder(), 60, 0.01)
            if new_holder is None:
                raise RuntimeError(f"no standby took over within 60 s after kill {number + 1}; see {log_dir}")
            takeovers.append(time.monotonic() - killed_at)
            if replace:
                pool.start()
            if (number + 1) % 10 == 0 or number + 1 == kills:
                log(
                    f"kill {number + 1}/{kills}: takeover {takeovers[-1]:.2f} s; "
                    f"visits booked {bookings.booked}, moved {bookings.moved}; outbox {watcher.outbox()}"
                )

        # The end: no more bookings, everything due is sent (retries wait for their backoff).
        bookings.stop_event.set()
        bookings.join(30)
        if mail.controller is None:
            wait_for(lambda: mail.controller, mail_outage + 5, 0.1)
        time.sleep(2.5)  # a last visit_reminders run (every second) after the last booking
        log("bookings stopped; waiting for the outbox to drain")
        if wait_for(lambda: pool.reap() or watcher.due_left() == 0, drain_timeout, 0.5) is None:
            log(f"still pending after {drain_timeout:.0f} s: {watcher.due_left()}")
        pool.reap()
        time.sleep(2)

        result.update(count(app, mail.sink, watcher))
        if retry_held and result["held_ids"]:
            result["retried"] = retry(app, result["held_ids"], mail.sink, watcher)
        pool.stop_all()
        result.update(
            kills=kills,
            events=dict(events),
            takeover_median_s=round(statistics.median(takeovers), 3) if takeovers else None,
            takeover_max_s=round(max(takeovers), 3) if takeovers else None,
            takeovers=len(takeovers),
            visits_booked=bookings.booked,
            visits_moved=bookings.moved,
            bookings_refused=bookings.refused,
            booking_errors=bookings.errors[:5],
            scheduler_exits=pool.exits,
            lock_retry_s=lock_retry,
            seconds=round(time.monotonic() - started, 1),
        )
        return result
    finally:
        bookings.stop_event.set()
        pool.stop_all()
        mail.stop()
        watcher.engine.dispose()
        with app.app_context():
            from app.extensions import db

            db.session.remove()
            db.engine.dispose()
        if not keep:
            drop_database(database_url)


def count(app, sink: Sink, watcher: Watcher) -> dict:
    """Every message with an e-mail address against what the sink received."""
    from app.auth.models import User
    from app.db import utcnow
    from app.extensions import db
    from app.jobs.models import Message
    from app.jobs.routing import channel_order
    from app.privacy.consents import may_contact
    from app.visits.models import Visit
    from app.visits.wording import REMINDER_LEADS, visit_reminder_prefix

    with sink.lock:
        received = Counter(sink.received)
    with app.app_context():
        messages = db.session.execute(
            select(Message.id, Message.key, Message.status, Message.attempts, Message.last_error).where(
                Message.email.is_not(None)
            )
        ).all()
        known = {row.id for row in messages}
        outcome: Counter = Counter()
        reminders: Counter = Counter()
        held_ids, lost, unexplained = [], [], []
        for row in messages:
            times = received.get(row.id, 0)
            is_reminder = row.key.startswith("visit-")
            if times == 1:
                kind = "delivered once"
                if row.status == "sending":
                    outcome["of which killed after the server took it (left in sending)"] += 1
            elif times == 0 and row.status == "sending":
                kind = "held by the at-most-once rule"
                held_ids.append(row.id)
            elif times == 0:
                kind = "lost"
                lost.append((row.id, row.key, row.status))
            elif row.attempts > 1 or row.last_error:
                kind = "duplicate explained by the rule"
            else:
                kind = "duplicate not explained"
                unexplained.append((row.id, row.key, row.status, times))
            outcome[kind] += 1
            if is_reminder:
                reminders[kind] += 1

        # Every booked visit within the next 24 hours has its reminders written.
        now = utcnow()
        keys = {row.key for row in messages} | set(db.session.scalars(select(Message.key)))
        missing = []
        visits = db.session.scalars(
            select(Visit).where(
                Visit.status == "booked", Visit.starts_at > now, Visit.starts_at <= now + REMINDER_LEADS["24h"]
            )
        ).all()
        for visit in visits:
            stamp = visit.starts_at.strftime("%Y%m%dT%H%MZ")
            people = [visit.member_id]
            resident = db.session.get(User, visit.resident_id) if visit.resident_id else None
            if resident is not None and channel_order(resident) and may_contact(resident, "help_visits"):
                people.append(resident.id)
            for person in people:
                if not any(
                    f"{visit_reminder_prefix(lead, visit.id)}{person}:{stamp}" in keys for lead in REMINDER_LEADS
                ):
                    missing.append((visit.id, person, stamp))
        db.session.remove()
    return {
        "messages": len(messages),
        "reminders": sum(reminders.values()),
        "outcomes": dict(outcome),
        "reminder_outcomes": dict(reminders),
        "received": sum(received.values()),
        "received_unknown": sum(n for message_id, n in received.items() if message_id not in known),
        "lost": lost[:20],
        "lost_count": len(lost),
        "duplicates_not_explained": unexplained[:20],
        "duplicates_not_explained_count": len(unexplained),
        "held_ids": held_ids,
        "reminders_missing": missing[:20],
        "reminders_missing_count": len(missing),
        "visits_checked": len(visits),
        "outbox_status": watcher.outbox(),
    }


def retry(app, held_ids: list[int], sink: Sink, watcher: Watcher) -> dict:
    """The operator's way for held messages the mail log does not show: `flask jobs retry ID`."""
    from app.extensions import db
    from app.jobs.models import Message
    from app.jobs.outbox import retry_message

    with app.app_context():
        for message_id in held_ids:
            retry_message(db.session.get(Message, message_id))
        db.session.commit()
        db.session.remove()
    wait_for(lambda: watcher.due_left() == 0, 60, 0.5)
    time.sleep(1)
    with sink.lock:
        received = Counter(sink.received)
    return {
        "retried": len(held_ids),
        "now delivered once": sum(1 for i in held_ids if received.get(i) == 1),
        "still missing": sum(1 for i in held_ids if not received.get(i)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--schedulers", type=int, default=3)
    parser.add_argument("--min-gap", type=float, default=0.5)
    parser.add_argument("--max-gap", type=float, default=3.0)
    parser.add_argument("--in-send", type=float, default=1 / 3, help="share of kills made while sending")
    parser.add_argument("--mail-outage", type=float, default=0.0, help="seconds the SMTP sink is stopped")
    parser.add_argument("--cut-db", action="store_true", help="end every scheduler connection once")
    parser.add_argument("--restart-db", metavar="COMMAND", help="restart PostgreSQL once with this command")
    parser.add_argument("--retry-held", action="store_true", help="retry held messages as an operator would")
    parser.add_argument("--lock-retry", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    result = run(
        args.kills,
        database_url=args.database_url,
        schedulers=args.schedulers,
        min_gap=args.min_gap,
        max_gap=args.max_gap,
        in_send=args.in_send,
        mail_outage=args.mail_outage,
        cut_db=args.cut_db,
        restart_db=args.restart_db,
        retry_held=args.retry_held,
        lock_retry=args.lock_retry,
        seed_value=args.seed,
        keep=args.keep,
    )
    result.pop("held_ids", None)
    print(json.dumps(result, indent=1, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    bad = result["lost_count"] + result["duplicates_not_explained_count"] + result["reminders_missing_count"]
    log(
        f"{result['kills']} kills: takeover median {result['takeover_median_s']} s, max {result['takeover_max_s']} s; "
        f"{result['messages']} messages ({result['reminders']} reminders): {result['outcomes']}; "
        f"reminders missing {result['reminders_missing_count']}"
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
