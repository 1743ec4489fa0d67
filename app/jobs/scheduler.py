"""The scheduled jobs, declared as data, and the schedulers that run them.

* Development (`python run.py`): an in-process BackgroundScheduler, started only in the serving
  process (not in the reloader's watcher), so jobs run once.
* Production (`flask scheduler run`): one BlockingScheduler process, which runs jobs only while it
  holds a PostgreSQL advisory lock. Start it on two machines and the second waits; if the first
  stops, the second takes over within SCHEDULER_LOCK_RETRY_SECONDS (30 by default). The running
  one checks that it still holds the lock before each job, so it stops running jobs as soon as
  its lock's connection is gone (e.g. the database was restarted) and exits.

Web workers never run a scheduler: each forked worker would run every job again.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from flask import Flask
from sqlalchemy import Connection, Engine, insert, text, update
from sqlalchemy.exc import SQLAlchemyError

from app.db import utcnow, writing_work
from app.extensions import db
from app.jobs.models import JobRun
from app.jobs.outbox import send_due
from app.jobs.reminders import (
    enqueue_daily_digests,
    enqueue_follow_up_reminders,
    enqueue_outcome_nudges,
    enqueue_overdue_assignment_reminders,
    enqueue_visit_reminders,
    enqueue_weekly_manager_digests,
)
from app.monitoring.logs import job_context
from app.privacy.retention import run_retention
from app.reports.recount import check_drift
from config import ConfigError

log = logging.getLogger(__name__)

TIMEZONE = "Asia/Ho_Chi_Minh"
#: pg_try_advisory_lock key of the scheduler: the bytes "KNS_JOBS" as a (positive) bigint.
SCHEDULER_LOCK_KEY = int.from_bytes(b"KNS_JOBS", "big")
LOCK_RETRY_SECONDS = 30


@dataclass(frozen=True)
class Job:
    id: str
    #: An APScheduler trigger name ("interval", "cron") and its arguments, in TIMEZONE.
    trigger: str
    trigger_args: dict
    #: Called as function(now=...) inside an app context; the runner commits.
    function: Callable[..., object]
    #: Extra add_job options, e.g. how late a missed daily run may still start.
    options: dict = field(default_factory=dict)


JOBS: tuple[Job, ...] = (
    Job("send_outbox", "interval", {"seconds": 30}, send_due),
    Job("visit_reminders", "interval", {"minutes": 5}, enqueue_visit_reminders),
    Job(
        "daily_digests",
        "cron",
        {"hour": 7, "minute": 0},
        enqueue_daily_digests,
        {"misfire_grace_time": 6 * 3600},
    ),
    Job("outcome_nudges", "interval", {"hours": 1}, enqueue_outcome_nudges),
    Job(
        "follow_up_reminders",
        "cron",
        {"hour": 7, "minute": 30},
        enqueue_follow_up_reminders,
        {"misfire_grace_time": 6 * 3600},
    ),
    Job(
        "overdue_assignments",
        "cron",
        {"hour": 8, "minute": 0},
        enqueue_overdue_assignment_reminders,
        {"misfire_grace_time": 6 * 3600},
    ),
    Job(
        "manager_digests",
        "cron",
        {"day_of_week": "mon", "hour": 7, "minute": 15},
        enqueue_weekly_manager_digests,
        {"misfire_grace_time": 6 * 3600},
    ),
    # Personal data past its retention period (app/privacy/retention.py), at night.
    Job("privacy_retention", "cron", {"hour": 2, "minute": 30}, run_retention, {"misfire_grace_time": 20 * 3600}),
    # The summary tables against a recount (app/reports/recount.py), for /metrics, at night.
    Job("summary_check", "cron", {"hour": 3, "minute": 15}, check_drift, {"misfire_grace_time": 20 * 3600}),
)
JOBS_BY_ID = {job.id: job for job in JOBS}


def run_job(app: Flask, job_id: str, now: datetime | None = None) -> object:
    """Run one job now in its own app context and commit once (the sender also commits as it
    goes: its claims must be durable before it talks to the mail server)."""
    job = JOBS_BY_ID[job_id]
    with app.app_context(), job_context(job_id), writing_work():
        started = utcnow()
        try:
            result = job.function(now=now)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", job_id)
            record_job_run(job_id, started, failed=True)
            raise
        record_job_run(job_id, started, failed=False)
        log.debug("job %s: %s", job_id, result)
    return result


def record_job_run(job_id: str, started: datetime, *, failed: bool) -> None:
    """Count the run in job_runs (for /metrics), in a transaction of its own after the job's; a
    database that cannot take it loses the count, never the job's work."""
    finished = utcnow()
    values = {"last_started_at": started, ("last_failure_at" if failed else "last_success_at"): finished}
    counts = {"runs": JobRun.runs + 1, "failures": JobRun.failures + (1 if failed else 0)}
    try:
        changed = db.session.execute(update(JobRun).where(JobRun.job == job_id).values(**counts, **values))
        if changed.rowcount == 0:
            db.session.execute(insert(JobRun).values(job=job_id, runs=1, failures=1 if failed else 0, **values))
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.warning("job %s: its run could not be counted", job_id, exc_info=True)


