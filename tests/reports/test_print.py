"""The printable report: one page for paper or PDF with the headline indicators, completion and
visits by child unit (the same tables as the dashboards), weekly trend charts as well-formed SVG
with their numbers, and the most requested kinds of help — without scripts, and scope-limited."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from tests.reports.test_dashboard import parse
from tests.reports.test_figures import build_world

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def world(db, units, make_user, make_unit, make_course):
    return build_world(db, units, make_user, make_unit, make_course)


def printed(client, url: str):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response, response.get_data(as_text=True)


def svgs_of(html: str) -> list[ET.Element]:
    return [ET.fromstring(markup) for markup in re.findall(r"<svg.*?</svg>", html, flags=re.DOTALL)]  # noqa: S314


def table_after(html: str, heading_id: str) -> list[list[str]]:
    """The rows of the first table after the element with `heading_id` (tables without an id)."""
    start = html.index(f'id="{heading_id}"')
    fragment = html[start : html.index("</table>", start) + len("</table>")]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", fragment, flags=re.DOTALL):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.DOTALL)
        rows.append([" ".join(re.sub(r"<[^>]+>", "", cell).split()) for cell in cells])
    return rows


def test_the_province_report_prints_the_dashboard_tables_charts_and_help_topics(client, login_as, world):
    login_as(world.department)
    response, html = printed(client, "/reports/print?unit=P")

    assert "Digital skills report: " in html
    assert "Use your browser's Print to print it or to save it as PDF." in html
    tables = parse(response).tables
    dashboard = parse(client.get("/reports/?unit=P&columns=all")).tables
    # The completion table is printed exactly as the dashboard shows it with every column.
    assert tables["completion-table"] == dashboard["completion-table"]
    names = [row[1] for row in tables["completion-table"][1:-1]]
    assert names == [row[1] for row in dashboard["completion-table"][1:-1]]
    assert len(names) == 3  # C1, C2 and the empty C3
    indicators = parse(client.get("/reports/indicators?unit=P")).tables
    assert tables["indicators-table"] == [
        [" ".join(cell.replace("▲", "").replace("▼", "").split()) for cell in row]
        for row in next(iter(indicators.values()))
    ]

    # Two charts, each well-formed SVG with a title, and no inline styles anywhere.
    charts = svgs_of(html)
    assert len(charts) == 2
    assert all(chart.tag == f"{SVG}svg" and chart.find(f"{SVG}title") is not None for chart in charts)
    assert "<script" not in html.lower()
    assert " style=" not in html
    # The numbers of the charts as a table: 13 weeks and a totals row.
    weeks = table_after(html, "weeks-table")
    assert weeks[0][:3] == ["Week starting", "Enrolments", "Courses completed"]
    assert len(weeks) == 1 + 13 + 1

    # Help topics from the summaries: five e-ID requests and one for cashless payment.
    topics = table_after(html, "topics-table")
    assert topics[0] == ["Kind of help", "Help requests", "Visits done"]
    assert topics[1][0].startswith("E-ID") and topics[1][1] == "5"
    assert topics[2][1] == "1"
    assert len(topics) == 3


def test_a_commune_manager_prints_their_commune_by_village(client, login_as, world):
    login_as(world.manager)
    response, html = printed(client, "/reports/print")
    tables = parse(response).tables
    assert [row[0] for row in tables["completion-table"][1:-1]] == ["C1A", "C1B"]
    assert tables["completion-table"] == parse(client.get("/reports/units/C1?columns=all")).tables["completion-table"]
    assert "Completion and visits by village" in html
    # Only C1's help requests: three for e-ID, one for cashless payment.
    topics = table_after(html, "topics-table")
    assert [row[1] for row in topics[1:]] == ["3", "1"]
    assert len(svgs_of(html)) == 2

    # The same with ?unit=C1; a village is sent to its commune's report.
    assert parse(client.get("/reports/print?unit=C1")).tables == tables
    response = client.get("/reports/print?unit=C1A&weeks=26")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/reports/print?unit=C1&weeks=26")


@pytest.mark.parametrize("unit", ["P", "C2", "C2A"])
def test_a_commune_manager_may_not_print_the_province_or_another_commune(client, login_as, world, unit):
    login_as(world.manager)
    assert client.get(f"/reports/print?unit={unit}").status_code == 403


def test_people_without_reports_may_not_print(client, login_as, world, make_user, units):
    login_as(make_user("resident", units["v1a"]))
    assert client.get("/reports/print?unit=C1").status_code == 403
    assert client.get("/reports/print").status_code == 403


def test_an_unknown_unit_is_not_found_and_a_malformed_filter_refused(client, login_as, world):
    login_as(world.department)
    assert client.get("/reports/print?unit=NOPE").status_code == 404
    assert client.get("/reports/print?unit=P&from=yesterday").status_code == 400


def test_the_report_follows_the_dashboard_filters_and_the_dashboards_link_to_it(client, login_as, world):
    login_as(world.department)
    html = client.get("/reports/?unit=P&role=resident").get_data(as_text=True)
    assert 'href="/reports/print?unit=P&amp;role=resident"' in html
    assert "Printable report" in html
    filtered = parse(client.get("/reports/print?unit=P&role=resident")).tables["completion-table"]
    assert filtered == parse(client.get("/reports/?unit=P&role=resident&columns=all")).tables["completion-table"]
    assert filtered != parse(client.get("/reports/print?unit=P")).tables["completion-table"]
    period = "from=2020-01-06&to=2020-01-12"
    response, html = printed(client, f"/reports/print?unit=P&{period}")
    assert "<dt>Period</dt>" in html
    assert (
        parse(response).tables["completion-table"]
        == parse(client.get(f"/reports/?unit=P&{period}&columns=all")).tables["completion-table"]
    )
    assert "Nothing to show yet." in html  # no help requests in that week


def test_the_commune_view_links_to_its_printable_report(client, login_as, world):
    login_as(world.manager)
    html = client.get("/reports/units/C1").get_data(as_text=True)
    assert 'href="/reports/print?unit=C1"' in html
