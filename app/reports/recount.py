"""Recounting the summary tables (app.reports.models) from the underlying data.

`compute_from_scratch()` counts every summary row again from the learning, visits and outcomes
tables; `stored_rows()` reads the maintained tables in the same shape, so a test can check that
the event hooks of app.reports.summaries keep them equal. `rebuild()` replaces the tables with a
recount (by the database itself on PostgreSQL, `rebuild_in_database()`), after bulk loads such as
`flask demo generate` or `flask reports rebuild`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime

from sqlalchemy import Date, case, cast, delete, func, select, text

from app.auth.models import User
from app.db import utcnow
from app.extensions import db
from app.learning.models import Enrollment
from app.outcomes.models import Resident, ResidentMilestone
from app.reports.models import (
    WEEKLY_TOTALS,
    LearnerStat,
    LearningStat,
    MilestoneStat,
    PeopleStat,
    PromiseStat,
    SkillDemandStat,
    SummaryCheck,
    VisitStat,
    WaitStat,
)
from app.reports.promise import settled_sums
from app.reports.summaries import MODE_COLUMNS, as_date, unit_chain, wait_bucket, week_of
from app.units.models import Unit
from app.visits.models import HelpRequest, Visit

STAT_MODELS = (
    LearningStat,
    LearnerStat,
    PeopleStat,
    VisitStat,
    WaitStat,
    SkillDemandStat,
    MilestoneStat,
    PromiseStat,
    *WEEKLY_TOTALS.values(),
)


def _local_week(column):
    """SQL for the Monday of the local week of a timestamp column."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("week", func.timezone("Asia/Ho_Chi_Minh", column)), Date)
    return func.date(column, "+7 hours", "weekday 0", "-6 days")


def _local_week_of_date(column):
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.date_trunc("week", column), Date)
    return func.date(column, "weekday 0", "-6 days")


