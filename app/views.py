"""The view toolkit: what every page needs, written once.

* `get_or_404`: a record by id, 404 for an unknown id or one no database id can be;
* `id_from`: a record's id chosen in a form, or None;
* `unit_or_404`, `unit_choices`: units named by code in forms and addresses;
* `area_page_unit`: the unit a page about an area (a report) shows;
* `clean_arg`: a query-string value without NUL bytes, trimmed and cut short;
* `page_arg`: the page number of a list;
* `refuse`: put an operation's refusal next to the form field it names (or at the top of the
  page), undo what the operation wrote, and give the page's status.

A view catches only the refusals it shows on a form (`except FORM_ERRORS`); every other domain
error (NotAllowed, NotFound, …) goes to the application's one error handler (app.errors), which
rolls back and answers 403/404/409 with the operation's message.
"""

from __future__ import annotations

from flask import abort, flash, request
from flask_login import current_user
from wtforms import SelectChoice

from app import authz
from app.db import MAX_ID
from app.exceptions import Conflict, DomainError, Invalid
from app.extensions import db
from app.units.models import Unit
from app.units.operations import area_unit, get_unit_by_code

#: The refusals a page shows next to its form; anything else is answered by the error handler.
FORM_ERRORS = (Invalid, Conflict)


def get_or_404(model, record_id, **options):
    """The `model` row with this id, or 404 (also for an id beyond any database id, and for a
    person whose data was erased: app.privacy.erasure)."""
    if not isinstance(record_id, int) or not 0 < record_id <= MAX_ID:
        abort(404)
    record = db.session.get(model, record_id, **options)
    if record is None or getattr(record, "erased_at", None) is not None:
        abort(404)
    return record


def id_from(value) -> int | None:
    """A record's id chosen in a form, or None when it is not one (not digits, or beyond any
    database id)."""
    value = (value or "").strip() if isinstance(value, str) else ""
    if not value.isascii() or not value.isdigit() or len(value) > 10 or not 0 < int(value) <= MAX_ID:
        return None
    return int(value)


def unit_or_404(code: str | None) -> Unit:
    unit = get_unit_by_code(code)
    if unit is None:
        abort(404)
    return unit


def area_page_unit(permission: str, code: str | None = None) -> Unit:
    """The unit a page about an area shows: the one named by `code` (by default the page's
    ?unit=), else the top of the signed-in person's area (their commune, or the province).
    403 for someone without `permission` at all; an unknown code (404) or a unit outside their
    area (403) is refused by `area_unit`."""
    authz.ensure(authz.has_permission(current_user, permission))
    return area_unit(current_user, clean_arg("unit") if code is None else code, permission=permission)


def unit_choice(unit: Unit) -> SelectChoice:
    """A unit in a select list, indented under its commune."""
    return SelectChoice(unit.code, f"{'— ' * max(unit.level - 2, 0)}{unit.display_name}")


def unit_choices(units) -> list[SelectChoice]:
    return [unit_choice(unit) for unit in units]


#: The last page a list offers: beyond it nothing is listed (and no database is asked for an
#: offset it cannot hold).
LAST_PAGE = 100_000


def page_arg(name: str = "page") -> int:
    """?page= as a page number from 1 to LAST_PAGE; anything else is page 1."""
    value = request.args.get(name, "")
    if not value.isascii() or not value.isdigit() or len(value) > 6:
        return 1
    return min(max(int(value), 1), LAST_PAGE)


def clean_arg(name: str, max_length: int = 100) -> str:
    """A query-string value without NUL bytes (PostgreSQL refuses them), trimmed and cut short."""
    return request.args.get(name, "").replace("\x00", "").strip()[:max_length]


def show_error(form, error: DomainError, aliases: dict[str, str] | None = None) -> None:
    """Put the operation's message on the form field it names (through `aliases` where the form
    calls the field otherwise), else show it at the top of the page."""
    name = (aliases or {}).get(error.field, error.field) if error.field else None
    field = getattr(form, name, None) if (name and form is not None) else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")


def refuse(form, error: DomainError, aliases: dict[str, str] | None = None) -> int:
    """An operation refused the form: undo whatever it wrote, show why, and return the page's
    status (400 invalid, 409 conflict)."""
    db.session.rollback()
    show_error(form, error, aliases)
    return error.page_status
