"""Retention: personal data that has served its purpose is removed after its period (the
RETENTION entries of app/privacy/register.py; the days are settings, RETENTION_*_DAYS).

* "closed_notes": the notes, preferred times and phone number of help requests closed, and the
  notes of visits ended, and the reasons of follow-ups closed, longer ago than the period;
* "inactive_phone": the phone number of a resident with no activity (no request, visit,
  milestone, follow-up, consent or sign-in) for the period;
* "messages": messages of the outbox sent (or given up) longer ago than the period.

Nothing still in use is touched: open requests, booked visits, open follow-ups, people active in
the period. Each rule is one UPDATE or DELETE, so the daily job (app/jobs/scheduler.py) stays
cheap and running it twice changes nothing more. `flask privacy retention` prints the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, union, update

from app.auth.models import User
from app.db import utcnow
from app.extensions import db
from app.jobs.models import Message
from app.outcomes.models import FollowUp, MilestoneEvidence, Resident
from app.privacy.register import RETENTION
from app.visits.models import HelpRequest, Visit

#: What an erased reason of a follow-up reads as (the column holds text).
ERASED = "—"
#: retention key -> the setting that gives its days.
SETTINGS = {
    "closed_notes": "RETENTION_NOTES_DAYS",
    "inactive_phone": "RETENTION_INACTIVE_PHONE_DAYS",
    "messages": "RETENTION_MESSAGES_DAYS",
}
CLOSED_REQUEST_STATUSES = ("done", "cancelled", "unreachable")
ENDED_VISIT_STATUSES = ("done", "cancelled", "no_show")


@dataclass
class RetentionReport:
    """What one run removed: [{"key", "what", "count"}], and the cut-off of each period."""

    now: datetime
    items: list[dict] = field(default_factory=list)
    cutoffs: dict[str, datetime] = field(default_factory=dict)

    def add(self, key: str, what: str, count: int) -> None:
        self.items.append({"key": key, "what": what, "count": count})

    @property
    def total(self) -> int:
        return sum(item["count"] for item in self.items)

    def lines(self) -> list[str]:
        return [f"{item['key']}: {item['what']}: {item['count']}" for item in self.items]


def days(key: str) -> int:
    """The period of retention `key`, in days: its setting, else the register's default."""
    configured = current_app.config.get(SETTINGS[key])
    return int(configured if configured is not None else RETENTION[key].days)


#: The rules, run in order; another part of the platform may add its own (fn(report)).
RULES: list[Callable[[RetentionReport], None]] = []


def rule(fn):
    RULES.append(fn)
    return fn


def apply_retention(now: datetime | None = None) -> RetentionReport:
    """Apply every retention rule as of `now`. Flushes; the job or command commits."""
    report = RetentionReport(now or utcnow())
    for apply in RULES:
        apply(report)
    db.session.flush()
    return report


def _cutoff(report: RetentionReport, key: str) -> datetime:
    cutoff = report.now - timedelta(days=days(key))
    report.cutoffs[key] = cutoff
    return cutoff


@rule
def closed_notes(report: RetentionReport) -> None:
    cutoff = _cutoff(report, "closed_notes")
    requests = db.session.execute(
        update(HelpRequest)
        .where(
            HelpRequest.status.in_(CLOSED_REQUEST_STATUSES),
            func.coalesce(HelpRequest.closed_at, HelpRequest.created_at) < cutoff,
            or_(
                HelpRequest.note.is_not(None),
                HelpRequest.preferred_times.is_not(None),
                HelpRequest.phone.is_not(None),
            ),
        )
        .values(note=None, preferred_times=None, phone=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    report.add("closed_notes", _("notes and phone numbers of closed help requests"), requests)
    visits = db.session.execute(
        update(Visit)
        .where(
            Visit.status.in_(ENDED_VISIT_STATUSES),
            func.coalesce(Visit.completed_at, Visit.ends_at) < cutoff,
            or_(Visit.notes.is_not(None), Visit.cancel_reason.is_not(None)),
        )
        .values(notes=None, cancel_reason=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    report.add("closed_notes", _("notes of visits that ended"), visits)
    follow_ups = db.session.execute(
        update(FollowUp)
        .where(FollowUp.status != "open", FollowUp.closed_at < cutoff, FollowUp.reason != ERASED)
        .values(reason=ERASED)
        .execution_options(synchronize_session=False)
    ).rowcount
    report.add("closed_notes", _("reasons of closed follow-ups"), follow_ups)


@rule
def inactive_phones(report: RetentionReport) -> None:
    cutoff = _cutoff(report, "inactive_phone")
    active = union(
        select(HelpRequest.resident_record_id).where(
            HelpRequest.resident_record_id.is_not(None),
            or_(
                HelpRequest.created_at >= cutoff,
                HelpRequest.closed_at >= cutoff,
                HelpRequest.status.not_in(CLOSED_REQUEST_STATUSES),
            ),
        ),
        select(Visit.resident_record_id).where(
            Visit.resident_record_id.is_not(None), or_(Visit.starts_at >= cutoff, Visit.status == "booked")
        ),
        select(MilestoneEvidence.resident_id).where(MilestoneEvidence.recorded_at >= cutoff),
        select(FollowUp.resident_id).where(
            FollowUp.resident_id.is_not(None), or_(FollowUp.created_at >= cutoff, FollowUp.status == "open")
        ),
        select(Resident.id).join(User, User.id == Resident.user_id).where(User.last_login_at >= cutoff),
    )
    count = db.session.execute(
        update(Resident)
        .where(
            Resident.phone.is_not(None),
            Resident.erased_at.is_(None),
            Resident.created_at < cutoff,
            or_(Resident.consent_at.is_(None), Resident.consent_at < cutoff),
            Resident.id.not_in(select(active.subquery().c[0])),
        )
        .values(phone=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    report.add("inactive_phone", _("phone numbers of residents with no activity"), count)


@rule
def old_messages(report: RetentionReport) -> None:
    cutoff = _cutoff(report, "messages")
    count = db.session.execute(
        delete(Message)
        .where(Message.status.in_(("sent", "failed", "no_email")), Message.created_at < cutoff)
        .execution_options(synchronize_session=False)
    ).rowcount
    report.add("messages", _("messages sent or given up"), count)


def run_retention(now: datetime | None = None) -> int:
    """The daily job (app/jobs/scheduler.py): apply retention; returns how many rows changed."""
    return apply_retention(now).total
