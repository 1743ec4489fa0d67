"""The personal data of this package's tables, declared in the register (app.privacy.register)."""

from flask_babel import lazy_gettext as _l

from app.privacy.register import declare

declare("messages", _l("Messages and notifications to people"), not_personal={"purpose"})
