"""The managers' overview: the report links on every report page and in the menu per role,
ties in the indicator ranking, the headline figures on the home page, the XLSX layout."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from app.db import utcnow
from app.extensions import db
from app.reports import queries
from app.reports.exports import CHANGE_FORMAT, TITLE_ROWS, _sheet_name
from app.visits.models import HelpRequest
from tests.reports.test_dashboard import TableParser
from tests.reports.test_figures import build_world


@pytest.fixture
def world(db, units, make_user, make_unit, make_course):
    return build_world(db, units, make_user, make_unit, make_course)


def links_of(html: str) -> list[str]:
    parser = TableParser()
    parser.feed(html)
    return parser.links


# --- menu and links ----------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["/reports/", "/reports/indicators", "/reports/units/C1"])
def test_every_dashboard_page_links_to_every_report(client, login_as, world, page):
    login_as(world.department)
    response = client.get(page)
    assert response.status_code == 200
    links = links_of(response.get_data(as_text=True))
    for target in ("/reports/trends", "/reports/courses", "/reports/teams", "/reports/messages", "/reports/indicators"):
        assert target in links, (page, target)


def test_the_home_page_of_managers_links_to_every_report_and_others_see_none(client, login_as, world, make_user):
    for manager in (world.department, world.manager):
        login_as(manager)
        links = links_of(client.get("/").get_data(as_text=True))
        for target in (
            "/reports/",
            "/reports/indicators",
            "/reports/trends",
            "/reports/courses",
            "/reports/teams",
            "/reports/messages",
        ):
            assert any(link.split("?")[0] == target for link in links), (manager.username, target)
        client.post("/logout")
    login_as(make_user("resident", world.units["v1a"]))
    links = links_of(client.get("/").get_data(as_text=True))
    assert not [link for link in links if link.startswith("/reports")]


# --- ties --------------------------------------------------------------------------------------


def test_equal_shares_share_a_rank_shown_as_a_tie(client, login_as, world, make_unit):
    make_unit("commune", world.units["province"], code="C5", name="Xã Năm", population=2000)
    table = queries.indicators_table(world.units["province"])
    ranks = {row["unit_code"]: (row["rank"], row["rank_tied"]) for row in table.rows}
    # C1 and C2 have activations; C3 and C5 none: both 0.0 %, both third, no fourth.
    assert ranks["C1"] == (1, False) and ranks["C2"] == (2, False)
    assert ranks["C3"] == (3, True) and ranks["C5"] == (3, True)
    login_as(world.department)
    parser = TableParser()
    parser.feed(client.get("/reports/indicators").get_data(as_text=True))
    cells = {row[2]: row[0] for row in parser.tables["indicators-table"][1:] if len(row) > 2}
    assert cells["Xã Ba Trống"] == "=3" and cells["Xã Năm"] == "=3"
    assert cells["Xã Một"] == "1"


# --- the overview on the home page -------------------------------------------------------------


def figures_on_home(client) -> dict[str, str]:
    """{figure key: its text} from the home page."""

    html = client.get("/").get_data(as_text=True)
    found = {}
    for key, body in re.findall(r'<li class="figure" id="figure-([a-z_]+)">(.*?)</li>', html, re.S):
        value = re.search(r'<strong class="figure-value">(.*?)</strong>', body, re.S).group(1)
        found[key] = " ".join(value.split())
    return found


def test_the_headline_figures_equal_the_summary_tables(world):
    from app.reports.overview import headline_figures

    for unit in (world.units["province"], world.units["c1"]):
        figures = {figure.key: figure for figure in headline_figures(unit)}
        completion = queries.completion_table(unit).totals
        indicators = queries.indicators_table(unit).totals
        assert figures["learners"].value == completion["learners"]
        assert figures["completion_rate"].value == pytest.approx(completion["completion_rate"])
        assert figures["adult_skills"].value == pytest.approx(
            indicators["adult_skills_self"] + indicators["adult_skills_help"]
        )
        assert figures["adult_skills"].change == pytest.approx(
            indicators["adult_skills_self_change"] + indicators["adult_skills_help_change"]
        )
        assert figures["eid"].value == pytest.approx(indicators["milestone_eid_activated"])
        assert figures["eid"].change == pytest.approx(indicators["milestone_eid_activated_change"])
    province = {figure.key: figure for figure in headline_figures(world.units["province"])}
    c1 = {figure.key: figure for figure in headline_figures(world.units["c1"])}
    c2 = {figure.key: figure for figure in headline_figures(world.units["c2"])}
    # The requests still waiting, counted directly.
    waiting = [r for r in db.session.scalars(select(HelpRequest)) if r.status == "new"]
    for figures, unit in ((province, world.units["province"]), (c1, world.units["c1"]), (c2, world.units["c2"])):
        mine = [r for r in waiting if r.unit.path.startswith(unit.path)]
        assert figures["waiting"].value == len(mine)
        if mine:
            oldest = min(r.created_at for r in mine)
            assert figures["oldest_wait"].value == (utcnow() - oldest).days
        else:
            assert figures["oldest_wait"].value is None
    assert province["waiting"].value == c1["waiting"].value + c2["waiting"].value > 0
    # C2's e-ID activation is from today: all of its share is new since last month.
    assert c2["eid"].change == pytest.approx(c2["eid"].value)


def test_the_home_page_shows_the_overview_of_the_managers_own_area(client, login_as, world, make_user):
    login_as(world.manager)
    html = client.get("/").get_data(as_text=True)
    assert world.units["c1"].display_name in html
    figures = figures_on_home(client)
    assert set(figures) >= {"learners", "completion_rate", "adult_skills", "eid", "visits_this_week", "waiting"}
    c1 = queries.completion_table(world.units["c1"]).totals
    assert figures["learners"] == str(c1["learners"])
    waiting = [r for r in db.session.scalars(select(HelpRequest)) if r.status == "new"]
    in_c1 = len([r for r in waiting if r.unit.path.startswith(world.units["c1"].path)])
    in_c2 = len([r for r in waiting if r.unit.path.startswith(world.units["c2"].path)])
    assert in_c1 < len(waiting)
    assert figures["waiting"] == str(in_c1)  # their commune's, not the province's
    client.post("/logout")
    login_as(world.manager_c2)
    assert figures_on_home(client)["waiting"] == str(in_c2)
    client.post("/logout")
    login_as(make_user("resident", world.units["v1a"]))
    assert figures_on_home(client) == {}


def comparison_on_home(client) -> list[tuple[str, str, str]]:
    """(rank, area, share) rows of the comparison table on the home page."""
    html = client.get("/").get_data(as_text=True)
    table = re.search(r'<table id="skills-table">(.*?)</table>', html, re.S)
    if not table:
        return []
    row = r"<tr><td>(.*?)</td><th scope=\"row\">(.*?)</th><td class=\"num\">(.*?)</td></tr>"
    rows = re.findall(row, table.group(1))
    return [tuple(" ".join(cell.split()) for cell in row) for row in rows]


def test_the_overview_compares_the_areas_below_with_a_chart_and_a_table(client, login_as, world):
    from app.reports.overview import skills_by_area

    login_as(world.department)
    html = client.get("/").get_data(as_text=True)
    assert 'id="skills-chart-desc"' in html  # the chart is drawn beside the table
    rows = comparison_on_home(client)
    indicators = queries.indicators_table(world.units["province"])
    assert sorted(name for _rank, name, _share in rows) == sorted(row["unit_name"] for row in indicators.rows)
    shares = {
        row["unit_name"]: (row["adult_skills_self"] or 0) + (row["adult_skills_help"] or 0)
        for row in indicators.rows
        if row["adult_skills_self"] is not None
    }
    # Best first; the shares shown are the indicators' (alone + with help).
    shown = [float(share.rstrip("%").replace(",", ".")) for _rank, name, share in rows if name in shares]
    assert shown == [pytest.approx(shares[name] * 100, abs=0.05) for _rank, name, _share in rows if name in shares]
    values = [shares[name] for _rank, name, _share in rows if name in shares]
    assert values == sorted(values, reverse=True)
    # Equal shares share a rank, shown as a tie.
    comparison = skills_by_area(world.units["province"], indicators)
    ranks = [rank for rank, _name, share in comparison.rows if share is not None]
    for (rank, _n, share), (next_rank, _m, next_share) in zip(comparison.rows, comparison.rows[1:], strict=False):
        if share is not None and share == next_share:
            assert rank == next_rank and rank.startswith("=")
    assert ranks[0] in ("1", "=1")
    # A commune manager compares the villages of their own commune only.
    client.post("/logout")
    login_as(world.manager)
    villages = {name for _rank, name, _share in comparison_on_home(client)}
    assert villages == {row["unit_name"] for row in queries.indicators_table(world.units["c1"]).rows}
    assert world.units["c2"].display_name not in villages


# --- XLSX exports ------------------------------------------------------------------------------


def test_the_xlsx_export_has_a_title_formats_a_frozen_header_and_widths(client, login_as, world):
    login_as(world.department)
    response = client.get("/reports/completion.xlsx?unit=P&role=resident")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    assert sheet.title == "Completion and visits"
    assert sheet["A1"].value == "Completion and visits" and sheet["A1"].font.bold
    subtitle = sheet["A2"].value
    assert world.units["province"].display_name in subtitle
    assert "Role: Resident" in subtitle and "Exported on" in subtitle
    assert sheet.freeze_panes == f"A{TITLE_ROWS + 2}"
    header = [cell.value for cell in sheet[TITLE_ROWS + 1]]
    assert header[1] == "Unit"
    rate = header.index("Completion rate") + 1
    c1_row = next(row[0].row for row in sheet.iter_rows(min_row=TITLE_ROWS + 2) if row[0].value == "C1")
    c1 = sheet.cell(row=c1_row, column=rate)
    table = queries.completion_table(world.units["province"], role="resident")
    expected = next(row for row in table.rows if row["unit_code"] == "C1")["completion_rate"]
    assert c1.value == pytest.approx(expected) and 0 < c1.value <= 1
    assert c1.number_format == "0.0%"
    assert sheet.cell(row=TITLE_ROWS + 2, column=header.index("Enrolled") + 1).number_format == "#,##0"
    widths = {sheet.column_dimensions[get_column_letter(i)].width for i in range(1, len(header) + 1)}
    assert len(widths) > 1 and all(8 <= width <= 40 for width in widths)


def test_indicator_changes_are_signed_percentages(client, login_as, world):
    login_as(world.department)
    sheet = load_workbook(io.BytesIO(client.get("/reports/indicators.xlsx?unit=P").data)).worksheets[0]
    header = [cell.value for cell in sheet[TITLE_ROWS + 1]]
    change = header.index("Residents: E-ID account fully activated: change since last month") + 1
    assert sheet.cell(row=TITLE_ROWS + 2, column=change).number_format == CHANGE_FORMAT


def test_sheet_names_are_whole_words_within_excels_limit_and_unique():
    used: set[str] = set()
    long = "Adults with basic digital skills by commune and month"
    first = _sheet_name(long, used)
    second = _sheet_name(long, used)
    assert first == "Adults with basic digital"
    assert len(second) <= 31 and second != first and second.endswith("(2)")
    assert long.startswith(second.removesuffix(" (2)"))
    assert _sheet_name("Quiz: questions?", used) == "Quiz questions"
    assert _sheet_name("quiz questions", used) == "quiz questions (2)"  # Excel ignores case


# --- the chart comparing communes --------------------------------------------------------------


def test_the_dashboard_charts_the_completion_rate_of_each_commune(client, login_as, world):
    login_as(world.department)
    html = client.get("/reports/?unit=P").get_data(as_text=True)
    svg = html[html.index('aria-describedby="commune-chart-desc"') : html.index("</svg>", html.index("commune-chart"))]
    table = queries.completion_table(world.units["province"])
    for row in table.rows:
        assert f">{row['unit_name']}</text>" in svg
    assert svg.count("<rect ") == len([row for row in table.rows if row["completion_rate"]])
    assert ">–</text>" in svg  # the empty commune has no rate and no bar
    assert " style=" not in svg


def test_a_bar_chart_scales_to_the_largest_share_and_escapes_names():
    from app.reports.charts import bar_chart

    svg = str(bar_chart([("<b>", 0.5), ("Xã Hai", 0.25), ("Xã Ba", None)], title="T"))
    assert "&lt;b&gt;" in svg and "<b>" not in svg
    widths = [float(part.split('"')[0]) for part in svg.split('width="')[1:]]
    assert widths[0] == pytest.approx(2 * widths[1])


# --- the dashboard table -----------------------------------------------------------------------


def test_the_dashboard_shows_the_main_columns_and_all_of_them_on_request(client, login_as, world):
    login_as(world.department)
    parser = TableParser()
    parser.feed(client.get("/reports/?unit=P").get_data(as_text=True))
    header = parser.tables["completion-table"][0]
    assert "Completion rate" in header and "Help requests" in header
    assert "Median wait (hours)" not in header and "Average rating" not in header
    assert "/reports/?columns=all&unit=P" in parser.links
    parser = TableParser()
    parser.feed(client.get("/reports/?unit=P&columns=all").get_data(as_text=True))
    header = parser.tables["completion-table"][0]
    assert len(header) == len(queries.completion_columns())
    assert "Median wait (hours)" in header
    # Sorting keeps every column; the way back keeps the sorting.
    assert any("columns=all" in link and "sort=" in link for link in parser.links)
    assert "/reports/?unit=P" in parser.links


def test_the_commune_view_shows_the_main_columns_and_all_of_them_on_request(client, login_as, world):
    login_as(world.department)
    parser = TableParser()
    parser.feed(client.get("/reports/units/C1").get_data(as_text=True))
    header = parser.tables["completion-table"][0]
    assert "Completion rate" in header and "Median wait (hours)" not in header
    assert "/reports/units/C1?columns=all" in parser.links
    parser = TableParser()
    parser.feed(client.get("/reports/units/C1?columns=all&sort=learners&dir=desc").get_data(as_text=True))
    header = parser.tables["completion-table"][0]
    assert len(header) == len(queries.completion_columns())
    assert any("columns=all" in link and "sort=" in link for link in parser.links)
    assert "/reports/units/C1?sort=learners&dir=desc" in parser.links


def test_the_dashboard_uses_the_width_of_the_screen(client, login_as, world):
    login_as(world.department)
    assert '<main id="content" tabindex="-1" class="wide">' in client.get("/reports/?unit=P").get_data(as_text=True)
    assert 'class="wide"' not in client.get("/reports/indicators?unit=P").get_data(as_text=True)
