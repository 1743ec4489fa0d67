"""The personal data of this package's tables, declared in the register (app.privacy.register).

Course content (courses, modules, lessons, quizzes, questions, options) names no one. A learner's
progress, attempts and certificates are held for the province's training programme (a state task)
as long as the account exists.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.learning.models import (
    COMPLETION_MODE_TITLES,
    Assignment,
    AttemptQuestion,
    Certificate,
    ClassAttendance,
    CourseModule,
    Enrollment,
    Lesson,
    LessonProgress,
    ModuleCompletion,
    QuizAttempt,
    TrainingClass,
)
from app.privacy.register import Personal, declare, exporter
from app.privacy.rows import about, row

LEARNING = Personal("basic", "learning", "state_task", "account")
# Who assigned a course or recorded a class: the staff member's work, kept with the record.
STAFF = Personal("basic", "learning", "state_task", "account")

# ---- course content: names no one --------------------------------------------------------

declare(
    "courses",
    _l("Courses"),
    not_personal={
        "id",
        "slug",
        "version",
        "audience",
        "estimated_minutes",
        "titles",
        "summaries",
        "languages",
        "content_hash",
        "synced_at",
        "retired_at",
    },
)
declare(
    "course_modules",
    _l("Course modules"),
    not_personal={"id", "course_id", "key", "position", "titles", "retired_at"},
)
declare(
    "lessons",
    _l("Lessons"),
    not_personal={"id", "course_id", "module_id", "key", "position", "titles", "retired_at"},
)
declare("lesson_bodies", _l("Lesson texts"), not_personal={"lesson_id", "lang", "markdown", "html"})
declare("quizzes", _l("Quizzes"), not_personal={"id", "module_id", "pass_mark", "max_attempts", "review", "retired_at"})
declare(
    "questions",
    _l("Quiz questions"),
    not_personal={"id", "quiz_id", "key", "kind", "position", "prompts", "explanations", "retired_at"},
)
declare(
    "options",
    _l("Answer options"),
    not_personal={"id", "question_id", "key", "position", "texts", "is_correct", "retired_at"},
)

# ---- a learner's own records ---------------------------------------------------------------

declare(
    "enrollments",
    _l("Courses a person enrolled in"),
    personal={"user_id": LEARNING, "enrolled_at": LEARNING, "completed_at": LEARNING, "completion_mode": LEARNING},
    not_personal={"id", "course_id"},
)


@exporter("enrollments")
def export_enrollments(subject) -> list[dict]:
    rows = db.session.scalars(
        select(Enrollment)
        .where(about(subject, user_columns=[Enrollment.user_id]))
        .options(selectinload(Enrollment.course))
        .order_by(Enrollment.enrolled_at)
    )
    return [
        row(
            course=e.course.title,
            enrolled_at=e.enrolled_at,
            completed_at=e.completed_at,
            mode=COMPLETION_MODE_TITLES.get(e.completion_mode) if e.completion_mode else None,
        )
        for e in rows
    ]


declare(
    "lesson_progress",
    _l("Lessons a person read"),
    personal={"user_id": LEARNING, "read_at": LEARNING, "mode": LEARNING},
    not_personal={"id", "lesson_id"},
)


@exporter("lesson_progress")
def export_lesson_progress(subject) -> list[dict]:
    rows = db.session.execute(
        select(LessonProgress, Lesson)
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(about(subject, user_columns=[LessonProgress.user_id]))
        .options(selectinload(Lesson.course))
        .order_by(LessonProgress.read_at)
    ).tuples()
    return [
        row(course=lesson.course.title, lesson=lesson.title, read_at=p.read_at, mode=COMPLETION_MODE_TITLES[p.mode])
        for p, lesson in rows
    ]


declare(
    "module_completions",
    _l("Course modules a person completed"),
    personal={"user_id": LEARNING, "completed_at": LEARNING, "mode": LEARNING},
    not_personal={"id", "module_id"},
)


@exporter("module_completions")
def export_module_completions(subject) -> list[dict]:
    rows = db.session.execute(
        select(ModuleCompletion, CourseModule)
        .join(CourseModule, CourseModule.id == ModuleCompletion.module_id)
        .where(about(subject, user_columns=[ModuleCompletion.user_id]))
        .options(selectinload(CourseModule.course))
        .order_by(ModuleCompletion.completed_at)
    ).tuples()
    return [
        row(
            course=module.course.title,
            module=module.title,
            completed_at=c.completed_at,
            mode=COMPLETION_MODE_TITLES[c.mode],
        )
        for c, module in rows
    ]


declare(
    "quiz_attempts",
    _l("Quiz attempts"),
    personal={
        "user_id": LEARNING,
        "number": LEARNING,
        "started_at": LEARNING,
        "submitted_at": LEARNING,
        "score": LEARNING,
        "passed": LEARNING,
        "reset_at": LEARNING,
    },
    # The shuffle's seed and the quiz's highest score say nothing about the learner.
    not_personal={"id", "quiz_id", "seed", "max_score"},
)


def _attempts(subject) -> list[QuizAttempt]:
    return list(
        db.session.scalars(
            select(QuizAttempt)
            .where(about(subject, user_columns=[QuizAttempt.user_id]))
            .options(
                selectinload(QuizAttempt.quiz),
                selectinload(QuizAttempt.questions).selectinload(AttemptQuestion.question),
                selectinload(QuizAttempt.questions).selectinload(AttemptQuestion.choices),
            )
            .order_by(QuizAttempt.started_at, QuizAttempt.id)
        )
    )


@exporter("quiz_attempts")
def export_quiz_attempts(subject) -> list[dict]:
    return [
        row(
            quiz=attempt.quiz.module.title,
            attempt=attempt.number,
            started_at=attempt.started_at,
            submitted_at=attempt.submitted_at,
            score=attempt.score,
            max_score=attempt.max_score,
            passed=attempt.passed,
            reset_at=attempt.reset_at,
        )
        for attempt in _attempts(subject)
    ]


declare(
    "attempt_questions",
    _l("Questions of a person's quiz attempts"),
    # The attempt links the row to the learner; whether they answered right is about them.
    personal={"attempt_id": LEARNING, "is_correct": LEARNING},
    not_personal={"id", "question_id", "position", "option_order"},
)


@exporter("attempt_questions")
def export_attempt_questions(subject) -> list[dict]:
    return [
        row(
            quiz=attempt.quiz.module.title,
            attempt=attempt.number,
            question=item.question.prompt,
            correct=item.is_correct,
        )
        for attempt in _attempts(subject)
        for item in attempt.questions
    ]


declare(
    "attempt_choices",
    _l("Answers a person chose in quizzes"),
    personal={"attempt_question_id": LEARNING, "option_id": LEARNING},
    not_personal={"id"},
)


@exporter("attempt_choices")
def export_attempt_choices(subject) -> list[dict]:
    rows = []
    for attempt in _attempts(subject):
        for item in attempt.questions:
            options = {option.id: option for option in item.question.options}
            for choice in item.choices:
                option = options.get(choice.option_id)
                rows.append(
                    row(
                        quiz=attempt.quiz.module.title,
                        attempt=attempt.number,
                        question=item.question.prompt,
                        answer=option.text if option is not None else None,
                    )
                )
    return rows


declare(
    "certificates",
    _l("Certificates"),
    personal={
        "code": LEARNING,
        "user_id": LEARNING,
        "issued_at": LEARNING,
        "completed_on": LEARNING,
        "revoked_at": LEARNING,
    },
    not_personal={"id", "course_id"},
)


@exporter("certificates")
def export_certificates(subject) -> list[dict]:
    rows = db.session.scalars(
        select(Certificate)
        .where(about(subject, user_columns=[Certificate.user_id]))
        .options(selectinload(Certificate.course))
        .order_by(Certificate.issued_at)
    )
    return [
        row(
            code=c.code,
            course=c.course.title,
            completed_on=c.completed_on,
            issued_at=c.issued_at,
            revoked_at=c.revoked_at,
        )
        for c in rows
    ]


# ---- staff work: assignments and in-person classes ---------------------------------------

declare(
    "assignments",
    _l("Courses assigned to groups of learners"),
    personal={"created_by_id": STAFF},
    # The note is addressed to a group of learners (a unit and a role), not about a person.
    not_personal={"id", "course_id", "unit_id", "role", "due_on", "created_at", "note"},
)


@exporter("assignments")
def export_assignments(subject) -> list[dict]:
    rows = db.session.scalars(
        select(Assignment)
        .where(about(subject, user_columns=[Assignment.created_by_id]))
        .options(selectinload(Assignment.course), selectinload(Assignment.unit))
        .order_by(Assignment.created_at)
    )
    return [
        row(your_part=_l("Assigned"), course=a.course.title, unit=a.unit.display_name, created_at=a.created_at)
        for a in rows
    ]


declare(
    "training_classes",
    _l("In-person classes"),
    personal={"recorded_by_id": STAFF},
    # The place is a community point; the attendees are in class_attendance.
    not_personal={"id", "course_id", "unit_id", "held_on", "place", "created_at", "module_keys"},
)


@exporter("training_classes")
def export_training_classes(subject) -> list[dict]:
    rows = db.session.scalars(
        select(TrainingClass)
        .where(about(subject, user_columns=[TrainingClass.recorded_by_id]))
        .options(selectinload(TrainingClass.course))
        .order_by(TrainingClass.held_on)
    )
    return [row(your_part=_l("Recorded"), course=c.course.title, held_on=c.held_on, place=c.place) for c in rows]


declare(
    "class_attendance",
    _l("Attendance at in-person classes"),
    personal={"user_id": LEARNING},
    not_personal={"id", "class_id"},
)


@exporter("class_attendance")
def export_class_attendance(subject) -> list[dict]:
    rows = db.session.execute(
        select(TrainingClass)
        .join(ClassAttendance, ClassAttendance.class_id == TrainingClass.id)
        .where(about(subject, user_columns=[ClassAttendance.user_id]))
        .options(selectinload(TrainingClass.course))
        .order_by(TrainingClass.held_on)
    ).scalars()
    return [row(course=c.course.title, held_on=c.held_on, place=c.place) for c in rows]
