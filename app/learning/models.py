"""Courses (synced from the files in courses/) and each learner's progress through them."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.db import UTCDateTime, string_enum, utcnow
from app.extensions import db
from app.units.models import Unit

AUDIENCES = ("resident", "cadre", "tech_team")
AUDIENCE_TITLES = {
    "resident": _l("Residents"),
    "cadre": _l("Cadres and civil servants"),
    "tech_team": _l("Tech-team members"),
}
QUESTION_KINDS = ("single", "multiple", "true_false")
#: What a learner sees after a failed attempt while attempts are left (after a pass or the last
#: attempt they see everything): which of their answers were wrong with the explanations, but
#: not the right options ("mistakes", the default); the score alone ("score"); or everything,
#: right options included ("full", for practice quizzes).
QUIZ_REVIEWS = ("mistakes", "score", "full")
DEFAULT_QUIZ_REVIEW = "mistakes"
#: How a lesson, module or course was completed. Help-credited completion is always counted apart
#: from self-study.
COMPLETION_MODES = ("self", "in_person", "assisted")
COMPLETION_MODE_TITLES = {
    "self": _l("self-study"),
    "in_person": _l("in-person class"),
    "assisted": _l("completed with help"),
}
DEFAULT_LANGUAGE = "vi"


def translated(texts: dict | None, lang: str | None = None) -> str:
    """The text in the request's language, else Vietnamese, else any."""
    if not texts:
        return ""
    lang = lang or str(get_locale() or DEFAULT_LANGUAGE)
    return texts.get(lang) or texts.get(DEFAULT_LANGUAGE) or next(iter(texts.values()))


class Course(db.Model):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    version: Mapped[int]
    audience: Mapped[str] = mapped_column(string_enum(AUDIENCES, "course_audience"))
    estimated_minutes: Mapped[int]
    titles: Mapped[dict] = mapped_column(JSON)
    summaries: Mapped[dict] = mapped_column(JSON)
    #: Languages in which every text and lesson of the course exists.
    languages: Mapped[list] = mapped_column(JSON)
    #: Hash of the course folder, so an unchanged course is not rewritten at sync.
    content_hash: Mapped[str] = mapped_column(String(64))
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Set when the folder disappeared; learners' records stay.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    modules: Mapped[list[CourseModule]] = relationship(back_populates="course", order_by="CourseModule.position")

    def __repr__(self) -> str:
        return f"<Course {self.slug} v{self.version}>"

    @property
    def title(self) -> str:
        return translated(self.titles)

    @property
    def summary(self) -> str:
        return translated(self.summaries)

    @property
    def active_modules(self) -> list[CourseModule]:
        return [module for module in self.modules if module.retired_at is None]


