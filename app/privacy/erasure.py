"""Erasing a person: every personal field of theirs, in every table, removed or irreversibly
anonymised, while what a state task requires stays, cut from any name.

`erase_person()` runs the erase handler of every table (`@eraser`, app.privacy.register) and
writes one row to the erasure ledger (app.privacy.models.Erasure), by ids alone; `reapply()`
runs the same handlers again for every ledger row, after a backup taken before an erasure was
restored. Like every operation it only flushes; the request or command commits.

What stays, and why:

* the resident record and the account, as anonymous shells (no name, phone, e-mail, birth year,
  code or household; an unusable password and a meaningless username), because the milestones
  reached and the learning done are counted in the province's figures (a state task). The shells
  carry `erased_at` and are found by no lookup, list, search or export, so the person answers
  404 everywhere;
* milestones reached and their evidence, enrolments, lesson, module and quiz progress, class
  attendance, attended group sessions, completed visits and help requests (without place, notes,
  name or phone) and the member's closed ledger months: the figures of the programme;
* audit events, without the name, address and details: the security log (a legal obligation).

Certificate PDFs and exports are made when they are downloaded and never stored on disk; the
certificate rows (their codes are verifiable online and name the holder) are deleted.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update
from werkzeug.security import generate_password_hash

from app import authz
from app.audit.models import AuditEvent
from app.auth.models import PASSWORD_METHOD, Consent, User
from app.db import utcnow
from app.exceptions import Conflict, Invalid, NotAllowed
from app.extensions import db
from app.jobs.models import Message
from app.learning.models import Certificate, Enrollment
from app.outcomes.models import (
    ConfidenceAssessment,
    FollowUp,
    Household,
    LedgerMonth,
    Resident,
    ResidentMilestone,
    WalkListEntry,
)
from app.privacy import register
from app.privacy.models import Erasure
from app.privacy.register import Subject, eraser
from app.privacy.subjects import subject_of_resident, subject_of_user
from app.reports import summaries
from app.reports.models import PeopleStat
from app.visits.models import (
    AvailabilityException,
    CalendarFeed,
    GroupSession,
    HelpRequest,
    SessionSignup,
    TeamMember,
    Visit,
    WeeklyAvailability,
)

log = logging.getLogger(__name__)

#: What an erased name, place or address reads as where a row is kept.
ERASED = "—"
#: The longest reason kept in the ledger.
MAX_REASON = 500
#: Shorter values are not searched for in other people's messages (too many false matches).
MIN_NEEDLE = 4


@dataclass
class ErasureReport:
    """What an erasure did: `erased` [{"table", "what"}] and `kept` [{"what", "why"}]."""

    erased: list[dict] = field(default_factory=list)
    kept: list[dict] = field(default_factory=list)
    #: The ledger row (None when nothing was left to erase).
    ledger_id: int | None = None

    def as_dict(self) -> dict:
        return {"erased": list(self.erased), "kept": list(self.kept)}


@dataclass
class ErasureRun:
    """What every erase handler is given besides the subject: the time, the values to look for in
    other people's rows, and the report to add to."""

    subject: Subject
    now: datetime
    report: ErasureReport
    #: The person's own values (name, phone, e-mail, username, address, notes), gathered before
    #: anything is changed, to scrub them from rows that are other people's (messages).
    needles: set[str] = field(default_factory=set)
    #: The households of the subject's resident records, before they are unlinked.
    household_ids: set[int] = field(default_factory=set)

    def erased(self, table: str, what: str, count: int = 1) -> None:
        if count:
            self.report.erased.append({"table": table, "what": what})

    def kept(self, what: str, why: str, count: int = 1) -> None:
        if count:
            self.report.kept.append({"what": what, "why": why})

    def note(self, *values) -> None:
        for value in values:
            if isinstance(value, str) and len(value.strip()) >= MIN_NEEDLE and value.strip() != ERASED:
                self.needles.add(value.strip())


# --- who may erase whom ---------------------------------------------------------------------


def ensure_may_erase_resident(actor: User, resident: Resident) -> Subject:
    """The subject of `resident`, when `actor` may erase it (and its account, when linked)."""
    if not authz.may_erase_resident(actor, resident):
        raise NotAllowed(_("You may not erase this resident's data."))
    subject = subject_of_resident(resident)
    if subject.user_id is not None:
        account = db.session.get(User, subject.user_id)
        if account.erased_at is None and account.id != actor.id and not authz.may_erase_account(actor, account):
            raise NotAllowed(_("This resident's account is managed by someone else; ask them to erase it."))
    return subject


