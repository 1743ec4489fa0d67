"""Showing no more personal data than a page needs: phone numbers masked in lists (the full
number is on the person's own page and on the visit page of the member who calls)."""

from __future__ import annotations

#: Digits shown at the end of a masked number: enough to tell two people apart on a list.
SHOWN_DIGITS = 3


def masked_phone(value: str | None) -> str:
    """ "+84912345678" (or "0912 345 678") -> "•••• ••• 678"; always the same shape, so the
    length tells nothing.
    A number too short to mask safely is hidden whole."""
    digits = [c for c in (value or "") if c.isdigit()]
    if not digits:
        return ""
    if len(digits) < 2 * SHOWN_DIGITS:
        return "•••• •••"
    return "•••• ••• " + "".join(digits[-SHOWN_DIGITS:])
