"""Team view: visits, hours and load per member over a period, and the requests still waiting
by kind of help and village against the members offering that help — for one commune."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.db import LOCAL_TZ, utcnow
from app.privacy import restriction
from app.reports.exports import TITLE_ROWS
from app.visits import help_requests
from app.visits import operations as visits
from app.visits.models import Visit
from tests.reports.test_course_analytics import counting_queries
from tests.visits.pages_support import at, book, build_world, move_to_past


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def request_for(w, unit, skill, manager=None):
    return help_requests.create_help_request(
        manager or w.manager, skill=skill, unit=unit, place="Nhà văn hoá", name="Bà Hai", consent=True
    )


@pytest.fixture
def world(db, units, make_user):
    w = build_world(db, units, make_user)
    # Trần Văn Kỹ (member): two visits done lately (one resolved), one done 40 days ago, two to come.
    done_recent = book(w, start=at(1, 8))
    done_yesterday = book(w, start=at(1, 12))
    done_long_ago = book(w, start=at(2, 8))
    move_to_past(db, done_recent, hours=3)
    move_to_past(db, done_yesterday, hours=30)
    move_to_past(db, done_long_ago, hours=24 * 40)
    visits.complete_visit(w.member, done_recent, skills_done=["eid"], resolved=True, minutes_spent=30, rating=5)
    visits.complete_visit(w.member, done_yesterday, skills_done=["eid"], resolved=False, minutes_spent=45)
    visits.complete_visit(w.member, done_long_ago, skills_done=["eid"], resolved=True, minutes_spent=60)
    book(w, start=at(1, 10))
    book(w, start=at(10, 10))
    # Lê Thị Hai (colleague): one visit that started but has no outcome yet, one cancelled, one
    # booked for a request.
    unrecorded = book(w, w.colleague, start=at(1, 14))
    move_to_past(db, unrecorded, hours=2)
    visits.cancel_visit(w.manager, book(w, w.colleague, start=at(2, 10)), "Ốm")
    booked_request = request_for(w, w.units["v1b"], "eid")
    visits.book_visit(w.colleague, at(3, 10), 60, skill="eid", place="Nhà", booked_by=w.manager, request=booked_request)
    # Waiting requests in commune 1, and one in commune 2 (not shown there).
    request_for(w, w.units["v1a"], "eid")
    request_for(w, w.units["v1a"], "eid")
    request_for(w, w.units["v1a"], "cashless")
    request_for(w, w.units["v1b"], "safety")
    request_for(w, w.units["v2a"], "eid", manager=w.manager_c2)
    c2_visit = book(w, w.member_c2, start=at(1, 9))
    move_to_past(db, c2_visit, hours=5)
    visits.complete_visit(w.member_c2, c2_visit, skills_done=["eid"], resolved=True, minutes_spent=20)
    db.session.flush()
    return w


def test_each_member_shows_visits_hours_and_load_in_the_last_four_weeks(client, db, login_as, world):
    login_as(world.manager)
    rows = read_csv(client.get("/reports/teams.csv?table=members"))
    assert rows[0] == [
        "Member",
        "Offers help with",
        "Visits done",
        "Hours spent",
        "Resolved",
        "Booked, still to come",
        "of which in the next 7 days",
        "Past visits without an outcome",
    ]
    assert rows[1:] == [
        ["Lê Thị Hai", "E-ID app (VNeID), Scams and online safety", "0", "0.0", "", "1", "1", "1"],
        ["Trần Văn Kỹ", "E-ID app (VNeID), Cashless payment", "2", "1.25", "50.0", "2", "1", "0"],
        ["Total", "", "2", "1.25", "", "3", "2", "1"],
    ]


def test_a_chosen_period_counts_the_visits_that_started_in_it(client, db, login_as, world):
    login_as(world.manager)
    today = utcnow().astimezone(LOCAL_TZ).date()
    start = today - timedelta(days=60)
    rows = read_csv(client.get(f"/reports/teams.csv?table=members&from={start}&to={today}"))
    member = next(row for row in rows if row[0] == "Trần Văn Kỹ")
    # Cross-check with the visits themselves.
    done = [
        visit
        for visit in db.session.scalars(select(Visit).where(Visit.member_id == world.member.id, Visit.status == "done"))
        if visit.starts_at.astimezone(LOCAL_TZ).date() >= start
    ]
    assert member[2:5] == [str(len(done)), f"{sum(v.minutes_spent for v in done) / 60:.2f}", "66.7"]
    assert member[2:4] == ["3", "2.25"]
    html = client.get(f"/reports/teams?from={start}&to={today}").get_data(as_text=True)
    assert f'value="{start.isoformat()}"' in html


def test_waiting_requests_are_shown_by_kind_of_help_and_village_against_the_members_offering_it(
    client, db, login_as, world
):
    login_as(world.manager)
    rows = read_csv(client.get("/reports/teams.csv?table=skills"))
    assert rows[0] == [
        "Kind of help",
        "Requests waiting",
        "Oldest waiting (days)",
        "Members offering it",
        "Visits done in the period",
    ]
    assert rows[1:] == [
        ["E-ID app (VNeID)", "2", "0", "2", "2"],
        ["Online public services", "0", "", "0", "0"],
        ["Cashless payment", "1", "0", "1", "0"],
        ["Scams and online safety", "1", "0", "1", "0"],
        ["Phone basics", "0", "", "0", "0"],
        ["Selling online", "0", "", "0", "0"],
        ["Total", "4", "", "", "2"],
    ]
    rows = read_csv(client.get("/reports/teams.csv?table=villages"))
    assert rows[1:] == [
        ["Thôn 1A", "E-ID app (VNeID)", "2", "0", "2"],
        ["Thôn 1A", "Cashless payment", "1", "0", "1"],
        ["Thôn 1B", "Scams and online safety", "1", "0", "1"],
    ]


def test_the_team_page_shows_the_four_tables_and_exports_them_to_xlsx(client, db, login_as, world):
    login_as(world.manager)
    response = client.get("/reports/teams")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Teams: Xã Một" in html
    for title in (
        "Visits per member",
        "Waiting requests by kind of help",
        "Waiting requests by village",
        "Calls within the team&#39;s promise",
    ):
        assert title in html
    assert "Phạm Văn Ba" not in html  # the other commune's member
    assert " style=" not in html
    response = client.get("/reports/teams.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="team-C1.xlsx"'
    workbook = load_workbook(io.BytesIO(response.data))
    assert len(workbook.sheetnames) == 4
    members = list(workbook.worksheets[0].iter_rows(values_only=True))[TITLE_ROWS:]
    assert members[2][:4] == ("Trần Văn Kỹ", "E-ID app (VNeID), Cashless payment", 2, 1.25)


def test_a_commune_without_teams_or_requests_shows_empty_tables(client, db, login_as, make_user, units):
    login_as(make_user("commune_manager", units["c2"]))
    response = client.get("/reports/teams")
    assert response.status_code == 200
    assert "Nothing to show yet." in response.get_data(as_text=True)
    rows = read_csv(client.get("/reports/teams.csv?table=members"))
    assert rows[1:] == [["Total", "", "0", "0.0", "", "0", "0", "0"]]
    rows = read_csv(client.get("/reports/teams.csv?table=skills"))
    assert rows[-1] == ["Total", "0", "", "", "0"]


def test_the_province_chooses_a_commune_and_a_village_shows_its_commune(client, db, login_as, world, make_user, units):
    login_as(world.department)
    html = client.get("/reports/teams").get_data(as_text=True)
    assert 'href="/reports/teams?unit=C1"' in html and 'href="/reports/teams?unit=C2"' in html
    assert client.get("/reports/teams.csv").status_code == 404
    html = client.get("/reports/teams?unit=C1A").get_data(as_text=True)
    assert "Teams: Xã Một" in html
    rows = read_csv(client.get("/reports/teams.csv?unit=C2&table=members"))
    assert [row[0] for row in rows[1:]] == ["Phạm Văn Ba", "Total"]


def test_wrong_dates_are_reported_and_the_last_four_weeks_shown(client, db, login_as, world):
    login_as(world.manager)
    html = client.get("/reports/teams?from=2024-13-01&to=x").get_data(as_text=True)
    assert "Enter dates as YYYY-MM-DD." in html
    today = utcnow().astimezone(LOCAL_TZ).date()
    assert f'value="{(today - timedelta(days=27)).isoformat()}"' in html
    html = client.get(f"/reports/teams?from={today}&to={today - timedelta(days=3)}").get_data(as_text=True)
    assert "The start of the period is after its end." in html


def test_the_team_view_is_refused_outside_the_managers_commune(client, db, login_as, world, make_user, units):
    login_as(world.manager_c2)
    for url in (
        "/reports/teams?unit=C1",
        "/reports/teams?unit=C1A",
        "/reports/teams?unit=P",
        "/reports/teams.csv?unit=C1",
        "/reports/teams.xlsx?unit=C1",
    ):
        assert client.get(url).status_code == 403, url
    rows = read_csv(client.get("/reports/teams.csv?table=members"))
    assert [row[0] for row in rows[1:]] == ["Phạm Văn Ba", "Total"]
    client.post("/logout")
    login_as(world.member)
    assert client.get("/reports/teams").status_code == 403


def test_the_team_page_costs_the_same_number_of_queries_with_more_visits(client, db, login_as, world):
    login_as(world.manager)
    client.get("/reports/teams")
    with counting_queries() as before:
        assert client.get("/reports/teams").status_code == 200
    for day in range(4, 8):
        book(world, world.colleague, start=at(day, 15))
        request_for(world, world.units["v1b"], "phone_basics")
    db.session.flush()
    with counting_queries() as after:
        assert client.get("/reports/teams").status_code == 200
    assert len(after) == len(before)


def test_a_member_whose_processing_is_restricted_is_left_out_of_the_export_not_of_the_total(
    client, db, login_as, world, make_user, units
):
    restriction.restrict(make_user("admin", units["province"]), world.colleague)
    login_as(world.manager)
    rows = read_csv(client.get("/reports/teams.csv?table=members"))
    assert [row[0] for row in rows[1:]] == ["Trần Văn Kỹ", "Total"]
    assert rows[-1] == ["Total", "", "2", "1.25", "", "3", "2", "1"]
    sheet = load_workbook(io.BytesIO(client.get("/reports/teams.xlsx").data))["Visits per member"]
    assert "Lê Thị Hai" not in [row[0] for row in sheet.iter_rows(values_only=True)]