def compute_from_scratch() -> dict[str, dict[tuple, dict[str, int]]]:
    """Every summary row recounted from the underlying tables: {table: {key: {column: value}}}.

    Counting is done per leaf unit in SQL, then rolled up to the ancestors here.
    """
    result: dict[str, dict[tuple, dict[str, int]]] = {
        model.__tablename__: defaultdict(lambda: defaultdict(int)) for model in STAT_MODELS
    }

    def add(model, unit_id, key: tuple, **values):
        """Count `values` for the unit and every unit above it, and in the all-time total."""
        table = result[model.__tablename__]
        total = WEEKLY_TOTALS.get(model)
        if total is not None:
            week_at = [column.name for column in model.__table__.primary_key.columns].index("week") - 1
            total_key = key[:week_at] + key[week_at + 1 :]
        for chain_unit in unit_chain(unit_id):
            row = table[(chain_unit, *key)]
            for name, value in values.items():
                row[name] += value
            if total is not None:
                total_row = result[total.__tablename__][(chain_unit, *total_key)]
                for name, value in values.items():
                    total_row[name] += value

    week = _local_week(Enrollment.enrolled_at).label("week")
    for unit_id, course_id, role, wk, count in db.session.execute(
        select(User.unit_id, Enrollment.course_id, User.role, week, func.count())
        .join(User, User.id == Enrollment.user_id)
        .group_by(User.unit_id, Enrollment.course_id, User.role, week)
    ):
        add(LearningStat, unit_id, (course_id, role, as_date(wk)), enrolled=count)
    week = _local_week(Enrollment.completed_at).label("week")
    for unit_id, course_id, role, wk, mode, count in db.session.execute(
        select(User.unit_id, Enrollment.course_id, User.role, week, Enrollment.completion_mode, func.count())
        .join(User, User.id == Enrollment.user_id)
        .where(Enrollment.completed_at.is_not(None))
        .group_by(User.unit_id, Enrollment.course_id, User.role, week, Enrollment.completion_mode)
    ):
        add(LearningStat, unit_id, (course_id, role, as_date(wk)), completed=count, **{MODE_COLUMNS[mode]: count})

    first_enrolled = (
        select(Enrollment.user_id, func.min(Enrollment.enrolled_at).label("first"))
        .group_by(Enrollment.user_id)
        .subquery()
    )
    week = _local_week(first_enrolled.c.first).label("week")
    for unit_id, role, wk, count in db.session.execute(
        select(User.unit_id, User.role, week, func.count())
        .join(first_enrolled, first_enrolled.c.user_id == User.id)
        .group_by(User.unit_id, User.role, week)
    ):
        add(LearnerStat, unit_id, (role, as_date(wk)), new_learners=count)
    first_done = (
        select(Enrollment.user_id, func.min(Enrollment.completed_at).label("first"))
        .where(Enrollment.completed_at.is_not(None))
        .group_by(Enrollment.user_id)
        .subquery()
    )
    week = _local_week(first_done.c.first).label("week")
    for unit_id, role, wk, count in db.session.execute(
        select(User.unit_id, User.role, week, func.count())
        .join(first_done, first_done.c.user_id == User.id)
        .group_by(User.unit_id, User.role, week)
    ):
        add(LearnerStat, unit_id, (role, as_date(wk)), new_completers=count)

    for unit_id, role, count in db.session.execute(
        select(User.unit_id, User.role, func.count()).where(User.active.is_(True)).group_by(User.unit_id, User.role)
    ):
        add(PeopleStat, unit_id, (role,), accounts=count)

    week = _local_week(HelpRequest.created_at).label("week")
    for unit_id, skill, wk, count in db.session.execute(
        select(HelpRequest.unit_id, HelpRequest.skill, week, func.count()).group_by(
            HelpRequest.unit_id, HelpRequest.skill, week
        )
    ):
        add(VisitStat, unit_id, (as_date(wk),), requests=count)
        add(SkillDemandStat, unit_id, (skill, as_date(wk)), requests=count)

    done = Visit.status == "done"
    week = _local_week(Visit.starts_at).label("week")
    for unit_id, skill, wk, count, resolved, rating_sum, rating_count, minutes in db.session.execute(
        select(
            Visit.unit_id,
            Visit.skill,
            week,
            func.count(),
            func.sum(case((Visit.resolved.is_(True), 1), else_=0)),
            func.coalesce(func.sum(Visit.rating), 0),
            func.count(Visit.rating),
            func.coalesce(func.sum(Visit.minutes_spent), 0),
        )
        .where(done)
        .group_by(Visit.unit_id, Visit.skill, week)
    ):
        add(
            VisitStat,
            unit_id,
            (as_date(wk),),
            visits_done=count,
            resolved=int(resolved or 0),
            rating_sum=int(rating_sum),
            rating_count=int(rating_count),
            minutes_spent=int(minutes),
        )
        add(SkillDemandStat, unit_id, (skill, as_date(wk)), visits_done=count)
    for visit_unit, starts_at, created_at in db.session.execute(
        select(Visit.unit_id, Visit.starts_at, HelpRequest.created_at)
        .join(HelpRequest, HelpRequest.id == Visit.request_id)
        .where(done)
    ):
        hours = (starts_at - created_at).total_seconds() / 3600
        add(WaitStat, visit_unit, (week_of(starts_at), wait_bucket(hours)), visits=1)

    counted, in_time = settled_sums()
    week = _local_week(HelpRequest.created_at).label("week")
    for unit_id, wk, counts, timely in db.session.execute(
        select(HelpRequest.unit_id, week, counted, in_time).group_by(HelpRequest.unit_id, week)
    ):
        add(PromiseStat, unit_id, (as_date(wk),), counted=int(counts or 0), in_time=int(timely or 0))

    week = _local_week_of_date(ResidentMilestone.reached_on).label("week")
    for unit_id, milestone_id, wk, count in db.session.execute(
        select(Resident.unit_id, ResidentMilestone.milestone_id, week, func.count())
        .join(Resident, Resident.id == ResidentMilestone.resident_id)
        .group_by(Resident.unit_id, ResidentMilestone.milestone_id, week)
    ):
        add(MilestoneStat, unit_id, (milestone_id, as_date(wk)), reached=count)

    # Drop zero counts, and rows whose counts are all zero, as the maintained tables may hold
    # such rows only after decrements; compare with stored_rows(), which drops them too.
    return {
        name: {
            key: {column: value for column, value in values.items() if value}
            for key, values in rows.items()
            if any(values.values())
        }
        for name, rows in result.items()
    }


def stored_rows() -> dict[str, dict[tuple, dict[str, int]]]:
    """The maintained tables in the same shape as compute_from_scratch()."""
    result = {}
    for model in STAT_MODELS:
        table = model.__table__
        keys = [column.name for column in table.primary_key.columns]
        values = [column.name for column in table.columns if column.name not in keys]
        rows = {}
        for row in db.session.execute(select(table)).mappings():
            counts = {name: row[name] for name in values if row[name]}
            if counts:
                rows[tuple(as_date(row[k]) if k == "week" else row[k] for k in keys)] = counts
        result[table.name] = rows
    return result


