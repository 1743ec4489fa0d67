"""The jobs are declared once and scheduled in Asia/Ho_Chi_Minh time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from app.jobs.scheduler import JOBS, build_scheduler

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")


def test_every_job_is_scheduled_once_with_coalescing_and_one_instance(app):
    scheduler = build_scheduler(app)
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {
            "send_outbox",
            "visit_reminders",
            "daily_digests",
            "outcome_nudges",
            "follow_up_reminders",
            "manager_digests",
            "overdue_assignments",
            "privacy_retention",
            "summary_check",
        }
        assert set(jobs) == {job.id for job in JOBS}
        for job in jobs.values():
            assert job.coalesce is True
            assert job.max_instances == 1
        assert jobs["send_outbox"].trigger.interval.total_seconds() == 30
        assert jobs["visit_reminders"].trigger.interval.total_seconds() == 300
        assert jobs["outcome_nudges"].trigger.interval.total_seconds() == 3600
        next_digest = jobs["daily_digests"].trigger.get_next_fire_time(None, datetime(2025, 3, 1, 8, 0, tzinfo=LOCAL))
        assert next_digest == datetime(2025, 3, 2, 7, 0, tzinfo=LOCAL)
        assert next_digest.utcoffset().total_seconds() == 7 * 3600
        # 2025-03-01 is a Saturday: the managers' digest comes on Monday morning.
        next_weekly = jobs["manager_digests"].trigger.get_next_fire_time(None, datetime(2025, 3, 1, 8, 0, tzinfo=LOCAL))
        assert next_weekly == datetime(2025, 3, 3, 7, 15, tzinfo=LOCAL)
    finally:
        scheduler.shutdown(wait=False)


def test_scheduler_intervals_and_lock_retry_come_from_the_settings(app):
    import pytest

    from config import ConfigError, load_config

    config = load_config(
        {"APP_ENV": "testing", "SCHEDULER_INTERVALS": '{"send_outbox": 2, "visit_reminders": 1.5}',
         "SCHEDULER_LOCK_RETRY_SECONDS": "0.5"}
    )  # fmt: skip
    assert config["SCHEDULER_INTERVALS"] == {"send_outbox": 2, "visit_reminders": 1.5}
    assert config["SCHEDULER_LOCK_RETRY_SECONDS"] == 0.5
    assert load_config({"APP_ENV": "testing"})["SCHEDULER_LOCK_RETRY_SECONDS"] == 30
    for bad in ('{"send_outbox": 0}', '{"send_outbox": "fast"}', "[1]", "not json"):
        with pytest.raises(ConfigError, match="SCHEDULER_INTERVALS"):
            load_config({"APP_ENV": "testing", "SCHEDULER_INTERVALS": bad})
    for bad in ("0", "-1", "soon", "7200"):
        with pytest.raises(ConfigError, match="SCHEDULER_LOCK_RETRY_SECONDS"):
            load_config({"APP_ENV": "testing", "SCHEDULER_LOCK_RETRY_SECONDS": bad})

    saved = app.config["SCHEDULER_INTERVALS"]
    try:
        app.config["SCHEDULER_INTERVALS"] = {"send_outbox": 2, "visit_reminders": 1.5}
        scheduler = build_scheduler(app)
        scheduler.start(paused=True)
        try:
            jobs = {job.id: job for job in scheduler.get_jobs()}
            assert jobs["send_outbox"].trigger.interval.total_seconds() == 2
            assert jobs["visit_reminders"].trigger.interval.total_seconds() == 1.5
            assert jobs["outcome_nudges"].trigger.interval.total_seconds() == 3600
        finally:
            scheduler.shutdown(wait=False)
        # A job that is not an interval job (or does not exist) is refused, naming the ones there are.
        app.config["SCHEDULER_INTERVALS"] = {"daily_digests": 5}
        with pytest.raises(ConfigError, match="send_outbox"):
            build_scheduler(app)
    finally:
        app.config["SCHEDULER_INTERVALS"] = saved


def test_a_scheduler_that_lost_its_lock_runs_no_job(app):
    from app.jobs.scheduler import run_scheduled_job

    assert run_scheduled_job(app, "send_outbox", may_run=lambda: False) is None
    assert run_scheduled_job(app, "send_outbox", may_run=lambda: True) == {"sent": 0, "retry": 0, "failed": 0}


def test_the_scheduler_refuses_intervals_for_jobs_it_does_not_have(app):
    import signal

    saved = app.config["SCHEDULER_INTERVALS"], signal.getsignal(signal.SIGTERM)
    app.config["SCHEDULER_INTERVALS"] = {"send_outbox": 1, "sendoutbox": 1}
    try:
        result = app.test_cli_runner().invoke(args=["scheduler", "run"])
    finally:
        app.config["SCHEDULER_INTERVALS"] = saved[0]
        signal.signal(signal.SIGTERM, saved[1])
    assert result.exit_code != 0
    assert "SCHEDULER_INTERVALS names sendoutbox" in result.output
