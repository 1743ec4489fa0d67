"""Free text typed into the visits' forms and API: spaces folded, length checked; a kind of help
chosen from the list."""

from __future__ import annotations

from flask_babel import gettext as _

from app.exceptions import Invalid
from app.visits.models import SKILLS


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


def check_skill(skill: str) -> None:
    """Invalid unless `skill` is one of SKILLS."""
    if skill not in SKILLS:
        raise Invalid(_("Choose a kind of help from the list."), field="skill")
