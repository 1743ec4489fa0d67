"""The dashboard pages: the province view, the indicators and the commune view — what they show,
sorting and filters, exports equal to the page's table, scope refusals, a completion showing at
once, and a province page whose number of queries does not grow with the communes."""

from __future__ import annotations

import csv
import io
from html.parser import HTMLParser

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.extensions import db
from app.learning import operations as learning
from app.reports import queries
from app.reports.exports import TITLE_ROWS, _cell, _xlsx_value
from app.users import operations as users
from tests.reports.test_figures import build_world, complete_self, lesson_of


@pytest.fixture
def world(db, units, make_user, make_unit, make_course):
    return build_world(db, units, make_user, make_unit, make_course)


class TableParser(HTMLParser):
    """{table id: [[cell text, …] per row]} (header, body and totals rows), plus the links."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.links: list[str] = []
        self._table = None
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        if tag == "table":
            self._table = self.tables.setdefault(attrs.get("id", f"table{len(self.tables)}"), [])
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self._table.append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(response) -> TableParser:
    assert response.status_code == 200, response.status_code
    parser = TableParser()
    parser.feed(response.get_data(as_text=True))
    return parser


def column(table: list[list[str]], title_start: str) -> list[str]:
    header = table[0]
    index = next(i for i, title in enumerate(header) if title.startswith(title_start))
    return [row[index] for row in table[1:]]


def row_for(table: list[list[str]], name: str) -> dict[str, str]:
    header = [" ".join(title.replace("▲", "").replace("▼", "").split()) for title in table[0]]
    row = next(row for row in table[1:] if name in row)
    return dict(zip(header, row, strict=True))


def expected_cells(make_table) -> list[list]:
    """What an export holds: the header, the rows and the totals, as exports.to_csv writes them
    (the table made in English, as the test client asks for)."""
    with force_locale("en"):
        table = make_table()
    rows = [[column.title for column in table.columns]]
    rows += [[_cell(row.get(c.key), c.kind) for c in table.columns] for row in table.rows]
    if table.totals:
        rows.append([_cell(table.totals.get(c.key), c.kind) for c in table.columns])
    return rows


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def read_xlsx(response) -> list[list]:
    """The header, rows and totals of the first sheet (below its title rows)."""
    assert response.status_code == 200
    assert "spreadsheetml" in response.mimetype
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))[TITLE_ROWS:]
    return [[("" if value is None else value) for value in row] for row in rows]


def expected_xlsx_cells(make_table) -> list[list]:
    """What an XLSX export holds: the same cells, numbers unrounded (percentages as fractions)."""
    with force_locale("en"):
        table = make_table()
    rows = [[column.title for column in table.columns]]
    for values in [*table.rows, *([table.totals] if table.totals else [])]:
        rows.append(
            ["" if values.get(c.key) is None else _xlsx_value(values.get(c.key), c.kind) for c in table.columns]
        )
    return rows


def as_text(rows: list[list]) -> list[list[str]]:
    return [["" if value is None else str(value) for value in row] for row in rows]


# --- the province view -----------------------------------------------------------------------


def test_the_province_view_has_a_row_per_commune_and_the_totals(client, login_as, world):
    login_as(world.department)
    page = parse(client.get("/reports/"))
    table = page.tables["completion-table"]
    assert [row[1] for row in table[1:]] == ["Xã Ba Trống", "Xã Hai", "Xã Một", "Total"]
    c1 = row_for(table, "Xã Một")
    assert (c1["Enrolled"], c1["Completed"], c1["Completion rate"]) == ("7", "5", "71.4%")
    assert c1["Overdue assignments"] == "2" and c1["Help requests"] == "4" and c1["Visits done"] == "4"
    empty = row_for(table, "Xã Ba Trống")
    assert empty["Completed"] == "0" and empty["Completion rate"] == "–"
    totals = row_for(table, "Total")
    assert totals["Completed"] == "8"  # 5 in C1, 1 in C2, 2 at the province itself
    assert totals["Adults"] == "9,500"
    # Drill down: commune names lead to the commune view.
    assert "/reports/units/C1" in page.links
    assert "/reports/indicators?unit=P" in page.links


def test_columns_sort_through_links(client, login_as, world):
    login_as(world.department)
    page = parse(client.get("/reports/"))
    assert "/reports/?unit=P&sort=completed&dir=desc" in page.links
    response = client.get("/reports/?unit=P&sort=completed&dir=desc")
    html = response.get_data(as_text=True)
    assert 'aria-sort="descending"' in html
    table = parse(response).tables["completion-table"]
    assert column(table, "Unit")[:3] == ["Xã Một", "Xã Hai", "Xã Ba Trống"]
    assert column(table, "Unit")[-1] == "Total"  # the totals stay at the foot
    # Clicking the sorted column again turns it around.
    assert "/reports/?unit=P&sort=completed&dir=asc" in parse(response).links
    ascending = parse(client.get("/reports/?unit=P&sort=completed&dir=asc")).tables["completion-table"]
    assert column(ascending, "Unit")[:3] == ["Xã Ba Trống", "Xã Hai", "Xã Một"]


def test_filters_narrow_the_figures_and_reach_the_export_links(client, login_as, world):
    login_as(world.department)
    response = client.get("/reports/?unit=P&course=cadre-course&role=cadre&from=2020-01-01&to=2099-12-31")
    page = parse(response)
    c1 = row_for(page.tables["completion-table"], "Xã Một")
    assert (c1["Learners"], c1["Enrolled"], c1["Completed"]) == ("2", "2", "2")  # k1, k3
    html = response.get_data(as_text=True)
    assert '<option value="cadre-course" selected>' in html
    assert 'value="2020-01-01"' in html
    csv_link = next(link for link in page.links if link.startswith("/reports/completion.csv"))
    for part in ("unit=P", "course=cadre-course", "role=cadre", "from=2020-01-01", "to=2099-12-31"):
        assert part in csv_link
    assert "whole weeks" in html.lower()


def test_a_wrong_filter_is_explained_on_the_page_and_left_out(client, login_as, world):
    login_as(world.department)
    response = client.get("/reports/?unit=P&from=31-12-2025&role=mayor&course=no-such-course")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Give the start of the period as a date" in html
    assert "Give role as cadre or resident." in html
    assert "Unknown course." in html
    assert row_for(parse(response).tables["completion-table"], "Xã Một")["Completed"] == "5"
    # An export never silently differs from what was asked for.
    assert client.get("/reports/completion.csv?unit=P&role=mayor").status_code == 400
    assert client.get("/reports/completion.csv?unit=P&from=2025-03-10&to=2025-01-01").status_code == 400


def test_the_csv_and_xlsx_exports_equal_the_table_shown(client, login_as, world):
    login_as(world.department)
    args = "unit=P&role=resident&sort=enrolled&dir=desc"
    expected = expected_cells(
        lambda: queries.completion_table(world.units["province"], role="resident").sorted_by("enrolled", True)
    )
    rows = read_csv(client.get(f"/reports/completion.csv?{args}"))
    assert rows == as_text(expected)
    assert rows[0][1] == "Unit" and rows[-1][1] == "Total"
    assert [row[1] for row in rows[1:4]] == ["Xã Một", "Xã Hai", "Xã Ba Trống"]
    assert read_xlsx(client.get(f"/reports/completion.xlsx?{args}")) == expected_xlsx_cells(
        lambda: queries.completion_table(world.units["province"], role="resident").sorted_by("enrolled", True)
    )
    # The page shows the same rows in the same order.
    page = parse(client.get(f"/reports/?{args}")).tables["completion-table"]
    assert column(page, "Unit") == [row[1] for row in rows[1:]]
    assert column(page, "Enrolled") == [row[4] for row in rows[1:]]
    response = client.get(f"/reports/completion.csv?{args}")
    assert 'filename="completion-P.csv"' in response.headers["Content-Disposition"]


def test_a_completion_shows_on_the_dashboard_at_once(client, login_as, world):
    login_as(world.department)
    before = row_for(parse(client.get("/reports/")).tables["completion-table"], "Xã Một")
    before_total = row_for(parse(client.get("/reports/")).tables["completion-table"], "Total")
    complete_self(world.r3, world.core)  # r3 reads the last lesson of the core course
    db.session.commit()
    after = row_for(parse(client.get("/reports/")).tables["completion-table"], "Xã Một")
    after_total = row_for(parse(client.get("/reports/")).tables["completion-table"], "Total")
    assert int(after["Completed"]) == int(before["Completed"]) + 1
    assert int(after_total["Completed"]) == int(before_total["Completed"]) + 1
    assert int(after["Overdue assignments"]) == int(before["Overdue assignments"]) - 1


def statements_of(client, url: str) -> list[str]:
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    return statements


def count_queries(client, url: str) -> int:
    return len(statements_of(client, url))


def test_the_figures_of_hidden_columns_are_not_counted(client, login_as, world):
    """The main columns leave out the median wait and the calls within the promise, and the page
    does not count them; shown, or sorted by, they are counted and equal the export's."""

    def reads_waits_or_promise(url):
        return [s for s in statements_of(client, url) if "wait_" in s or "promise_" in s or "help_requests" in s]

    login_as(world.department)
    client.get("/reports/")
    assert reads_waits_or_promise("/reports/") == []
    assert reads_waits_or_promise("/reports/units/C1") == []
    assert reads_waits_or_promise("/reports/?columns=all")
    assert reads_waits_or_promise("/reports/?sort=median_wait_hours&dir=desc")
    page = parse(client.get("/reports/?columns=all")).tables["completion-table"]
    exported = read_csv(client.get("/reports/completion.csv?unit=P"))
    for title in ("Median wait", "Called within the promise"):
        at = next(n for n, heading in enumerate(exported[0]) if heading.startswith(title))
        assert column(page, title) == [row[at] or "–" for row in exported[1:]]
    assert "Median wait" not in parse(client.get("/reports/")).tables["completion-table"][0]