def ensure_may_erase_account(actor: User, person: User) -> Subject:
    if not authz.may_erase_account(actor, person):
        raise NotAllowed(_("You may not erase this account's data."))
    return subject_of_user(person)


def erase_resident(actor: User, resident: Resident, reason, *, request_id: int | None = None) -> ErasureReport:
    """The page's and the API's one door to erasing a resident."""
    return erase_person(actor, ensure_may_erase_resident(actor, resident), reason, request_id=request_id)


def erase_account(actor: User, person: User, reason, *, request_id: int | None = None) -> ErasureReport:
    """The page's one door to erasing an account (and the resident records linked to it)."""
    return erase_person(actor, ensure_may_erase_account(actor, person), reason, request_id=request_id)


# --- the erasure ----------------------------------------------------------------------------


def clean_reason(reason) -> str:
    reason = reason.strip() if isinstance(reason, str) else ""
    if not reason:
        raise Invalid(_("Say why the data is erased (e.g. the person's request)."), field="reason")
    if len(reason) > MAX_REASON:
        raise Invalid(_("Keep the reason under %(n)s characters.", n=MAX_REASON), field="reason")
    return reason


def erase_person(actor: User, subject: Subject, reason, *, request_id: int | None = None) -> ErasureReport:
    """Erase everything held about `subject` (see the module's notes), log it in the ledger and
    return what was erased and what was kept. Erasing an erased person again changes nothing and
    answers the first erasure's report. Refuses to erase the last administrator."""
    reason = clean_reason(reason)
    account = db.session.get(User, subject.user_id) if subject.user_id is not None else None
    residents = [db.session.get(Resident, rid) for rid in subject.resident_ids]
    if (account is None or account.erased_at is not None) and all(r.erased_at is not None for r in residents):
        return _earlier_report(subject)
    if account is not None and account.role == "admin" and _last_admin(account):
        raise Conflict(_("This is the last administrator's account: give the role to someone else first."))
    now = utcnow()
    report = ErasureReport()
    apply(subject, now, report)
    ledger = Erasure(
        user_id=subject.user_id,
        resident_ids=list(subject.resident_ids),
        erased_at=now,
        actor_id=actor.id,
        reason=reason,
        request_id=request_id,
        report=report.as_dict(),
    )
    db.session.add(ledger)
    db.session.flush()
    report.ledger_id = ledger.id
    log.info(
        "erasure %s: user=%s residents=%s; kept under a legal exception: %s",
        ledger.id,
        subject.user_id,
        list(subject.resident_ids),
        "; ".join(item["what"] for item in report.kept),
    )
    return report


def _last_admin(account: User) -> bool:
    others = db.session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == "admin", User.active.is_(True), User.erased_at.is_(None), User.id != account.id)
    )
    return not others


def _earlier_report(subject: Subject) -> ErasureReport:
    earlier = [
        row
        for row in db.session.scalars(select(Erasure).order_by(Erasure.id.desc()))
        if (subject.user_id is not None and row.user_id == subject.user_id)
        or set(subject.resident_ids) & set(row.resident_ids or [])
    ]
    if not earlier:
        return ErasureReport()
    row = earlier[0]
    return ErasureReport(list(row.report.get("erased", [])), list(row.report.get("kept", [])), row.id)


def apply(subject: Subject, now: datetime, report: ErasureReport | None = None) -> ErasureReport:
    """Run every table's erase handler for `subject` (also for rows a restored backup brought
    back). Safe to run any number of times."""
    report = report if report is not None else ErasureReport()
    run = ErasureRun(subject, now, report)
    _gather(run)
    register.load()
    for handler in HANDLERS.values():
        handler(subject, run)
    for table, handler in list(register.ERASERS.items()):
        if table not in HANDLERS:  # a table another part of the platform erases itself
            handler(subject, run)
    db.session.flush()
    return report


def _gather(run: ErasureRun) -> None:
    """The person's own values and households, read before any handler changes them."""
    subject = run.subject
    if subject.user_id is not None:
        user = db.session.get(User, subject.user_id)
        if user is not None and user.erased_at is None:
            run.note(user.full_name, user.email, user.phone)
    for resident in _residents(subject):
        run.note(resident.full_name, resident.phone)
        if resident.household_id is not None:
            run.household_ids.add(resident.household_id)
            household = db.session.get(Household, resident.household_id)
            run.note(household.address)
    for request in _requests(subject):
        run.note(request.name, request.phone, request.place)
    for visit in _visits(subject):
        run.note(visit.place)