def missing() -> bool:
    """True when there are accounts but no summary rows (tables never filled)."""
    return (
        db.session.scalar(select(User.id).limit(1)) is not None
        and db.session.scalar(select(PeopleStat.unit_id).limit(1)) is None
    )


def drift() -> dict[str, int]:
    """For each summary table, how many of its rows differ from a recount from scratch (a row
    missing on either side counts too): 0 everywhere when the event hooks kept up."""
    fresh, stored = compute_from_scratch(), stored_rows()
    counts = {}
    for name in sorted(fresh):
        keys = fresh[name].keys() | stored[name].keys()
        counts[name] = sum(1 for key in keys if fresh[name].get(key) != stored[name].get(key))
    return counts


def check_drift(now: datetime | None = None) -> dict[str, int]:
    """drift(), kept in summary_checks for /metrics (nightly job and `flask reports check`).
    Flushes; the caller commits."""
    now = now or utcnow()
    found = drift()
    for name, count in found.items():
        check = db.session.get(SummaryCheck, name) or SummaryCheck(table_name=name)
        check.differing_rows = count
        check.checked_at = now
        db.session.add(check)
    db.session.flush()
    return found


def rebuild() -> None:
    """Replace every summary table with a fresh recount (counted by the database itself on
    PostgreSQL, see rebuild_in_database)."""
    if db.session.get_bind().dialect.name == "postgresql":
        rebuild_in_database()
        return
    fresh = compute_from_scratch()
    for model in STAT_MODELS:
        db.session.execute(delete(model))
    for model in STAT_MODELS:
        table = model.__table__
        keys = [column.name for column in table.primary_key.columns]
        value_columns = [column.name for column in table.columns if column.name not in keys]
        zeros = dict.fromkeys(value_columns, 0)
        rows = [dict(zip(keys, key, strict=True)) | zeros | values for key, values in fresh[table.name].items()]
        for start in range(0, len(rows), 5000):
            db.session.execute(table.insert(), rows[start : start + 5000])
    db.session.flush()


# --- recount inside PostgreSQL ---------------------------------------------------------------
#
# The same figures as compute_from_scratch(), but counted and written by the database: each
# statement counts per leaf unit (GROUP BY over the base table), joins the small unit -> ancestor
# list (every unit with itself and the units above it, as unit_chain() gives) and sums again per
# ancestor. Rows are written in primary-key order, so each unit's rows sit together on disk and
# the dashboards' `unit_id IN (…)` reads touch few pages. At a million learners (bench/README.md)
# this takes ~14 s, against ~24 s for counting in Python and inserting the rows back, and needs no
# memory in Python.

#: The Monday (local time) of a timestamp, as _local_week() writes it.
_WEEK = "CAST(date_trunc('week', timezone('Asia/Ho_Chi_Minh', {})) AS DATE)"


def _recount(leaf: str, insert: str) -> str:
    """A statement that counts the `leaf` rows (unit_id first; WEEK(column) is the local week) and
    inserts their sums for every unit above (`insert`, reading leaf and chain)."""
    leaf = re.sub(r"WEEK\(([\w.]+)\)", lambda match: _WEEK.format(match.group(1)), leaf)
    chain = "SELECT * FROM unnest(CAST(:units AS integer[]), CAST(:ancestors AS integer[])) AS c(unit_id, ancestor_id)"
    return f"WITH chain AS ({chain}), leaf AS ({leaf}) {insert}"