def run_scheduled_job(app: Flask, job_id: str, may_run: Callable[[], bool] | None = None) -> object:
    """What the scheduler calls: the job, unless `may_run` says this scheduler must not run jobs
    any more (it lost its lock)."""
    if may_run is not None and not may_run():
        log.warning("job %s not run: this scheduler no longer holds the lock", job_id)
        return None
    return run_job(app, job_id)


def interval_triggers(app: Flask) -> dict[str, dict]:
    """The trigger arguments of each interval job: its own, or SCHEDULER_INTERVALS' seconds."""
    chosen = dict(app.config.get("SCHEDULER_INTERVALS") or {})
    intervals = {job.id: job.trigger_args for job in JOBS if job.trigger == "interval"}
    unknown = sorted(set(chosen) - set(intervals))
    if unknown:
        raise ConfigError(
            f"SCHEDULER_INTERVALS names {', '.join(unknown)}, which are not interval jobs; "
            f"these are: {', '.join(sorted(intervals))}."
        )
    return {job_id: ({"seconds": chosen[job_id]} if job_id in chosen else args) for job_id, args in intervals.items()}


def build_scheduler(
    app: Flask,
    scheduler_class: type[BaseScheduler] = BackgroundScheduler,
    may_run: Callable[[], bool] | None = None,
) -> BaseScheduler:
    """A scheduler with every job of JOBS; missed runs are coalesced into one and a job never
    runs twice at the same time. Each run first asks `may_run` (when given). Not started."""
    scheduler = scheduler_class(
        timezone=TIMEZONE,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
    )
    started = utcnow().astimezone(ZoneInfo(TIMEZONE))
    intervals = interval_triggers(app)
    for job in JOBS:
        # Interval jobs also run right at start, so a restart catches up at once.
        first_run = {"next_run_time": started} if job.trigger == "interval" else {}
        scheduler.add_job(
            run_scheduled_job,
            job.trigger,
            args=(app, job.id, may_run),
            id=job.id,
            name=job.id,
            replace_existing=True,
            **intervals.get(job.id, job.trigger_args),
            **job.options,
            **first_run,
        )
    return scheduler


class SchedulerLock:
    """The PostgreSQL session-level advisory lock that lets only one scheduler run.

    It lives on a dedicated connection in autocommit mode (so it never sits idle in a
    transaction); PostgreSQL releases it when that connection ends, also when the process dies.
    """

    def __init__(self, engine: Engine, key: int = SCHEDULER_LOCK_KEY):
        self.engine = engine
        self.key = key
        self.connection: Connection | None = None
        # Jobs run in threads and each asks is_held(): one question at a time on the connection.
        self._asking = threading.Lock()

    def try_acquire(self) -> bool:
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            acquired = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar()
        except Exception:
            connection.close()
            raise
        if not acquired:
            connection.close()
            return False
        self.connection = connection
        return True

    def is_held(self) -> bool:
        """True while the lock's connection is alive (a dropped connection loses the lock)."""
        with self._asking:
            if self.connection is None:
                return False
            try:
                self.connection.execute(text("SELECT 1"))
            except Exception:
                log.exception("the scheduler lock's database connection was lost")
                return False
            return True

    def release(self) -> None:
        if self.connection is None:
            return
        try:
            self.connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        except Exception:
            log.warning("could not release the scheduler lock; it ends with the connection")
        finally:
            self.connection.close()
            self.connection = None


@dataclass
class InProcessScheduler:
    scheduler: BaseScheduler
    lock: SchedulerLock | None = None

    def stop(self, wait: bool = False) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        if self.lock is not None:
            self.lock.release()


def start_in_process(app: Flask) -> InProcessScheduler | None:
    """Development: start the BackgroundScheduler inside `python run.py` (call it only in the
    serving process). On PostgreSQL it takes the advisory lock first and stays off if another
    scheduler holds it. Stopped at exit."""
    with app.app_context():
        engine = db.engine
    lock = None
    if engine.dialect.name == "postgresql":
        lock = SchedulerLock(engine)
        if not lock.try_acquire():
            log.info("another scheduler is running; the in-process scheduler stays off")
            return None
    running = InProcessScheduler(build_scheduler(app), lock)
    running.scheduler.start()
    atexit.register(running.stop)
    log.info("in-process scheduler started: %s", ", ".join(job.id for job in JOBS))
    return running
