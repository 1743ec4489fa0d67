"""Consent per purpose: giving it, withdrawing it, and whether a person's data may serve a purpose.

Every decision is a PersonConsent row (app.privacy.models): the purpose, the legal basis (the
person's consent, or e.g. a state task), the privacy notice shown, the channel, who recorded it
and when, and its withdrawal. The page, the API, the import and the outbox all ask here.

When the platform may use a person's data for a purpose (`may_use`):

* an active decision for the purpose, on any basis → yes;
* a consent withdrawn, and nothing active since → no, from that moment (pending "messages" are
  deleted from the outbox at withdrawal, and `enqueue` asks again before queueing);
* no decision recorded for the purpose:
  - the purpose rests on another basis than consent by default (help visits: a state task) → yes;
  - it rests on consent (messages, progress sharing) → no only when the person has been asked
    under the privacy notice (any decision of theirs carries a notice version: a resident added,
    imported or given an account under these rules, or anyone who has since answered). Records
    from before consents were asked per purpose, staff and self-registered learners were never
    asked; their silence is not a refusal, and they keep what they had until they are asked.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.db import utcnow
from app.exceptions import Invalid, NotFound
from app.extensions import db
from app.jobs.models import Message
from app.privacy.models import PersonConsent
from app.privacy.purposes import (
    CONSENT_CHANNELS,
    DEFAULT_BASES,
    LEGAL_BASES,
    NOTICE_VERSION,
    PURPOSES,
    RECORD_BASES,
)
from app.privacy.register import Subject
from app.privacy.subjects import subject_of_user

EVIDENCE_LENGTH = 200


def _of(subject: Subject):
    """The WHERE clause of the subject's rows (their account's and their resident records')."""
    clauses = []
    if subject.user_id is not None:
        clauses.append(PersonConsent.user_id == subject.user_id)
    if subject.resident_ids:
        clauses.append(PersonConsent.resident_id.in_(subject.resident_ids))
    return or_(*clauses) if clauses else PersonConsent.id.is_(None)


def consents_of(subject: Subject, *, active_only: bool = False) -> list[PersonConsent]:
    """The person's decisions, the active ones first, each purpose in PURPOSES order, newest first."""
    query = select(PersonConsent).where(_of(subject))
    if active_only:
        query = query.where(PersonConsent.withdrawn_at.is_(None))
    rows = list(db.session.scalars(query.order_by(PersonConsent.given_at.desc(), PersonConsent.id.desc())))
    order = list(PURPOSES)
    return sorted(rows, key=lambda row: (not row.active, order.index(row.purpose)))


def active_decision(subject: Subject, purpose: str) -> PersonConsent | None:
    return db.session.scalar(
        select(PersonConsent)
        .where(_of(subject), PersonConsent.purpose == purpose, PersonConsent.withdrawn_at.is_(None))
        .order_by(PersonConsent.id)
        .limit(1)
    )


def has_consent(subject: Subject, purpose: str) -> bool:
    """Has the person an active consent (basis: consent) for the purpose?"""
    return (
        db.session.scalar(
            select(PersonConsent.id)
            .where(
                _of(subject),
                PersonConsent.purpose == purpose,
                PersonConsent.basis == "consent",
                PersonConsent.withdrawn_at.is_(None),
            )
            .limit(1)
        )
        is not None
    )


def was_asked(subject: Subject) -> bool:
    """Has the person ever been asked under the privacy notice (any decision with a version)?"""
    return (
        db.session.scalar(
            select(PersonConsent.id).where(_of(subject), PersonConsent.notice_version.is_not(None)).limit(1)
        )
        is not None
    )


def may_use(subject: Subject, purpose: str) -> bool:
    """May the person's data serve `purpose` now? The rule is the module's docstring."""
    if active_decision(subject, purpose) is not None:
        return True
    withdrawn = db.session.scalar(
        select(PersonConsent.id).where(_of(subject), PersonConsent.purpose == purpose).limit(1)
    )
    if withdrawn is not None:
        return False
    if DEFAULT_BASES.get(purpose) != "consent":
        return True
    return not was_asked(subject)


def may_contact(user: User, purpose: str) -> bool:
    """May a message serving `purpose` be sent to this account's owner?"""
    return may_use(subject_of_user(user), purpose)


def check_decision(purpose, basis, channel, evidence=None) -> tuple[str, str, str | None, str | None]:
    """The purpose, basis, channel and evidence of a decision, checked (Invalid names the field).
    The basis defaults to the purpose's; a consent needs its channel."""
    if not isinstance(purpose, str) or purpose not in PURPOSES:
        raise Invalid(_("Choose one of the purposes listed."), field="purpose")
    if basis is None or basis == "":
        basis = DEFAULT_BASES[purpose]
    if not isinstance(basis, str) or basis not in LEGAL_BASES:
        raise Invalid(_("Choose one of the legal bases listed."), field="basis")
    if channel == "":
        channel = None
    if channel is not None and (not isinstance(channel, str) or channel not in CONSENT_CHANNELS):
        raise Invalid(_("Choose how the consent was given: online, assisted or on paper."), field="channel")
    if basis == "consent" and channel is None:
        raise Invalid(_("Say how the consent was given: online, assisted or on paper."), field="channel")
    if evidence is not None:
        if not isinstance(evidence, str):
            raise Invalid(_("Give the paper form's reference as text."), field="evidence")
        evidence = " ".join(evidence.split())[:EVIDENCE_LENGTH] or None
    return purpose, basis, channel, evidence


