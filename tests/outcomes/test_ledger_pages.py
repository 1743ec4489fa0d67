"""The member ledger page, its CSV and XLSX exports and closing a month — who sees which rows,
exports parsed back, and a closed month that no later change moves."""

from __future__ import annotations

import csv
import html as html_text
import io
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from openpyxl import load_workbook

from app.db import LOCAL_TZ, local_today
from app.extensions import db
from app.outcomes import ledger
from app.outcomes.models import ClosedMonth, LedgerMonth
from app.privacy import restriction
from app.visits.models import Team, TeamMember, Visit
from tests.conftest import csrf_token_from


def page(response) -> str:
    return html_text.unescape(response.get_data(as_text=True))


def last_month() -> date:
    return ledger.month_start(ledger.month_start(local_today()) - timedelta(days=1))


def add_done_visit(member, unit, start: datetime, minutes: int) -> Visit:
    visit = Visit(
        member_id=member.id,
        unit_id=unit.id,
        skill="eid",
        place="Nhà văn hóa",
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
        status="done",
        minutes_spent=minutes,
    )
    db.session.add(visit)
    db.session.flush()
    return visit


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, page(response)
    assert response.mimetype == "text/csv"
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[list]:
    assert response.status_code == 200, page(response)
    assert "attachment" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def by_name(rows) -> dict[str, list]:
    return {row[1]: row for row in rows[1:]}


@pytest.fixture
def sign_in(client, login_as):
    def sign_in(user):
        client.post("/logout")
        return login_as(user)

    return sign_in


@pytest.fixture
def w(db, units, make_user, team):
    """Last month: the first C1 member did two visits (45 + 30 minutes), the second one (60);
    C2's member did one (20). Managers, the department, an admin and a cadre."""
    w = SimpleNamespace(units=units, member=team[0], colleague=team[1], month=last_month())
    w.member.full_name, w.colleague.full_name = "Nguyễn Thị Hằng", "Trần Văn Đức"
    w.member_c2 = make_user("tech_team", units["v2a"], full_name="Phạm Văn Ba")
    team_c2 = Team(unit_id=units["c2"].id, name="Tổ công nghệ số Xã Hai")
    team_c2.members = [TeamMember(user_id=w.member_c2.id, skills=["eid"])]
    db.session.add(team_c2)
    w.manager = make_user("commune_manager", units["c1"])
    w.manager_c2 = make_user("commune_manager", units["c2"])
    w.department = make_user("department_manager", units["province"])
    w.admin = make_user("admin", units["province"])
    w.cadre = make_user("cadre", units["c1"])
    w.day = datetime.combine(w.month + timedelta(days=4), datetime.min.time(), tzinfo=LOCAL_TZ)
    add_done_visit(w.member, units["v1a"], w.day.replace(hour=8), 45)
    add_done_visit(w.member, units["v1a"], w.day.replace(hour=10), 30)
    add_done_visit(w.colleague, units["v1b"], w.day.replace(hour=9), 60)
    add_done_visit(w.member_c2, units["v2a"], w.day.replace(hour=9), 20)
    w.query = f"month={w.month:%Y-%m}"
    return w


def test_a_commune_manager_sees_the_communes_members_and_team_sums(w, client, sign_in):
    sign_in(w.manager)
    text = page(client.get(f"/outcomes/ledger?{w.query}"))
    assert "Nguyễn Thị Hằng" in text and "Trần Văn Đức" in text and "Tổ C1" in text
    assert "Phạm Văn Ba" not in text and "Tổ công nghệ số Xã Hai" not in text
    assert "Open: figures may still change" in text
    rows = by_name(csv_rows(client.get(f"/outcomes/ledger.csv?{w.query}")))
    assert set(rows) == {"Nguyễn Thị Hằng", "Trần Văn Đức", "Tổ C1"}
    # Row, name, username, unit, month, visits, sessions, hours, minutes, residents, milestones, closed
    assert rows["Nguyễn Thị Hằng"][4:] == [f"{w.month:%Y-%m}", "2", "0", "1.25", "75", "2", "0", "no"]
    assert rows["Trần Văn Đức"][5] == "1" and rows["Trần Văn Đức"][8] == "60"
    assert rows["Tổ C1"][0] == "Team" and rows["Tổ C1"][5] == "3" and rows["Tổ C1"][8] == "135"


def test_a_member_sees_only_their_own_row(w, client, sign_in):
    sign_in(w.member)
    text = page(client.get(f"/outcomes/ledger?{w.query}"))
    assert "Nguyễn Thị Hằng" in text
    assert "Trần Văn Đức" not in text and "Tổ C1" not in text
    rows = csv_rows(client.get(f"/outcomes/ledger.csv?{w.query}"))
    assert [row[1] for row in rows[1:]] == ["Nguyễn Thị Hằng"]
    assert [row[1] for row in xlsx_rows(client.get(f"/outcomes/ledger.xlsx?{w.query}"))[1:]] == ["Nguyễn Thị Hằng"]
    assert client.get(f"/outcomes/ledger?{w.query}&unit=C2").status_code == 403


