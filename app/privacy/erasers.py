"""The erase handlers, one per table holding personal data (`@eraser` of app.privacy.register),
and what they share: the run (the subject, the time, the values to look for) and the report.

Each handler removes or irreversibly anonymises the subject's rows of its table, or keeps them
(cut from any name) and says why; each is safe to run again. app.privacy.erasure runs them, in
the order they are written here, for an erasure and again after a backup is restored.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Text, cast, delete, func, or_, select, update
from werkzeug.security import generate_password_hash

from app.audit.models import AuditEvent
from app.auth.models import PASSWORD_METHOD, RecoveryCode, User
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
from app.phones import local_format
from app.privacy.models import PersonConsent
from app.privacy.register import Subject, eraser
from app.privacy.rows import about
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

#: What an erased name, place or address reads as where a row is kept.
ERASED = "—"
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
    #: The person's own values (name, phone, e-mail, address, places), gathered before
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


# --- the subject's rows ---------------------------------------------------------------------


def gather(run: ErasureRun) -> None:
    """The person's own values and households, read before any handler changes them."""
    subject = run.subject
    if subject.user_id is not None:
        user = db.session.get(User, subject.user_id)
        if user is not None and user.erased_at is None:
            run.note(user.full_name, user.email, user.phone, local_format(user.phone))
    for resident in residents_of(subject):
        run.note(resident.full_name, resident.phone, local_format(resident.phone))
        if resident.household_id is not None:
            run.household_ids.add(resident.household_id)
            household = db.session.get(Household, resident.household_id)
            run.note(household.address)
    for request in requests_of(subject):
        run.note(request.name, request.phone, local_format(request.phone), request.place)
    for visit in visits_of(subject):
        run.note(visit.place)


def residents_of(subject: Subject) -> list[Resident]:
    if not subject.resident_ids:
        return []
    return list(db.session.scalars(select(Resident).where(Resident.id.in_(subject.resident_ids))))


def requests_of(subject: Subject) -> list[HelpRequest]:
    whose = about(subject, user_columns=[HelpRequest.resident_id], resident_columns=[HelpRequest.resident_record_id])
    return list(db.session.scalars(select(HelpRequest).where(whose).order_by(HelpRequest.id)))


def visits_of(subject: Subject) -> list[Visit]:
    clauses = []
    if subject.user_id is not None:
        clauses.append(Visit.resident_id == subject.user_id)
    if subject.resident_ids:
        clauses.append(Visit.resident_record_id.in_(subject.resident_ids))
    request_ids = [request.id for request in requests_of(subject)]
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
        # The Zalo template data is JSON text, where a name may be written with \u escapes.
        data = cast(Message.template_data, Text)
        for message in db.session.scalars(
            select(Message).where(
                or_(
                    Message.subject.contains(needle, autoescape=True),
                    Message.body.contains(needle, autoescape=True),
                    data.contains(needle, autoescape=True),
                    data.contains(json.dumps(needle)[1:-1], autoescape=True),
                )
            )
        ):
            message.subject = message.subject.replace(needle, ERASED)
            message.body = message.body.replace(needle, ERASED)
            if message.template_data:
                message.template_data = {
                    key: value.replace(needle, ERASED) if isinstance(value, str) else value
                    for key, value in message.template_data.items()
                }
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
def erasevisits_of(subject: Subject, run: ErasureRun) -> None:
    visits = visits_of(subject)
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
def erase_helprequests_of(subject: Subject, run: ErasureRun) -> None:
    requests = requests_of(subject)
    for request in requests:
        if request.status in ("new", "scheduled"):
            request.status = "cancelled"
            request.closed_at = request.closed_at or run.now
        request.name = ERASED
        request.phone = None
        request.place = ERASED
        request.note = None
        request.preferred_times = None
        request.cancel_reason = None
        request.clear_time_wish()
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


@handles("person_consents")
def erase_consents(subject: Subject, run: ErasureRun) -> None:
    """The person's decisions go with them; the erasure's ledger entry records what was done."""
    whose = about(subject, user_columns=[PersonConsent.user_id], resident_columns=[PersonConsent.resident_id])
    count = db.session.execute(delete(PersonConsent).where(whose)).rowcount
    run.erased("person_consents", _("%(n)s consents and their evidence deleted", n=count), count)


def _delete_accounts_rows(subject: Subject, run: ErasureRun, model, what) -> None:
    """Delete the account's rows of `model`; `what(n)` says what went, for the report."""
    if subject.user_id is None:
        return
    count = db.session.execute(delete(model).where(model.user_id == subject.user_id)).rowcount
    run.erased(model.__tablename__, what(count), count)


@handles("certificates")
def erase_certificates(subject: Subject, run: ErasureRun) -> None:
    """The certificate rows go (their codes name the holder at /verify); their PDFs are made when
    downloaded and never stored."""
    _delete_accounts_rows(subject, run, Certificate, lambda n: _("%(n)s certificates deleted (no PDF is stored)", n=n))


@handles("recovery_codes")
def erase_recovery_codes(subject: Subject, run: ErasureRun) -> None:
    _delete_accounts_rows(subject, run, RecoveryCode, lambda n: _("%(n)s codes for a forgotten password deleted", n=n))


@handles("calendar_feeds")
def erase_calendar_feeds(subject: Subject, run: ErasureRun) -> None:
    _delete_accounts_rows(subject, run, CalendarFeed, lambda n: _("the calendar feed address deleted"))


@handles("team_members")
def erase_team_members(subject: Subject, run: ErasureRun) -> None:
    _delete_accounts_rows(subject, run, TeamMember, lambda n: _("%(n)s team memberships and skills deleted", n=n))


@handles("weekly_availability")
def erase_weekly_availability(subject: Subject, run: ErasureRun) -> None:
    _delete_accounts_rows(subject, run, WeeklyAvailability, lambda n: _("%(n)s weekly free hours deleted", n=n))


@handles("availability_exceptions")
def erase_availability_exceptions(subject: Subject, run: ErasureRun) -> None:
    _delete_accounts_rows(
        subject, run, AvailabilityException, lambda n: _("%(n)s days away or extra hours deleted", n=n)
    )


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
def eraseresidents_of(subject: Subject, run: ErasureRun) -> None:
    residents = residents_of(subject)
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
    user.preferred_channels = None
    user.last_login_at = None
    user.must_change_password = False
    user.password_hash = generate_password_hash(secrets.token_urlsafe(32), method=PASSWORD_METHOD)
    user.end_sessions()
    user.erased_at = user.erased_at or run.now
    run.erased("users", _("name, e-mail, phone, birth year and username of the account removed; signed out"))