def test_the_province_view_uses_a_bounded_number_of_queries(client, login_as, world, make_unit):
    login_as(world.department)
    url = "/reports/?unit=P&course=smartphone-basics&from=2020-01-01"
    client.get(url)  # the first page of a session also counts the menu's notifications
    few = count_queries(client, url)
    assert 5 <= few <= 20, few  # sign-in, the unit, the course list, and a few grouped queries
    # Five more communes, each with a village and a learner who completed the course.
    for n in range(5):
        commune = make_unit("commune", world.units["province"], code=f"X{n}", name=f"Xã Mới {n}", population=100)
        village = make_unit("village", commune, code=f"X{n}V", name=f"Thôn Mới {n}", population=100)
        learner = users.create_user(
            world.admin, username=f"new-learner-{n}", full_name=f"Học viên {n}", role="resident", unit=village
        ).user
        complete_self(learner, world.core)
    db.session.commit()
    assert count_queries(client, url) == few
    assert count_queries(client, "/reports/completion.xlsx?unit=P") <= 20


# --- indicators --------------------------------------------------------------------------------


def test_the_indicators_are_ranked_with_the_change_since_last_month_and_export_as_shown(client, login_as, world):
    login_as(world.department)
    page = parse(client.get("/reports/indicators?unit=P"))
    table = page.tables["indicators-table"]
    assert column(table, "Unit") == ["Xã Một", "Xã Hai", "Xã Ba Trống", "Total"]
    assert column(table, "Rank")[:3] == ["1", "2", "3"]
    header = table[0]
    assert header.index("Residents: E-ID account fully activated") < header.index("Cadres with basic digital skills")
    assert "Adults with basic digital skills, self-study" in header
    assert "Adults with basic digital skills, with help" in header
    c2 = row_for(table, "Xã Hai")
    assert c2["Residents: E-ID account fully activated"] == "0.0%"  # 1 of 3,000, to one decimal
    assert c2["Residents: E-ID account fully activated: change since last month"] == "+0.0"
    expected = expected_cells(lambda: queries.indicators_table(world.units["province"]))
    assert read_csv(client.get("/reports/indicators.csv?unit=P")) == as_text(expected)
    assert read_xlsx(client.get("/reports/indicators.xlsx?unit=P")) == expected_xlsx_cells(
        lambda: queries.indicators_table(world.units["province"])
    )
    # Sorting by another column, and the export follows.
    sorted_rows = read_csv(client.get("/reports/indicators.csv?unit=P&sort=unit_name&dir=asc"))
    assert [row[2] for row in sorted_rows[1:4]] == ["Xã Ba Trống", "Xã Hai", "Xã Một"]