def _anchor(subject: Subject) -> dict:
    """Where a new row goes: the person's (first) resident record, else their account."""
    if subject.resident_ids:
        return {"resident_id": subject.resident_ids[0]}
    if subject.user_id is not None:
        return {"user_id": subject.user_id}
    raise NotFound(_("No one is named."))


def give_consent(
    subject: Subject,
    purpose: str,
    *,
    recorded_by: User | None,
    basis: str | None = None,
    channel: str | None = None,
    evidence: str | None = None,
    notice_version: str | None = NOTICE_VERSION,
    now: datetime | None = None,
) -> PersonConsent:
    """Record the person's decision for `purpose`: a consent (basis "consent", with its channel)
    or another basis. Idempotent: when the same basis is already active, that row is returned
    unchanged; a different basis ends the active row and starts a new one, so one is active."""
    purpose, basis, channel, evidence = check_decision(purpose, basis, channel, evidence)
    now = now or utcnow()
    current = active_decision(subject, purpose)
    if current is not None:
        if current.basis == basis:
            return current
        current.withdrawn_at = now
        current.withdrawn_by_id = recorded_by.id if recorded_by else None
        db.session.flush()
    row = PersonConsent(
        **_anchor(subject),
        purpose=purpose,
        basis=basis,
        channel=channel,
        evidence=evidence,
        notice_version=notice_version,
        given_at=now,
        recorded_by_id=recorded_by.id if recorded_by else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        # Someone recorded the same purpose at the same moment: theirs is the active one.
        existing = active_decision(subject, purpose)
        if existing is None:
            raise
        return existing
    return row


def withdraw_consent(subject: Subject, purpose: str, *, by: User | None, now: datetime | None = None) -> PersonConsent:
    """Withdraw the person's active consent for `purpose` (NotFound when there is none). Takes
    effect at once: the messages of a withdrawn purpose still waiting in the outbox are deleted."""
    if not isinstance(purpose, str) or purpose not in PURPOSES:
        raise Invalid(_("Choose one of the purposes listed."), field="purpose")
    # A person with a resident record and an account may hold the consent on both: all go.
    rows = list(
        db.session.scalars(
            select(PersonConsent)
            .where(
                _of(subject),
                PersonConsent.purpose == purpose,
                PersonConsent.basis == "consent",
                PersonConsent.withdrawn_at.is_(None),
            )
            .order_by(PersonConsent.id)
        )
    )
    if not rows:
        raise NotFound(_("There is no consent to withdraw for this purpose."))
    now = now or utcnow()
    for row in rows:
        row.withdrawn_at = now
        row.withdrawn_by_id = by.id if by else None
    cancel_pending_messages(subject, purpose)
    db.session.flush()
    return rows[0]


def cancel_pending_messages(subject: Subject, purpose: str) -> int:
    """Delete the person's messages serving `purpose` that have not gone out. Returns how many."""
    if subject.user_id is None:
        return 0
    result = db.session.execute(
        delete(Message)
        .where(Message.user_id == subject.user_id, Message.purpose == purpose, Message.status == "pending")
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def check_consents(basis, consents, evidence=None) -> list[tuple[str, str, str | None, str | None]]:
    """The decisions of a new record, checked (Invalid names the field): the record's basis
    (state task or consent; with consent, the person must have agreed to help visits) and one
    consent per purpose at most."""
    if basis is None or basis == "":
        raise Invalid(_("Say on what legal basis this record is kept."), field="legal_basis")
    if not isinstance(basis, str) or basis not in RECORD_BASES:
        raise Invalid(_("Choose the legal basis: a state task or the person's consent."), field="legal_basis")
    decisions: dict[str, tuple[str, str, str | None, str | None]] = {}
    for purpose, channel in consents:
        checked = check_decision(purpose, "consent", channel, evidence)
        if purpose in decisions:
            raise Invalid(_("Give each purpose once."), field="consents")
        decisions[purpose] = checked
    if "help_visits" not in decisions:
        if basis == "consent":
            raise Invalid(
                _("The record rests on consent: record the person's consent to receiving help."),
                field="consents",
            )
        decisions = {"help_visits": ("help_visits", basis, None, evidence), **decisions}
    elif basis == "state_task":
        # Help visits rest on the state task; the person's agreement is kept as the evidence.
        _p, _b, channel, ev = decisions["help_visits"]
        decisions["help_visits"] = ("help_visits", "state_task", channel, ev)
    return list(decisions.values())


def consent_as_dict(row: PersonConsent) -> dict:
    """A consent as JSON (the API's answer, the person's export)."""
    return {
        "id": row.id,
        "purpose": row.purpose,
        "basis": row.basis,
        "channel": row.channel,
        "notice_version": row.notice_version,
        "evidence": row.evidence,
        "given_at": row.given_at.isoformat(),
        "recorded_by_id": row.recorded_by_id,
        "withdrawn_at": row.withdrawn_at.isoformat() if row.withdrawn_at else None,
        "active": row.active,
    }
