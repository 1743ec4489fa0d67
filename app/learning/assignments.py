"""Course assignments: a manager assigns a course to everyone with a role in a unit's subtree.

Status of one assignee, on a given local day (Asia/Ho_Chi_Minh):

* ``completed``      — the course was completed on or before the due date;
* ``completed_late`` — completed, but after the due date. Counted as completed and no longer
  overdue: there is nothing left to remind the person of. The lateness stays visible to the
  manager on the assignment's page;
* ``overdue``        — not completed, and the due date has passed (due_on < today);
* ``due``            — not completed, due date not yet passed.

Counts and status lists are computed with a few grouped queries, never one query per person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import aliased, contains_eager, joinedload

from app import authz
from app.auth.models import User
from app.db import LOCAL_TZ, local_today
from app.exceptions import Conflict, Invalid, NotAllowed
from app.extensions import db
from app.learning.models import AUDIENCES, Assignment, Course, Enrollment
from app.units.models import Unit, path_within

NOTE_MAX_LENGTH = 1000
#: The assignment page lists at most this many people (counts are always complete).
ASSIGNEE_LIST_LIMIT = 500
STATUS_ORDER = {"overdue": 0, "due": 1, "completed_late": 2, "completed": 3}


def end_of_day_utc(day: date) -> datetime:
    """The first instant after `day` ends in local time, in UTC: a completion strictly before it
    happened on or before `day`."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=LOCAL_TZ).astimezone(UTC)


def assignment_status(due_on: date, completed_at: datetime | None, today: date) -> str:
    if completed_at is not None:
        return "completed" if completed_at < end_of_day_utc(due_on) else "completed_late"
    return "overdue" if due_on < today else "due"


# --- creating ------------------------------------------------------------------------------


def check_may_assign(actor: User) -> None:
    """Raises NotAllowed unless `actor`'s role may assign courses (anywhere in their area)."""
    if not authz.has_permission(actor, "assignments.manage"):
        raise NotAllowed(_("You may not assign courses."))


def check_due_date(due_on: date, today: date | None = None) -> None:
    """Raises Invalid (field "due_on") when the due date is in the past."""
    if due_on < (today or local_today()):
        raise Invalid(_("The due date cannot be in the past."), field="due_on")


def create_assignment(
    actor: User,
    *,
    course: Course | None,
    unit: Unit | None,
    role: str,
    due_on: date | None,
    note: str | None = None,
    today: date | None = None,
) -> Assignment:
    """Assign `course` to everyone with `role` in `unit`'s subtree, due by `due_on` (local date).

    Department managers and admins may assign anywhere; commune managers within their commune.
    Raises Invalid (missing or bad input, a due date in the past), NotAllowed (out of scope or
    no right to assign), Conflict (the same course is already assigned to the same group).
    """
    check_may_assign(actor)
    if course is None or course.retired_at is not None:
        raise Invalid(_("Choose a course from the list."), field="course")
    if unit is None:
        raise Invalid(_("Choose a unit from the list."), field="unit")
    if role not in AUDIENCES:
        raise Invalid(_("Choose who the course is for."), field="role")
    if due_on is None:
        raise Invalid(_("Enter the due date."), field="due_on")
    check_due_date(due_on, today)
    note = (note or "").strip() or None
    if note is not None and len(note) > NOTE_MAX_LENGTH:
        raise Invalid(_("The note is too long (at most %(count)d characters).", count=NOTE_MAX_LENGTH), field="note")
    if not authz.unit_in_scope(actor, unit):
        raise NotAllowed(_("You may only assign courses within your own area."), field="unit")
    duplicate = db.session.scalar(
        select(Assignment.id).where(
            Assignment.course_id == course.id, Assignment.unit_id == unit.id, Assignment.role == role
        )
    )
    if duplicate is not None:
        raise Conflict(_("This course is already assigned to this group."), field="course")
    assignment = Assignment(
        course_id=course.id, unit_id=unit.id, role=role, due_on=due_on, created_by_id=actor.id, note=note
    )
    db.session.add(assignment)
    db.session.flush()
    return assignment


# --- what a learner sees -------------------------------------------------------------------


@dataclass
class AssignedCourse:
    assignment: Assignment
    course: Course
    due_on: date
    #: due, overdue, completed or completed_late
    status: str
    started: bool


def _ancestor_paths(unit: Unit) -> list[str]:
    """'/P/C1/C1A/' -> ['/P/', '/P/C1/', '/P/C1/C1A/']: an assignment to any of these reaches the unit."""
    codes = [code for code in unit.path.split("/") if code]
    return ["/" + "/".join(codes[: n + 1]) + "/" for n in range(len(codes))]


def assignments_for(user: User, today: date | None = None) -> list[AssignedCourse]:
    """The courses assigned to `user` (their role, a unit above or at theirs), most urgent first.

    A course assigned twice (say by the province and by the commune) is shown once, with the
    earlier due date.
    """
    today = today or local_today()
    rows = db.session.execute(
        select(Assignment, Enrollment)
        .join(Unit, Unit.id == Assignment.unit_id)
        .join(Course, Course.id == Assignment.course_id)
        .outerjoin(Enrollment, and_(Enrollment.course_id == Assignment.course_id, Enrollment.user_id == user.id))
        .where(
            Assignment.role == user.role,
            Unit.path.in_(_ancestor_paths(user.unit)),
            Course.retired_at.is_(None),
        )
        .order_by(Assignment.due_on, Assignment.id)
    ).all()
    seen: set[int] = set()
    result = []
    for assignment, enrollment in rows:
        if assignment.course_id in seen:
            continue
        seen.add(assignment.course_id)
        completed_at = enrollment.completed_at if enrollment is not None else None
        result.append(
            AssignedCourse(
                assignment=assignment,
                course=assignment.course,
                due_on=assignment.due_on,
                status=assignment_status(assignment.due_on, completed_at, today),
                started=enrollment is not None,
            )
        )
    result.sort(key=lambda item: (item.status.startswith("completed"), item.due_on))
    return result


