"""Query functions behind the trends, course analytics and team pages. Each returns report tables
(app.reports.tables) that the pages show and the exports write.

Trends read the maintained summaries (a unit's own rows hold its whole subtree). Course analytics
and the team view read the base tables, always with grouped queries — a course page costs the same
number of queries for ten learners or a million — and limited to the viewer's unit subtree.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.db import utcnow
from app.extensions import db
from app.learning.models import (
    AttemptChoice,
    AttemptQuestion,
    Course,
    CourseModule,
    Enrollment,
    ModuleCompletion,
    Option,
    Question,
    Quiz,
    QuizAttempt,
)
from app.reports.models import LearningStat, VisitStat
from app.reports.promise import promise_note, promise_sums, share
from app.reports.summaries import as_date, week_of
from app.reports.tables import Column, ReportTable
from app.units.models import Unit, path_within
from app.visits.models import SKILL_TITLES, SKILLS, HelpRequest, Team, TeamMember, Visit


def _share(part: int | None, whole: int | None) -> float | None:
    return part / whole if whole else None


def _in_subtree(unit: Unit):
    return path_within(Unit.path, unit.path)


# --- trends ----------------------------------------------------------------------------------


def week_starts(weeks: int, *, now: datetime | None = None) -> list[date]:
    """The Mondays of the last `weeks` weeks (local time), oldest first, ending with this week."""
    current = week_of(now or utcnow())
    return [current - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def weekly_trends(
    unit: Unit, weeks: list[date], *, course_id: int | None = None, role: str | None = None
) -> ReportTable:
    """Enrolments, completions, help requests and visits done per week in `unit`'s subtree, from
    the unit's own summary rows. Every week in `weeks` has a row (zero when nothing happened).
    The course and role filters apply to enrolments and completions only."""
    first = weeks[0]
    learning = (
        select(
            LearningStat.week,
            func.sum(LearningStat.enrolled),
            func.sum(LearningStat.completed),
            func.sum(LearningStat.completed_in_person + LearningStat.completed_assisted),
        )
        .where(LearningStat.unit_id == unit.id, LearningStat.week >= first)
        .group_by(LearningStat.week)
    )
    if course_id is not None:
        learning = learning.where(LearningStat.course_id == course_id)
    if role is not None:
        learning = learning.where(LearningStat.role == role)
    by_week: dict[date, dict] = {
        week: {"week": week, "enrolled": 0, "completed": 0, "completed_helped": 0, "requests": 0, "visits_done": 0}
        for week in weeks
    }
    for week, enrolled, completed, helped in db.session.execute(learning):
        row = by_week.get(as_date(week))
        if row is not None:
            row.update(enrolled=int(enrolled or 0), completed=int(completed or 0), completed_helped=int(helped or 0))
    for week, requests, visits_done in db.session.execute(
        select(VisitStat.week, VisitStat.requests, VisitStat.visits_done).where(
            VisitStat.unit_id == unit.id, VisitStat.week >= first
        )
    ):
        row = by_week.get(as_date(week))
        if row is not None:
            row.update(requests=int(requests or 0), visits_done=int(visits_done or 0))
    rows = [by_week[week] for week in weeks]
    totals = {"week": _("Total")} | {
        key: sum(row[key] for row in rows)
        for key in ("enrolled", "completed", "completed_helped", "requests", "visits_done")
    }
    return ReportTable(
        _("Per week"),
        [
            Column("week", _("Week starting"), "text"),
            Column("enrolled", _("Enrolments")),
            Column("completed", _("Courses completed")),
            Column("completed_helped", _("of which with help or in class")),
            Column("requests", _("Help requests")),
            Column("visits_done", _("Visits done")),
        ],
        rows,
        totals,
        _("Weeks run from Monday to Sunday (Vietnam time); the current week is not over yet."),
    )


# --- course analytics ----------------------------------------------------------------------


def course_totals(unit: Unit) -> dict[int, tuple[int, int]]:
    """{course id: (enrolled, completed)} in `unit`'s subtree, from its summary rows."""
    return {
        course_id: (int(enrolled or 0), int(completed or 0))
        for course_id, enrolled, completed in db.session.execute(
            select(LearningStat.course_id, func.sum(LearningStat.enrolled), func.sum(LearningStat.completed))
            .where(LearningStat.unit_id == unit.id)
            .group_by(LearningStat.course_id)
        )
    }


