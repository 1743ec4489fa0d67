"""The dashboards' figures, read from the summary tables (app.reports.models) only.

Every event is counted for its own unit and for every unit above it, so the figures of a unit's
children are `WHERE unit_id IN (children)` and the totals are the parent's own rows: a handful of
grouped queries, whatever the number of learners. Figures filtered by date use whole weeks (the
summaries are kept per week, Monday to Sunday, local time).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from app.auth.models import ROLE_TITLES
from app.db import LOCAL_TZ, YEARS, DayOutOfRange, day_from, local_today
from app.exceptions import Invalid
from app.extensions import db
from app.i18n import format_date
from app.learning.models import Assignment, Course
from app.outcomes.indicators import DEFAULT_CORE_COURSE
from app.outcomes.operations import active_milestones
from app.reports.models import (
    WEEKLY_TOTALS,
    LearnerStat,
    LearningStat,
    LearningTotal,
    MilestoneStat,
    PeopleStat,
    SkillDemandStat,
    VisitStat,
    WaitStat,
)
from app.reports.promise import promise_by_unit, promise_note
from app.reports.promise import share as promise_share
from app.reports.summaries import bucket_hours, period_sums, summary_rows, week_of
from app.reports.tables import Column, ReportTable
from app.units.models import Unit, path_within
from app.units.operations import children_of
from app.visits.models import SKILL_TITLES

#: Roles the dashboards can be filtered by.
FILTER_ROLES = ("cadre", "resident")
#: The milestone the indicators are ranked by (shown first).
RANKING_MILESTONE = "eid_activated"
#: How many kinds of help the printable report lists.
TOP_TOPICS = 5
_COURSE_SLUG_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")


# --- filters -------------------------------------------------------------------------------


@dataclass
class Filters:
    course: Course | None = None
    role: str | None = None
    #: Mondays; None means open-ended.
    week_from: date | None = None
    week_to: date | None = None
    #: The dates as given (for the form), before snapping to weeks.
    date_from: date | None = None
    date_to: date | None = None

    def describe(self) -> str:
        """The filters in words, for the title of an export ("" when there are none)."""
        parts = []
        if self.course is not None:
            parts.append(_("Course: %(course)s", course=self.course.title))
        if self.role:
            parts.append(_("Role: %(role)s", role=ROLE_TITLES.get(self.role, self.role)))
        if self.date_from or self.date_to:
            parts.append(
                _(
                    "Period: %(start)s – %(end)s",
                    start=format_date(self.date_from) if self.date_from else "…",
                    end=format_date(self.date_to) if self.date_to else "…",
                )
            )
        return " · ".join(str(part) for part in parts)

    def query_args(self) -> dict[str, str]:
        """The filters as query-string arguments (for links and exports)."""
        args = {}
        if self.course is not None:
            args["course"] = self.course.slug
        if self.role:
            args["role"] = self.role
        if self.date_from:
            args["from"] = self.date_from.isoformat()
        if self.date_to:
            args["to"] = self.date_to.isoformat()
        return args


def _parse_date(value: str, field: str) -> date:
    try:
        day = day_from(value)
    except DayOutOfRange:
        message = _("The period must lie between %(first)d and %(last)d.", first=YEARS[0], last=YEARS[1])
        raise Invalid(message, field=field) from None
    except ValueError:
        day = None
    if day is None:
        if field == "from":
            message = _("Give the start of the period as a date, e.g. 2025-03-10.")
        else:
            message = _("Give the end of the period as a date, e.g. 2025-03-31.")
        raise Invalid(message, field=field)
    return day


def parse_filters(args, *, errors: dict[str, str] | None = None) -> Filters:
    """Read ?course=SLUG&role=cadre|resident&from=DATE&to=DATE (dates snap to their week).

    Raises Invalid (with the field) for an unknown course or role, a malformed date, or a range
    that ends before it starts — or, when `errors` is given, records the message there under the
    field and leaves that filter out."""
    filters = Filters()

    def problem(error: Invalid) -> None:
        if errors is None:
            raise error
        errors.setdefault(error.field, error.message)

    slug = (args.get("course") or "").strip()
    if slug:
        course = None
        if len(slug) <= 80 and set(slug) <= _COURSE_SLUG_CHARS:
            course = db.session.scalar(select(Course).where(Course.slug == slug))
        if course is None:
            problem(Invalid(_("Unknown course. Choose one from the list."), field="course"))
        filters.course = course
    role = (args.get("role") or "").strip()
    if role:
        if role in FILTER_ROLES:
            filters.role = role
        else:
            problem(Invalid(_("Give role as cadre or resident."), field="role"))
    for name in ("from", "to"):
        value = (args.get(name) or "").replace("\x00", "").strip()
        if not value:
            continue
        try:
            day = _parse_date(value, name)
        except Invalid as error:
            problem(error)
            continue
        if name == "from":
            filters.date_from, filters.week_from = day, week_of(day)
        else:
            filters.date_to, filters.week_to = day, week_of(day)
    if filters.date_from and filters.date_to and filters.date_to < filters.date_from:
        problem(Invalid(_("The end of the period cannot be before its start."), field="to"))
        filters.date_to = filters.week_to = None
    return filters


def courses_in_order() -> list[Course]:
    """Every course to choose a report's course from: current ones first, by audience."""
    return list(db.session.scalars(select(Course).order_by(Course.retired_at.is_not(None), Course.audience, Course.id)))