def test_the_department_sees_every_commune_and_can_narrow_to_one(w, client, sign_in):
    sign_in(w.department)
    rows = by_name(csv_rows(client.get(f"/outcomes/ledger.csv?{w.query}")))
    assert {"Nguyễn Thị Hằng", "Trần Văn Đức", "Phạm Văn Ba", "Tổ C1", "Tổ công nghệ số Xã Hai"} <= set(rows)
    narrowed = by_name(csv_rows(client.get(f"/outcomes/ledger.csv?{w.query}&unit=C2")))
    assert set(narrowed) == {"Phạm Văn Ba", "Tổ công nghệ số Xã Hai"}
    assert narrowed["Tổ công nghệ số Xã Hai"][8] == "20"
    assert "Close the month" not in page(client.get(f"/outcomes/ledger?{w.query}"))


def test_another_communes_area_and_people_without_access_are_refused(w, client, sign_in):
    sign_in(w.manager)
    for path in ("/outcomes/ledger", "/outcomes/ledger.csv", "/outcomes/ledger.xlsx"):
        assert client.get(f"{path}?{w.query}&unit=C2").status_code == 403
        assert client.get(f"{path}?{w.query}&unit=C2A").status_code == 403
        assert client.get(f"{path}?{w.query}&unit=NOPE").status_code == 404
    sign_in(w.manager_c2)
    rows = by_name(csv_rows(client.get(f"/outcomes/ledger.csv?{w.query}")))
    assert set(rows) == {"Phạm Văn Ba", "Tổ công nghệ số Xã Hai"}
    sign_in(w.cadre)
    for path in ("/outcomes/ledger", "/outcomes/ledger.csv", "/outcomes/ledger.xlsx"):
        assert client.get(path).status_code == 403


@pytest.mark.parametrize("month", ["2025-13", "March", "2025-3", "1850-01", "2025-03-01", "2025-00"])
def test_a_month_that_is_not_year_and_month_is_refused_clearly(w, client, sign_in, month):
    sign_in(w.manager)
    for path in ("/outcomes/ledger", "/outcomes/ledger.csv", "/outcomes/ledger.xlsx"):
        response = client.get(f"{path}?month={month}")
        assert response.status_code == 400
        assert "Give the month as year and month, e.g. " in page(response)


def test_the_ledger_and_its_export_do_not_query_once_per_members_village(
    login_as, units, make_user, villages, queries_by_spread
):
    members = [make_user("tech_team", villages[0]) for _ in range(6)]
    login_as(make_user("commune_manager", units["c1"]))
    for path in ("/outcomes/ledger", "/outcomes/ledger.csv"):
        in_two, in_six = queries_by_spread(path, members)
        assert in_six == in_two, path


def test_the_xlsx_export_holds_the_same_figures_as_the_csv(w, client, sign_in):
    sign_in(w.admin)
    from_csv = csv_rows(client.get(f"/outcomes/ledger.csv?{w.query}&unit=C1"))
    response = client.get(f"/outcomes/ledger.xlsx?{w.query}&unit=C1")
    assert response.headers["Content-Disposition"].endswith(f'filename="ledger-{w.month:%Y-%m}-C1.xlsx"')
    from_xlsx = xlsx_rows(response)
    assert from_xlsx[0] == from_csv[0]

    def same(value):
        if value is None:  # an empty cell
            return ""
        try:
            return float(value)
        except ValueError:
            return str(value)

    assert [[same(cell) for cell in row] for row in from_xlsx[1:]] == [
        [same(cell) for cell in row] for row in from_csv[1:]
    ]
    row = by_name(from_xlsx)["Nguyễn Thị Hằng"]
    assert (row[5], row[7], row[8]) == (2, 1.25, 75)  # numbers stay numbers


def test_a_name_that_looks_like_a_formula_is_exported_as_text(w, client, sign_in):
    w.colleague.full_name = '=HYPERLINK("http://evil")'
    db.session.flush()
    sign_in(w.manager)
    names = [row[1] for row in csv_rows(client.get(f"/outcomes/ledger.csv?{w.query}"))]
    assert '\'=HYPERLINK("http://evil")' in names
    workbook = load_workbook(io.BytesIO(client.get(f"/outcomes/ledger.xlsx?{w.query}").get_data()))
    cells = [cell for row in workbook.active.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)