_REBUILD_SQL = (
    _recount(
        """
        SELECT u.unit_id, e.course_id, u.role, WEEK(e.enrolled_at) AS week, count(*) AS enrolled,
               0 AS completed, 0 AS completed_self, 0 AS completed_in_person, 0 AS completed_assisted
        FROM enrollments e JOIN users u ON u.id = e.user_id
        GROUP BY 1, 2, 3, 4
        UNION ALL
        SELECT u.unit_id, e.course_id, u.role, WEEK(e.completed_at), 0, count(*),
               count(*) FILTER (WHERE e.completion_mode = 'self'),
               count(*) FILTER (WHERE e.completion_mode = 'in_person'),
               count(*) FILTER (WHERE e.completion_mode = 'assisted')
        FROM enrollments e JOIN users u ON u.id = e.user_id
        WHERE e.completed_at IS NOT NULL
        GROUP BY 1, 2, 3, 4
        """,
        """
        INSERT INTO learning_stats (unit_id, course_id, role, week, enrolled, completed, completed_self,
                                    completed_in_person, completed_assisted)
        SELECT c.ancestor_id, l.course_id, l.role, l.week, sum(l.enrolled), sum(l.completed), sum(l.completed_self),
               sum(l.completed_in_person), sum(l.completed_assisted)
        FROM leaf l JOIN chain c ON c.unit_id = l.unit_id
        GROUP BY 1, 2, 3, 4
        ORDER BY 1, 2, 3, 4
        """,
    ),
    _recount(
        """
        WITH firsts AS (
            SELECT user_id, min(enrolled_at) AS enrolled, min(completed_at) AS completed
            FROM enrollments GROUP BY user_id
        )
        SELECT u.unit_id, u.role, WEEK(f.enrolled) AS week, count(*) AS new_learners, 0 AS new_completers
        FROM firsts f JOIN users u ON u.id = f.user_id
        GROUP BY 1, 2, 3
        UNION ALL
        SELECT u.unit_id, u.role, WEEK(f.completed), 0, count(*)
        FROM firsts f JOIN users u ON u.id = f.user_id
        WHERE f.completed IS NOT NULL
        GROUP BY 1, 2, 3
        """,
        """
        INSERT INTO learner_stats (unit_id, role, week, new_learners, new_completers)
        SELECT c.ancestor_id, l.role, l.week, sum(l.new_learners), sum(l.new_completers)
        FROM leaf l JOIN chain c ON c.unit_id = l.unit_id
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3
        """,
    ),
    _recount(
        "SELECT unit_id, role, count(*) AS accounts FROM users WHERE active GROUP BY 1, 2",
        """
        INSERT INTO people_stats (unit_id, role, accounts)
        SELECT c.ancestor_id, l.role, sum(l.accounts)
        FROM leaf l JOIN chain c ON c.unit_id = l.unit_id
        GROUP BY 1, 2
        ORDER BY 1, 2
        """,
    ),
    _recount(
        """
        SELECT unit_id, WEEK(created_at) AS week, count(*) AS requests, 0 AS visits_done,
               0 AS resolved, 0 AS rating_sum, 0 AS rating_count, 0 AS minutes_spent
        FROM help_requests
        GROUP BY 1, 2
        UNION ALL
        SELECT unit_id, WEEK(starts_at), 0, count(*), count(*) FILTER (WHERE resolved),
               coalesce(sum(rating), 0), count(rating), coalesce(sum(minutes_spent), 0)
        FROM visits WHERE status = 'done'
        GROUP BY 1, 2
        """,
        """
        INSERT INTO visit_stats (unit_id, week, requests, visits_done, resolved, rating_sum, rating_count,
                                 minutes_spent)
        SELECT c.ancestor_id, l.week, sum(l.requests), sum(l.visits_done), sum(l.resolved), sum(l.rating_sum),
               sum(l.rating_count), sum(l.minutes_spent)
        FROM leaf l JOIN chain c ON c.unit_id = l.unit_id
        GROUP BY 1, 2
        ORDER BY 1, 2
        """,
    ),
    _recount(
        """
        SELECT unit_id, skill, WEEK(created_at) AS week, count(*) AS requests, 0 AS visits_done
        FROM help_requests
        GROUP BY 1, 2, 3
        UNION ALL
        SELECT unit_id, skill, WEEK(starts_at), 0, count(*)
        FROM visits WHERE status = 'done'
        GROUP BY 1, 2, 3
        """,
        """
        INSERT INTO skill_demand_stats (unit_id, skill, week, requests, visits_done)
        SELECT c.ancestor_id, l.skill, l.week, sum(l.requests), sum(l.visits_done)
        FROM leaf l JOIN chain c ON c.unit_id = l.unit_id
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3
        """,
    ),
    # wait_bucket() in SQL: whole hours below 48, then whole days from 2 to 43 and over.
    _recount(
        """
        SELECT v.unit_id, WEEK(v.starts_at) AS week,
               CAST(CASE WHEN h.hours < 48 THEN floor(greatest(h.hours, 0))
                         ELSE least(48 + floor(h.hours / 24) - 2, 89) END AS integer) AS bucket,
               count(*) AS visits
        FROM visits v
        JOIN help_requests r ON r.id = v.request_id
        CROSS JOIN LATERAL (SELECT extract(epoch FROM v.starts_at - r.created_at) / 3600 AS hours) h
        WHERE v.status = 'done'
        GROUP BY 1, 2, 3
        """,
        """
        INSERT INTO wait_stats (unit_id, week, bucket, visits)
        SELECT c.ancestor_id, l.week, l.bucket, sum(l.visits)
        FROM leaf l JOIN chain c ON c.unit_id = l.unit_id
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3
        """,
    ),
    # settled() in SQL (app.reports.promise): contacted, or cancelled uncontacted after the promise.
    _recount(
        """
        SELECT unit_id, WEEK(created_at) AS week,
               count(*) FILTER (WHERE contact_due_at IS NOT NULL AND (first_contacted_at IS NOT NULL
                                OR (status = 'cancelled' AND closed_at >= contact_due_at))) AS counted,
               count(*) FILTER (WHERE first_contacted_at < contact_due_at) AS in_time
        FROM help_requests
        GROUP BY 1, 2
        """,
        """
        INSERT INTO promise_stats (unit_id, week, counted, in_time)
        SELECT c.ancestor_id, l.week, sum(l.counted), sum(l.in_time)
        FROM leaf l JOIN chain c ON c.unit_id = l.unit_id
        GROUP BY 1, 2
        ORDER BY 1, 2
        """,
    ),
    _recount(
        """
        SELECT r.unit_id, m.milestone_id, CAST(date_trunc('week', m.reached_on) AS DATE) AS week, count(*) AS reached
        FROM resident_milestones m JOIN residents r ON r.id = m.resident_id
        GROUP BY 1, 2, 3
        """,
        """
        INSERT INTO milestone_stats (unit_id, milestone_id, week, reached)
        SELECT c.ancestor_id, l.milestone_id, l.week, sum(l.reached)
        FROM leaf l JOIN chain c ON c.unit_id = l.unit_id
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3
        """,
    ),
)


