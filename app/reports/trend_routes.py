"""Trends (weekly completions and visits, as a chart and a table), course analytics (module
drop-off, quiz questions) and the team view (visits per member, waiting requests), each exportable
to CSV and XLSX exactly as shown; and the small reports menu shared by every report page.

Figures come from app.reports.analytics; access from app.authz: reports.view, and a commune manager
reaches only their own commune (another commune or the province: 403).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from babel.dates import format_skeleton
from flask import abort, current_app, render_template, request, url_for
from flask_babel import format_date, format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app import authz
from app.auth.models import ROLE_TITLES
from app.db import utcnow
from app.extensions import db
from app.learning.models import Course
from app.reports import analytics
from app.reports.blueprint import bp
from app.reports.charts import line_chart
from app.reports.exports import csv_response, xlsx_response
from app.units.models import Unit
from app.units.operations import children_of
from app.visits.availability import LOCAL

WEEK_CHOICES = (13, 26, 52, 104)
DEFAULT_WEEKS = 26
TREND_ROLES = ("cadre", "resident", "tech_team")
DEFAULT_TEAM_DAYS = 28
MAX_TEAM_DAYS = 366
_SAFE_FILENAME = re.compile(r"[^A-Za-z0-9_-]+")
#: The province view's endpoint, under either name (whichever the dashboards registered).
_DASHBOARD_ENDPOINTS = ("reports.index", "reports.dashboard")


# --- the reports menu and cell formatting (for every report template) ----------------------


def reports_home_endpoint() -> str:
    """The first report page: the province dashboard when there is one, else the trends."""
    return next((name for name in _DASHBOARD_ENDPOINTS if name in current_app.view_functions), "reports.trends")


def reports_nav_links() -> list[tuple[str, str, bool]]:
    """(address, label, is the current page) of the report pages, for reports/_nav.html."""
    pages = []
    dashboard = next((name for name in _DASHBOARD_ENDPOINTS if name in current_app.view_functions), None)
    if dashboard:
        pages.append(((dashboard, "reports.commune"), _("Dashboard")))
    if "reports.indicators" in current_app.view_functions:
        pages.append((("reports.indicators",), _("Indicators")))
    pages += [
        (("reports.trends",), _("Trends")),
        (("reports.courses", "reports.course_analytics"), _("Courses")),
        (("reports.teams",), _("Teams")),
    ]
    return [(url_for(endpoints[0]), label, request.endpoint in endpoints) for endpoints, label in pages]


def report_cell(value, kind: str) -> str:
    """A report table value as shown on the page (exports write the raw value)."""
    if value is None:
        return "–"
    if isinstance(value, date):
        return format_date(value)
    if kind == "percent":
        return format_decimal(value * 100, "#,##0.0") + "%"
    if kind in ("decimal", "hours"):
        return format_decimal(value, "#,##0.0")
    if kind == "int" and isinstance(value, int | float):
        return format_decimal(value)
    return str(value)


@bp.app_context_processor
def inject_reports_home():
    return {"reports_home_endpoint": reports_home_endpoint}


@bp.context_processor
def inject_report_helpers():
    return {"reports_nav_links": reports_nav_links, "report_cell": report_cell}


# --- shared helpers --------------------------------------------------------------------------


def _arg(name: str, max_length: int = 64) -> str:
    return (request.args.get(name) or "").replace("\x00", "").strip()[:max_length]


def _top_unit() -> Unit:
    tops = children_of(None)
    if not tops:
        abort(404)
    return tops[0]


def _report_unit() -> Unit:
    """The unit of ?unit= (404 unknown, 403 outside the person's area), else the top of the
    person's area: their commune, or the province."""
    authz.ensure(authz.has_permission(current_user, "reports.view"))
    code = _arg("unit")
    if not code:
        return authz.scope_root(current_user) or _top_unit()
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        abort(404)
    authz.ensure(authz.may(current_user, "reports.view", unit))
    return unit


def _unit_choices(current: Unit, *, communes_only: bool = False) -> list[Unit]:
    """Units to pick from: the person's area down to communes, and the villages of the commune
    being looked at (not every village of the province: the page stays light)."""
    root = authz.scope_root(current_user) or _top_unit()
    query = select(Unit).where(Unit.path.startswith(root.path, autoescape=True))
    commune = current.commune()
    levels = ("province", "commune", "ward")
    if commune is not None and not communes_only:
        query = query.where(Unit.kind.in_(levels) | (Unit.parent_id == commune.id))
    else:
        query = query.where(Unit.kind.in_(levels))
    units = list(db.session.scalars(query.order_by(Unit.path)))
    if communes_only:
        units = [unit for unit in units if unit.level == 2]
    return units


def _filename(stem: str, unit: Unit, extension: str) -> str:
    return f"{stem}-{_SAFE_FILENAME.sub('_', unit.code)[:40]}.{extension}"


def _export(tables: list, part: str | None, stem: str, unit: Unit, fmt: str):
    """CSV of one table (?table=, default the first), or XLSX of all of them (or the one asked)."""
    names = [name for name, _table in tables]
    if part and part not in names:
        abort(404)
    chosen = [table for name, table in tables if name == (part or names[0])]
    if fmt == "csv":
        return csv_response(chosen[0], _filename(f"{stem}-{part or names[0]}", unit, "csv"))
    return xlsx_response(chosen if part else [table for _name, table in tables], _filename(stem, unit, "xlsx"))


# --- trends --------------------------------------------------------------------------------


def _trend_filters() -> tuple[int, Course | None, str | None]:
    weeks = request.args.get("weeks", DEFAULT_WEEKS, type=int) or DEFAULT_WEEKS
    weeks = min(max(weeks, 4), max(WEEK_CHOICES))
    course = None
    slug = _arg("course", 80)
    if slug:
        course = db.session.scalar(select(Course).where(Course.slug == slug))
        if course is None:
            abort(404)
    role = _arg("role", 32) or None
    if role is not None and role not in TREND_ROLES:
        abort(400, description=_("Choose a role from the list."))
    return weeks, course, role


def _trend_table(unit: Unit):
    weeks, course, role = _trend_filters()
    table = analytics.weekly_trends(
        unit, analytics.week_starts(weeks), course_id=course.id if course else None, role=role
    )
    return table, weeks, course, role


def _week_label(week: date) -> str:
    return format_skeleton("dM", week, locale=get_locale())


@bp.route("/trends")
@login_required
def trends():
    unit = _report_unit()
    table, weeks, course, role = _trend_table(unit)
    first, last = table.rows[0]["week"], table.rows[-1]["week"]
    description = _(
        "Weekly figures from %(first)s to %(last)s; the numbers are in the table below.",
        first=format_date(first),
        last=format_date(last + timedelta(days=6)),
    )
    learning_chart = line_chart(
        [
            (_("Enrolments"), [(row["week"], row["enrolled"]) for row in table.rows]),
            (_("Courses completed"), [(row["week"], row["completed"]) for row in table.rows]),
        ],
        title=_("Enrolments and completions per week"),
        chart_id="learning-chart",
        description=description,
        label=_week_label,
    )
    visits_chart = line_chart(
        [
            (_("Help requests"), [(row["week"], row["requests"]) for row in table.rows]),
            (_("Visits done"), [(row["week"], row["visits_done"]) for row in table.rows]),
        ],
        title=_("Help requests and visits per week"),
        chart_id="visits-chart",
        description=description,
        label=_week_label,
    )
    args = {"unit": unit.code, "weeks": weeks}
    if course is not None:
        args["course"] = course.slug
    if role:
        args["role"] = role
    return render_template(
        "reports/trends.html",
        unit=unit,
        table=table,
        weeks=weeks,
        week_choices=WEEK_CHOICES,
        course=course,
        courses=list(db.session.scalars(select(Course).order_by(Course.retired_at.is_not(None), Course.id))),
        role=role,
        roles={key: ROLE_TITLES[key] for key in TREND_ROLES},
        units=_unit_choices(unit),
        learning_chart=learning_chart,
        visits_chart=visits_chart,
        export_args=args,
        empty=not any(row[key] for row in table.rows for key in row if key != "week"),
    )


@bp.route("/trends.<any(csv, xlsx):fmt>")
@login_required
def trends_export(fmt: str):
    unit = _report_unit()
    table, *_rest = _trend_table(unit)
    return _export([("weeks", table)], None, "trends", unit, fmt)


# --- course analytics --------------------------------------------------------------------


def _courses_in_order() -> list[Course]:
    return list(db.session.scalars(select(Course).order_by(Course.retired_at.is_not(None), Course.audience, Course.id)))


def _course(slug: str) -> Course:
    course = db.session.scalar(select(Course).where(Course.slug == slug[:80]))
    if course is None:
        abort(404)
    return course


@bp.route("/courses")
@login_required
def courses():
    unit = _report_unit()
    courses = _courses_in_order()
    return render_template(
        "reports/courses.html",
        unit=unit,
        units=_unit_choices(unit),
        table=analytics.course_list_table(courses, unit),
        retired={course.slug for course in courses if course.retired_at is not None},
    )


@bp.route("/courses/<slug>")
@login_required
def course_analytics(slug: str):
    unit = _report_unit()
    course = _course(slug)
    result = analytics.course_analytics(course, unit)
    return render_template(
        "reports/courses_show.html",
        unit=unit,
        units=_unit_choices(unit),
        course=course,
        modules=result.modules,
        questions=result.questions,
    )


@bp.route("/courses/<slug>/export.<any(csv, xlsx):fmt>")
@login_required
def course_analytics_export(slug: str, fmt: str):
    unit = _report_unit()
    course = _course(slug)
    result = analytics.course_analytics(course, unit)
    return _export(
        [("modules", result.modules), ("questions", result.questions)],
        _arg("table", 20) or None,
        f"course-{course.slug}",
        unit,
        fmt,
    )


# --- team view -----------------------------------------------------------------------------


def _local_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _team_period() -> tuple[date, date, list[str]]:
    """The period of ?from=&to= (local dates, both included); the last four weeks by default.
    Mistakes are reported and the default used instead."""
    errors = []
    today = utcnow().astimezone(LOCAL).date()
    start, end = _local_day(_arg("from")), _local_day(_arg("to"))
    if (_arg("from") and start is None) or (_arg("to") and end is None):
        errors.append(_("Enter dates as YYYY-MM-DD."))
    end = end or today
    start = start or end - timedelta(days=DEFAULT_TEAM_DAYS - 1)
    if start > end:
        errors.append(_("The start of the period is after its end."))
        start, end = today - timedelta(days=DEFAULT_TEAM_DAYS - 1), today
    if (end - start).days >= MAX_TEAM_DAYS:
        errors.append(_("Choose a period of at most a year."))
        start = end - timedelta(days=MAX_TEAM_DAYS - 1)
    return start, end, errors


def _team_data(unit: Unit):
    commune = unit.commune()
    if commune is None:  # the province: choose a commune first
        return None, None, None
    start, end, errors = _team_period()
    view = analytics.team_view(
        commune,
        datetime.combine(start, time(0), tzinfo=LOCAL),
        datetime.combine(end + timedelta(days=1), time(0), tzinfo=LOCAL),
    )
    return commune, view, (start, end, errors)


@bp.route("/teams")
@login_required
def teams():
    unit = _report_unit()
    commune, view, period = _team_data(unit)
    if commune is None:
        return render_template(
            "reports/teams.html", unit=unit, commune=None, units=_unit_choices(unit, communes_only=True)
        )
    start, end, errors = period
    return render_template(
        "reports/teams.html",
        unit=unit,
        commune=commune,
        units=_unit_choices(unit, communes_only=True),
        view=view,
        start=start,
        end=end,
        errors=errors,
        export_args={"unit": commune.code, "from": start.isoformat(), "to": end.isoformat()},
    )


@bp.route("/teams.<any(csv, xlsx):fmt>")
@login_required
def teams_export(fmt: str):
    unit = _report_unit()
    commune, view, _period = _team_data(unit)
    if commune is None:
        abort(404)
    return _export(
        [("members", view.members), ("skills", view.by_skill), ("villages", view.by_village)],
        _arg("table", 20) or None,
        "team",
        commune,
        fmt,
    )