def test_a_closed_month_stays_the_same_in_the_exports_after_a_later_change(w, client, sign_in):
    sign_in(w.admin)
    text = page(client.get(f"/outcomes/ledger?{w.query}"))
    assert "Close the month" in text
    before_csv = csv_rows(client.get(f"/outcomes/ledger.csv?{w.query}"))
    response = client.post("/outcomes/ledger/close", data={"month": f"{w.month:%Y-%m}"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/outcomes/ledger?{w.query}")
    text = page(client.get(response.headers["Location"]))
    assert "is closed: the figures of 3 members are final." in text
    assert "Closed: these figures are final" in text and "Close the month" not in text
    assert db.session.scalar(db.select(db.func.count()).select_from(LedgerMonth)) == 3  # every tech-team member

    closed_csv = csv_rows(client.get(f"/outcomes/ledger.csv?{w.query}"))
    closed_xlsx = xlsx_rows(client.get(f"/outcomes/ledger.xlsx?{w.query}"))
    assert [row[:-1] for row in closed_csv] == [row[:-1] for row in before_csv]
    assert {row[-1] for row in closed_csv[1:]} == {"yes"}

    # A late correction and a visit added afterwards change nothing in the closed month…
    add_done_visit(w.member, w.units["v1a"], w.day.replace(hour=15), 90)
    visit = db.session.scalar(db.select(Visit).where(Visit.member_id == w.colleague.id))
    visit.minutes_spent = 600
    db.session.flush()
    assert csv_rows(client.get(f"/outcomes/ledger.csv?{w.query}")) == closed_csv
    assert xlsx_rows(client.get(f"/outcomes/ledger.xlsx?{w.query}")) == closed_xlsx
    # …while the live figures did move.
    assert ledger.live_row(w.member.id, w.month).visits == 3


def test_closing_is_refused_clearly_twice_for_this_month_and_for_anyone_but_an_admin(w, client, sign_in):
    sign_in(w.admin)
    assert client.post("/outcomes/ledger/close", data={"month": f"{w.month:%Y-%m}"}).status_code == 302
    again = client.post("/outcomes/ledger/close", data={"month": f"{w.month:%Y-%m}"})
    assert again.status_code == 409 and "This month is already closed." in page(again)
    this_month = f"{ledger.month_start(local_today()):%Y-%m}"
    current = client.post("/outcomes/ledger/close", data={"month": this_month})
    assert current.status_code == 400 and "Only a month that has ended can be closed." in page(current)
    assert "Close the month" not in page(client.get(f"/outcomes/ledger?month={this_month}"))
    bad = client.post("/outcomes/ledger/close", data={"month": "soon"})
    assert bad.status_code == 400 and "Give the month as year and month" in page(bad)
    assert client.post("/outcomes/ledger/close", data={}).status_code == 400
    assert db.session.scalar(db.select(db.func.count()).select_from(ClosedMonth)) == 1

    earlier = f"{ledger.month_start(w.month - timedelta(days=1)):%Y-%m}"
    for person in (w.manager, w.department, w.member):
        sign_in(person)
        assert "Close the month" not in page(client.get(f"/outcomes/ledger?month={earlier}"))
        assert client.post("/outcomes/ledger/close", data={"month": earlier}).status_code == 403
    assert db.session.scalar(db.select(db.func.count()).select_from(ClosedMonth)) == 1


def test_the_close_form_needs_its_csrf_token(w, client, sign_in, request):
    sign_in(w.admin)
    request.getfixturevalue("csrf_enabled")
    html = client.get(f"/outcomes/ledger?{w.query}").get_data(as_text=True)
    assert client.post("/outcomes/ledger/close", data={"month": f"{w.month:%Y-%m}"}).status_code == 400
    data = {"month": f"{w.month:%Y-%m}", "csrf_token": csrf_token_from(html.split("/outcomes/ledger/close")[1])}
    assert client.post("/outcomes/ledger/close", data=data).status_code == 302
    assert db.session.get(ClosedMonth, w.month) is not None


def test_a_member_whose_processing_is_restricted_is_left_out_of_the_exports_not_of_the_totals(w, client, sign_in):
    restriction.restrict(w.admin, w.colleague)
    sign_in(w.manager)
    for rows in (
        by_name(csv_rows(client.get(f"/outcomes/ledger.csv?{w.query}"))),
        by_name(xlsx_rows(client.get(f"/outcomes/ledger.xlsx?{w.query}"))),
    ):
        assert set(rows) == {"Nguyễn Thị Hằng", "Tổ C1"}
        assert str(rows["Tổ C1"][8]) == "135"

    restriction.lift(w.admin, w.colleague)
    assert "Trần Văn Đức" in by_name(csv_rows(client.get(f"/outcomes/ledger.csv?{w.query}")))
