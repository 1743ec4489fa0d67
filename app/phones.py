"""Phone numbers, checked and written one way: stored in E.164 ("+84912345678"), shown in the
local format ("0912 345 678"). Every form, import and API field that takes a phone goes through
`normalise_phone`; templates, messages and exports show it with `local_format`.

The phonenumbers library (about 1 MB with its tables) is imported when a number is first read or
shown, so a worker that only serves lists and lessons does not hold it (tests/test_lean_start.py)."""

from __future__ import annotations

import re

from flask_babel import gettext as _

from app.exceptions import Invalid

#: Numbers typed without a "+" are read as Vietnamese.
DEFAULT_REGION = "VN"
#: What a typed number may hold besides its digits; letters ("1-800-FLOWERS") are refused.
TYPED_NUMBER = re.compile(r"^\+?[0-9 .()/-]{1,32}$")


def normalise_phone(value: str | None, *, field: str = "phone") -> str | None:
    """The number in E.164, or None when nothing was entered. "0912 345 678", "0912.345.678",
    "+84 912 345 678" and "84912345678" all give "+84912345678"; a foreign number is accepted
    with its "+" prefix. Anything else raises Invalid on `field`."""
    text = (value or "").strip()
    if not text:
        return None
    import phonenumbers

    number = None
    if TYPED_NUMBER.match(text):
        try:
            number = phonenumbers.parse(text, DEFAULT_REGION)
        except phonenumbers.NumberParseException:
            number = None
        if number is not None and not phonenumbers.is_valid_number(number) and not text.startswith("+"):
            # "84912345678": the country code typed without its "+".
            try:
                number = phonenumbers.parse("+" + text, None)
            except phonenumbers.NumberParseException:
                number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise Invalid(_("Enter the phone number as digits, for example 0912 345 678."), field=field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def local_format(e164: str | None) -> str:
    """A stored number as people read it: the national format for Vietnamese numbers
    ("0912 345 678"), the international one for others. A value that cannot be read (old data)
    is returned as it is; None gives ""."""
    if not e164:
        return ""
    import phonenumbers

    try:
        number = phonenumbers.parse(e164, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return e164
    if not phonenumbers.is_valid_number(number):
        return e164
    if phonenumbers.region_code_for_number(number) == DEFAULT_REGION:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
