"""Retention: personal data that has served its purpose is removed after its period (the
RETENTION entries of app/privacy/register.py; the days are settings, RETENTION_*_DAYS).

* "closed_note": the notes and preferred times of help requests closed, the notes of visits ended
  and the reasons of follow-ups closed, longer ago than the period;
* "inactive_phone": the phone number of a resident or an account with no activity (no request,
  visit, milestone, follow-up, consent or sign-in) for the period, and of requests closed as long;
* "messages": messages of the outbox sent (or given up) longer ago than the period;
* "security_log": audit events older than the period;
* "recovery_code": codes for a forgotten password asked longer ago than the period;
* "read_log": entries of the log of who read whose record older than the period;
* "campaign": what members noted at the doors, once the campaign ended longer ago than the period;
* "ledger": members' closed months, once closed longer ago than the period;
* "availability_note": the notes of members' days away or extra hours, after the period.

Another part of the platform may add its own rule with `@rule`.

Nothing still in use is touched: open requests, booked visits, open follow-ups, people active in
the period. Each rule is one UPDATE or DELETE, so the daily job (app/jobs/scheduler.py) stays
cheap and running it twice changes nothing more. `flask privacy retention` prints the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, union, update

from app.audit.models import AuditEvent
from app.auth.models import RecoveryCode, User
from app.db import LOCAL_TZ, utcnow
from app.extensions import db
from app.jobs.models import Message
from app.outcomes.models import Campaign, FollowUp, LedgerMonth, MilestoneEvidence, Resident, WalkListEntry
from app.privacy.models import PersonalDataRead
from app.privacy.register import RETENTION
from app.visits.models import AvailabilityException, HelpRequest, Visit

#: What an erased reason of a follow-up reads as (the column holds text).
ERASED = "—"
#: retention key -> the setting that gives its days.
SETTINGS = {
    "closed_note": "RETENTION_NOTES_DAYS",
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
    setting = SETTINGS.get(key)
    configured = current_app.config.get(setting) if setting else None
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


def _cutoff_day(report: RetentionReport, key: str) -> date:
    """The local day before which a period counted in days (not moments) has passed."""
    return _cutoff(report, key).astimezone(LOCAL_TZ).date()


def _changed(statement) -> int:
    return db.session.execute(statement.execution_options(synchronize_session=False)).rowcount


@rule
def closed_notes(report: RetentionReport) -> None:
    cutoff = _cutoff(report, "closed_note")
    requests = _changed(
        update(HelpRequest)
        .where(
            HelpRequest.status.in_(CLOSED_REQUEST_STATUSES),
            func.coalesce(HelpRequest.closed_at, HelpRequest.created_at) < cutoff,
            or_(
                HelpRequest.note.is_not(None),
                HelpRequest.preferred_times.is_not(None),
                HelpRequest.cancel_reason.is_not(None),
                HelpRequest.time_wish.is_not(None),
                HelpRequest.time_wish_on.is_not(None),
            ),
        )
        .values(
            note=None, preferred_times=None, cancel_reason=None, time_wish=None, time_wish_on=None, time_wish_at=None
        )
    )
    report.add("closed_note", _("notes of closed help requests"), requests)
    visits = _changed(
        update(Visit)
        .where(
            Visit.status.in_(ENDED_VISIT_STATUSES),
            func.coalesce(Visit.completed_at, Visit.ends_at) < cutoff,
            or_(Visit.notes.is_not(None), Visit.cancel_reason.is_not(None)),
        )
        .values(notes=None, cancel_reason=None)
    )
    report.add("closed_note", _("notes of visits that ended"), visits)
    follow_ups = _changed(
        update(FollowUp)
        .where(FollowUp.status != "open", FollowUp.closed_at < cutoff, FollowUp.reason != ERASED)
        .values(reason=ERASED)
    )
    report.add("closed_note", _("reasons of closed follow-ups"), follow_ups)


@rule
def inactive_phones(report: RetentionReport) -> None:
    cutoff = _cutoff(report, "inactive_phone")
    active_residents = union(
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
    ).subquery()
    residents = _changed(
        update(Resident)
        .where(
            Resident.phone.is_not(None),
            Resident.erased_at.is_(None),
            Resident.created_at < cutoff,
            or_(Resident.consent_at.is_(None), Resident.consent_at < cutoff),
            Resident.id.not_in(select(active_residents.c[0])),
        )
        .values(phone=None)
    )
    report.add("inactive_phone", _("phone numbers of residents with no activity"), residents)
    active_accounts = union(
        select(HelpRequest.resident_id).where(
            HelpRequest.resident_id.is_not(None),
            or_(HelpRequest.created_at >= cutoff, HelpRequest.status.not_in(CLOSED_REQUEST_STATUSES)),
        ),
        select(Visit.resident_id).where(
            Visit.resident_id.is_not(None), or_(Visit.starts_at >= cutoff, Visit.status == "booked")
        ),
        select(Visit.member_id).where(or_(Visit.starts_at >= cutoff, Visit.status == "booked")),
    ).subquery()
    accounts = _changed(
        update(User)
        .where(
            User.phone.is_not(None),
            User.erased_at.is_(None),
            User.created_at < cutoff,
            or_(User.last_login_at.is_(None), User.last_login_at < cutoff),
            User.id.not_in(select(active_accounts.c[0])),
        )
        .values(phone=None)
    )
    report.add("inactive_phone", _("phone numbers of accounts with no activity"), accounts)
    requests = _changed(
        update(HelpRequest)
        .where(
            HelpRequest.phone.is_not(None),
            HelpRequest.status.in_(CLOSED_REQUEST_STATUSES),
            func.coalesce(HelpRequest.closed_at, HelpRequest.created_at) < cutoff,
        )
        .values(phone=None)
    )
    report.add("inactive_phone", _("phone numbers of help requests closed long ago"), requests)


@rule
def old_messages(report: RetentionReport) -> None:
    cutoff = _cutoff(report, "messages")
    count = _changed(
        delete(Message).where(
            Message.status.in_(("sent", "failed", "no_email")),
            func.coalesce(Message.sent_at, Message.created_at) < cutoff,
        )
    )
    report.add("messages", _("messages sent or given up"), count)


@rule
def old_security_events(report: RetentionReport) -> None:
    cutoff = _cutoff(report, "security_log")
    count = _changed(delete(AuditEvent).where(AuditEvent.at < cutoff))
    report.add("security_log", _("security events"), count)


@rule
def old_recovery_codes(report: RetentionReport) -> None:
    count = _changed(delete(RecoveryCode).where(RecoveryCode.created_at < _cutoff(report, "recovery_code")))
    report.add("recovery_code", _("codes for a forgotten password"), count)


@rule
def old_reads(report: RetentionReport) -> None:
    count = _changed(delete(PersonalDataRead).where(PersonalDataRead.read_at < _cutoff(report, "read_log")))
    report.add("read_log", _("entries of the log of who read whose record"), count)


@rule
def old_campaign_notes(report: RetentionReport) -> None:
    ended = select(Campaign.id).where(Campaign.ends_on < _cutoff_day(report, "campaign"))
    count = _changed(
        update(WalkListEntry)
        .where(WalkListEntry.campaign_id.in_(ended), WalkListEntry.note.is_not(None))
        .values(note=None)
    )
    report.add("campaign", _("notes of door-to-door campaigns that ended"), count)


@rule
def old_ledger_months(report: RetentionReport) -> None:
    cutoff = _cutoff(report, "ledger")
    count = _changed(delete(LedgerMonth).where(LedgerMonth.closed_at < cutoff))
    report.add("ledger", _("members' ledger months"), count)


@rule
def old_availability_notes(report: RetentionReport) -> None:
    count = _changed(
        update(AvailabilityException)
        .where(
            AvailabilityException.on_date < _cutoff_day(report, "availability_note"),
            AvailabilityException.note.is_not(None),
        )
        .values(note=None)
    )
    report.add("availability_note", _("notes of members' days away or extra hours"), count)


def run_retention(now: datetime | None = None) -> int:
    """The daily job (app/jobs/scheduler.py): apply retention; returns how many rows changed."""
    return apply_retention(now).total
