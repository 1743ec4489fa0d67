"""The privacy package's own tables, declared in the register like every other."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete

from app.extensions import db
from app.privacy.consents import consents_of
from app.privacy.models import PersonConsent
from app.privacy.register import Personal, declare, eraser, exporter

# ---- consent per purpose -------------------------------------------------------------------

_CONSENT_RECORD = Personal("basic", "consent_records", "legal_obligation", "record")

declare(
    "person_consents",
    _l("Each person's consents per purpose and the legal basis their data is held on"),
    personal={
        "channel": _CONSENT_RECORD,
        "evidence": _CONSENT_RECORD,
        "given_at": _CONSENT_RECORD,
        "withdrawn_at": _CONSENT_RECORD,
    },
    not_personal={
        "id",
        "user_id",
        "resident_id",
        "purpose",
        "basis",
        "notice_version",
        "recorded_by_id",
        "withdrawn_by_id",
    },
)


@exporter("person_consents")
def export_consents(subject) -> list[dict]:
    return [
        {
            "id": row.id,
            "purpose": row.purpose,
            "basis": row.basis,
            "channel": row.channel,
            "notice_version": row.notice_version,
            "evidence": row.evidence,
            "given_at": row.given_at.isoformat(),
            "recorded_by_id": row.recorded_by_id,
            "withdrawn_at": row.withdrawn_at.isoformat() if row.withdrawn_at else None,
            "withdrawn_by_id": row.withdrawn_by_id,
        }
        for row in consents_of(subject)
    ]


@eraser("person_consents")
def erase_consents(subject, erasure) -> None:
    """The person's decisions go with them (the erasure's own record says what was done)."""
    ids = [row.id for row in consents_of(subject)]
    if ids:
        db.session.execute(delete(PersonConsent).where(PersonConsent.id.in_(ids)))


# ---- who read whose record -----------------------------------------------------------------


# ---- the person's requests and corrections -------------------------------------------------


# ---- erasure ledger ------------------------------------------------------------------------
