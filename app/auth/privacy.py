"""The personal data of this package's tables, declared in the register (app.privacy.register)."""

from flask_babel import lazy_gettext as _l

from app.privacy.register import TABLES, declare

# ---- users.visit_address_in_notices: a member's setting, not data about them ----
# Folded into the users entry wherever that is declared in this module (keep this part last).
_users = TABLES.get("users")
declare(
    "users",
    _users.title if _users else _l("Accounts"),
    personal=_users.personal if _users else None,
    not_personal=(_users.not_personal if _users else frozenset()) | {"visit_address_in_notices"},
)
