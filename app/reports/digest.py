"""The figures of the managers' weekly digest (sent by app/jobs/reminders.py): last week and the
week before for each manager's area, and the child units with the most help requests waiting.

Read from the summary tables (app.reports.models) like the dashboards, except what is still
waiting, which the summaries do not keep.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.reports.models import LearnerStat, LearningStat, VisitStat, WaitStat
from app.reports.queries import median_hours
from app.units.models import Unit
from app.visits.models import HelpRequest


def manager_digest_figures(unit_ids: list[int], weeks: list[date]) -> dict[tuple[int, date], dict]:
    """Per (unit, week), read from the summary tables (a unit's own rows hold its whole subtree):
    courses completed, new learners, help requests, visits done, the median wait from request to
    visit (hours) and the share of visits done that resolved the problem. Four grouped queries,
    whatever the number of units."""
    figures = {
        (unit_id, week): {
            "completed": 0,
            "new_learners": 0,
            "requests": 0,
            "visits_done": 0,
            "median_wait_hours": None,
            "resolved_share": None,
        }
        for unit_id in unit_ids
        for week in weeks
    }
    if not unit_ids:
        return figures

    for unit_id, week, completed in db.session.execute(
        select(LearningStat.unit_id, LearningStat.week, func.sum(LearningStat.completed))
        .where(LearningStat.unit_id.in_(unit_ids), LearningStat.week.in_(weeks))
        .group_by(LearningStat.unit_id, LearningStat.week)
    ):
        figures[(unit_id, week)]["completed"] = int(completed or 0)
    for unit_id, week, new_learners in db.session.execute(
        select(LearnerStat.unit_id, LearnerStat.week, func.sum(LearnerStat.new_learners))
        .where(LearnerStat.unit_id.in_(unit_ids), LearnerStat.week.in_(weeks))
        .group_by(LearnerStat.unit_id, LearnerStat.week)
    ):
        figures[(unit_id, week)]["new_learners"] = int(new_learners or 0)
    for unit_id, week, requests, done, resolved in db.session.execute(
        select(VisitStat.unit_id, VisitStat.week, VisitStat.requests, VisitStat.visits_done, VisitStat.resolved).where(
            VisitStat.unit_id.in_(unit_ids), VisitStat.week.in_(weeks)
        )
    ):
        figures[(unit_id, week)].update(
            requests=int(requests or 0),
            visits_done=int(done or 0),
            resolved_share=int(resolved or 0) / done if done else None,
        )
    histograms: dict[tuple[int, date], dict[int, int]] = {}
    for unit_id, week, bucket, visits in db.session.execute(
        select(WaitStat.unit_id, WaitStat.week, WaitStat.bucket, WaitStat.visits).where(
            WaitStat.unit_id.in_(unit_ids), WaitStat.week.in_(weeks)
        )
    ):
        histograms.setdefault((unit_id, week), {})[bucket] = int(visits or 0)
    for key, histogram in histograms.items():
        figures[key]["median_wait_hours"] = median_hours(histogram)
    return figures


def waiting_by_child(areas: list[Unit]) -> dict[int, list[tuple[Unit, int]]]:
    """For each area, its child units (communes, or villages) by the number of help requests
    waiting for a visit (status "new", as in the team view), most first, ties by name; children
    with none are left out. The summaries count requests per week, not what is still waiting,
    so this reads the waiting requests themselves: one grouped query on (status, …)."""
    waiting = db.session.execute(
        select(Unit.path, func.count(HelpRequest.id))
        .join(Unit, Unit.id == HelpRequest.unit_id)
        .where(HelpRequest.status == "new")
        .group_by(Unit.path)
    ).all()
    depths = {area.id: len(area.path.strip("/").split("/")) for area in areas}
    counts: dict[int, dict[str, int]] = {area.id: {} for area in areas}
    for path, count in waiting:
        codes = path.strip("/").split("/")
        for area in areas:
            depth = depths[area.id]
            if len(codes) > depth and path.startswith(area.path):
                per_child = counts[area.id]
                per_child[codes[depth]] = per_child.get(codes[depth], 0) + int(count)
    codes = {code for per_child in counts.values() for code in per_child}
    units = {unit.code: unit for unit in db.session.scalars(select(Unit).where(Unit.code.in_(codes)))}
    return {
        area.id: sorted(
            ((units[code], count) for code, count in counts[area.id].items() if code in units),
            key=lambda item: (-item[1], item[0].display_name),
        )
        for area in areas
    }