def course_list_table(courses: list[Course], unit: Unit) -> ReportTable:
    totals = course_totals(unit)
    rows = []
    for course in courses:
        enrolled, completed = totals.get(course.id, (0, 0))
        rows.append(
            {
                "slug": course.slug,
                "course": course.title,
                "enrolled": enrolled,
                "completed": completed,
                "completion_rate": _share(completed, enrolled),
            }
        )
    return ReportTable(
        _("Courses"),
        [
            Column("course", _("Course"), "text"),
            Column("enrolled", _("Enrolled")),
            Column("completed", _("Completed")),
            Column("completion_rate", _("Completion rate"), "percent"),
        ],
        rows,
    )


def _course_modules(course: Course) -> list[CourseModule]:
    """The course's active modules with their quiz, questions and options, in four queries."""
    return list(
        db.session.scalars(
            select(CourseModule)
            .where(CourseModule.course_id == course.id, CourseModule.retired_at.is_(None))
            .order_by(CourseModule.position)
            .options(selectinload(CourseModule.quiz).selectinload(Quiz.questions).selectinload(Question.options))
        )
    )


def _learners_in(query, unit: Unit, user_id_column):
    """Limit `query` to learners whose unit lies in `unit`'s subtree."""
    return query.join(User, User.id == user_id_column).join(Unit, Unit.id == User.unit_id).where(_in_subtree(unit))


@dataclass
class CourseAnalytics:
    modules: ReportTable
    questions: ReportTable


def course_analytics(course: Course, unit: Unit) -> CourseAnalytics:
    """Per module drop-off and per quiz question the share answered correctly and the most chosen
    wrong option, over the learners in `unit`'s subtree (submitted attempts only)."""
    modules = _course_modules(course)
    return CourseAnalytics(_module_dropoff(course, modules, unit), _question_table(modules, unit))


def _module_dropoff(course: Course, modules: list[CourseModule], unit: Unit) -> ReportTable:
    enrolled = db.session.scalar(
        _learners_in(select(func.count()).select_from(Enrollment), unit, Enrollment.user_id).where(
            Enrollment.course_id == course.id
        )
    )
    completed = dict(
        db.session.execute(
            _learners_in(
                select(ModuleCompletion.module_id, func.count()).select_from(ModuleCompletion),
                unit,
                ModuleCompletion.user_id,
            )
            .where(ModuleCompletion.module_id.in_([module.id for module in modules]))
            .group_by(ModuleCompletion.module_id)
        ).all()
    )
    rows = [{"step": _("Enrolled"), "learners": enrolled, "share": _share(enrolled, enrolled), "lost": None}]
    previous = enrolled
    for number, module in enumerate(modules, start=1):
        count = int(completed.get(module.id, 0))
        rows.append(
            {
                "step": _("%(number)d. %(title)s", number=number, title=module.title),
                "learners": count,
                "share": _share(count, enrolled),
                "lost": previous - count,
            }
        )
        previous = count
    return ReportTable(
        _("Modules completed"),
        [
            Column("step", _("Step"), "text", sortable=False),
            Column("learners", _("Learners"), sortable=False),
            Column("share", _("Share of enrolled"), "percent", sortable=False),
            Column("lost", _("Fewer than the step before"), sortable=False),
        ],
        rows,
        note=_(
            "Of the learners enrolled in the course, how many completed each module, in the order of the course. "
            "A module completed out of order still counts for that module."
        ),
    )


