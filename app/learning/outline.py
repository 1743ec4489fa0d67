"""A course's table of contents (modules, lessons, quizzes in order) and its lesson texts,
cached per process.

Lesson pages are the hot path when a province is told to finish a course by Friday. Course
content changes only when the course files are synced, and every sync that changes a course
changes its content hash, so the outline and the lesson texts are cached under that hash: the
next page after a sync, in any process, finds the new hash and loads the new content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup
from sqlalchemy import select, text

from app.extensions import db
from app.learning.models import (
    DEFAULT_LANGUAGE,
    Course,
    CourseModule,
    Lesson,
    LessonBody,
    Quiz,
    translated,
)

#: Course slugs and lesson keys (see content.ID_PATTERN). Anything else names nothing and is not
#: sent to the database (PostgreSQL refuses a NUL byte in a query).
CONTENT_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")


@dataclass(frozen=True)
class LessonEntry:
    id: int
    key: str
    titles: dict
    module_key: str

    @property
    def title(self) -> str:
        return translated(self.titles)


@dataclass(frozen=True)
class ModuleEntry:
    key: str
    titles: dict
    quiz_id: int | None
    lessons: tuple[LessonEntry, ...]

    @property
    def title(self) -> str:
        return translated(self.titles)


@dataclass(frozen=True)
class Outline:
    course_id: int
    slug: str
    titles: dict
    content_hash: str
    modules: tuple[ModuleEntry, ...]

    @property
    def title(self) -> str:
        return translated(self.titles)

    @property
    def lessons(self) -> list[LessonEntry]:
        return [lesson for module in self.modules for lesson in module.lessons]

    def position(self, lesson_id: int) -> tuple[LessonEntry | None, LessonEntry | None, LessonEntry | None]:
        """(previous, this, next) lesson around `lesson_id`."""
        lessons = self.lessons
        for index, lesson in enumerate(lessons):
            if lesson.id == lesson_id:
                previous = lessons[index - 1] if index else None
                following = lessons[index + 1] if index + 1 < len(lessons) else None
                return previous, lesson, following
        return None, None, None

    def module(self, key: str) -> ModuleEntry | None:
        return next((module for module in self.modules if module.key == key), None)

    def lesson(self, key: str) -> LessonEntry | None:
        return next((lesson for module in self.modules for lesson in module.lessons if lesson.key == key), None)


_cache: dict[tuple[int, str], Outline] = {}


def course_outline(course: Course) -> Outline:
    cache_key = (course.id, course.content_hash)
    outline = _cache.get(cache_key)
    if outline is None:
        outline = _load(course)
        _cache[cache_key] = outline
    return outline


# Plain SQL: built and compiled once, this statement costs next to nothing in Python, which on the
# busiest page of the site matters more than the comfort of the expression language.
_READING_STATE = text(
    """
    SELECT courses.id, courses.content_hash, EXISTS (
        SELECT 1 FROM lesson_progress JOIN lessons ON lessons.id = lesson_progress.lesson_id
        WHERE lesson_progress.user_id = :user_id AND lessons.course_id = courses.id AND lessons.key = :lesson_key
    ) AS has_read
    FROM courses
    WHERE courses.slug = :slug AND courses.retired_at IS NULL
    """
)


def reading_state(slug: str, lesson_key: str, user_id: int) -> tuple[Outline, bool] | None:
    """The outline of the active course `slug`, and whether the user has read its lesson
    `lesson_key`: one query (the content hash and the read mark), the rest from the cache.
    None when there is no such active course."""
    if not CONTENT_ID.fullmatch(slug) or not CONTENT_ID.fullmatch(lesson_key):
        return None
    row = db.session.execute(_READING_STATE, {"slug": slug, "lesson_key": lesson_key, "user_id": user_id}).one_or_none()
    if row is None:
        return None
    course_id, content_hash, has_read = row
    outline = _cache.get((course_id, content_hash))
    if outline is None:
        outline = course_outline(db.session.get(Course, course_id))
    return outline, bool(has_read)


def lesson_html(outline: Outline, lesson_id: int, lang: str) -> tuple[Markup | None, bool]:
    """The sanitised lesson text in `lang`, else in Vietnamese; the flag says it fell back."""
    return _lesson_html(lesson_id, lang, outline.content_hash)


@lru_cache(maxsize=512)
def _lesson_html(lesson_id: int, lang: str, content_hash: str) -> tuple[Markup | None, bool]:
    # content_hash is part of the cache key only: a sync that changes the course changes it.
    bodies = dict(
        db.session.execute(
            select(LessonBody.lang, LessonBody.html).where(
                LessonBody.lesson_id == lesson_id, LessonBody.lang.in_({lang, DEFAULT_LANGUAGE})
            )
        ).all()
    )
    # The stored HTML was sanitised (nh3 allow-list) when the course was synced.
    if lang in bodies:
        return Markup(bodies[lang]), False  # noqa: S704
    fallback = bodies.get(DEFAULT_LANGUAGE)
    return (Markup(fallback) if fallback is not None else None), True  # noqa: S704


def _load(course: Course) -> Outline:
    modules = db.session.execute(
        select(CourseModule.id, CourseModule.key, CourseModule.titles)
        .where(CourseModule.course_id == course.id, CourseModule.retired_at.is_(None))
        .order_by(CourseModule.position)
    ).all()
    lessons = db.session.execute(
        select(Lesson.id, Lesson.key, Lesson.titles, Lesson.module_id)
        .where(Lesson.course_id == course.id, Lesson.retired_at.is_(None))
        .order_by(Lesson.position)
    ).all()
    quizzes = dict(
        db.session.execute(
            select(Quiz.module_id, Quiz.id).where(
                Quiz.module_id.in_([m.id for m in modules]), Quiz.retired_at.is_(None)
            )
        ).all()
    )
    entries = []
    for module_id, key, titles in modules:
        module_lessons = tuple(
            LessonEntry(lesson_id, lesson_key, lesson_titles, key)
            for lesson_id, lesson_key, lesson_titles, lesson_module in lessons
            if lesson_module == module_id
        )
        entries.append(ModuleEntry(key, titles, quizzes.get(module_id), module_lessons))
    return Outline(course.id, course.slug, dict(course.titles or {}), course.content_hash, tuple(entries))


# --- what grading needs of a quiz ---------------------------------------------------------


@dataclass(frozen=True)
class QuizKey:
    """What grading a submission needs of a quiz: its pass mark, every question's kind and right
    options (retired questions too: an attempt opened before a sync still asks them), and for the
    completion check after a pass, its module and the module's active lessons."""

    quiz_id: int
    pass_mark: int
    module_id: int
    #: The module's active lessons.
    lesson_ids: tuple[int, ...]
    #: question id -> (kind, the active options marked correct)
    questions: dict[int, tuple[str, frozenset[int]]]


