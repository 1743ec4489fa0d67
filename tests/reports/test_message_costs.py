"""The message cost report: messages handed to Zalo and SMS per local month, per commune of the
recipient and per channel, priced by MESSAGE_PRICES; scoped like every report; bad filters 400."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook

from app.db import LOCAL_TZ, local_today
from app.jobs.models import Message
from app.reports.message_costs import add_months
from config import ConfigError, load_config, message_prices


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response.data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


@pytest.fixture
def prices(app):
    saved = app.config["MESSAGE_PRICES"]
    app.config["MESSAGE_PRICES"] = {"zalo": 300, "sms": 750}
    yield app.config
    app.config["MESSAGE_PRICES"] = saved


@pytest.fixture
def world(db, units, make_user, prices):
    """Residents in village C1A, in commune C2 and a province-level manager, with messages sent
    in January and February 2026 (local time), and some that must not count."""
    people = {
        "c1": make_user("resident", units["v1a"]),
        "c2": make_user("resident", units["v2a"]),
        "province": make_user("department_manager", units["province"]),
        "manager_c1": make_user("commune_manager", units["c1"]),
        "manager_c2": make_user("commune_manager", units["c2"]),
        "resident": make_user("resident", units["v1b"]),
    }
    counter = {"n": 0}

    def message(person, channel, sent_at, status="sent", delivery_status=None):
        counter["n"] += 1
        db.session.add(
            Message(
                key=f"test:cost:{counter['n']}",
                user_id=people[person].id,
                subject="Nhắc lịch",
                body="…",
                status=status,
                channel=channel,
                created_at=sent_at,
                next_attempt_at=sent_at,
                sent_at=sent_at if status == "sent" else None,
                delivery_status=delivery_status,
            )
        )

    january_end = datetime(2026, 1, 31, 23, 30, tzinfo=LOCAL_TZ)  # 16:30 UTC: January, locally
    february_start = datetime(2026, 2, 1, 0, 30, tzinfo=LOCAL_TZ)  # still January 31 in UTC
    # Commune C1: January 2 Zalo + 1 SMS; February 1 Zalo (+ a failed receipt: still paid for).
    message("c1", "zalo", january_end)
    message("c1", "zalo", january_end - timedelta(days=10))
    message("c1", "sms", january_end)
    message("c1", "zalo", february_start, delivery_status="failed")
    # Commune C2: February 3 SMS.
    for _ in range(3):
        message("c2", "sms", february_start + timedelta(days=3))
    # The province's own staff: January 1 SMS.
    message("province", "sms", january_end)
    # Not counted: e-mail, in-app, not sent yet, given up, and outside the period.
    message("c1", "email", february_start)
    message("c1", "in_app", february_start)
    message("c1", "sms", february_start, status="pending")
    message("c2", "sms", february_start, status="failed")
    message("c2", "zalo", datetime(2025, 12, 31, 23, 59, tzinfo=LOCAL_TZ))
    message("c2", "zalo", datetime(2026, 4, 1, 0, 0, tzinfo=LOCAL_TZ))
    db.session.commit()
    return people


PERIOD = "from=2026-01&to=2026-03"
HEADER = [
    "Zalo messages",
    "SMS messages",
    "Zalo cost (VND)",
    "SMS cost (VND)",
    "Messages",
    "Total cost (VND)",
]


def test_the_province_sees_messages_and_costs_by_month_in_local_time(client, login_as, world):
    login_as(world["province"])
    rows = read_csv(client.get(f"/reports/messages.csv?{PERIOD}&table=months"))
    assert rows[0] == ["Month", *HEADER]
    assert rows[1:] == [
        ["01/2026", "2", "2", "600", "1500", "4", "2100"],
        ["02/2026", "1", "3", "300", "2250", "4", "2550"],
        ["03/2026", "0", "0", "0", "0", "0", "0"],
        ["Total", "3", "5", "900", "3750", "8", "4650"],
    ]


def test_the_province_sees_each_commune_and_the_province_level(client, login_as, world):
    login_as(world["province"])
    rows = read_csv(client.get(f"/reports/messages.csv?{PERIOD}&table=communes"))
    assert rows[0] == ["Commune or ward", *HEADER]
    assert rows[1:] == [
        ["Xã Hai", "0", "3", "0", "2250", "3", "2250"],
        ["Xã Một", "3", "1", "900", "750", "4", "1650"],
        ["No commune (province level)", "0", "1", "0", "750", "1", "750"],
        ["Total", "3", "5", "900", "3750", "8", "4650"],
    ]
    detail = read_csv(client.get(f"/reports/messages.csv?{PERIOD}&table=detail"))
    assert detail[0] == ["Month", "Commune or ward", *HEADER]
    assert [row[:2] for row in detail[1:]] == [
        ["01/2026", "No commune (province level)"],
        ["01/2026", "Xã Một"],
        ["02/2026", "Xã Hai"],
        ["02/2026", "Xã Một"],
        ["Total", ""],
    ]


def test_a_unit_filter_counts_only_messages_to_people_in_it(client, login_as, world):
    login_as(world["province"])
    rows = read_csv(client.get(f"/reports/messages.csv?{PERIOD}&unit=C1&table=communes"))
    assert rows[1:] == [["Xã Một", "3", "1", "900", "750", "4", "1650"], ["Total", "3", "1", "900", "750", "4", "1650"]]
    village = read_csv(client.get(f"/reports/messages.csv?{PERIOD}&unit=C1B&table=communes"))
    assert village[1:] == [["Total", "0", "0", "0", "0", "0", "0"]]


def test_the_page_shows_the_tables_prices_and_links(client, login_as, world):
    login_as(world["province"])
    response = client.get(f"/reports/messages?{PERIOD}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Message costs: Tỉnh Thử" in html
    for title in (
        "Messages and cost by month",
        "Messages and cost by commune",
        "Messages and cost by month and commune",
    ):
        assert title in html
    assert "Zalo 300 ₫" in html and "SMS 750 ₫" in html
    assert "4,650" in html
    assert 'href="/reports/messages.xlsx?' in html
    assert 'value="2026-01"' in html and 'value="2026-03"' in html
    # The reports menu links to it from the other report pages.
    assert 'href="/reports/messages"' in client.get("/reports/trends").get_data(as_text=True)


def test_the_workbook_holds_the_three_tables(client, login_as, world):
    login_as(world["province"])
    response = client.get(f"/reports/messages.xlsx?{PERIOD}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="message-costs-P.xlsx"'
    workbook = load_workbook(io.BytesIO(response.data))
    assert len(workbook.sheetnames) == 3
    months = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert months[-1] == ("Total", 3, 5, 900, 3750, 8, 4650)


def test_prices_come_from_the_setting_and_a_priced_channel_is_counted(client, login_as, world, prices):
    prices["MESSAGE_PRICES"] = {"zalo": 250.5, "sms": 800, "email": 10}
    login_as(world["province"])
    rows = read_csv(client.get(f"/reports/messages.csv?{PERIOD}&table=months"))
    assert rows[0] == [
        "Month",
        "Zalo messages",
        "SMS messages",
        "E-mail messages",
        "Zalo cost (VND)",
        "SMS cost (VND)",
        "E-mail cost (VND)",
        "Messages",
        "Total cost (VND)",
    ]
    assert rows[2] == ["02/2026", "1", "3", "1", "250.5", "2400", "10", "5", "2660.5"]


def test_the_default_period_is_the_last_six_months_up_to_this_one(client, login_as, world, db):
    this_month = local_today().replace(day=1)
    sent_at = datetime.combine(this_month, datetime.min.time(), tzinfo=LOCAL_TZ) + timedelta(hours=9)
    db.session.add(
        Message(
            key="test:cost:now",
            user_id=world["c1"].id,
            subject="x",
            body="x",
            status="sent",
            channel="sms",
            created_at=sent_at,
            next_attempt_at=sent_at,
            sent_at=sent_at,
        )
    )
    db.session.commit()
    login_as(world["manager_c1"])
    rows = read_csv(client.get("/reports/messages.csv"))
    assert len(rows) == 1 + 6 + 1
    assert rows[1][0] == add_months(this_month, -5).strftime("%m/%Y")
    assert rows[6][0] == this_month.strftime("%m/%Y")
    assert rows[6][2] == "1"


def test_a_commune_manager_sees_only_their_commune(client, login_as, world):
    login_as(world["manager_c2"])
    rows = read_csv(client.get(f"/reports/messages.csv?{PERIOD}&table=communes"))
    assert rows[1:] == [["Xã Hai", "0", "3", "0", "2250", "3", "2250"], ["Total", "0", "3", "0", "2250", "3", "2250"]]
    for url in (
        f"/reports/messages?{PERIOD}&unit=C1",
        f"/reports/messages?{PERIOD}&unit=C1A",
        f"/reports/messages?{PERIOD}&unit=P",
        f"/reports/messages.csv?{PERIOD}&unit=C1",
        "/reports/messages.xlsx?unit=C1",
    ):
        assert client.get(url).status_code == 403, url


def test_people_without_reports_are_refused(client, login_as, world):
    login_as(world["resident"])
    assert client.get("/reports/messages").status_code == 403
    assert client.get("/reports/messages.csv").status_code == 403
    client.post("/logout")
    assert client.get("/reports/messages").status_code == 302


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-13", "Give the month as YYYY-MM"),
        ("from=x&to=2026-01", "Give the month as YYYY-MM"),
        ("to=2026-1", "Give the month as YYYY-MM"),
        ("from=1999-12", "Give the month as YYYY-MM"),
        ("from=%00", "control character"),
        ("from=2026-03&to=2026-01", "The first month comes after the last."),
        ("from=2020-01&to=2026-01", "Choose at most 24 months."),
    ],
)
def test_bad_filters_answer_400_with_the_reason(client, login_as, world, query, message):
    login_as(world["province"])
    response = client.get(f"/reports/messages?{query}")
    assert response.status_code == 400, query
    assert message in response.get_data(as_text=True)
    assert client.get(f"/reports/messages.csv?{query}").status_code == 400
    assert client.get(f"/reports/messages.csv?{PERIOD}&table=nothing").status_code == 404
    assert client.get(f"/reports/messages?{PERIOD}&unit=NOPE").status_code == 404


def test_a_start_alone_runs_to_this_month_or_two_years_on(client, login_as, world):
    login_as(world["province"])
    rows = read_csv(client.get("/reports/messages.csv?from=2026-01"))
    assert rows[1][0] == "01/2026"
    assert len(rows) - 2 == max(1, min(24, (local_today().year - 2026) * 12 + local_today().month))


def test_the_price_setting_is_read_and_checked_at_start():
    assert message_prices(None) == {"zalo": 300, "sms": 750}
    assert message_prices(" ") == {"zalo": 300, "sms": 750}
    assert message_prices('{"zalo": 250, "sms": 690.5, "email": 0}') == {"zalo": 250, "sms": 690.5, "email": 0}
    assert message_prices("{}") == {}
    for wrong in ("[300]", "zalo=300", '{"fax": 1}', '{"sms": -1}', '{"sms": "750"}', '{"sms": true}', '{"sms": NaN}'):
        with pytest.raises(ConfigError, match="MESSAGE_PRICES"):
            message_prices(wrong)
    config = load_config({"APP_ENV": "testing", "MESSAGE_PRICES": '{"sms": 900}'}, argv=[])
    assert config["MESSAGE_PRICES"] == {"sms": 900}
