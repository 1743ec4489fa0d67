"""The privacy package's own tables, declared in the register like every other."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update

from app.auth.models import User
from app.extensions import db
from app.privacy.models import READ_KINDS, PersonalDataRead
from app.privacy.register import Personal, declare, eraser, exporter

# ---- consent per purpose -------------------------------------------------------------------


# ---- who read whose record -----------------------------------------------------------------

declare(
    "personal_data_reads",
    _l("Who read whose record: each page, list, export and API answer that showed a person"),
    personal={
        "reader_id": Personal("basic", "security", "legal_obligation", "record"),
        "resident_id": Personal("basic", "security", "legal_obligation", "record"),
        "user_id": Personal("basic", "security", "legal_obligation", "record"),
        "read_at": Personal("basic", "security", "legal_obligation", "record"),
    },
    not_personal={"id", "kind", "endpoint"},
)


def _as_subject(subject):
    """The reads of `subject`'s record: their account's or any of their resident records'."""
    clauses = []
    if subject.user_id is not None:
        clauses.append(PersonalDataRead.user_id == subject.user_id)
    if subject.resident_ids:
        clauses.append(PersonalDataRead.resident_id.in_(subject.resident_ids))
    return or_(*clauses) if clauses else None


@exporter("personal_data_reads")
def export_reads(subject) -> list[dict]:
    """Who read the person's record (the reads they made of others' records are not theirs to
    take: those are the other people's data)."""
    clause = _as_subject(subject)
    if clause is None:
        return []
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
    clause = _as_subject(subject)
    if clause is not None:
        db.session.execute(
            update(PersonalDataRead).where(clause).values(resident_id=None, user_id=None),
            execution_options={"synchronize_session": False},
        )


# ---- the person's requests and corrections -------------------------------------------------


# ---- erasure ledger ------------------------------------------------------------------------
