"""A course's table of contents (modules, lessons, quizzes in order), cached per process.

Lesson pages are the hot path when a province is told to finish a course by Friday; the outline
changes only when the course files are synced, so it is cached under the course's content hash
and rebuilt automatically after a sync.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.learning.models import Course, CourseModule, Lesson, Quiz, translated


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
    modules: tuple[ModuleEntry, ...]

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


_cache: dict[tuple[int, str], Outline] = {}


def course_outline(course: Course) -> Outline:
    cache_key = (course.id, course.content_hash)
    outline = _cache.get(cache_key)
    if outline is None:
        outline = _load(course)
        _cache[cache_key] = outline
    return outline


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
    return Outline(tuple(entries))
