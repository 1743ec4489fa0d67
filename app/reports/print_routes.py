"""The printable report of the province or a commune: one page made for paper, or a PDF through
the browser's Print — the headline indicators, completion and visits by child unit, the weekly
trends (charts and their numbers) and the kinds of help most asked for.

It works without JavaScript; the print rules in static/css/site.css hide the menus and print
black on white. Figures come from the same query functions as the dashboards and the trends page
(summary tables only), so the printed tables equal the pages and their exports. Access:
reports.view, and a commune manager reaches only their own commune (the province or another
commune: 403).
"""

from __future__ import annotations

from datetime import date, timedelta

from babel.dates import format_skeleton
from flask import abort, redirect, render_template, request, url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from app import authz
from app.auth.models import ROLE_TITLES
from app.db import local_today
from app.exceptions import Invalid
from app.extensions import db
from app.reports import analytics, queries
from app.reports.blueprint import bp
from app.reports.charts import line_chart
from app.reports.models import SkillDemandStat
from app.reports.tables import Column, ReportTable
from app.units.models import Unit
from app.units.operations import children_of
from app.visits.models import SKILL_TITLES

#: Weeks of trends the report shows, unless ?weeks= asks for another of these.
PRINT_WEEKS = 13
WEEK_CHOICES = (8, 13, 26, 52)
#: How many kinds of help the report lists.
TOP_TOPICS = 5


def help_topics_table(unit: Unit, week_from: date | None, week_to: date | None, limit: int = TOP_TOPICS) -> ReportTable:
    """The kinds of help asked for most in `unit`'s subtree (its own SkillDemandStat rows), with
    the visits done for each; only kinds with at least one request, most first."""
    query = (
        select(SkillDemandStat.skill, func.sum(SkillDemandStat.requests), func.sum(SkillDemandStat.visits_done))
        .where(SkillDemandStat.unit_id == unit.id)
        .group_by(SkillDemandStat.skill)
    )
    if week_from is not None:
        query = query.where(SkillDemandStat.week >= week_from)
    if week_to is not None:
        query = query.where(SkillDemandStat.week <= week_to)
    rows = [
        {"skill": str(SKILL_TITLES.get(skill, skill)), "requests": int(requests or 0), "visits_done": int(done or 0)}
        for skill, requests, done in db.session.execute(query)
        if requests
    ]
    rows.sort(key=lambda row: (-row["requests"], row["skill"]))
    return ReportTable(
        _("Most requested kinds of help"),
        [
            Column("skill", _("Kind of help"), "text", sortable=False),
            Column("requests", _("Help requests"), sortable=False),
            Column("visits_done", _("Visits done"), sortable=False),
        ],
        rows[:limit],
        None,
        _("Requests count in the week they were filed, visits in the week they took place."),
    )


def _unit(code: str) -> Unit:
    """The unit of ?unit= (404 unknown, 403 outside the person's area), else the top of the
    person's area: their commune, or the province."""
    authz.ensure(authz.has_permission(current_user, "reports.view"))
    code = code.replace("\x00", "").strip()[:64]
    if not code:
        root = authz.scope_root(current_user)
        if root is not None:
            return root
        tops = children_of(None)
        if not tops:
            abort(404)
        return tops[0]
    unit = db.session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        abort(404)
    authz.ensure(authz.may(current_user, "reports.view", unit))
    return unit


def _week_label(week: date) -> str:
    return format_skeleton("dM", week, locale=get_locale())


def _trend_charts(table: ReportTable):
    first, last = table.rows[0]["week"], table.rows[-1]["week"]
    description = _(
        "Weekly figures from %(first)s to %(last)s; the numbers are in the table below.",
        first=format_date(first),
        last=format_date(last + timedelta(days=6)),
    )
    learning = line_chart(
        [
            (_("Enrolments"), [(row["week"], row["enrolled"]) for row in table.rows]),
            (_("Courses completed"), [(row["week"], row["completed"]) for row in table.rows]),
        ],
        title=_("Enrolments and completions per week"),
        chart_id="print-learning-chart",
        description=description,
        label=_week_label,
    )
    visits = line_chart(
        [
            (_("Help requests"), [(row["week"], row["requests"]) for row in table.rows]),
            (_("Visits done"), [(row["week"], row["visits_done"]) for row in table.rows]),
        ],
        title=_("Help requests and visits per week"),
        chart_id="print-visits-chart",
        description=description,
        label=_week_label,
    )
    return learning, visits


@bp.route("/print")
@login_required
def print_report():
    """?unit=CODE (the province or a commune; a village is sent to its commune), with the
    dashboard's filters (course, role, from, to) and ?weeks= of trends."""
    unit = _unit(request.args.get("unit") or "")
    if unit.level > 2 and unit.commune() is not None:
        args = {key: value for key, value in request.args.items() if key != "unit"}
        return redirect(url_for("reports.print_report", unit=unit.commune().code, **args))
    try:
        filters = queries.parse_filters(request.args)
    except Invalid as error:
        abort(400, description=error.message)
    weeks = request.args.get("weeks", PRINT_WEEKS, type=int)
    if weeks not in WEEK_CHOICES:
        weeks = PRINT_WEEKS
    course_id = filters.course.id if filters.course else None

    indicators = queries.indicators_table(unit)
    completion = queries.completion_table(
        unit, course_id=course_id, role=filters.role, week_from=filters.week_from, week_to=filters.week_to
    )
    trends = analytics.weekly_trends(unit, analytics.week_starts(weeks), course_id=course_id, role=filters.role)
    learning_chart, visits_chart = _trend_charts(trends)
    return render_template(
        "reports/print.html",
        unit=unit,
        today=local_today(),
        filters=filters,
        role_title=ROLE_TITLES[filters.role] if filters.role else None,
        weeks=weeks,
        indicators=indicators,
        completion=completion,
        trends=trends,
        learning_chart=learning_chart,
        visits_chart=visits_chart,
        topics=help_topics_table(unit, filters.week_from, filters.week_to),
        back_url=url_for("reports.dashboard", unit=unit.code, **filters.query_args()),
    )
