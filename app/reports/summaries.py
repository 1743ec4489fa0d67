"""Keeping the summary tables (app.reports.models) in step with the data.

Operations call the `on_*` functions inside their own transaction, so a completion, a visit or a
milestone shows on the dashboards at once: each event adds to the rows of its unit and of every
unit above it (`bump`, `unit_chain`). Recounting the tables from scratch is app.reports.recount.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import g, has_app_context
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.auth.models import User
from app.db import LOCAL_TZ
from app.extensions import db
from app.learning.models import Enrollment
from app.reports.models import (
    WEEKLY_TOTALS,
    LearnerStat,
    LearningStat,
    MilestoneStat,
    PeopleStat,
    SkillDemandStat,
    VisitStat,
    WaitStat,
)
from app.units.models import Unit

MODE_COLUMNS = {"self": "completed_self", "in_person": "completed_in_person", "assisted": "completed_assisted"}


def week_of(moment: datetime | date) -> date:
    """Monday of the local (Asia/Ho_Chi_Minh) week."""
    day = moment.astimezone(LOCAL_TZ).date() if isinstance(moment, datetime) else moment
    return day - timedelta(days=day.weekday())


def as_date(value) -> date:
    """A week or day read back from the database as a date (SQLite returns text)."""
    return value if isinstance(value, date) and not isinstance(value, datetime) else date.fromisoformat(str(value)[:10])


def wait_bucket(hours: float) -> int:
    """0–47: whole hours; 48–89: whole days from 2 to 43 (and over)."""
    hours = max(hours, 0)
    if hours < 48:
        return int(hours)
    return min(48 + int(hours // 24) - 2, 89)


def bucket_hours(bucket: int) -> float:
    """The middle of a bucket, in hours."""
    if bucket < 48:
        return bucket + 0.5
    return (bucket - 48 + 2) * 24 + 12


def unit_chain(unit_id: int) -> list[int]:
    """The unit and every unit above it (cached for the current request or job)."""
    chains = g.setdefault("unit_chains", {}) if has_app_context() else {}
    chain = chains.get(unit_id)
    if chain is None:
        path = db.session.scalar(select(Unit.path).where(Unit.id == unit_id))
        codes = [code for code in (path or "").split("/") if code]
        ids = dict(db.session.execute(select(Unit.code, Unit.id).where(Unit.code.in_(codes))).all())
        chain = [ids[code] for code in reversed(codes) if code in ids]
        chains[unit_id] = chain
    return chain


def forget_unit_chains() -> None:
    if has_app_context():
        g.pop("unit_chains", None)


def _insert(model):
    return (pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert)(model)


def bump(model, unit_id: int, keys: dict, **increments: int) -> None:
    """Add `increments` to the rows of `unit_id` and its ancestors (creating them as needed),
    and, for a weekly table, to its all-time total (WEEKLY_TOTALS): one statement per table."""
    increments = {name: value for name, value in increments.items() if value}
    if not increments:
        return
    _add_to_chain(model, unit_id, keys, increments)
    total = WEEKLY_TOTALS.get(model)
    if total is not None:
        _add_to_chain(total, unit_id, {name: value for name, value in keys.items() if name != "week"}, increments)


def _add_to_chain(model, unit_id: int, keys: dict, increments: dict[str, int]) -> None:
    chain = unit_chain(unit_id)
    if not chain:
        return
    table = model.__table__
    # The rows in chain order (the unit, then upwards), so concurrent bumps lock them alike.
    statement = _insert(model).values([{"unit_id": chain_unit, **keys, **increments} for chain_unit in chain])
    statement = statement.on_conflict_do_update(
        index_elements=[column.name for column in table.primary_key.columns],
        set_={name: getattr(table.c, name) + value for name, value in increments.items()},
    )
    db.session.execute(statement)


# --- reading


def week_range(column, week_from: date | None, week_to: date | None) -> list:
    """Conditions on a week column: from `week_from` to `week_to` (either may be None)."""
    conditions = []
    if week_from is not None:
        conditions.append(column >= week_from)
    if week_to is not None:
        conditions.append(column <= week_to)
    return conditions


def summary_rows(statement):
    """The rows of a read of counts, as plain tuples: a province's dashboard reads thousands of
    summary rows, which need none of the ORM's per-row work. Pending changes are flushed first,
    as the session would before a query."""
    db.session.flush()
    return db.session.connection().execute(statement).all()


def period_sums(weekly, keys: tuple[str, ...], values: tuple[str, ...], unit_ids, week_from, week_to):
    """SELECT unit_id, *keys, *sums of `values` per unit and keys of a weekly summary table over
    the weeks from `week_from` to `week_to`; with neither, the all-time total table's rows as they
    are (one per unit and keys instead of one per week)."""
    if week_from is None and week_to is None:
        total = WEEKLY_TOTALS[weekly]
        return select(
            total.unit_id, *(getattr(total, key) for key in keys), *(getattr(total, value) for value in values)
        ).where(total.unit_id.in_(unit_ids))
    grouped = [weekly.unit_id, *(getattr(weekly, key) for key in keys)]
    return (
        select(*grouped, *(func.sum(getattr(weekly, value)) for value in values))
        .where(weekly.unit_id.in_(unit_ids), *week_range(weekly.week, week_from, week_to))
        .group_by(*grouped)
    )


# --- events --------------------------------------------------------------------------------


def on_enrolled(user: User, enrollment: Enrollment) -> None:
    week = week_of(enrollment.enrolled_at)
    bump(LearningStat, user.unit_id, {"course_id": enrollment.course_id, "role": user.role, "week": week}, enrolled=1)
    others = db.session.scalar(
        select(func.count())
        .select_from(Enrollment)
        .where(Enrollment.user_id == user.id, Enrollment.id != enrollment.id)
    )
    if not others:
        bump(LearnerStat, user.unit_id, {"role": user.role, "week": week}, new_learners=1)


def on_course_completed(user: User, enrollment: Enrollment) -> None:
    week = week_of(enrollment.completed_at)
    bump(
        LearningStat,
        user.unit_id,
        {"course_id": enrollment.course_id, "role": user.role, "week": week},
        completed=1,
        **{MODE_COLUMNS[enrollment.completion_mode]: 1},
    )
    earlier = db.session.scalar(
        select(func.count())
        .select_from(Enrollment)
        .where(Enrollment.user_id == user.id, Enrollment.id != enrollment.id, Enrollment.completed_at.is_not(None))
    )
    if not earlier:
        bump(LearnerStat, user.unit_id, {"role": user.role, "week": week}, new_completers=1)


def _learning_contribution(user: User, sign: int) -> None:
    """Add (+1) or remove (-1) everything a person's learning contributes, at their current unit
    and role (used when a person moves to another unit or role)."""
    enrollments = db.session.scalars(select(Enrollment).where(Enrollment.user_id == user.id)).all()
    if not enrollments:
        return
    for enrollment in enrollments:
        keys = {"course_id": enrollment.course_id, "role": user.role}
        bump(LearningStat, user.unit_id, {**keys, "week": week_of(enrollment.enrolled_at)}, enrolled=sign)
        if enrollment.completed_at is not None:
            bump(
                LearningStat,
                user.unit_id,
                {**keys, "week": week_of(enrollment.completed_at)},
                completed=sign,
                **{MODE_COLUMNS[enrollment.completion_mode]: sign},
            )
    first = min(enrollments, key=lambda e: (e.enrolled_at, e.id))
    bump(LearnerStat, user.unit_id, {"role": user.role, "week": week_of(first.enrolled_at)}, new_learners=sign)
    completed = [e for e in enrollments if e.completed_at is not None]
    if completed:
        first_done = min(completed, key=lambda e: (e.completed_at, e.id))
        bump(
            LearnerStat,
            user.unit_id,
            {"role": user.role, "week": week_of(first_done.completed_at)},
            new_completers=sign,
        )


def on_person_changing(user: User) -> None:
    """Call before changing a person's unit, role or active flag…"""
    if user.id is not None and user.active:
        bump(PeopleStat, user.unit_id, {"role": user.role}, accounts=-1)
    if user.id is not None:
        _learning_contribution(user, -1)