class CourseModule(db.Model):
    __tablename__ = "course_modules"
    __table_args__ = (UniqueConstraint("course_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    #: The id used in the manifest.
    key: Mapped[str] = mapped_column(String(80))
    position: Mapped[int]
    titles: Mapped[dict] = mapped_column(JSON)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    course: Mapped[Course] = relationship(back_populates="modules")
    lessons: Mapped[list[Lesson]] = relationship(back_populates="module", order_by="Lesson.position")
    quiz: Mapped[Quiz | None] = relationship(back_populates="module", uselist=False)

    def __repr__(self) -> str:
        return f"<CourseModule {self.key}>"

    @property
    def title(self) -> str:
        return translated(self.titles)

    @property
    def active_lessons(self) -> list[Lesson]:
        return [lesson for lesson in self.lessons if lesson.retired_at is None]

    @property
    def active_quiz(self) -> Quiz | None:
        return self.quiz if self.quiz is not None and self.quiz.retired_at is None else None


class Lesson(db.Model):
    __tablename__ = "lessons"
    __table_args__ = (UniqueConstraint("course_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("course_modules.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    position: Mapped[int]
    titles: Mapped[dict] = mapped_column(JSON)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    module: Mapped[CourseModule] = relationship(back_populates="lessons")
    course: Mapped[Course] = relationship()

    def __repr__(self) -> str:
        return f"<Lesson {self.key}>"

    @property
    def title(self) -> str:
        return translated(self.titles)


class LessonBody(db.Model):
    """A lesson's text in one language: the Markdown source and the sanitised HTML shown."""

    __tablename__ = "lesson_bodies"

    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), primary_key=True)
    lang: Mapped[str] = mapped_column(String(8), primary_key=True)
    markdown: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<LessonBody {self.lesson_id} {self.lang}>"


class Quiz(db.Model):
    __tablename__ = "quizzes"
    __table_args__ = (
        CheckConstraint("pass_mark BETWEEN 0 AND 100", name="pass_mark_percent"),
        CheckConstraint("max_attempts >= 0", name="max_attempts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("course_modules.id", ondelete="CASCADE"), unique=True)
    #: Percent of the maximum score needed to pass.
    pass_mark: Mapped[int]
    #: 0 means unlimited.
    max_attempts: Mapped[int]
    #: What a failed attempt shows while attempts are left (QUIZ_REVIEWS).
    review: Mapped[str] = mapped_column(
        string_enum(QUIZ_REVIEWS, "quiz_review"), default=DEFAULT_QUIZ_REVIEW, server_default=DEFAULT_QUIZ_REVIEW
    )
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    module: Mapped[CourseModule] = relationship(back_populates="quiz")
    questions: Mapped[list[Question]] = relationship(back_populates="quiz", order_by="Question.position")

    def __repr__(self) -> str:
        return f"<Quiz module={self.module_id}>"

    @property
    def active_questions(self) -> list[Question]:
        return [question for question in self.questions if question.retired_at is None]


class Question(db.Model):
    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("quiz_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(string_enum(QUESTION_KINDS, "question_kind"))
    position: Mapped[int]
    prompts: Mapped[dict] = mapped_column(JSON)
    explanations: Mapped[dict] = mapped_column(JSON)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    quiz: Mapped[Quiz] = relationship(back_populates="questions")
    options: Mapped[list[Option]] = relationship(back_populates="question", order_by="Option.position")

    def __repr__(self) -> str:
        return f"<Question {self.key} {self.kind}>"

    @property
    def prompt(self) -> str:
        return translated(self.prompts)

    @property
    def explanation(self) -> str:
        return translated(self.explanations)

    @property
    def active_options(self) -> list[Option]:
        return [option for option in self.options if option.retired_at is None]

    @property
    def correct_option_ids(self) -> set[int]:
        """What a right answer chooses: the active options marked correct."""
        return {option.id for option in self.active_options if option.is_correct}


class Option(db.Model):
    __tablename__ = "options"
    __table_args__ = (UniqueConstraint("question_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(80))
    position: Mapped[int]
    texts: Mapped[dict] = mapped_column(JSON)
    is_correct: Mapped[bool]
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    question: Mapped[Question] = relationship(back_populates="options")

    def __repr__(self) -> str:
        return f"<Option {self.key}>"

    @property
    def text(self) -> str:
        return translated(self.texts)


# --- learners ----------------------------------------------------------------------------


class Enrollment(db.Model):
    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        Index("ix_enrollments_course_completed", "course_id", "completed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: How the course was completed (self-study only, or with in-person or assisted credit).
    completion_mode: Mapped[str | None] = mapped_column(string_enum(COMPLETION_MODES, "enrollment_completion_mode"))

    user: Mapped[User] = relationship()
    course: Mapped[Course] = relationship()

    def __repr__(self) -> str:
        return f"<Enrollment user={self.user_id} course={self.course_id}>"


class LessonProgress(db.Model):
    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("user_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"), index=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    mode: Mapped[str] = mapped_column(string_enum(COMPLETION_MODES, "lesson_progress_mode"), default="self")

    def __repr__(self) -> str:
        return f"<LessonProgress user={self.user_id} lesson={self.lesson_id} {self.mode}>"


class ModuleCompletion(db.Model):
    __tablename__ = "module_completions"
    __table_args__ = (UniqueConstraint("user_id", "module_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("course_modules.id", ondelete="CASCADE"), index=True)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    mode: Mapped[str] = mapped_column(string_enum(COMPLETION_MODES, "module_completion_mode"), default="self")

    def __repr__(self) -> str:
        return f"<ModuleCompletion user={self.user_id} module={self.module_id} {self.mode}>"


class QuizAttempt(db.Model):
    """One try at a quiz. Created when the learner opens the quiz (with the shuffle seed and the
    questions asked), graded when submitted."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (
        UniqueConstraint("user_id", "quiz_id", "number"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= max_score)", name="score_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id", ondelete="CASCADE"), index=True)
    #: 1 for the first attempt, 2 for the second…
    number: Mapped[int]
    seed: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    score: Mapped[int | None]
    max_score: Mapped[int]
    passed: Mapped[bool | None]
    #: Set when a manager gave the learner their attempts back: the attempt is kept but no
    #: longer counts against the quiz's limit.
    reset_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    quiz: Mapped[Quiz] = relationship()
    user: Mapped[User] = relationship()
    questions: Mapped[list[AttemptQuestion]] = relationship(
        back_populates="attempt", order_by="AttemptQuestion.position", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<QuizAttempt user={self.user_id} quiz={self.quiz_id} #{self.number}>"


class AttemptQuestion(db.Model):
    """A question as asked in one attempt, in the order shown, and whether it was answered right."""

    __tablename__ = "attempt_questions"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    #: Option ids in the order shown.
    option_order: Mapped[list] = mapped_column(JSON)
    is_correct: Mapped[bool | None]

    attempt: Mapped[QuizAttempt] = relationship(back_populates="questions")
    question: Mapped[Question] = relationship()
    choices: Mapped[list[AttemptChoice]] = relationship(cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<AttemptQuestion attempt={self.attempt_id} question={self.question_id}>"

    @property
    def shown_options(self) -> list[Option]:
        """The question's options in this attempt's own shuffled order."""
        by_id = {option.id: option for option in self.question.options}
        return [by_id[option_id] for option_id in self.option_order if option_id in by_id]


class AttemptChoice(db.Model):
    """An option the learner chose (one row per chosen option, so analytics can count them)."""

    __tablename__ = "attempt_choices"
    __table_args__ = (UniqueConstraint("attempt_question_id", "option_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_question_id: Mapped[int] = mapped_column(ForeignKey("attempt_questions.id", ondelete="CASCADE"), index=True)
    option_id: Mapped[int] = mapped_column(ForeignKey("options.id", ondelete="CASCADE"), index=True)

    def __repr__(self) -> str:
        return f"<AttemptChoice {self.attempt_question_id}:{self.option_id}>"


class Certificate(db.Model):
    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Printed on the certificate and in its QR code; checked at /verify/<code>.
    code: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: The course was completed on this date (local time).
    completed_on: Mapped[date]
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
    course: Mapped[Course] = relationship()

    def __repr__(self) -> str:
        return f"<Certificate {self.code}>"


class Assignment(db.Model):
    """A course assigned to everyone with a role within a unit's subtree, due by a date."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[str] = mapped_column(string_enum(AUDIENCES, "assignment_role"))
    due_on: Mapped[date]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)

    course: Mapped[Course] = relationship()
    unit: Mapped[Unit] = relationship()
    created_by: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Assignment course={self.course_id} unit={self.unit_id} {self.role} due {self.due_on}>"


class TrainingClass(db.Model):
    """An in-person class run by a tech-team member; attendees are credited for its modules."""

    __tablename__ = "training_classes"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    held_on: Mapped[date]
    place: Mapped[str] = mapped_column(String(200))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: Module keys covered; all of the course's modules when the class covered the whole course.
    module_keys: Mapped[list] = mapped_column(JSON)

    course: Mapped[Course] = relationship()
    unit: Mapped[Unit] = relationship()
    recorded_by: Mapped[User] = relationship()
    attendees: Mapped[list[ClassAttendance]] = relationship(cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<TrainingClass course={self.course_id} {self.held_on}>"


class ClassAttendance(db.Model):
    __tablename__ = "class_attendance"
    __table_args__ = (UniqueConstraint("class_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("training_classes.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ClassAttendance class={self.class_id} user={self.user_id}>"