def test_the_indicators_default_to_the_persons_area(client, login_as, world):
    login_as(world.manager)
    page = parse(client.get("/reports/indicators"))
    assert column(page.tables["indicators-table"], "Unit") == ["Thôn 1A", "Thôn 1B", "Total"]


# --- the commune view ---------------------------------------------------------------------------


def test_the_commune_view_shows_villages_and_the_communes_people(client, login_as, world):
    login_as(world.department)
    response = client.get("/reports/units/C1")
    page = parse(response)
    assert column(page.tables["completion-table"], "Unit") == ["Thôn 1A", "Thôn 1B", "Total"]
    assert column(page.tables["indicators-table"], "Unit")[-1] == "Total"
    people = page.tables["people-table"]
    names = column(people, "Name")
    assert "Nguyễn Thị Một" in names and "Cán bộ Một" in names and "Thành viên Một" in names
    assert "Phạm Văn Bốn" not in names  # another commune
    assert "Người Tỉnh" not in names  # registered at the province
    assert world.manager.full_name not in names  # managers are not learners
    r1 = row_for(people, "Nguyễn Thị Một")
    assert (r1["Courses enrolled"], r1["Courses completed"], r1["How completed"]) == ("2", "2", "self-study: 2")
    r2 = row_for(people, "Trần Văn Hai")
    assert r2["How completed"] == "with help: 1"
    assert row_for(people, "Lê Thị Ba")["How completed"] == "in progress"
    assert row_for(people, "Cán bộ Hai")["Village"] == "(commune)"
    # Drill down to the person, and back up to the province.
    assert f"/users/{world.r1.id}" in page.links
    assert client.get(f"/users/{world.r1.id}").status_code == 200
    assert any(link.startswith("/reports/?unit=P") for link in page.links)
    # Exports of the commune's tables.
    rows = read_csv(client.get("/reports/completion.csv?unit=C1"))
    assert [row[1] for row in rows[1:]] == ["Thôn 1A", "Thôn 1B", "Total"]