# --- helpers -------------------------------------------------------------------------------


def _ratio(part, whole) -> float | None:
    return part / whole if whole else None


def since_sums(weekly, keys: tuple[str, ...], values: tuple[str, ...], unit_ids, since: date, **where):
    """The all-time totals of `values` per unit and keys, and the part of them counted in the
    weeks from `since` on: {(unit_id, *keys): (totals, recent)}. "Before `since`" is their
    difference, so a change since last month reads the totals and a few weeks, not every week.
    `where`: equality or IN filters on key columns (a value or a set)."""
    total = WEEKLY_TOTALS[weekly]
    figures: dict[tuple, tuple[list[int], list[int]]] = {}

    def filtered(model, query):
        for name, wanted in where.items():
            column = getattr(model, name)
            many = isinstance(wanted, (set, frozenset, list, tuple))
            query = query.where(column.in_(wanted) if many else column == wanted)
        return query

    width = len(keys) + 1
    for row in summary_rows(filtered(total, period_sums(weekly, keys, values, unit_ids, None, None))):
        figures[tuple(row[:width])] = ([int(v or 0) for v in row[width:]], [0] * len(values))
    for row in summary_rows(filtered(weekly, period_sums(weekly, keys, values, unit_ids, since, None))):
        entry = figures.setdefault(tuple(row[:width]), ([0] * len(values), [0] * len(values)))
        entry[1][:] = [int(v or 0) for v in row[width:]]
    return figures


def median_hours(histogram: dict[int, int]) -> float | None:
    """The median wait from a histogram of wait buckets (the lower middle for an even count), as
    the middle of its bucket, in hours."""
    total = sum(histogram.values())
    if not total:
        return None
    middle = (total - 1) // 2
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen > middle:
            return bucket_hours(bucket)
    return None  # pragma: no cover (unreachable)


def _unit_cells(unit: Unit) -> dict:
    return {"unit_code": unit.code, "unit_name": unit.display_name}


def _population_total(parent: Unit, children: list[Unit]) -> int | None:
    """The parent's adults: its own figure, else the sum of its children's where known."""
    if parent.population is not None:
        return parent.population
    known = [child.population for child in children if child.population is not None]
    return sum(known) if known else None


def _period_note(week_from: date | None, week_to: date | None) -> str:
    if week_from is None and week_to is None:
        return _("All time.")
    start = format_date(week_from) if week_from else "…"
    end = format_date(week_to + timedelta(days=6)) if week_to else "…"
    return _(
        "Whole weeks (Monday to Sunday) from %(start)s to %(end)s: dates are counted by the week they fall in.",
        start=start,
        end=end,
    )


# --- visits --------------------------------------------------------------------------------


VISIT_SUMS = ("requests", "visits_done", "resolved", "rating_sum", "rating_count")


def _week_start(week: date | None) -> datetime | None:
    return datetime.combine(week, time(0), tzinfo=LOCAL_TZ) if week is not None else None


