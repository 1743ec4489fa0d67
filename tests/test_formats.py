"""Dates, months, weeks and hours as people write them in a sentence, in each language: never
Babel's abbreviations ("6 thg 12, 2026") or a machine's "2026-11-30"."""

from __future__ import annotations

import html
from datetime import UTC, date, datetime

import pytest

from app.i18n import format_date, format_datetime, format_day_month, format_month
from app.templating import format_number

DAY = date(2026, 12, 6)


def spaced(text: str) -> str:
    return text.replace("\u202f", " ")


@pytest.mark.parametrize(
    ("lang", "day", "month", "week", "moment"),
    [
        ("vi", "6 tháng 12, 2026", "tháng 12 năm 2026", "30 tháng 11", "20:05 6 tháng 12, 2026"),
        ("en", "December 6, 2026", "December 2026", "November 30", "December 6, 2026, 8:05\u202fPM"),
        ("bn", "6 ডিসেম্বর, 2026", "ডিসেম্বর 2026", "30 নভেম্বর", "6 ডিসেম্বর, 2026 8:05\u202fPM"),
    ],
)
def test_dates_are_written_out(app, lang, day, month, week, moment):
    with app.test_request_context(f"/?lang={lang}"):
        assert format_date(DAY) == format_date(DAY, "medium") == day
        assert format_month(DAY) == month
        assert format_day_month(date(2026, 11, 30)) == week
        assert spaced(format_datetime(datetime(2026, 12, 6, 13, 5, tzinfo=UTC))) == spaced(moment)
        assert format_date(DAY, "short") != day  # other formats as asked


@pytest.mark.parametrize(("lang", "million"), [("vi", "-1.234.567"), ("en", "-1,234,567"), ("bn", "-12,34,567")])
def test_whole_numbers_are_grouped_as_babel_groups_them(app, lang, million):
    """Whole numbers take a short path where a locale groups by threes; the result is Babel's."""
    import random

    from babel.numbers import format_decimal

    values = [0, 7, -7, 999, 1000, -1000, 10**12, *random.Random(5).sample(range(-(10**9), 10**9), 500)]
    with app.test_request_context(f"/?lang={lang}"):
        assert format_number(-1234567) == million
        for value in values:
            assert format_number(value) == format_decimal(value, locale=lang), value


def test_hours_in_the_ledger_have_one_decimal_at_most(app):
    with app.test_request_context("/?lang=vi"):
        assert format_number(1.8333, "#,##0.#") == "1,8"


def test_the_ledger_names_its_month_as_in_a_sentence(client, login_as, make_user, units):
    login_as(make_user("commune_manager", units["c1"]))
    text = html.unescape(client.get("/outcomes/ledger?month=2026-03&lang=vi").get_data(as_text=True))
    assert "tháng 3 năm 2026" in text
    assert "Tháng 3 2026" not in text and "(năm-tháng)" not in text