def _residents(subject: Subject) -> list[Resident]:
    if not subject.resident_ids:
        return []
    return list(db.session.scalars(select(Resident).where(Resident.id.in_(subject.resident_ids))))


def _requests(subject: Subject) -> list[HelpRequest]:
    clauses = []
    if subject.user_id is not None:
        clauses.append(HelpRequest.resident_id == subject.user_id)
    if subject.resident_ids:
        clauses.append(HelpRequest.resident_record_id.in_(subject.resident_ids))
    if not clauses:
        return []
    return list(db.session.scalars(select(HelpRequest).where(or_(*clauses)).order_by(HelpRequest.id)))


def _visits(subject: Subject) -> list[Visit]:
    clauses = []
    if subject.user_id is not None:
        clauses.append(Visit.resident_id == subject.user_id)
    if subject.resident_ids:
        clauses.append(Visit.resident_record_id.in_(subject.resident_ids))
    request_ids = [request.id for request in _requests(subject)]
    if request_ids:
        clauses.append(Visit.request_id.in_(request_ids))
    if not clauses:
        return []
    return list(db.session.scalars(select(Visit).where(or_(*clauses)).order_by(Visit.id)))


# --- the handlers, one per table holding personal data --------------------------------------
# They run in this order, each safe to run again, and are the register's erase handlers.

#: table -> this module's handler, in the order they run.
HANDLERS: dict[str, Callable] = {}


def handles(table: str):
    def register_handler(fn):
        HANDLERS[table] = fn
        return eraser(table)(fn)

    return register_handler


@handles("messages")
def erase_messages(subject: Subject, run: ErasureRun) -> None:
    """The person's own messages are deleted; other people's messages (a member's reminder of a
    visit to the person) lose the person's name, phone and address."""
    if subject.user_id is not None:
        count = db.session.execute(delete(Message).where(Message.user_id == subject.user_id)).rowcount
        run.erased("messages", _("%(n)s messages to the person deleted", n=count), count)
    scrubbed = 0
    for needle in sorted(run.needles, key=len, reverse=True):
        for message in db.session.scalars(
            select(Message).where(
                or_(Message.subject.contains(needle, autoescape=True), Message.body.contains(needle, autoescape=True))
            )
        ):
            message.subject = message.subject.replace(needle, ERASED)
            message.body = message.body.replace(needle, ERASED)
            scrubbed += 1
    run.erased("messages", _("the person's details removed from %(n)s messages to others", n=scrubbed), scrubbed)


@handles("follow_ups")
def erase_follow_ups(subject: Subject, run: ErasureRun) -> None:
    if not subject.resident_ids:
        return
    count = db.session.execute(delete(FollowUp).where(FollowUp.resident_id.in_(subject.resident_ids))).rowcount
    run.erased("follow_ups", _("%(n)s follow-ups deleted", n=count), count)


@handles("confidence_assessments")
def erase_confidence(subject: Subject, run: ErasureRun) -> None:
    if not subject.resident_ids:
        return
    count = db.session.execute(
        delete(ConfidenceAssessment).where(ConfidenceAssessment.resident_id.in_(subject.resident_ids))
    ).rowcount
    run.erased("confidence_assessments", _("%(n)s confidence self-assessments deleted", n=count), count)


@handles("visits")
def erase_visits(subject: Subject, run: ErasureRun) -> None:
    visits = _visits(subject)
    for visit in visits:
        if visit.status == "booked":
            visit.status = "cancelled"
        visit.place = ERASED
        visit.notes = None
        visit.cancel_reason = None
        visit.resident_id = None
        visit.resident_record_id = None
    run.erased(
        "visits", _("place and notes of %(n)s visits removed; booked ones cancelled", n=len(visits)), len(visits)
    )
    run.kept(
        _("%(n)s visits without place, notes or person: skill, time, duration, rating", n=len(visits)),
        _("counted in the province's figures of help given (a state task)"),
        len(visits),
    )


