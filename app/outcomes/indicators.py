"""The figures provinces report: per unit, adults, residents reached, the share with each
milestone, and the share with basic digital skills — self-study and help-credited apart."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select, union

from app.auth.models import User
from app.extensions import db
from app.learning.models import Course, Enrollment
from app.outcomes.models import MilestoneEvidence, Resident, ResidentMilestone
from app.outcomes.operations import active_milestones
from app.units.models import Unit, path_within
from app.units.operations import children_of
from app.visits.models import Visit

#: The course whose completion counts as basic digital skills (configurable).
DEFAULT_CORE_COURSE = "smartphone-basics"


@dataclass
class IndicatorRow:
    unit: Unit
    adults: int | None
    residents_reached: int = 0
    milestones: dict[str, int] = field(default_factory=dict)
    basic_skills_self: int = 0
    basic_skills_with_help: int = 0

    def share(self, count: int) -> float | None:
        return round(count / self.adults, 4) if self.adults else None

    @property
    def basic_skills(self) -> int:
        return self.basic_skills_self + self.basic_skills_with_help


def _roll_up(per_unit: dict[int, int], children: list[Unit], paths: dict[int, str]) -> dict[int, int]:
    """Add per-unit counts into the child unit whose subtree holds each unit."""
    totals: dict[int, int] = defaultdict(int)
    for unit_id, count in per_unit.items():
        path = paths.get(unit_id, "")
        for child in children:
            if path.startswith(child.path):
                totals[child.id] += count
                break
    return totals


def indicators(parent: Unit) -> list[IndicatorRow]:
    children = children_of(parent)
    if not children:
        return []
    paths = dict(db.session.execute(select(Unit.id, Unit.path).where(path_within(Unit.path, parent.path))).all())
    in_subtree = path_within(Unit.path, parent.path)

    reached_ids = union(
        select(MilestoneEvidence.resident_id.label("rid")),
        select(Visit.resident_record_id.label("rid")).where(
            Visit.status == "done", Visit.resident_record_id.is_not(None)
        ),
    ).subquery()
    reached = dict(
        db.session.execute(
            select(Resident.unit_id, func.count(func.distinct(Resident.id)))
            .join(Unit, Unit.id == Resident.unit_id)
            .where(in_subtree, Resident.id.in_(select(reached_ids.c.rid)))
            .group_by(Resident.unit_id)
        ).all()
    )
    milestone_counts = defaultdict(dict)
    for unit_id, milestone_key, count in db.session.execute(
        select(Resident.unit_id, ResidentMilestone.milestone_id, func.count())
        .join(Resident, Resident.id == ResidentMilestone.resident_id)
        .join(Unit, Unit.id == Resident.unit_id)
        .where(in_subtree)
        .group_by(Resident.unit_id, ResidentMilestone.milestone_id)
    ).all():
        milestone_counts[milestone_key][unit_id] = count

    core_slug = current_app.config.get("CORE_COURSE_SLUG", DEFAULT_CORE_COURSE)
    skills_self, skills_help = {}, {}
    for unit_id, mode, count in db.session.execute(
        select(User.unit_id, Enrollment.completion_mode, func.count())
        .join(User, User.id == Enrollment.user_id)
        .join(Course, Course.id == Enrollment.course_id)
        .join(Unit, Unit.id == User.unit_id)
        .where(in_subtree, Course.slug == core_slug, Enrollment.completed_at.is_not(None))
        .group_by(User.unit_id, Enrollment.completion_mode)
    ).all():
        target = skills_self if mode == "self" else skills_help
        target[unit_id] = target.get(unit_id, 0) + count

    reached_by_child = _roll_up(reached, children, paths)
    self_by_child = _roll_up(skills_self, children, paths)
    help_by_child = _roll_up(skills_help, children, paths)
    milestones = active_milestones()
    by_milestone = {m.key: _roll_up(milestone_counts.get(m.id, {}), children, paths) for m in milestones}
    rows = []
    for child in children:
        rows.append(
            IndicatorRow(
                unit=child,
                adults=child.population,
                residents_reached=reached_by_child.get(child.id, 0),
                milestones={m.key: by_milestone[m.key].get(child.id, 0) for m in milestones},
                basic_skills_self=self_by_child.get(child.id, 0),
                basic_skills_with_help=help_by_child.get(child.id, 0),
            )
        )
    return rows