def _visit_figures(unit_ids: list[int], week_from, week_to, wanted: frozenset[str] | None = None) -> dict[int, dict]:
    """requests, visits_done, resolved_share, average_rating, median_wait_hours per unit (two
    grouped queries on the summary tables), and called_in_time_share (app.reports.promise). Of
    the last two, only those in `wanted` (None: all) are counted; the others stay None."""
    figures: dict[int, dict] = {
        unit_id: {
            "requests": 0,
            "visits_done": 0,
            "median_wait_hours": None,
            "resolved_share": None,
            "average_rating": None,
            "called_in_time_share": None,
        }
        for unit_id in unit_ids
    }
    if wanted is None or "called_in_time_share" in wanted:
        units = list(db.session.scalars(select(Unit).where(Unit.id.in_(unit_ids))))
        end = _week_start(week_to + timedelta(days=7)) if week_to is not None else None
        for unit_id, (counted, in_time) in promise_by_unit(units, _week_start(week_from), end).items():
            figures[unit_id]["called_in_time_share"] = promise_share(in_time, counted)
    for unit_id, requests, done, resolved, rating_sum, rating_count in summary_rows(
        period_sums(VisitStat, (), VISIT_SUMS, unit_ids, week_from, week_to)
    ):
        done = int(done or 0)
        figures[unit_id].update(
            requests=int(requests or 0),
            visits_done=done,
            resolved_share=_ratio(int(resolved or 0), done),
            average_rating=_ratio(int(rating_sum or 0), int(rating_count or 0)),
        )
    if wanted is None or "median_wait_hours" in wanted:
        for unit_id, bucket in summary_rows(median_wait_buckets(unit_ids, week_from, week_to)):
            figures[unit_id]["median_wait_hours"] = bucket_hours(bucket)
    return figures