def test_the_people_list_filters_by_village_and_role_and_pages(client, login_as, world, make_user):
    for n in range(55):
        make_user("resident", world.units["v1b"], username=f"extra{n:02d}", full_name=f"Zz Người {n:02d}")
    login_as(world.department)
    page = parse(client.get("/reports/units/C1?village=C1A"))
    names = column(page.tables["people-table"], "Name")
    assert set(names) == {"Nguyễn Thị Một", "Trần Văn Hai", "Thành viên Một"}
    cadres = column(parse(client.get("/reports/units/C1?people_role=cadre")).tables["people-table"], "Name")
    assert set(cadres) == {"Cán bộ Một", "Cán bộ Hai", "Cán bộ Ba"}
    first = parse(client.get("/reports/units/C1"))
    assert len(first.tables["people-table"]) == 1 + 50
    assert "/reports/units/C1?page=2" in first.links
    second = parse(client.get("/reports/units/C1?page=2"))
    assert len(second.tables["people-table"]) == 1 + 62 - 50
    # A village's row leads to its people; a village's code leads to its commune's view.
    assert any(link.startswith("/reports/units/C1?village=C1A") for link in first.links)
    response = client.get("/reports/units/C1B")
    assert response.status_code == 302 and "/reports/units/C1?village=C1B" in response.headers["Location"]
    html = client.get("/reports/units/C1?village=C2A").get_data(as_text=True)
    assert "Choose a village of this commune." in html


def test_the_people_list_does_not_query_once_per_village(
    client, login_as, units, make_user, villages, queries_by_spread
):
    people = [make_user("resident", villages[0]) for _ in range(6)]
    login_as(make_user("commune_manager", units["c1"]))
    url = "/reports/units/C1"
    in_two, in_six = queries_by_spread(url, people)
    assert in_six == in_two
    village_column = column(parse(client.get(url)).tables["people-table"], "Village")
    assert set(village_column) == {village.name for village in villages}


# --- who may see what -----------------------------------------------------------------------------


def test_a_commune_manager_is_sent_to_their_commune_and_kept_out_of_others(client, login_as, world):
    login_as(world.manager)
    response = client.get("/reports/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/reports/units/C1")
    assert client.get("/reports/units/C1").status_code == 200
    for url in (
        "/reports/?unit=P",
        "/reports/units/C2",
        "/reports/units/C2A",
        "/reports/units/P",
        "/reports/indicators?unit=P",
        "/reports/indicators?unit=C2",
        "/reports/completion.csv?unit=P",
        "/reports/completion.xlsx?unit=C2",
        "/reports/indicators.csv?unit=C2",
    ):
        assert client.get(url).status_code == 403, url
    # Their own commune exports fine, and the commune view offers no way up to the province.
    assert client.get("/reports/completion.csv").status_code == 200
    page = parse(client.get("/reports/units/C1"))
    assert not any(link.startswith("/reports/?unit=P") for link in page.links)


@pytest.mark.parametrize("role", ["cadre", "resident", "tech_team"])
def test_people_without_reports_are_refused(client, login_as, world, make_user, role):
    login_as(make_user(role, world.units["v1a"]))
    for url in ("/reports/", "/reports/units/C1", "/reports/indicators", "/reports/completion.csv"):
        assert client.get(url).status_code == 403, url


def test_signed_out_visitors_are_sent_to_sign_in_and_unknown_units_are_404(client, login_as, world):
    response = client.get("/reports/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login_as(world.department)
    assert client.get("/reports/units/NOPE").status_code == 404
    assert client.get("/reports/?unit=NOPE").status_code == 404
    assert client.get("/reports/indicators.csv?unit=NOPE").status_code == 404
    # A learner's enrolment at a course they never finish shows as enrolled.
    learning.mark_lesson_read(world.k4, lesson_of(world.core))
    db.session.commit()
    c2 = row_for(parse(client.get("/reports/")).tables["completion-table"], "Xã Hai")
    assert c2["Enrolled"] == "2"
