"""The law's deadlines: 2 working days to acknowledge (weekends skipped), the periods by kind."""

from datetime import date, timedelta

import pytest

from app.privacy.deadlines import REQUEST_PERIODS, acknowledge_by, add_working_days, due_by

# 2026-12-03 is a Thursday.
THURSDAY = date(2026, 12, 3)


@pytest.mark.parametrize(
    ("received", "answer_by"),
    [
        (date(2026, 11, 30), date(2026, 12, 2)),  # Monday -> Wednesday
        (date(2026, 12, 2), date(2026, 12, 4)),  # Wednesday -> Friday
        (THURSDAY, date(2026, 12, 7)),  # Thursday -> Monday, over the weekend
        (date(2026, 12, 4), date(2026, 12, 8)),  # Friday -> Tuesday
        (date(2026, 12, 5), date(2026, 12, 8)),  # Saturday -> Tuesday
        (date(2026, 12, 6), date(2026, 12, 8)),  # Sunday -> Tuesday
        (date(2026, 12, 31), date(2027, 1, 4)),  # across the year's end (Thursday)
    ],
)
def test_a_request_is_acknowledged_within_two_working_days_skipping_weekends(received, answer_by):
    assert acknowledge_by(received) == answer_by
    assert answer_by.weekday() < 5


def test_working_days_never_land_on_a_weekend_and_a_week_of_them_is_seven_days():
    for offset in range(14):
        start = date(2026, 11, 30) + timedelta(days=offset)
        for days in range(1, 8):
            assert add_working_days(start, days).weekday() < 5
        if start.weekday() < 5:
            assert add_working_days(start, 5) == start + timedelta(days=7)


def test_withdrawal_and_objection_are_carried_out_within_15_days_the_others_by_the_decree():
    assert due_by("withdrawal", THURSDAY) == date(2026, 12, 18)
    assert due_by("objection", THURSDAY) == date(2026, 12, 18)
    assert due_by("access", THURSDAY) == date(2026, 12, 13)
    assert due_by("correction", THURSDAY) == date(2026, 12, 13)
    assert due_by("erasure", THURSDAY) == date(2026, 12, 23)
    assert set(REQUEST_PERIODS) == {"access", "correction", "withdrawal", "objection", "erasure"}