def _question_table(modules: list[CourseModule], unit: Unit) -> ReportTable:
    questions: list[tuple[int, CourseModule, Question]] = []
    for number, module in enumerate(modules, start=1):
        quiz = module.active_quiz
        if quiz is not None:
            questions.extend((number, module, question) for question in quiz.active_questions)
    question_ids = [question.id for _number, _module, question in questions]
    submitted = QuizAttempt.submitted_at.is_not(None)
    answered = {
        question_id: (int(count), int(correct or 0))
        for question_id, count, correct in db.session.execute(
            _learners_in(
                select(
                    AttemptQuestion.question_id,
                    func.count(),
                    func.sum(case((AttemptQuestion.is_correct.is_(True), 1), else_=0)),
                )
                .select_from(AttemptQuestion)
                .join(QuizAttempt, QuizAttempt.id == AttemptQuestion.attempt_id),
                unit,
                QuizAttempt.user_id,
            )
            .where(submitted, AttemptQuestion.question_id.in_(question_ids))
            .group_by(AttemptQuestion.question_id)
        )
    }
    wrong_choices: dict[int, dict[int, int]] = defaultdict(dict)
    for question_id, option_id, count in db.session.execute(
        _learners_in(
            select(AttemptQuestion.question_id, AttemptChoice.option_id, func.count())
            .select_from(AttemptChoice)
            .join(AttemptQuestion, AttemptQuestion.id == AttemptChoice.attempt_question_id)
            .join(QuizAttempt, QuizAttempt.id == AttemptQuestion.attempt_id)
            .join(Option, Option.id == AttemptChoice.option_id),
            unit,
            QuizAttempt.user_id,
        )
        .where(submitted, Option.is_correct.is_(False), AttemptQuestion.question_id.in_(question_ids))
        .group_by(AttemptQuestion.question_id, AttemptChoice.option_id)
    ):
        wrong_choices[question_id][option_id] = int(count)
    rows = []
    for module_number, module, question in questions:
        count, correct = answered.get(question.id, (0, 0))
        options = {option.id: option for option in question.options}
        chosen = wrong_choices.get(question.id, {})
        top = min(chosen, key=lambda option_id: (-chosen[option_id], options[option_id].position), default=None)
        rows.append(
            {
                "module": _("%(number)d. %(title)s", number=module_number, title=module.title),
                "question": question.prompt,
                "answered": count,
                "correct_share": _share(correct, count),
                "wrong_option": options[top].text if top is not None else None,
                "wrong_option_share": _share(chosen[top], count) if top is not None else None,
            }
        )
    return ReportTable(
        _("Quiz questions"),
        [
            Column("module", _("Module"), "text"),
            Column("question", _("Question"), "text"),
            Column("answered", _("Answers")),
            Column("correct_share", _("Answered correctly"), "percent"),
            Column("wrong_option", _("Most chosen wrong answer"), "text"),
            Column("wrong_option_share", _("Chosen in"), "percent"),
        ],
        rows,
        note=_(
            "Counted over submitted quiz attempts, every attempt once. The share for the wrong answer is the "
            "share of all answers to the question that chose it."
        ),
    )


# --- team view -----------------------------------------------------------------------------


@dataclass
class TeamView:
    members: ReportTable
    by_skill: ReportTable
    by_village: ReportTable
    #: The members the view names (for the log of who read whose record).
    member_ids: tuple[int, ...] = ()
    #: Requests contacted within the team's promise to call, by village.
    promise: ReportTable | None = None


def team_members(commune: Unit) -> dict[int, tuple[User, set[str]]]:
    """Active members of the teams in `commune` with the skills they offer, by user id."""
    members: dict[int, tuple[User, set[str]]] = {}
    for user, skills in db.session.execute(
        select(User, TeamMember.skills)
        .join(TeamMember, TeamMember.user_id == User.id)
        .join(Team, Team.id == TeamMember.team_id)
        .join(Unit, Unit.id == Team.unit_id)
        .where(_in_subtree(commune), User.active.is_(True))
    ):
        members.setdefault(user.id, (user, set()))[1].update(skills or [])
    return members