def on_person_changed(user: User) -> None:
    """…and after (also for a new account, after it was flushed)."""
    if user.active:
        bump(PeopleStat, user.unit_id, {"role": user.role}, accounts=1)
    _learning_contribution(user, +1)


def on_request_filed(request) -> None:
    week = week_of(request.created_at)
    bump(VisitStat, request.unit_id, {"week": week}, requests=1)
    bump(SkillDemandStat, request.unit_id, {"skill": request.skill, "week": week}, requests=1)


def on_visit_done(visit) -> None:
    week = week_of(visit.starts_at)
    rating = visit.rating or 0
    bump(
        VisitStat,
        visit.unit_id,
        {"week": week},
        visits_done=1,
        resolved=1 if visit.resolved else 0,
        rating_sum=rating,
        rating_count=1 if visit.rating else 0,
        minutes_spent=visit.minutes_spent or 0,
    )
    bump(SkillDemandStat, visit.unit_id, {"skill": visit.skill, "week": week}, visits_done=1)
    if visit.request is not None:
        hours = (visit.starts_at - visit.request.created_at).total_seconds() / 3600
        bump(WaitStat, visit.unit_id, {"week": week, "bucket": wait_bucket(hours)}, visits=1)


def on_milestone_date(resident, milestone_id: int, old_date: date | None, new_date: date) -> None:
    """A milestone was reached (old_date None) or its date moved."""
    if old_date is not None:
        if week_of(old_date) == week_of(new_date):
            return
        bump(MilestoneStat, resident.unit_id, {"milestone_id": milestone_id, "week": week_of(old_date)}, reached=-1)
    bump(MilestoneStat, resident.unit_id, {"milestone_id": milestone_id, "week": week_of(new_date)}, reached=1)