#: (quiz id, course content hash, course synced_at) -> QuizKey. Every course sync that writes a
#: course sets its synced_at (a forced sync of unchanged files too) and a changed course its
#: content hash: the first submission after a sync, in any process, loads the quiz again.
_quiz_keys: dict[tuple, QuizKey] = {}
_QUIZ_KEYS_KEPT = 256


def quiz_key(quiz_id: int, content_version: tuple) -> QuizKey:
    """The grading key of quiz `quiz_id` whose course has `content_version` (its content hash and
    synced_at, as read with the attempt), from this process's cache or the database."""
    cache_key = (quiz_id, *content_version)
    key = _quiz_keys.get(cache_key)
    if key is None:
        key = _load_quiz_key(quiz_id)
        if len(_quiz_keys) >= _QUIZ_KEYS_KEPT:
            _quiz_keys.clear()
        _quiz_keys[cache_key] = key
    return key


def _load_quiz_key(quiz_id: int) -> QuizKey:
    quiz = db.session.get(Quiz, quiz_id)
    module = quiz.module
    return QuizKey(
        quiz_id=quiz.id,
        pass_mark=quiz.pass_mark,
        module_id=module.id,
        lesson_ids=tuple(lesson.id for lesson in module.active_lessons),
        questions={question.id: (question.kind, frozenset(question.correct_option_ids)) for question in quiz.questions},
    )