def team_view(commune: Unit, start: datetime, end: datetime, *, now: datetime | None = None) -> TeamView:
    """Per member: visits done, hours spent and share resolved between `start` and `end`, booked
    visits still to come; and the requests waiting for a visit (status new) by skill and village,
    against the number of members offering the skill. Only visits and requests in `commune`."""
    now = now or utcnow()
    members = team_members(commune)
    in_period = and_(Visit.status == "done", Visit.starts_at >= start, Visit.starts_at < end)
    upcoming = and_(Visit.status == "booked", Visit.starts_at >= now)
    figures = {
        member_id: row
        for member_id, *row in db.session.execute(
            select(
                Visit.member_id,
                func.sum(case((in_period, 1), else_=0)),
                func.sum(case((in_period, func.coalesce(Visit.minutes_spent, 0)), else_=0)),
                func.sum(case((and_(in_period, Visit.resolved.is_(True)), 1), else_=0)),
                func.sum(case((upcoming, 1), else_=0)),
                func.sum(case((and_(upcoming, Visit.starts_at < now + timedelta(days=7)), 1), else_=0)),
                func.sum(case((and_(Visit.status == "booked", Visit.starts_at < now), 1), else_=0)),
            )
            .join(Unit, Unit.id == Visit.unit_id)
            .where(_in_subtree(commune), Visit.member_id.in_(list(members)))
            .group_by(Visit.member_id)
        )
    }
    member_rows = []
    for user, skills in sorted(members.values(), key=lambda item: (item[0].full_name, item[0].id)):
        done, minutes, resolved, booked, next_week, unrecorded = (int(v or 0) for v in figures.get(user.id, [0] * 6))
        member_rows.append(
            {
                "member": user.full_name,
                "skills": ", ".join(str(SKILL_TITLES[skill]) for skill in SKILLS if skill in skills),
                "visits_done": done,
                "hours": minutes / 60,
                "resolved_share": _share(resolved, done),
                "booked": booked,
                "booked_next_week": next_week,
                "unrecorded": unrecorded,
                # Exports leave out a member whose processing is restricted (app.privacy.restriction).
                "restricted": user.restricted_at is not None,
            }
        )
    member_totals = {"member": _("Total")} | {
        key: sum(row[key] for row in member_rows)
        for key in ("visits_done", "hours", "booked", "booked_next_week", "unrecorded")
    }
    members_table = ReportTable(
        _("Visits per member"),
        [
            Column("member", _("Member"), "text"),
            Column("skills", _("Offers help with"), "text", sortable=False),
            Column("visits_done", _("Visits done")),
            Column("hours", _("Hours spent"), "hours"),
            Column("resolved_share", _("Resolved"), "percent"),
            Column("booked", _("Booked, still to come")),
            Column("booked_next_week", _("of which in the next 7 days")),
            Column("unrecorded", _("Past visits without an outcome")),
        ],
        member_rows,
        member_totals,
        _("Visits done and hours count the visits that started in the chosen period."),
    )

    members_with = {skill: sum(1 for _user, skills in members.values() if skill in skills) for skill in SKILLS}
    done_by_skill = dict(
        db.session.execute(
            select(Visit.skill, func.count())
            .join(Unit, Unit.id == Visit.unit_id)
            .where(_in_subtree(commune), in_period)
            .group_by(Visit.skill)
        ).all()
    )
    waiting = db.session.execute(
        select(HelpRequest.unit_id, HelpRequest.skill, func.count(), func.min(HelpRequest.created_at))
        .join(Unit, Unit.id == HelpRequest.unit_id)
        .where(_in_subtree(commune), HelpRequest.status == "new")
        .group_by(HelpRequest.unit_id, HelpRequest.skill)
    ).all()
    places = {
        unit.id: unit
        for unit in db.session.scalars(select(Unit).where(Unit.id.in_({unit_id for unit_id, *_rest in waiting})))
    }

    def days_since(moment: datetime) -> int:
        return max(0, int((now - moment).total_seconds() // 86400))

    skill_waiting: dict[str, list] = {skill: [0, None] for skill in SKILLS}
    village_rows = []
    for unit_id, skill, count, oldest in waiting:
        entry = skill_waiting[skill]
        entry[0] += count
        entry[1] = oldest if entry[1] is None else min(entry[1], oldest)
        village_rows.append(
            {
                "village": places[unit_id].display_name,
                "skill": str(SKILL_TITLES[skill]),
                "waiting": int(count),
                "oldest_days": days_since(oldest),
                "members_with_skill": members_with[skill],
            }
        )
    village_rows.sort(key=lambda row: (-row["waiting"], row["village"], row["skill"]))
    skill_rows = [
        {
            "skill": str(SKILL_TITLES[skill]),
            "waiting": skill_waiting[skill][0],
            "oldest_days": days_since(skill_waiting[skill][1]) if skill_waiting[skill][1] is not None else None,
            "members_with_skill": members_with[skill],
            "visits_done": int(done_by_skill.get(skill, 0)),
        }
        for skill in SKILLS
    ]
    by_skill = ReportTable(
        _("Waiting requests by kind of help"),
        [
            Column("skill", _("Kind of help"), "text"),
            Column("waiting", _("Requests waiting")),
            Column("oldest_days", _("Oldest waiting (days)")),
            Column("members_with_skill", _("Members offering it")),
            Column("visits_done", _("Visits done in the period")),
        ],
        skill_rows,
        {
            "skill": _("Total"),
            "waiting": sum(row["waiting"] for row in skill_rows),
            "visits_done": sum(row["visits_done"] for row in skill_rows),
        },
        _("Waiting means a request not yet booked for a visit."),
    )
    by_village = ReportTable(
        _("Waiting requests by village"),
        [
            Column("village", _("Village"), "text"),
            Column("skill", _("Kind of help"), "text"),
            Column("waiting", _("Requests waiting")),
            Column("oldest_days", _("Oldest waiting (days)")),
            Column("members_with_skill", _("Members in the commune offering it")),
        ],
        village_rows,
    )
    return TeamView(members_table, by_skill, by_village, tuple(members), _promise_table(commune, start, end, now))


def _promise_table(commune: Unit, start: datetime, end: datetime, now: datetime) -> ReportTable:
    """Per village (or the commune itself): requests filed in the period, those that count for
    the promise (app.reports.promise), those contacted in time, and the share."""
    counted, in_time = promise_sums(now)
    rows = []
    for unit, filed, counted_n, in_time_n in db.session.execute(
        select(Unit, func.count(), counted, in_time)
        .join(Unit, Unit.id == HelpRequest.unit_id)
        .where(_in_subtree(commune), HelpRequest.created_at >= start, HelpRequest.created_at < end)
        .group_by(Unit)
        .order_by(Unit.path)
    ):
        counted_n, in_time_n = int(counted_n or 0), int(in_time_n or 0)
        rows.append(
            {
                "village": unit.display_name,
                "requests": int(filed),
                "counted": counted_n,
                "in_time": in_time_n,
                "late": counted_n - in_time_n,
                "share": share(in_time_n, counted_n),
            }
        )
    totals = {"village": _("Total")} | {
        key: sum(row[key] for row in rows) for key in ("requests", "counted", "in_time", "late")
    }
    totals["share"] = share(totals["in_time"], totals["counted"])
    return ReportTable(
        _("Calls within the team's promise"),
        [
            Column("village", _("Village"), "text"),
            Column("requests", _("Requests filed")),
            Column("counted", _("Promise ended or contacted")),
            Column("in_time", _("Contacted in time")),
            Column("late", _("Late or not contacted")),
            Column("share", _("Called within the promise"), "percent"),
        ],
        rows,
        totals,
        " ".join([_("Requests filed in the chosen period."), promise_note()]),
    )
