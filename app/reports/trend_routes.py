"""Trends (weekly completions and visits, as a chart and a table), course analytics (module
drop-off, quiz questions) and the team view (visits per member, waiting requests), each exportable
to CSV and XLSX exactly as shown; and the small reports menu shared by every report page.

Figures come from app.reports.analytics; access from app.authz: reports.view, and a commune manager
reaches only their own commune (another commune or the province: 403).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta

from flask import abort, current_app, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app.auth.models import ROLE_TITLES
from app.db import LOCAL_TZ, day_from, local_today
from app.extensions import db
from app.i18n import format_date
from app.learning.models import Course
from app.privacy.access_log import record_read
from app.reports import analytics, queries
from app.reports.blueprint import bp
from app.reports.charts import weekly_trend_charts
from app.reports.exports import tables_download
from app.units.models import Unit, path_within
from app.units.operations import area_unit
from app.views import area_page_unit, clean_arg

WEEK_CHOICES = (13, 26, 52, 104)
DEFAULT_WEEKS = 26
TREND_ROLES = ("cadre", "resident", "tech_team")
DEFAULT_TEAM_DAYS = 28
MAX_TEAM_DAYS = 366
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
    if "reports.message_cost_report" in current_app.view_functions:
        pages.append((("reports.message_cost_report",), _("Message costs")))
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


def _unit_choices(current: Unit, *, communes_only: bool = False) -> list[Unit]:
    """Units to pick from: the person's area down to communes, and the villages of the commune
    being looked at (not every village of the province: the page stays light)."""
    root = area_unit(current_user, None, permission="reports.view")  # the top of the person's area
    query = select(Unit).where(path_within(Unit.path, root.path))
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


def _download(tables: list, part: str | None, stem: str, unit: Unit, fmt: str):
    """CSV of one table (?table=, default the first), or XLSX of all of them (or the one asked)."""
    names = [name for name, _table in tables]
    if part and part not in names:
        abort(404)
    chosen = [table for name, table in tables if name == (part or names[0])]
    if fmt == "csv":
        return tables_download(chosen, f"{stem}-{part or names[0]}", unit, fmt)
    return tables_download(chosen if part else [table for _name, table in tables], stem, unit, fmt)


# --- trends --------------------------------------------------------------------------------


def _trend_filters() -> tuple[int, Course | None, str | None]:
    weeks = request.args.get("weeks", DEFAULT_WEEKS, type=int) or DEFAULT_WEEKS
    weeks = min(max(weeks, 4), max(WEEK_CHOICES))
    course = None
    slug = clean_arg("course", 80)
    if slug:
        course = _course(slug)
    role = clean_arg("role", 32) or None
    if role is not None and role not in TREND_ROLES:
        abort(400, description=_("Choose a role from the list."))
    return weeks, course, role


def _trend_table(unit: Unit):
    weeks, course, role = _trend_filters()
    table = analytics.weekly_trends(
        unit, analytics.week_starts(weeks), course_id=course.id if course else None, role=role
    )
    return table, weeks, course, role


@bp.route("/trends")
@login_required
def trends():
    unit = area_page_unit("reports.view")
    table, weeks, course, role = _trend_table(unit)
    learning_chart, visits_chart = weekly_trend_charts(table)
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
    unit = area_page_unit("reports.view")
    table, *_rest = _trend_table(unit)
    return _download([("weeks", table)], None, "trends", unit, fmt)


# --- course analytics --------------------------------------------------------------------


def _course(slug: str) -> Course:
    course = db.session.scalar(select(Course).where(Course.slug == slug[:80]))
    if course is None:
        abort(404)
    return course


@bp.route("/courses")
@login_required
def courses():
    unit = area_page_unit("reports.view")
    courses = queries.courses_in_order()
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
    unit = area_page_unit("reports.view")
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
    unit = area_page_unit("reports.view")
    course = _course(slug)
    result = analytics.course_analytics(course, unit)
    return _download(
        [("modules", result.modules), ("questions", result.questions)],
        clean_arg("table", 20) or None,
        f"course-{course.slug}",
        unit,
        fmt,
    )


# --- team view -----------------------------------------------------------------------------


def _local_day(value: str) -> date | None:
    try:
        return day_from(value)
    except ValueError:
        return None


def _team_period() -> tuple[date, date, list[str]]:
    """The period of ?from=&to= (local dates, both included); the last four weeks by default.
    Mistakes are reported and the default used instead."""
    errors = []
    today = local_today()
    given_from, given_to = clean_arg("from", 64), clean_arg("to", 64)
    start, end = _local_day(given_from), _local_day(given_to)
    if (given_from and start is None) or (given_to and end is None):
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
        datetime.combine(start, time(0), tzinfo=LOCAL_TZ),
        datetime.combine(end + timedelta(days=1), time(0), tzinfo=LOCAL_TZ),
    )
    return commune, view, (start, end, errors)


@bp.route("/teams")
@login_required
def teams():
    unit = area_page_unit("reports.view")
    commune, view, period = _team_data(unit)
    if commune is None:
        return render_template(
            "reports/teams.html", unit=unit, commune=None, units=_unit_choices(unit, communes_only=True)
        )
    start, end, errors = period
    record_read(current_user, users=view.member_ids, kind="list")
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
    unit = area_page_unit("reports.view")
    commune, view, _period = _team_data(unit)
    if commune is None:
        abort(404)
    # Members whose processing is restricted are left out of the file (not of the totals).
    members = replace(view.members, rows=[row for row in view.members.rows if not row["restricted"]])
    if clean_arg("table", 20) in ("", "members"):
        record_read(current_user, users=view.member_ids, kind="export")
    return _download(
        [("members", members), ("skills", view.by_skill), ("villages", view.by_village), ("promise", view.promise)],
        clean_arg("table", 20) or None,
        "team",
        commune,
        fmt,
    )