def median_wait_buckets(unit_ids, week_from, week_to):
    """SELECT unit_id, the bucket of the median wait (median_hours(), counted by the database:
    one row per unit instead of its whole histogram), for units with at least one visit."""
    histogram = period_sums(WaitStat, ("bucket",), ("visits",), unit_ids, week_from, week_to).subquery()
    unit_id, bucket, visits = histogram.c
    running = (
        select(
            unit_id.label("unit_id"),
            bucket.label("bucket"),
            func.sum(visits).over(partition_by=unit_id, order_by=bucket).label("seen"),
            func.sum(visits).over(partition_by=unit_id).label("total"),
        )
        .where(visits > 0)
        .subquery()
    )
    # The first bucket in which the lower middle visit ((total - 1) // 2, counting from 0) falls.
    return (
        select(running.c.unit_id, func.min(running.c.bucket))
        .where(running.c.seen > (running.c.total - 1) // 2)
        .group_by(running.c.unit_id)
    )


def _visit_columns() -> list[Column]:
    return [
        Column("requests", _("Help requests")),
        Column("visits_done", _("Visits done")),
        Column("median_wait_hours", _("Median wait (hours)"), "hours"),
        Column("resolved_share", _("Resolved"), "percent"),
        Column("average_rating", _("Average rating"), "decimal"),
        Column("called_in_time_share", _("Called within the promise"), "percent"),
    ]


def visits_table(parent: Unit, week_from: date | None = None, week_to: date | None = None) -> ReportTable:
    """Help requests and visits per child unit of `parent`, totals from the parent's own rows."""
    children = children_of(parent)
    figures = _visit_figures([child.id for child in children] + [parent.id], week_from, week_to)
    rows = [_unit_cells(child) | figures[child.id] for child in children]
    totals = {"unit_code": parent.code, "unit_name": _("Total")} | figures[parent.id]
    return ReportTable(
        title=_("Visits"),
        columns=[Column("unit_code", _("Code"), "text"), Column("unit_name", _("Unit"), "text"), *_visit_columns()],
        rows=rows,
        totals=totals,
        note=" ".join(
            [
                _period_note(week_from, week_to),
                _("Requests count in the week they were filed, visits in the week they took place."),
                _("The median wait is from the request to its visit, to within an hour (a day after two days)."),
                promise_note(),
            ]
        ),
    )


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


# --- overdue assignments -------------------------------------------------------------------


def _ancestor_paths(unit: Unit) -> list[str]:
    codes = [code for code in unit.path.split("/") if code]
    return ["/" + "/".join(codes[: n + 1]) + "/" for n in range(len(codes))]


def overdue_counts(
    parent: Unit,
    targets: list[Unit],
    *,
    course_id: int | None = None,
    role: str | None = None,
    today=None,
    completions: dict[tuple[int, int, str], int] | None = None,
) -> dict[int, int]:
    """Overdue assignees (one per assignment and person not done after the due date) within each
    target unit, from the assignments (few) and the summaries: the people of the assignment's
    role in a group, less those of them who completed the course (on time or late).

    Accounts count only active people; completions count everyone, so a deactivated person who
    completed lowers the figure slightly (it is never below zero)."""
    today = today or local_today()
    query = (
        select(Assignment.course_id, Assignment.role, Unit.id, Unit.path)
        .join(Unit, Unit.id == Assignment.unit_id)
        .where(
            Assignment.due_on < today,
            or_(Unit.path.in_(_ancestor_paths(parent)), path_within(Unit.path, parent.path)),
        )
    )
    if course_id is not None:
        query = query.where(Assignment.course_id == course_id)
    if role is not None:
        query = query.where(Assignment.role == role)
    assignments = db.session.execute(query).all()
    result = dict.fromkeys((target.id for target in targets), 0)
    if not assignments:
        return result
    # Which group (unit, role, course) of each assignment falls within each target.
    groups: list[tuple[int, int, str, int]] = []  # (target id, group unit id, role, course id)
    for course, assigned_role, unit_id, path in assignments:
        for target in targets:
            if target.path.startswith(path):  # assigned to the target or a unit above it
                groups.append((target.id, target.id, assigned_role, course))
            elif path.startswith(target.path):  # assigned to a unit inside the target
                groups.append((target.id, unit_id, assigned_role, course))
    if not groups:
        return result
    unit_ids = {group[1] for group in groups}
    roles = {group[2] for group in groups}
    course_ids = {group[3] for group in groups}
    accounts = {
        (unit_id, r): int(count or 0)
        for unit_id, r, count in db.session.execute(
            select(PeopleStat.unit_id, PeopleStat.role, PeopleStat.accounts).where(
                PeopleStat.unit_id.in_(unit_ids), PeopleStat.role.in_(roles)
            )
        )
    }
    # All-time completions per (unit, course, role); the caller may already have read them.
    known_units = {key[0] for key in completions} if completions is not None else set()
    completed = (
        completions
        if completions is not None and unit_ids <= known_units
        else {
            (unit_id, course, r): int(count or 0)
            for unit_id, course, r, count in db.session.execute(
                select(
                    LearningTotal.unit_id, LearningTotal.course_id, LearningTotal.role, LearningTotal.completed
                ).where(
                    LearningTotal.unit_id.in_(unit_ids),
                    LearningTotal.role.in_(roles),
                    LearningTotal.course_id.in_(course_ids),
                )
            )
        }
    )
    for target_id, unit_id, assigned_role, course in groups:
        waiting = accounts.get((unit_id, assigned_role), 0) - completed.get((unit_id, course, assigned_role), 0)
        result[target_id] += max(waiting, 0)
    return result


# --- completion ----------------------------------------------------------------------------


def completion_columns() -> list[Column]:
    return [
        Column("unit_code", _("Code"), "text"),
        Column("unit_name", _("Unit"), "text"),
        Column("population", _("Adults")),
        Column("learners", _("Learners")),
        Column("enrolled", _("Enrolled")),
        Column("completed", _("Completed")),
        Column("completion_rate", _("Completion rate"), "percent"),
        Column("coverage", _("Coverage per 1,000 adults"), "decimal"),
        Column("in_person_share", _("Completed with help"), "percent"),
        Column("overdue_assignments", _("Overdue assignments")),
        *_visit_columns(),
    ]


def completion_table(
    parent: Unit,
    *,
    course_id: int | None = None,
    role: str | None = None,
    week_from: date | None = None,
    week_to: date | None = None,
    today: date | None = None,
    columns: frozenset[str] | None = None,
) -> ReportTable:
    """One row per child unit of `parent` (learning, assignments and visits), totals from the
    parent's own rows (which also count people registered at the parent itself). With `columns`,
    the figures that cost a query of their own (median wait, calls within the promise) are
    counted only if named there; the table still has every column."""
    children = children_of(parent)
    targets = [*children, parent]
    unit_ids = [unit.id for unit in targets]

    # Enrolments and completions, per unit, course and learner role: one read that also gives
    # the overdue counts their all-time completions when no period is chosen.
    learning: dict[int, dict[str, int]] = {uid: defaultdict(int) for uid in unit_ids}
    query = period_sums(
        LearningStat,
        ("course_id", "role"),
        ("enrolled", "completed", "completed_in_person", "completed_assisted"),
        unit_ids,
        week_from,
        week_to,
    )
    all_time = week_from is None and week_to is None
    completions: dict[tuple[int, int, str], int] | None = {} if all_time else None
    for unit_id, course, learner_role, enrolled, completed, in_person, assisted in summary_rows(query):
        if completions is not None:
            completions[(unit_id, course, learner_role)] = int(completed or 0)
        if course_id is not None and course != course_id:
            continue
        figures = learning[unit_id]
        if role is None or learner_role == role:
            figures["enrolled"] += int(enrolled or 0)
            figures["completed"] += int(completed or 0)
            figures["helped"] += int(in_person or 0) + int(assisted or 0)
        if learner_role == "resident":
            figures["resident_completions"] += int(completed or 0)

    # New learners and first completions (residents, for coverage), when no course is chosen.
    if course_id is None:
        for unit_id, learner_role, new_learners, new_completers in summary_rows(
            period_sums(LearnerStat, ("role",), ("new_learners", "new_completers"), unit_ids, week_from, week_to)
        ):
            figures = learning[unit_id]
            if role is None or learner_role == role:
                figures["learners"] += int(new_learners or 0)
            if learner_role == "resident":
                figures["residents_completed"] += int(new_completers or 0)

    overdue = overdue_counts(parent, targets, course_id=course_id, role=role, today=today, completions=completions)
    visits = _visit_figures(unit_ids, week_from, week_to, columns)

    def row(unit: Unit, population: int | None) -> dict:
        figures = learning[unit.id]
        if course_id is None:
            learners, completers = figures["learners"], figures["residents_completed"]
        else:  # one course: a person enrols and completes it once
            learners, completers = figures["enrolled"], figures["resident_completions"]
        return {
            "population": population,
            "learners": learners,
            "enrolled": figures["enrolled"],
            "completed": figures["completed"],
            "completion_rate": _ratio(figures["completed"], figures["enrolled"]),
            "coverage": _ratio(completers * 1000, population),
            "in_person_share": _ratio(figures["helped"], figures["completed"]),
            "overdue_assignments": overdue[unit.id],
            **visits[unit.id],
        }

    rows = [_unit_cells(child) | row(child, child.population) for child in children]
    totals = {"unit_code": parent.code, "unit_name": _("Total")} | row(parent, _population_total(parent, children))
    notes = [
        _period_note(week_from, week_to),
        _(
            "Learners: people who started their first course (with a course chosen: enrolled in it). "
            "Completion rate: completions over enrolments in the period. "
            "Coverage: residents who completed a course, per 1,000 adults. "
            "Completed with help: in a class or with a team member. "
            "Overdue assignments: people who have not completed an assigned course after its due date (today)."
        ),
        _("Totals also count people registered at %(unit)s itself.", unit=parent.display_name),
        promise_note(),
    ]
    return ReportTable(
        title=_("Completion and visits"),
        columns=completion_columns(),
        rows=rows,
        totals=totals,
        note=" ".join(notes),
    )


# --- indicators ----------------------------------------------------------------------------


def core_course_slug() -> str:
    return current_app.config.get("CORE_COURSE_SLUG", DEFAULT_CORE_COURSE)


def indicator_milestones() -> list:
    """Active milestones, e-ID activated first, then in their usual order."""
    milestones = active_milestones()
    return sorted(milestones, key=lambda m: (m.key != RANKING_MILESTONE, m.position, m.id))


def rank_with_ties(rows: list[dict], key: str) -> None:
    """Give each row (sorted best first by `key`) its "rank": equal values share the rank of the
    first of them (1, 2, 2, 4), and "rank_tied" says whether the rank is shared ("=2")."""

    def level(row):
        value = row[key]
        return None if value is None else round(value, 9)

    counts: dict = {}
    for row in rows:
        counts[level(row)] = counts.get(level(row), 0) + 1
    previous, rank = object(), 0
    for position, row in enumerate(rows, start=1):
        if level(row) != previous:
            previous, rank = level(row), position
        row["rank"] = rank
        row["rank_tied"] = counts[level(row)] > 1


def indicators_table(parent: Unit, *, today: date | None = None) -> ReportTable:
    """The province's headline figures per child of `parent`, each with its change since the
    start of this month (the same figure from the weeks before the week the month began in),
    ranked by the share of residents with the e-ID activated."""
    today = today or local_today()
    cutoff = week_of(today.replace(day=1))
    children = children_of(parent)
    targets = [*children, parent]
    unit_ids = [unit.id for unit in targets]
    core_slug = core_course_slug()
    courses = db.session.execute(
        select(Course.id, Course.slug, Course.audience).where(or_(Course.audience == "cadre", Course.slug == core_slug))
    ).all()
    cadre_courses = {course_id for course_id, _slug, audience in courses if audience == "cadre"}
    core_ids = {course_id for course_id, slug, _audience in courses if slug == core_slug}
    milestones = indicator_milestones()

    counts: dict[int, dict[str, int]] = {uid: defaultdict(int) for uid in unit_ids}
    if cadre_courses or core_ids:
        learning = since_sums(
            LearningStat,
            ("course_id", "role"),
            ("completed", "completed_self", "completed_in_person", "completed_assisted"),
            unit_ids,
            cutoff,
            course_id=cadre_courses | core_ids,
            role=set(FILTER_ROLES),
        )
        for (unit_id, course, role), (total, recent) in learning.items():
            before = [all_time - lately for all_time, lately in zip(total, recent, strict=True)]
            figures = counts[unit_id]
            if role == "cadre" and course in cadre_courses:
                figures["cadres_done"] += total[0]
                figures["cadres_done_before"] += before[0]
            if role == "resident" and course in core_ids:
                figures["self"] += total[1]
                figures["help"] += total[2] + total[3]
                figures["self_before"] += before[1]
                figures["help_before"] += before[2] + before[3]
    cadres = dict(
        db.session.execute(
            select(PeopleStat.unit_id, PeopleStat.accounts).where(
                PeopleStat.unit_id.in_(unit_ids), PeopleStat.role == "cadre"
            )
        ).all()
    )
    reached: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    if milestones:
        for (unit_id, milestone_id), (total, recent) in since_sums(
            MilestoneStat, ("milestone_id",), ("reached",), unit_ids, cutoff, milestone_id={m.id for m in milestones}
        ).items():
            reached[unit_id][milestone_id] = (total[0], total[0] - recent[0])

    def change(now: float | None, before: float | None) -> float | None:
        return None if now is None or before is None else now - before

    def row(unit: Unit, population: int | None) -> dict:
        figures = counts[unit.id]
        accounts = int(cadres.get(unit.id) or 0)
        values = {"population": population, "cadres": accounts}
        pairs = {
            "cadre_skills": (_ratio(figures["cadres_done"], accounts), _ratio(figures["cadres_done_before"], accounts)),
            "adult_skills_self": (_ratio(figures["self"], population), _ratio(figures["self_before"], population)),
            "adult_skills_help": (_ratio(figures["help"], population), _ratio(figures["help_before"], population)),
        }
        for milestone in milestones:
            now, before = reached[unit.id].get(milestone.id, (0, 0))
            pairs[f"milestone_{milestone.key}"] = (_ratio(now, population), _ratio(before, population))
        for key, (now, before) in pairs.items():
            values[key] = now
            values[f"{key}_change"] = change(now, before)
        return values

    rows = [_unit_cells(child) | row(child, child.population) for child in children]
    ranking = f"milestone_{milestones[0].key}" if milestones else "adult_skills_self"
    rows.sort(key=lambda r: (r[ranking] is None, -(r[ranking] or 0), r["unit_name"]))
    rank_with_ties(rows, ranking)
    totals = {"rank": None, "unit_code": parent.code, "unit_name": _("Total")}
    totals |= row(parent, _population_total(parent, children))

    change_title = _("change since last month")
    columns = [
        Column("rank", _("Rank")),
        Column("unit_code", _("Code"), "text"),
        Column("unit_name", _("Unit"), "text"),
        Column("population", _("Adults")),
        Column("cadres", _("Cadres")),
    ]

    def pair(key: str, title: str) -> list[Column]:
        return [Column(key, title, "percent"), Column(f"{key}_change", f"{title}: {change_title}", "percent")]

    for milestone in milestones:
        columns += pair(f"milestone_{milestone.key}", _("Residents: %(milestone)s", milestone=milestone.name))
    columns += pair("cadre_skills", _("Cadres with basic digital skills"))
    columns += pair("adult_skills_self", _("Adults with basic digital skills, self-study"))
    columns += pair("adult_skills_help", _("Adults with basic digital skills, with help"))
    note = _(
        "Shares of adults and residents are over the adult population; cadres' over their active accounts. "
        "Cadres with basic digital skills: completions of a course for cadres. "
        "Adults with basic digital skills: residents who completed the core course (%(course)s), "
        "by self-study or with help (in a class or with a team member). "
        "The change since last month compares with the figures before the week of %(day)s; "
        "shares are in percent, changes in percentage points.",
        course=core_slug,
        day=format_date(cutoff),
    )
    return ReportTable(title=_("Indicators"), columns=columns, rows=rows, totals=totals, note=note)
