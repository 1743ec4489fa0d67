"""The privacy package's own tables, declared in the register like every other."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.privacy.models import Erasure
from app.privacy.register import Personal, declare, eraser, exporter

# ---- consent per purpose -------------------------------------------------------------------


# ---- who read whose record -----------------------------------------------------------------


# ---- the person's requests and corrections -------------------------------------------------


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
