"""Trends: completions and visits per week of a unit's subtree, as SVG charts and a table, with
CSV/XLSX exports; and the reports menu."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.auth.models import User
from app.db import utcnow
from app.learning import operations as learning
from app.learning.models import Enrollment
from app.reports.charts import line_chart, nice_ticks
from app.reports.exports import TITLE_ROWS
from app.reports.summaries import week_of
from app.units.models import Unit
from app.visits import help_requests
from app.visits import operations as visits
from app.visits.models import HelpRequest, Visit
from tests.visits.pages_support import at, book, build_world, move_to_past

SVG = "{http://www.w3.org/2000/svg}"


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    raw = response.data
    assert raw.startswith("\ufeff".encode())  # Excel needs the BOM for Vietnamese
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def svgs_of(html: str) -> list[ET.Element]:
    # Our own markup, parsed to prove it is well-formed XML.
    return [ET.fromstring(markup) for markup in re.findall(r"<svg.*?</svg>", html, flags=re.DOTALL)]  # noqa: S314


@pytest.fixture
def world(db, units, make_user, make_course):
    """Learning and visits in both communes, this week and earlier weeks, all through the
    operations (so the summaries are maintained as in production)."""
    w = build_world(db, units, make_user)
    w.course, _folder = make_course(
        slug="phone", modules=[{"id": "m1", "lessons": ["l1"]}, {"id": "m2", "lessons": ["l2"]}]
    )
    w.other_course, _folder = make_course(slug="other", modules=[{"id": "o1", "lessons": ["o1l"]}])
    modules = w.course.active_modules
    # Ann (village 1A) completes by self-study now; Bao (cadre, commune 1) was credited in a class
    # three weeks ago; Chi (commune 2) completes now; Dung only enrols in the other course.
    ann = make_user("resident", units["v1a"], full_name="Ann")
    bao = make_user("cadre", units["c1"], full_name="Bao")
    chi = make_user("resident", units["v2a"], full_name="Chi")
    dung = make_user("resident", units["v1b"], full_name="Dung")
    for module in modules:
        learning.mark_lesson_read(ann, module.active_lessons[0])
        learning.mark_lesson_read(chi, module.active_lessons[0])
        learning.credit_module(bao, module, mode="in_person", at=utcnow() - timedelta(weeks=3))
    learning.enroll(dung, w.other_course)
    # Requests now; visits done now, two weeks ago, and one cancelled (not counted).
    for actor, unit, skill in (
        (w.manager, units["v1a"], "eid"),
        (w.manager, units["v1b"], "cashless"),
        (w.manager_c2, units["v2a"], "eid"),
    ):
        help_requests.create_help_request(actor, skill=skill, unit=unit, place="Nhà", name="Bà Hai", consent=True)
    recent = book(w, start=at(1, 8))
    earlier = book(w, start=at(1, 12))
    cancelled = book(w, start=at(2, 9))
    c2_visit = book(w, w.member_c2, start=at(1, 9))
    move_to_past(db, recent, hours=3)
    move_to_past(db, earlier, hours=24 * 14)
    move_to_past(db, c2_visit, hours=5)
    for visit, actor in ((recent, w.member), (earlier, w.member), (c2_visit, w.member_c2)):
        visits.complete_visit(actor, visit, skills_done=["eid"], resolved=True, minutes_spent=40)
    visits.cancel_visit(w.manager, cancelled, "Ốm")
    db.session.flush()
    return w


def direct_weekly(db, unit: Unit) -> dict[str, Counter]:
    """The weekly figures counted straight from the base tables."""
    in_unit = Unit.path.startswith(unit.path)
    enrollments = db.session.scalars(
        select(Enrollment).join(User, User.id == Enrollment.user_id).join(Unit, Unit.id == User.unit_id).where(in_unit)
    ).all()
    requests = db.session.scalars(select(HelpRequest).join(Unit, Unit.id == HelpRequest.unit_id).where(in_unit)).all()
    done = db.session.scalars(
        select(Visit).join(Unit, Unit.id == Visit.unit_id).where(in_unit, Visit.status == "done")
    ).all()
    return {
        "enrolled": Counter(week_of(e.enrolled_at) for e in enrollments),
        "completed": Counter(week_of(e.completed_at) for e in enrollments if e.completed_at),
        "helped": Counter(
            week_of(e.completed_at) for e in enrollments if e.completion_mode in ("in_person", "assisted")
        ),
        "requests": Counter(week_of(r.created_at) for r in requests),
        "visits": Counter(week_of(v.starts_at) for v in done),
    }


def test_trends_count_each_week_of_the_unit_and_everything_below_it(client, db, login_as, world, units):
    login_as(world.department)
    for code in ("C1", "C2", "P"):
        rows = read_csv(client.get(f"/reports/trends.csv?unit={code}&weeks=8"))
        header, weeks, totals = rows[0], rows[1:-1], rows[-1]
        assert header == [
            "Week starting",
            "Enrolments",
            "Courses completed",
            "of which with help or in class",
            "Help requests",
            "Visits done",
        ]
        assert len(weeks) == 8
        this_monday = week_of(utcnow())
        assert [row[0] for row in weeks] == [(this_monday - timedelta(weeks=n)).isoformat() for n in range(7, -1, -1)]
        expected = direct_weekly(db, db.session.scalar(select(Unit).where(Unit.code == code)))
        for row in weeks:
            monday = this_monday.fromisoformat(row[0])
            assert [int(value) for value in row[1:]] == [
                expected["enrolled"][monday],
                expected["completed"][monday],
                expected["helped"][monday],
                expected["requests"][monday],
                expected["visits"][monday],
            ], (code, row)
        assert totals[0] == "Total"
        assert [int(v) for v in totals[1:]] == [sum(int(row[i]) for row in weeks) for i in range(1, 6)]
    # The figures are really there (not all zero): commune 1 has Ann's and Bao's completions,
    # Bao's three weeks ago and with help, and two visits done (now and two weeks ago).
    rows = read_csv(client.get("/reports/trends.csv?unit=C1&weeks=8"))
    assert rows[-1][1:] == ["3", "2", "1", "2", "2"]
    assert rows[-2][1:4] == ["3", "1", "0"]  # this week: three enrolments, Ann's completion


def test_the_course_and_role_filters_narrow_learning_but_not_visits(client, db, login_as, world):
    login_as(world.department)
    rows = read_csv(client.get("/reports/trends.csv?unit=C1&weeks=8&course=phone&role=cadre"))
    assert rows[-1][1:] == ["1", "1", "1", "2", "2"]  # Bao only; requests and visits unchanged
    rows = read_csv(client.get("/reports/trends.csv?unit=C1&weeks=8&course=other"))
    assert rows[-1][1:] == ["1", "0", "0", "2", "2"]
    assert client.get("/reports/trends?unit=C1&course=nope").status_code == 404
    assert client.get("/reports/trends?unit=C1&role=admin").status_code == 400


def test_the_trend_page_draws_light_accessible_svg_charts_with_the_numbers_in_a_table(client, db, login_as, world):
    login_as(world.manager)
    response = client.get("/reports/trends")  # a commune manager starts at their commune
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Trends: Xã Một" in html
    assert len(response.data) < 30_000
    assert " style=" not in html and "<script" not in html
    charts = svgs_of(html)
    assert len(charts) == 2
    for chart in charts:
        assert chart.get("role") == "img" and chart.get("aria-label")
        assert chart.get("viewBox") and chart.get("width") is None  # scales with the page
        assert chart.find(f"{SVG}title").text == chart.get("aria-label")
        assert all("style" not in element.attrib for element in chart.iter())
        lines = chart.findall(f"{SVG}polyline")
        assert len(lines) == 2
        assert lines[0].get("stroke") != lines[1].get("stroke")
        assert lines[0].get("stroke-dasharray") != lines[1].get("stroke-dasharray")
        assert len(lines[0].get("points").split()) == 26
        labels = [text.text for text in chart.iter(f"{SVG}text")]
        assert "Visits done" in labels or "Courses completed" in labels
    assert "<table" in html and "Week starting" in html
    assert 'href="/reports/trends.xlsx?unit=C1' in html.replace("&amp;", "&")


def test_a_place_with_nothing_recorded_shows_zero_weeks_and_flat_charts(client, db, login_as, make_user, units):
    login_as(make_user("department_manager", units["province"]))
    response = client.get("/reports/trends?unit=C2&weeks=13")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nothing was recorded in these weeks." in html
    for chart in svgs_of(html):
        assert all(
            float(point.split(",")[1]) == float(chart.find(f"{SVG}polyline").get("points").split()[0].split(",")[1])
            for point in chart.find(f"{SVG}polyline").get("points").split()
        )
    rows = read_csv(client.get("/reports/trends.csv?unit=C2&weeks=13"))
    assert len(rows) == 1 + 13 + 1
    assert rows[-1] == ["Total", "0", "0", "0", "0", "0"]


def test_the_xlsx_export_holds_the_same_table_as_the_csv(client, db, login_as, world):
    login_as(world.department)
    rows = read_csv(client.get("/reports/trends.csv?unit=P&weeks=6"))
    response = client.get("/reports/trends.xlsx?unit=P&weeks=6")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="trends-P.xlsx"'
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    values = list(sheet.iter_rows(values_only=True))[TITLE_ROWS:]
    assert list(values[0]) == rows[0]
    assert sheet.cell(row=TITLE_ROWS + 2, column=1).number_format == "yyyy-mm-dd"  # dates as dates
    assert [
        [cell.date().isoformat() if hasattr(cell, "date") else str(cell) for cell in row] for row in values[1:-1]
    ] == rows[1:-1]
    assert [str(cell) for cell in values[-1]] == rows[-1]


def test_trends_are_refused_outside_the_managers_commune_and_to_other_roles(
    client, db, login_as, world, make_user, units
):
    login_as(world.manager)
    assert client.get("/reports/trends?unit=C1A").status_code == 200
    for url in (
        "/reports/trends?unit=C2",
        "/reports/trends?unit=P",
        "/reports/trends.csv?unit=C2",
        "/reports/trends.xlsx?unit=C2A",
    ):
        assert client.get(url).status_code == 403, url
    assert client.get("/reports/trends?unit=NOPE").status_code == 404
    client.post("/logout")
    for role in ("tech_team", "cadre", "resident"):
        login_as(make_user(role, units["c1"]))
        assert client.get("/reports/trends").status_code == 403
        client.post("/logout")
    assert client.get("/reports/trends").status_code == 302  # to the sign-in page


def test_the_reports_menu_links_the_report_pages_and_marks_the_current_one(client, db, login_as, world):
    login_as(world.manager)
    html = client.get("/reports/trends").get_data(as_text=True)
    menu = re.search(r'<nav class="report-nav.*?</nav>', html, flags=re.DOTALL).group(0)
    assert '<a href="/reports/trends" aria-current="page">' in menu
    for href in ("/reports/courses", "/reports/teams"):
        assert f'href="{href}"' in menu
    assert 'href="/reports/"' in menu  # the dashboard


def test_the_main_menu_offers_reports_only_to_those_who_may_see_them(client, db, login_as, make_user, units):
    login_as(make_user("commune_manager", units["c1"]))
    assert ">Reports</a>" in client.get("/").get_data(as_text=True)
    client.post("/logout")
    login_as(make_user("tech_team", units["c1"]))
    assert ">Reports</a>" not in client.get("/").get_data(as_text=True)


# --- the chart function --------------------------------------------------------------------


def test_nice_ticks_are_round_whole_numbers_reaching_the_maximum():
    assert nice_ticks(0) == [0, 1]
    assert nice_ticks(3) == [0, 1, 2, 3]
    assert nice_ticks(37) == [0, 10, 20, 30, 40]
    assert nice_ticks(1234) == [0, 500, 1000, 1500]
    for maximum in (1, 7, 99, 101, 25_000):
        ticks = nice_ticks(maximum)
        assert ticks[-1] >= maximum and all(isinstance(t, int) for t in ticks) and len(ticks) <= 6


def test_a_chart_thins_its_labels_and_tells_series_apart_without_colour(app):
    weeks = list(range(52))
    with app.test_request_context():
        markup = line_chart(
            [
                ("A <&> B", [(w, w) for w in weeks]),
                ("Second", [(w, 52 - w) for w in weeks]),
                ("Third", [(w, 5) for w in weeks]),
            ],
            title='Title "quoted" & <tagged>',
            chart_id="c1",
            description="Desc",
            label=lambda w: f"w{w}",
        )
    chart = ET.fromstring(str(markup))  # noqa: S314
    assert chart.find(f"{SVG}title").text == 'Title "quoted" & <tagged>'
    assert chart.get("aria-describedby") == "c1-desc"
    texts = [text.text for text in chart.iter(f"{SVG}text")]
    assert "A <&> B" in texts
    week_labels = [text for text in texts if text and text.startswith("w")]
    assert 3 <= len(week_labels) <= 6 and "w51" in week_labels
    lines = chart.findall(f"{SVG}polyline")
    assert len({line.get("stroke") for line in lines}) == 3
    assert len({line.get("stroke-dasharray") for line in lines}) == 3
    # each series has its own marker shape: circles, squares, triangles
    assert chart.findall(f"{SVG}circle") and chart.findall(f"{SVG}rect") and chart.findall(f"{SVG}path")
    assert all("style" not in element.attrib for element in chart.iter())