@handles("help_requests")
def erase_help_requests(subject: Subject, run: ErasureRun) -> None:
    requests = _requests(subject)
    for request in requests:
        if request.status in ("new", "scheduled"):
            request.status = "cancelled"
            request.closed_at = request.closed_at or run.now
        request.name = ERASED
        request.phone = None
        request.place = ERASED
        request.note = None
        request.preferred_times = None
        request.resident_id = None
        request.resident_record_id = None
    run.erased(
        "help_requests",
        _("name, phone, place and notes of %(n)s help requests removed; open ones cancelled", n=len(requests)),
        len(requests),
    )
    run.kept(
        _("%(n)s help requests without name, phone, place or notes: skill, date, status", n=len(requests)),
        _("counted in the province's figures of help asked for (a state task)"),
        len(requests),
    )


@handles("walk_list_entries")
def erase_walk_notes(subject: Subject, run: ErasureRun) -> None:
    if not run.household_ids:
        return
    count = db.session.execute(
        update(WalkListEntry)
        .where(WalkListEntry.household_id.in_(run.household_ids), WalkListEntry.note.is_not(None))
        .values(note=None)
    ).rowcount
    run.erased("walk_list_entries", _("notes of %(n)s door-to-door visits removed", n=count), count)


@handles("households")
def erase_households(subject: Subject, run: ErasureRun) -> None:
    """A household's address goes when no other (not erased) resident lives there."""
    for household_id in sorted(run.household_ids):
        household = db.session.get(Household, household_id)
        others = db.session.scalar(
            select(func.count())
            .select_from(Resident)
            .where(
                Resident.household_id == household_id,
                Resident.erased_at.is_(None),
                Resident.id.not_in(subject.resident_ids),
            )
        )
        if others:
            run.kept(_("the household's address"), _("other residents live there"))
            continue
        household.address = ERASED
        household.code = f"erased-{household.id}"
        run.erased("households", _("the household's address and number removed"))


@handles("resident_milestones")
def keep_milestones(subject: Subject, run: ErasureRun) -> None:
    """Kept, linked to the anonymous record only: the milestones reached are the province's
    digital-inclusion figures."""
    if not subject.resident_ids:
        return
    count = db.session.scalar(
        select(func.count())
        .select_from(ResidentMilestone)
        .where(ResidentMilestone.resident_id.in_(subject.resident_ids))
    )
    run.kept(
        _("%(n)s milestones reached and their evidence, linked to an anonymous record", n=count),
        _("counted in the province's digital-inclusion targets (a state task)"),
        count,
    )


@handles("milestone_evidence")
def keep_milestone_evidence(subject: Subject, run: ErasureRun) -> None:
    """Kept with the milestones (see keep_milestones): no text, only dates and ids."""


@handles("consents")
def erase_consents(subject: Subject, run: ErasureRun) -> None:
    if subject.user_id is None:
        return
    count = db.session.execute(delete(Consent).where(Consent.user_id == subject.user_id)).rowcount
    run.erased("consents", _("%(n)s consents and their notes deleted", n=count), count)


@handles("certificates")
def erase_certificates(subject: Subject, run: ErasureRun) -> None:
    """The certificate rows go (their codes name the holder at /verify); their PDFs are made when
    downloaded and never stored."""
    if subject.user_id is None:
        return
    count = db.session.execute(delete(Certificate).where(Certificate.user_id == subject.user_id)).rowcount
    run.erased("certificates", _("%(n)s certificates deleted (no PDF is stored)", n=count), count)


@handles("calendar_feeds")
def erase_calendar_feeds(subject: Subject, run: ErasureRun) -> None:
    if subject.user_id is None:
        return
    count = db.session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == subject.user_id)).rowcount
    run.erased("calendar_feeds", _("the calendar feed address deleted"), count)


@handles("team_members")
def erase_team_members(subject: Subject, run: ErasureRun) -> None:
    if subject.user_id is None:
        return
    count = db.session.execute(delete(TeamMember).where(TeamMember.user_id == subject.user_id)).rowcount
    run.erased("team_members", _("%(n)s team memberships and skills deleted", n=count), count)


@handles("weekly_availability")
def erase_weekly_availability(subject: Subject, run: ErasureRun) -> None:
    if subject.user_id is None:
        return
    count = db.session.execute(delete(WeeklyAvailability).where(WeeklyAvailability.user_id == subject.user_id)).rowcount
    run.erased("weekly_availability", _("%(n)s weekly free hours deleted", n=count), count)


