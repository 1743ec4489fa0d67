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
