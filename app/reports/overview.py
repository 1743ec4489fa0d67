"""The headline figures on a manager's home page: a handful of numbers for the person's area,
each with its change since last month, read from the summary tables (and, for the requests
still waiting, one count on the help requests).

`headline_figures(unit)` is called by the home page for anyone with reports.view; the unit is the
top of their area (a commune manager: their commune)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.db import local_today, utcnow
from app.extensions import db
from app.reports import queries
from app.reports.models import LearnerStat, LearningStat, VisitStat
from app.reports.summaries import week_of
from app.units.models import Unit, path_within
from app.visits.models import HelpRequest


@dataclass
class Figure:
    key: str
    label: str
    value: float | int | None
    #: int, percent (0..1) or days — how the value is shown.
    kind: str = "int"
    #: The change since last month (percent: in percentage points), None when not known.
    change: float | int | None = None
    #: The report page that explains the figure: (endpoint, arguments).
    endpoint: str = "reports.dashboard"


def _difference(now, before):
    if now is None or before is None:
        return None
    return now - before


def headline_figures(
    unit: Unit, *, today: date | None = None, indicators: queries.ReportTable | None = None
) -> list[Figure]:
    """Learners, completion rate, adults with basic digital skills, residents with the e-ID
    activated, visits this week, requests waiting and the oldest wait, for `unit` and below.
    "Last month" is the figure from before the week the month began in (as on the indicators
    page); visits compare this week with the week four weeks ago. `indicators` is the unit's
    indicators table when the caller has it already."""
    today = today or local_today()
    cutoff = week_of(today.replace(day=1))
    this_week = week_of(today)
    month_ago_week = this_week - timedelta(weeks=4)
    learners = learners_before = enrolled = completed = enrolled_before = completed_before = 0
    for (_unit_id, _role), (total, recent) in queries.since_sums(
        LearnerStat, ("role",), ("new_learners",), [unit.id], cutoff
    ).items():
        learners += total[0]
        learners_before += total[0] - recent[0]
    for (_unit_id, _course, _role), (total, recent) in queries.since_sums(
        LearningStat, ("course_id", "role"), ("enrolled", "completed"), [unit.id], cutoff
    ).items():
        enrolled += total[0]
        completed += total[1]
        enrolled_before += total[0] - recent[0]
        completed_before += total[1] - recent[1]
    rate = queries._ratio(int(completed), int(enrolled))
    rate_before = queries._ratio(int(completed_before), int(enrolled_before))

    visits = dict(
        db.session.execute(
            select(VisitStat.week, VisitStat.visits_done).where(
                VisitStat.unit_id == unit.id, VisitStat.week.in_((this_week, month_ago_week))
            )
        ).all()
    )

    if indicators is None:
        indicators = queries.indicators_table(unit, today=today)
    totals = indicators.totals or {}
    skills = skills_change = None
    if totals.get("adult_skills_self") is not None:
        skills = totals["adult_skills_self"] + (totals.get("adult_skills_help") or 0)
        skills_change = (totals.get("adult_skills_self_change") or 0) + (totals.get("adult_skills_help_change") or 0)
    milestones = queries.indicator_milestones()
    eid_key = f"milestone_{milestones[0].key}" if milestones else None

    waiting, oldest = db.session.execute(
        select(func.count(HelpRequest.id), func.min(HelpRequest.created_at))
        .join(Unit, Unit.id == HelpRequest.unit_id)
        .where(HelpRequest.status == "new", path_within(Unit.path, unit.path))
    ).one()
    oldest_days = None
    if oldest is not None:
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=utcnow().tzinfo)
        oldest_days = max(0, (utcnow() - oldest).days)

    figures = [
        Figure("learners", _("Learners"), int(learners), change=int(learners) - int(learners_before)),
        Figure("completion_rate", _("Completion rate"), rate, "percent", _difference(rate, rate_before)),
        Figure(
            "adult_skills",
            _("Adults with basic digital skills"),
            skills,
            "percent",
            skills_change,
            endpoint="reports.indicators",
        ),
    ]
    if eid_key:
        figures.append(
            Figure(
                "eid",
                milestones[0].name,
                totals.get(eid_key),
                "percent",
                totals.get(f"{eid_key}_change"),
                endpoint="reports.indicators",
            )
        )
    figures += [
        Figure(
            "visits_this_week",
            _("Visits this week"),
            int(visits.get(this_week) or 0),
            change=int(visits.get(this_week) or 0) - int(visits.get(month_ago_week) or 0),
            endpoint="reports.trends",
        ),
        Figure("waiting", _("Requests waiting"), int(waiting), endpoint="visits.triage"),
        Figure("oldest_wait", _("Oldest wait (days)"), oldest_days, "days", endpoint="visits.triage"),
    ]
    return figures


@dataclass
class Comparison:
    """The share of adults with basic digital skills (alone or with help) in each area one
    level below the overview's unit, best first, ties sharing one rank ("=2")."""

    title: str
    rows: list[tuple[str, str, float | None]]  # (rank, area name, share)


def skills_by_area(unit: Unit, indicators: queries.ReportTable) -> Comparison | None:
    """The comparison drawn on the overview, from the indicators table already read for the
    headline figures; None when `unit` has no areas below it."""
    if not indicators.rows:
        return None
    rows = []
    for row in indicators.rows:
        share = None
        if row.get("adult_skills_self") is not None:
            share = row["adult_skills_self"] + (row.get("adult_skills_help") or 0)
        rows.append({"unit_name": row["unit_name"], "share": share})
    rows.sort(key=lambda item: (item["share"] is None, -(item["share"] or 0), item["unit_name"]))
    queries.rank_with_ties(rows, "share")
    ranked = []
    for row in rows:
        rank = "" if row["share"] is None else ("=" if row["rank_tied"] else "") + str(row["rank"])
        ranked.append((rank, row["unit_name"], row["share"]))
    if unit.level <= 1:
        title = _("Adults with basic digital skills, by commune")
    else:
        title = _("Adults with basic digital skills, by village")
    return Comparison(title, ranked)
