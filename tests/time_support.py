"""Times for tests that book: days and hours in the local time zone, always in the future."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from app.db import LOCAL_TZ, local_today


def a_day_ahead() -> date:
    """A Wednesday at least a week ahead: every time on it is in the future, whatever the hour."""
    today = local_today()
    return today + timedelta(days=7 + (2 - today.weekday()) % 7)


def on(day: date, hhmm: str) -> datetime:
    """`day` at `hhmm` local time."""
    hours, minutes = map(int, hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=LOCAL_TZ)
