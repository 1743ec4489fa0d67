"""`flask scheduler run` (the production scheduler) and `flask jobs ...` (for operators)."""

from __future__ import annotations

import logging
import signal
import sys
import time
from datetime import UTC, datetime

import click
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.exc import OperationalError

from app.extensions import db
from app.jobs.message_states import STATE_TITLES, shown_state
from app.jobs.models import Message
from app.jobs.outbox import retry_message, stuck_messages
from app.jobs.scheduler import (
    JOBS_BY_ID,
    LOCK_RETRY_SECONDS,
    SchedulerLock,
    build_scheduler,
    interval_triggers,
    run_job,
)
from config import ConfigError

log = logging.getLogger(__name__)

scheduler_cli = AppGroup("scheduler", help="The scheduler of reminders, digests and e-mail.")
jobs_cli = AppGroup("jobs", help="Scheduled jobs and the outbox.")


def _stop_on_sigterm(*_args) -> None:
    raise SystemExit(0)


def _try_lock(lock: SchedulerLock) -> bool:
    """One try at the lock; a database that does not answer (restarting) is a "not yet"."""
    try:
        return lock.try_acquire()
    except OperationalError as error:
        log.warning("the database did not answer the scheduler lock: %s", error)
        return False


@scheduler_cli.command("run")
def run_command():
    """Run the scheduler until stopped. On PostgreSQL only while holding the advisory lock: a
    second copy (e.g. on another machine) waits and takes over when the first stops."""
    app = current_app._get_current_object()
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    retry_seconds = app.config.get("SCHEDULER_LOCK_RETRY_SECONDS", LOCK_RETRY_SECONDS)
    try:  # refuse SCHEDULER_INTERVALS naming no job before waiting for the lock
        interval_triggers(app)
    except ConfigError as error:
        raise click.ClickException(str(error)) from None
    lock = None
    if db.engine.dialect.name == "postgresql":
        lock = SchedulerLock(db.engine)
        waiting = False
        while not _try_lock(lock):
            if not waiting:  # said once, not at every try
                log.info("another scheduler is running; waiting")
                click.echo(_("Another scheduler is running; waiting."), err=True)
                waiting = True
            time.sleep(retry_seconds)
    else:
        click.echo(_("SQLite: run one scheduler only (and not next to `python run.py`)."), err=True)
    db.session.remove()

    lost = []
    scheduler = None

    def lock_held() -> bool:
        """Asked before each job and every retry_seconds: a scheduler whose lock's connection
        ended (its database restarted, its connection cut) stops at once, since a standby may
        already hold the lock and run the jobs."""
        if lock is None or lock.is_held():
            return True
        if not lost:
            lost.append(True)
            scheduler.shutdown(wait=False)
        return False

    scheduler = build_scheduler(app, BlockingScheduler, may_run=lock_held if lock is not None else None)
    if lock is not None:
        scheduler.add_job(
            lock_held, "interval", seconds=retry_seconds, id="scheduler_lock_watch", name="scheduler_lock_watch"
        )
    click.echo(_("Scheduler running: %(jobs)s", jobs=", ".join(JOBS_BY_ID)))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=True)
        if lock is not None:
            lock.release()
    if lost:
        click.echo(_("Lost the scheduler lock (database connection); stopped."), err=True)
        sys.exit(1)


@jobs_cli.command("run-once")
@click.argument("name", type=click.Choice(sorted(JOBS_BY_ID)))
@click.option(
    "--at",
    "at",
    default=None,
    help="Run as if it were this time (ISO 8601 with offset, e.g. 2025-03-01T07:00+07:00).",
)
def run_once_command(name: str, at: str | None):
    """Run one job now, e.g. `flask jobs run-once send_outbox`."""
    now = None
    if at:
        try:
            now = datetime.fromisoformat(at)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--at") from error
        if now.tzinfo is None:
            raise click.BadParameter(_("Give the time with its offset, e.g. +07:00."), param_hint="--at")
        now = now.astimezone(UTC)
    result = run_job(current_app._get_current_object(), name, now=now)
    click.echo(f"{name}: {result}")


@jobs_cli.command("stuck")
def stuck_command():
    """List messages left in "sending" by a stopped sender. They are not resent automatically
    (at most once); check the mail server's log, then `flask jobs retry ID` if it was not sent."""
    messages = stuck_messages()
    for message in messages:
        click.echo(
            "\t".join(
                [
                    str(message.id),
                    message.key,
                    message.email or "",
                    _("claimed %(time)s UTC", time=message.claimed_at.strftime("%Y-%m-%d %H:%M")),
                    message.subject,
                ]
            )
        )
    click.echo(ngettext("%(num)d message stuck in sending.", "%(num)d messages stuck in sending.", len(messages)))


@jobs_cli.command("retry")
@click.argument("message_id", type=int)
def retry_command(message_id: int):
    """Queue a stuck or failed message again (after checking it was not delivered)."""
    message = db.session.get(Message, message_id)
    if message is None:
        raise click.ClickException(_("There is no message %(id)d.", id=message_id))
    if not retry_message(message):
        raise click.ClickException(
            _(
                "Message %(id)d is %(state)s; only messages in sending or failed can be queued again.",
                id=message_id,
                state=STATE_TITLES[shown_state(message)],
            )
        )
    db.session.commit()
    click.echo(_("Message %(id)d queued again.", id=message_id))
