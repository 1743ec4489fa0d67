"""The personal data of this package's tables, declared in the register (app.privacy.register).

Units are the province, its communes and villages: nothing here is personal.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.privacy.register import declare

declare(
    "units",
    _l("The province's units"),
    not_personal={"id", "code", "kind", "name", "name_en", "name_bn", "parent_id", "path", "population", "is_demo"},
)