def _totals_sql(weekly, total) -> str:
    """INSERT … SELECT of a weekly table's sums over all weeks into its total table."""
    keys = [column.name for column in total.__table__.primary_key.columns]
    values = [column.name for column in total.__table__.columns if column.name not in keys]
    columns = ", ".join(keys + values)
    sums = ", ".join(f"sum({name})" for name in values)
    key_list = ", ".join(keys)
    # Table and column names come from the models, never from input.
    insert = f"INSERT INTO {total.__tablename__} ({columns}) "
    return insert + f"SELECT {key_list}, {sums} FROM {weekly.__tablename__} GROUP BY {key_list} ORDER BY {key_list}"  # noqa: S608


def unit_ancestors() -> tuple[list[int], list[int]]:
    """Every (unit, ancestor-or-self) pair, as unit_chain() gives them: two parallel lists."""
    rows = db.session.execute(select(Unit.id, Unit.code, Unit.path)).all()
    ids = {code: unit_id for unit_id, code, _path in rows}
    units, ancestors = [], []
    for unit_id, _code, path in rows:
        for code in (path or "").split("/"):
            if code in ids:
                units.append(unit_id)
                ancestors.append(ids[code])
    return units, ancestors


def rebuild_in_database() -> None:
    """PostgreSQL: replace every summary table with a recount done by the database (the same
    figures as compute_from_scratch(); the summaries test checks both on PostgreSQL)."""
    units, ancestors = unit_ancestors()
    for model in STAT_MODELS:
        db.session.execute(delete(model))
    # Enough memory to group a million learners without spilling to disk; no JIT compilation
    # (it costs more than it saves here). Both only until the end of the recount.
    saved = db.session.execute(text("SELECT current_setting('work_mem'), current_setting('jit')")).one()
    db.session.execute(text("SELECT set_config('work_mem', '256MB', true), set_config('jit', 'off', true)"))
    for statement in _REBUILD_SQL:
        db.session.execute(text(statement), {"units": units, "ancestors": ancestors})
    for weekly, total in WEEKLY_TOTALS.items():
        db.session.execute(text(_totals_sql(weekly, total)))
    db.session.execute(
        text("SELECT set_config('work_mem', :work_mem, true), set_config('jit', :jit, true)"),
        {"work_mem": saved[0], "jit": saved[1]},
    )
    db.session.flush()