# --- what a manager sees -------------------------------------------------------------------


def _assignee_clause(assignment_unit, person_unit):
    """Join condition: a person belongs to an assignment's group (role, unit subtree, active).

    The subtree test compares a prefix with substr() rather than LIKE, so unit codes are never
    read as wildcards.
    """
    return and_(
        User.role == Assignment.role,
        User.active.is_(True),
        func.substr(person_unit.path, 1, func.length(assignment_unit.path)) == assignment_unit.path,
    )


def assignees_query(assignment: Assignment):
    """select(User) of the active people with the assignment's role in its unit's subtree."""
    return (
        select(User)
        .join(User.unit)
        .options(contains_eager(User.unit))
        .where(
            User.role == assignment.role,
            User.active.is_(True),
            path_within(Unit.path, assignment.unit.path),
        )
    )


def assignees(assignment: Assignment) -> list[User]:
    return list(db.session.scalars(assignees_query(assignment).order_by(Unit.path, User.full_name, User.id)))


@dataclass
class AssigneeStatus:
    user: User
    completed_at: datetime | None
    status: str


def assignee_statuses(
    assignment: Assignment, today: date | None = None, *, limit: int | None = ASSIGNEE_LIST_LIMIT
) -> list[AssigneeStatus]:
    """Every assignee with their status, overdue (or due) first, then late, then on time."""
    today = today or local_today()
    not_completed_first = case((Enrollment.completed_at.is_(None), 0), else_=1)
    query = (
        assignees_query(assignment)
        .add_columns(Enrollment.completed_at)
        .outerjoin(
            Enrollment,
            and_(Enrollment.user_id == User.id, Enrollment.course_id == assignment.course_id),
        )
        .order_by(not_completed_first, Unit.path, User.full_name, User.id)
    )
    if limit:
        query = query.limit(limit)
    result = [
        AssigneeStatus(user, completed_at, assignment_status(assignment.due_on, completed_at, today))
        for user, completed_at in db.session.execute(query).all()
    ]
    result.sort(key=lambda row: STATUS_ORDER[row.status])  # stable: keeps the unit/name order
    return result


def overdue_assignees(assignment: Assignment, today: date | None = None) -> list[User]:
    """Assignees who have not completed the course, once the due date has passed."""
    today = today or local_today()
    if not assignment.due_on < today:
        return []
    query = (
        assignees_query(assignment)
        .outerjoin(
            Enrollment,
            and_(Enrollment.user_id == User.id, Enrollment.course_id == assignment.course_id),
        )
        .where(Enrollment.completed_at.is_(None))
        .order_by(Unit.path, User.full_name, User.id)
    )
    return list(db.session.scalars(query))


@dataclass
class AssignmentSummary:
    assignment: Assignment
    assigned: int
    completed: int
    overdue: int


def assignments_in_scope(actor: User, today: date | None = None) -> list[AssignmentSummary]:
    """The assignments made for units in `actor`'s area, newest due date first, with counts of
    people assigned, completed (on time or late) and overdue. Two queries in all."""
    today = today or local_today()
    assignments = list(
        db.session.scalars(
            select(Assignment)
            .join(Unit, Unit.id == Assignment.unit_id)
            .join(Course, Course.id == Assignment.course_id)
            .where(authz.unit_scope_filter(actor, Unit.path))
            .order_by(Assignment.due_on.desc(), Assignment.id.desc())
            .options(joinedload(Assignment.course), joinedload(Assignment.unit))
        )
    )
    counts = assignment_counts([a.id for a in assignments], today)
    return [AssignmentSummary(a, *counts.get(a.id, (0, 0, 0))) for a in assignments]


def assignment_counts(assignment_ids: list[int], today: date | None = None) -> dict[int, tuple[int, int, int]]:
    """assignment id -> (assigned, completed, overdue), in one grouped query."""
    if not assignment_ids:
        return {}
    today = today or local_today()
    assignment_unit = aliased(Unit)
    person_unit = aliased(Unit)
    completed = Enrollment.completed_at.is_not(None)
    rows = db.session.execute(
        select(
            Assignment.id,
            func.count(User.id),
            func.count(Enrollment.completed_at),
            func.sum(case((and_(~completed, Assignment.due_on < today), 1), else_=0)),
        )
        .join(assignment_unit, assignment_unit.id == Assignment.unit_id)
        .join(User, User.role == Assignment.role)
        .join(person_unit, person_unit.id == User.unit_id)
        .outerjoin(
            Enrollment,
            and_(
                Enrollment.user_id == User.id,
                Enrollment.course_id == Assignment.course_id,
                Enrollment.completed_at.is_not(None),
            ),
        )
        .where(Assignment.id.in_(assignment_ids), _assignee_clause(assignment_unit, person_unit))
        .group_by(Assignment.id)
    ).all()
    return {row[0]: (int(row[1] or 0), int(row[2] or 0), int(row[3] or 0)) for row in rows}


def assignable_units(actor: User) -> list[Unit]:
    """The units `actor` may assign courses to: the province (province-wide roles), communes and
    villages in their area."""
    return list(db.session.scalars(select(Unit).where(authz.unit_scope_filter(actor, Unit.path)).order_by(Unit.path)))
