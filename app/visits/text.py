"""Free text typed into the visits' forms and API: spaces folded, length checked."""

from __future__ import annotations

from flask_babel import gettext as _

from app.exceptions import Invalid


def clean_text(value: str | None, field: str, message: str, *, required=True, max_length=300) -> str | None:
    """`value` with runs of white space folded to one space; Invalid(`message`) when required and
    empty, Invalid when longer than `max_length`."""
    value = " ".join((value or "").split())
    if not value:
        if required:
            raise Invalid(message, field=field)
        return None
    if len(value) > max_length:
        raise Invalid(_("This text is too long (at most %(n)d characters).", n=max_length), field=field)
    return value