@handles("availability_exceptions")
def erase_availability_exceptions(subject: Subject, run: ErasureRun) -> None:
    if subject.user_id is None:
        return
    count = db.session.execute(
        delete(AvailabilityException).where(AvailabilityException.user_id == subject.user_id)
    ).rowcount
    run.erased("availability_exceptions", _("%(n)s days away or extra hours deleted", n=count), count)


@handles("session_signups")
def erase_session_signups(subject: Subject, run: ErasureRun) -> None:
    """Sign-ups to sessions still to come go (and free their seats); attended ones are kept."""
    if subject.user_id is None:
        return
    upcoming = list(
        db.session.scalars(
            select(SessionSignup)
            .join(GroupSession, GroupSession.id == SessionSignup.session_id)
            .where(SessionSignup.user_id == subject.user_id, GroupSession.starts_at > run.now)
        )
    )
    for signup in upcoming:
        db.session.execute(
            update(GroupSession)
            .where(GroupSession.id == signup.session_id, GroupSession.signed_up > 0)
            .values(signed_up=GroupSession.signed_up - 1)
        )
        db.session.delete(signup)
    run.erased(
        "session_signups", _("%(n)s sign-ups to coming group sessions cancelled", n=len(upcoming)), len(upcoming)
    )
    past = db.session.scalar(
        select(func.count()).select_from(SessionSignup).where(SessionSignup.user_id == subject.user_id)
    )
    run.kept(
        _("%(n)s past group-session sign-ups, linked to an anonymous account", n=past),
        _("counted in the province's figures of help given (a state task)"),
        past,
    )


@handles("enrollments")
def keep_learning(subject: Subject, run: ErasureRun) -> None:
    """Kept, linked to the anonymous account only: learning completions are the province's
    figures (enrolments, lessons, modules, quizzes, classes)."""
    if subject.user_id is None:
        return
    count = db.session.scalar(select(func.count()).select_from(Enrollment).where(Enrollment.user_id == subject.user_id))
    run.kept(
        _("%(n)s course enrolments with lesson, module and quiz progress, linked to an anonymous account", n=count),
        _("counted in the province's figures of digital-skills learning (a state task)"),
        count,
    )


@handles("lesson_progress")
@handles("module_completions")
@handles("quiz_attempts")
@handles("attempt_questions")
@handles("attempt_choices")
@handles("class_attendance")
def keep_learning_progress(subject: Subject, run: ErasureRun) -> None:
    """Kept with the enrolments (see keep_learning): no text, only dates, modes, scores and ids
    of an anonymous account; the course and question analytics count them."""


@handles("assignments")
@handles("campaigns")
@handles("closed_months")
@handles("group_sessions")
@handles("training_classes")
def keep_staff_records(subject: Subject, run: ErasureRun) -> None:
    """These rows name the person only as who assigned, ran, hosted or recorded them: an id that
    now points to the anonymous account. Kept, as the programme's record of its own work."""


@handles("ledger_months")
def keep_ledger(subject: Subject, run: ErasureRun) -> None:
    """A member's closed months back support payments: kept, with the anonymous account."""
    if subject.user_id is None:
        return
    count = db.session.scalar(
        select(func.count()).select_from(LedgerMonth).where(LedgerMonth.member_id == subject.user_id)
    )
    run.kept(
        _("%(n)s closed months of the member's ledger, linked to an anonymous account", n=count),
        _("they back support payments already made (a legal obligation)"),
        count,
    )


@handles("audit_events")
def erase_audit_details(subject: Subject, run: ErasureRun) -> None:
    """Security events stay, with ids only: no username typed, address or details."""
    if subject.user_id is None:
        return
    user = db.session.get(User, subject.user_id)
    about = [AuditEvent.target_user_id == subject.user_id, AuditEvent.actor_id == subject.user_id]
    if user is not None and not user.username.startswith("erased-"):
        about.append(AuditEvent.username == user.username)
    count = 0
    for event in db.session.scalars(select(AuditEvent).where(or_(*about))):
        event.username = None
        event.ip_address = None
        if event.target_user_id == subject.user_id or event.actor_id is None:
            event.details = None
        count += 1
    run.erased(
        "audit_events", _("usernames, network addresses and details of %(n)s security events removed", n=count), count
    )
    run.kept(
        _("%(n)s security events, by account number only", n=count),
        _("the security log the platform must keep (a legal obligation)"),
        count,
    )


