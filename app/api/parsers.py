"""Reading the API's input: JSON values and query arguments, each checked, each refusal an
Invalid (422) that names the field and says what to send instead.

NUL bytes, numbers beyond a database id and years no one can mean are refused here, before any
query, so that no input reaches the database in a shape it would fail on.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from flask import request
from flask_babel import gettext as _

from app.db import MAX_ID, YEARS
from app.exceptions import Invalid, NotFound
from app.units.models import Unit
from app.units.operations import get_unit_by_code

_DIGITS = re.compile(r"-?[0-9]{1,10}")
#: "+07:00" in a query string arrives as " 07:00" when the client did not encode the "+".
_UNENCODED_PLUS = re.compile(r"^(.*[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?) ([0-9]{2}(?::?[0-9]{2})?)$")


def moment(value, field: str, *, required: bool = True) -> datetime | None:
    """An ISO 8601 date and time with its offset, as an aware datetime.

    A time without an offset is refused rather than guessed, so that no other system's clock
    setting can move a visit by seven hours."""
    if value is None or value == "":
        if required:
            raise Invalid(_("Give %(field)s as a date and time with offset.", field=field), field=field)
        return None
    if not isinstance(value, str) or "\x00" in value or len(value) > 40:
        raise Invalid(_("Give %(field)s as a date and time with offset.", field=field), field=field)
    value = value.strip()
    unencoded = _UNENCODED_PLUS.match(value)
    if unencoded:
        value = f"{unencoded.group(1)}+{unencoded.group(2)}"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(
            _(
                "Give %(field)s as an ISO 8601 date and time with offset, e.g. 2030-01-07T18:00:00+07:00.",
                field=field,
            ),
            field=field,
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise Invalid(_("Add the time zone offset to %(field)s, e.g. +07:00 for Vietnam.", field=field), field=field)
    if not YEARS[0] <= parsed.year <= YEARS[1]:
        raise Invalid(
            _("%(field)s must lie between %(first)d and %(last)d.", field=field, first=YEARS[0], last=YEARS[1]),
            field=field,
        )
    return parsed


def day(value, field: str = "date") -> date:
    """An ISO 8601 date (YYYY-MM-DD)."""
    if not isinstance(value, str) or "\x00" in value or len(value) > 10:
        raise Invalid(_("Give %(field)s as a date, e.g. 2025-03-10.", field=field), field=field)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid(_("Give %(field)s as a date, e.g. 2025-03-10.", field=field), field=field) from None


def integer(value, field: str, *, required: bool = True, from_query: bool = False) -> int | None:
    """A JSON integer (or, in a query string, digits) no larger than a database id."""
    if value is None or (from_query and value == ""):
        if required:
            raise Invalid(_("Give %(field)s as a whole number.", field=field), field=field)
        return None
    if from_query and isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_ID:
        raise Invalid(_("Give %(field)s as a whole number.", field=field), field=field)
    return value


def identifier(value, field: str, *, required: bool = True, from_query: bool = False) -> int | None:
    """A record's id: a whole number from 1 to the largest database id."""
    number = integer(value, field, required=required, from_query=from_query)
    if number is not None and number < 1:
        raise Invalid(_("Give %(field)s as a whole number.", field=field), field=field)
    return number


def query_int(name: str, default: int, *, low: int, high: int) -> int:
    """?name= as a whole number from `low` to `high`, or `default` when it is not given."""
    value = request.args.get(name)
    if value is None or value == "":
        return default
    message = _("Give %(field)s as a whole number from %(low)d to %(high)d.", field=name, low=low, high=high)
    if not _DIGITS.fullmatch(value.strip()) or not low <= int(value) <= high:
        raise Invalid(message, field=name)
    return int(value)


def text(data: dict, field: str, *, required: bool = False) -> str | None:
    value = data.get(field)
    if value is None:
        if required:
            raise Invalid(_("Give %(field)s as text.", field=field), field=field)
        return None
    if not isinstance(value, str) or "\x00" in value:
        raise Invalid(_("Give %(field)s as text.", field=field), field=field)
    return value


def boolean(data: dict, field: str, *, default: bool | None = None) -> bool:
    value = data.get(field, default)
    if not isinstance(value, bool):
        raise Invalid(_("Give %(field)s as true or false.", field=field), field=field)
    return value


def unit_arg(name: str = "unit", *, required: bool = True) -> Unit | None:
    """The unit named by ?unit=CODE: 422 when missing (and required), 404 when unknown."""
    code = request.args.get(name)
    if code is None or not code.strip():
        if required:
            raise Invalid(_("Give the unit code, e.g. ?unit=C1."), field=name)
        return None
    unit = get_unit_by_code(code)
    if unit is None:
        raise NotFound(_("No unit has the code %(code)s.", code=code.replace("\x00", "")[:40]))
    return unit


def time_range(
    *, max_length: timedelta | None = None, required: bool = False
) -> tuple[datetime | None, datetime | None]:
    """?from= and ?to= as aware datetimes, the end after the start."""
    start = moment(request.args.get("from"), "from", required=required)
    end = moment(request.args.get("to"), "to", required=required)
    if start is not None and end is not None:
        if end <= start:
            raise Invalid(_("The end must come after the start."), field="to")
        if max_length is not None and end - start > max_length:
            raise Invalid(_("Search at most %(days)d days at a time.", days=max_length.days), field="to")
    return start, end


#: At most this many consents in one request (there are only a few purposes).
MAX_CONSENTS = 20


def consent_choices(data: dict) -> list[tuple[str, str]]:
    """The "consents" array: objects with a purpose and a channel (checked by the operation)."""
    value = data.get("consents", [])
    if not isinstance(value, list) or len(value) > MAX_CONSENTS or not all(isinstance(item, dict) for item in value):
        raise Invalid(_("Give consents as a list of {purpose, channel}."), field="consents")
    return [(item.get("purpose"), item.get("channel")) for item in value]
