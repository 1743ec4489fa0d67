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

from flask import redirect, render_template, request, url_for
from flask_login import login_required

from app.auth.models import ROLE_TITLES
from app.db import local_today
from app.reports import analytics, queries
from app.reports.blueprint import bp
from app.reports.charts import weekly_trend_charts
from app.views import area_page_unit

#: Weeks of trends the report shows, unless ?weeks= asks for another of these.
PRINT_WEEKS = 13
WEEK_CHOICES = (8, 13, 26, 52)


@bp.route("/print")
@login_required
def print_report():
    """?unit=CODE (the province or a commune; a village is sent to its commune), with the
    dashboard's filters (course, role, from, to) and ?weeks= of trends."""
    unit = area_page_unit("reports.view")
    if unit.level > 2 and unit.commune() is not None:
        args = {key: value for key, value in request.args.items() if key != "unit"}
        return redirect(url_for("reports.print_report", unit=unit.commune().code, **args))
    filters = queries.parse_filters(request.args)  # a mistake is refused (400) with its message
    weeks = request.args.get("weeks", PRINT_WEEKS, type=int)
    if weeks not in WEEK_CHOICES:
        weeks = PRINT_WEEKS
    course_id = filters.course.id if filters.course else None

    indicators = queries.indicators_table(unit)
    completion = queries.completion_table(
        unit, course_id=course_id, role=filters.role, week_from=filters.week_from, week_to=filters.week_to
    )
    trends = analytics.weekly_trends(unit, analytics.week_starts(weeks), course_id=course_id, role=filters.role)
    learning_chart, visits_chart = weekly_trend_charts(trends, id_prefix="print-")
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
        topics=queries.help_topics_table(unit, filters.week_from, filters.week_to),
        back_url=url_for("reports.dashboard", unit=unit.code, **filters.query_args()),
    )
