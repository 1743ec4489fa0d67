"""The privacy package's own tables, declared in the register like every other."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update

from app.auth.models import User
from app.extensions import db
from app.privacy.consents import consent_as_dict, consents_of
from app.privacy.corrections import corrections_about
from app.privacy.models import (
    READ_KINDS,
    Erasure,
    PersonalDataCorrection,
    PersonalDataRead,
    PersonRequest,
)
from app.privacy.register import Personal, Subject, declare, eraser, exporter
from app.privacy.rows import about

# ---- consent per purpose -------------------------------------------------------------------

_CONSENT_RECORD = Personal("basic", "consent_records", "legal_obligation", "record")

declare(
    "person_consents",
    _l("Each person's consents per purpose and the legal basis their data is held on"),
    # The person's ids tie each decision to them; the staff who recorded it are named too.
    personal={
        "user_id": _CONSENT_RECORD,
        "resident_id": _CONSENT_RECORD,
        "channel": _CONSENT_RECORD,
        "evidence": _CONSENT_RECORD,
        "given_at": _CONSENT_RECORD,
        "withdrawn_at": _CONSENT_RECORD,
        "recorded_by_id": _CONSENT_RECORD,
        "withdrawn_by_id": _CONSENT_RECORD,
    },
    not_personal={"id", "purpose", "basis", "notice_version"},
)


@exporter("person_consents")
def export_consents(subject) -> list[dict]:
    return [{**consent_as_dict(row), "withdrawn_by_id": row.withdrawn_by_id} for row in consents_of(subject)]


# ---- who read whose record -----------------------------------------------------------------

declare(
    "personal_data_reads",
    _l("Who read whose record: each page, list, export and API answer that showed a person"),
    personal={
        "reader_id": Personal("basic", "security", "legal_obligation", "read_log"),
        "resident_id": Personal("basic", "security", "legal_obligation", "read_log"),
        "user_id": Personal("basic", "security", "legal_obligation", "read_log"),
        "read_at": Personal("basic", "security", "legal_obligation", "read_log"),
    },
    not_personal={"id", "kind", "endpoint"},
)


def _as_subject(subject):
    """The reads of `subject`'s record: their account's or any of their resident records'."""
    return about(subject, user_columns=[PersonalDataRead.user_id], resident_columns=[PersonalDataRead.resident_id])


@exporter("personal_data_reads")
def export_reads(subject) -> list[dict]:
    """Who read the person's record (the reads they made of others' records are not theirs to
    take: those are the other people's data)."""
    clause = _as_subject(subject)
    rows = db.session.execute(
        select(PersonalDataRead, User)
        .outerjoin(User, User.id == PersonalDataRead.reader_id)
        .where(clause)
        .order_by(PersonalDataRead.read_at.desc(), PersonalDataRead.id.desc())
    ).all()
    return [
        {
            "read_at": read.read_at.isoformat(),
            "reader": reader.full_name if reader is not None else None,
            "reader_role": reader.role if reader is not None else None,
            "kind": str(READ_KINDS[read.kind]),
            "where": read.endpoint,
        }
        for read, reader in rows
    ]


@eraser("personal_data_reads")
def erase_reads(subject, erasure=None) -> None:
    """The person's reads as the one read: the rows stay (what each reader read is still counted)
    with the link to the person dropped. Their reads of others stay: they are the others' record."""
    db.session.execute(
        update(PersonalDataRead).where(_as_subject(subject)).values(resident_id=None, user_id=None),
        execution_options={"synchronize_session": False},
    )


# ---- the person's requests and corrections -------------------------------------------------

_REQUEST = Personal("basic", "data_requests", "legal_obligation", "data_request")

declare(
    "person_requests",
    _l("A person's requests about their own data, with the law's deadlines"),
    personal={
        "user_id": _REQUEST,
        "resident_id": _REQUEST,
        "filed_by_id": _REQUEST,
        "details": _REQUEST,
        "note": _REQUEST,
    },
    not_personal=(
        "id",
        "kind",
        "unit_id",
        "received_at",
        "acknowledge_by",
        "due_by",
        "acknowledged_at",
        "acknowledged_by_id",
        "closed_at",
        "closed_by_id",
        "outcome",
    ),
)
declare(
    "personal_data_corrections",
    _l("Corrections of personal data: the field, its old and new value, when and by whom"),
    personal={"row_id": _REQUEST, "old_value": _REQUEST, "new_value": _REQUEST, "corrected_by_id": _REQUEST},
    not_personal=("id", "table_name", "field", "corrected_at", "request_id"),
)


def _requests_of(subject: Subject):
    return about(subject, user_columns=[PersonRequest.user_id], resident_columns=[PersonRequest.resident_id])


@exporter("person_requests")
def export_person_requests(subject: Subject) -> list[dict]:
    where = _requests_of(subject)
    return [
        {
            "kind": item.kind,
            "details": item.details,
            "received_at": item.received_at.isoformat(),
            "acknowledge_by": item.acknowledge_by.isoformat(),
            "due_by": item.due_by.isoformat(),
            "acknowledged_at": item.acknowledged_at.isoformat() if item.acknowledged_at else None,
            "closed_at": item.closed_at.isoformat() if item.closed_at else None,
            "outcome": item.outcome,
            "note": item.note,
        }
        for item in db.session.scalars(select(PersonRequest).where(where).order_by(PersonRequest.id))
    ]


@eraser("person_requests")
def erase_person_requests(subject: Subject, erasure) -> None:
    """The requests stay as evidence that they were answered, without the person's words."""
    where = _requests_of(subject)
    for item in db.session.scalars(select(PersonRequest).where(where)):
        item.details = None
        item.note = None
    db.session.flush()


@exporter("personal_data_corrections")
def export_corrections(subject: Subject) -> list[dict]:
    where = corrections_about(subject)
    if where is None:
        return []
    return [
        {
            "table": item.table_name,
            "field": item.field,
            "old_value": item.old_value,
            "new_value": item.new_value,
            "corrected_at": item.corrected_at.isoformat(),
        }
        for item in db.session.scalars(select(PersonalDataCorrection).where(where).order_by(PersonalDataCorrection.id))
    ]


@eraser("personal_data_corrections")
def erase_corrections(subject: Subject, erasure) -> None:
    """Old and new values are the person's data: their history goes with them."""
    where = corrections_about(subject)
    if where is not None:
        db.session.execute(delete(PersonalDataCorrection).where(where))


# ---- erasure ledger ------------------------------------------------------------------------

declare(
    "erasures",
    _l("Erasures done (the ledger that re-applies them after a backup is restored)"),
    personal={
        "user_id": Personal("basic", "security", "legal_obligation", "erasure_ledger"),
        "resident_ids": Personal("basic", "security", "legal_obligation", "erasure_ledger"),
        "reason": Personal("basic", "security", "legal_obligation", "erasure_ledger"),
    },
    not_personal={"id", "erased_at", "actor_id", "request_id", "report"},
)


def _ledger_rows(subject):
    rows = db.session.scalars(select(Erasure).order_by(Erasure.id))
    return [
        row
        for row in rows
        if (subject.user_id is not None and row.user_id == subject.user_id)
        or set(subject.resident_ids) & set(row.resident_ids or [])
    ]


@exporter("erasures")
def export_erasures(subject):
    return [
        {"erased_at": row.erased_at.isoformat(), "reason": row.reason, "report": row.report}
        for row in _ledger_rows(subject)
    ]


@eraser("erasures")
def keep_erasures(subject, run):
    """The ledger is what erases the person again after a backup is restored: it stays."""
