"""The law's deadlines for a person's requests about their own data.

Decree 356/2025/ND-CP: a request is answered (acknowledged, with how it will be dealt with) within
2 working days of receipt; a withdrawal of consent, a restriction of or an objection to processing
is carried out within 15 days. The decree gives access to one's data and its correction 10 days,
and erasure 20 days (the longer period it allows when others holding the data must act too: the
outbox, files kept on disk). Periods count calendar days from the day the request was received;
working days skip Saturdays and Sundays (public holidays are not known to the platform).
"""

from __future__ import annotations

from datetime import date, timedelta

#: What a person may ask, by key; the period (calendar days) to carry it out.
REQUEST_PERIODS: dict[str, int] = {
    "access": 10,
    "correction": 10,
    "withdrawal": 15,
    "objection": 15,
    "erasure": 20,
}

#: Working days to acknowledge any request.
ACKNOWLEDGE_WORKING_DAYS = 2


def add_working_days(start: date, days: int) -> date:
    """The day `days` working days (Monday to Friday) after `start`. A request received on a
    Saturday or Sunday starts counting on Monday, like one received on Friday."""
    day = start
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            remaining -= 1
    return day


def acknowledge_by(received_on: date) -> date:
    """The last day to acknowledge a request received on `received_on`."""
    return add_working_days(received_on, ACKNOWLEDGE_WORKING_DAYS)


def due_by(kind: str, received_on: date) -> date:
    """The last day to carry out a request of `kind` received on `received_on`."""
    return received_on + timedelta(days=REQUEST_PERIODS[kind])
