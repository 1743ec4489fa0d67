"""Erasing a person: every personal field of theirs, in every table, removed or irreversibly
anonymised, while what a state task requires stays, cut from any name.

`erase_person()` runs the erase handler of every table (app.privacy.erasers) and
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
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select

from app import authz
from app.auth.models import User
from app.db import utcnow
from app.exceptions import Conflict, Invalid, NotAllowed
from app.extensions import db
from app.outcomes.models import Resident
from app.privacy import register, requests
from app.privacy.erasers import HANDLERS, ErasureReport, ErasureRun, gather
from app.privacy.models import Erasure, PersonRequest
from app.privacy.register import Subject
from app.privacy.subjects import subject_of_resident, subject_of_user
from app.visits.models import GroupSession, Visit

log = logging.getLogger(__name__)

#: The longest reason kept in the ledger.
MAX_REASON = 500


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
    if account is not None:
        _ensure_no_work_to_come(account, now)
    person_request = _erasure_request(request_id, subject)
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
    if person_request is not None:
        requests.close(actor, person_request, "done", _("Erased."), now=now)
    log.info(
        "erasure %s: user=%s residents=%s; kept under a legal exception: %s",
        ledger.id,
        subject.user_id,
        list(subject.resident_ids),
        "; ".join(item["what"] for item in report.kept),
    )
    return report


def _ensure_no_work_to_come(account: User, now: datetime) -> None:
    """A member's booked visits and group sessions to come would be left with no one to do them:
    someone moves or cancels them first (residents are told as for any move), then the erasure."""
    visits = db.session.scalar(
        select(func.count())
        .select_from(Visit)
        .where(Visit.member_id == account.id, Visit.status == "booked", Visit.ends_at > now)
    )
    sessions = db.session.scalar(
        select(func.count())
        .select_from(GroupSession)
        .where(GroupSession.host_id == account.id, GroupSession.cancelled_at.is_(None), GroupSession.ends_at > now)
    )
    if visits or sessions:
        raise Conflict(
            _(
                "This member still has %(visits)d booked visits and %(sessions)d group sessions to come: "
                "move them to another member or cancel them first.",
                visits=visits,
                sessions=sessions,
            )
        )


def _erasure_request(request_id: int | None, subject: Subject) -> PersonRequest | None:
    """The open erasure request this erasure answers (closed with it). Invalid when the id names
    no open erasure request about this person."""
    if request_id is None:
        return None
    found = db.session.get(PersonRequest, request_id)
    about_subject = found is not None and (
        (found.user_id is not None and found.user_id == subject.user_id) or found.resident_id in subject.resident_ids
    )
    if not about_subject or found.kind != "erasure" or found.closed_at is not None:
        raise Invalid(_("This is not an open erasure request about this person."), field="request")
    return found


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
    gather(run)
    register.load()
    for handler in HANDLERS.values():
        handler(subject, run)
    for table, handler in list(register.ERASERS.items()):
        if table not in HANDLERS:  # a table another part of the platform erases itself
            handler(subject, run)
    db.session.flush()
    return report


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
