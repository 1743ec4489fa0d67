"""The personal data of this package's tables, declared in the register (app.privacy.register)."""

from flask_babel import lazy_gettext as _l

from app.privacy.register import Personal, declare

# ---- restriction of processing (app.privacy.restriction) ----------------------------------------

#: The restriction columns: whether processing of the person is restricted at their objection, and
#: who restricted it. (Part of this table's declaration; kept as long as the record.)
RESTRICTION_COLUMNS = {
    "restricted_at": Personal("basic", "data_requests", "legal_obligation", "account"),
    "restricted_by_id": Personal("basic", "data_requests", "legal_obligation", "account"),
}
declare("users", _l("Accounts"), personal=RESTRICTION_COLUMNS)