@handles("residents")
def erase_residents(subject: Subject, run: ErasureRun) -> None:
    residents = _residents(subject)
    for resident in residents:
        resident.full_name = ERASED
        resident.phone = None
        resident.birth_year = None
        resident.code = None
        resident.household_id = None
        resident.user_id = None
        resident.erased_at = resident.erased_at or run.now
    run.erased(
        "residents",
        _("name, phone, birth year, number and household of %(n)s resident records removed", n=len(residents)),
        len(residents),
    )


@handles("users")
def erase_user(subject: Subject, run: ErasureRun) -> None:
    """The account stays as a shell the figures count by unit and role: no name, e-mail, phone
    or birth year, a meaningless username, a password no one knows, inactive, signed out."""
    if subject.user_id is None:
        return
    user = db.session.get(User, subject.user_id)
    if user is None:
        return
    if user.active:
        # Unit and role stay, so the learning figures stay; only the active accounts move.
        summaries.bump(PeopleStat, user.unit_id, {"role": user.role}, accounts=-1)
        user.active = False
    if not user.username.startswith("erased-"):
        user.username = f"erased-{secrets.token_hex(8)}"
    user.full_name = ERASED
    user.email = None
    user.phone = None
    user.birth_year = None
    user.locale = None
    user.last_login_at = None
    user.must_change_password = False
    user.password_hash = generate_password_hash(secrets.token_urlsafe(32), method=PASSWORD_METHOD)
    user.end_sessions()
    user.erased_at = user.erased_at or run.now
    run.erased("users", _("name, e-mail, phone, birth year and username of the account removed; signed out"))


# --- after a backup is restored -------------------------------------------------------------
# A backup taken before an erasure holds the person again, and lacks the ledger rows written
# since. So the ledger is also written out (`flask privacy ledger-export FILE`, ids and reasons,
# no names) next to each backup and after each erasure; `flask privacy reapply --from FILE`
# puts back the rows a restore lost, then erases everyone in the ledger again.

LEDGER_FIELDS = ("id", "user_id", "resident_ids", "erased_at", "actor_id", "reason", "request_id", "report")


def ledger_entries() -> list[dict]:
    """The erasure ledger as plain JSON-ready dicts, oldest first."""
    return [
        {
            "id": row.id,
            "user_id": row.user_id,
            "resident_ids": list(row.resident_ids or []),
            "erased_at": row.erased_at.isoformat(),
            "actor_id": row.actor_id,
            "reason": row.reason,
            "request_id": row.request_id,
            "report": row.report or {},
        }
        for row in db.session.scalars(select(Erasure).order_by(Erasure.id))
    ]


def restore_ledger(entries: list[dict]) -> int:
    """Add the ledger rows of `entries` (from ledger_entries()) the database lacks; returns how
    many. Raises Invalid for anything that is not such a list."""
    if not isinstance(entries, list) or not all(isinstance(e, dict) and set(LEDGER_FIELDS) <= set(e) for e in entries):
        raise Invalid(_("This is not an erasure ledger."))
    known = {(row.user_id, tuple(row.resident_ids or []), row.erased_at) for row in db.session.scalars(select(Erasure))}
    added = 0
    for entry in entries:
        try:
            erased_at = datetime.fromisoformat(entry["erased_at"])
        except (TypeError, ValueError):
            raise Invalid(_("This is not an erasure ledger.")) from None
        key = (entry["user_id"], tuple(entry["resident_ids"] or []), erased_at)
        if key in known:
            continue
        actor_id = entry["actor_id"] if entry["actor_id"] is None or db.session.get(User, entry["actor_id"]) else None
        db.session.add(
            Erasure(
                user_id=entry["user_id"],
                resident_ids=list(entry["resident_ids"] or []),
                erased_at=erased_at,
                actor_id=actor_id,
                reason=str(entry["reason"]),
                request_id=entry["request_id"],
                report=entry["report"] or {},
            )
        )
        known.add(key)
        added += 1
    db.session.flush()
    return added


def reapply() -> int:
    """Erase again every person in the ledger (after restoring a backup taken before some
    erasures). Returns how many ledger rows were applied."""
    rows = list(db.session.scalars(select(Erasure).order_by(Erasure.id)))
    for row in rows:
        subject = Subject(
            row.user_id if row.user_id is not None and db.session.get(User, row.user_id) is not None else None,
            tuple(rid for rid in row.resident_ids or [] if db.session.get(Resident, rid) is not None),
        )
        apply(subject, row.erased_at)
    return len(rows)
