"""Keyword search over the open courses and lessons, in the reader's language.

Matching ignores letter case and Vietnamese accents ("dinh danh" finds "định danh"): both the
query and the texts are folded (see `fold`) and every word of the query must occur in a course's
title and summary, or in a lesson's title and text. What is searched is what the reader would
see: the texts in their language, else in Vietnamese, of courses, modules and lessons that are
not retired.

The texts are few (a few hundred lessons) and change only at a course sync, so each process
folds them once per language and keeps them under the courses' content hashes (as the lesson
outline does, app/learning/outline.py): a search costs one query (the open courses and their
hashes) and a scan of the folded texts in memory, and a synced change shows on the next search.
"""

from __future__ import annotations

import html
import re
import unicodedata
from array import array
from dataclasses import dataclass
from functools import lru_cache

from flask_babel import gettext as _
from sqlalchemy import select

from app.exceptions import Invalid
from app.extensions import db
from app.learning.models import DEFAULT_LANGUAGE, Course, CourseModule, Lesson, LessonBody, translated

#: The longest query taken (characters, before folding).
QUERY_MAX_LENGTH = 100
#: Words of a query beyond this are ignored.
QUERY_MAX_WORDS = 10
#: Hits shown at most.
RESULT_LIMIT = 30
#: Characters of text shown on each side of the match in a snippet.
SNIPPET_CONTEXT = 70
#: Combining diacritical marks (U+0300–U+036F): every Vietnamese accent after NFD, and nothing a
#: Bengali letter or vowel sign needs.
_ACCENT = re.compile("[\u0300-\u036f]")
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    if char in "đĐ":
        return "d"
    return _ACCENT.sub("", unicodedata.normalize("NFD", char)).casefold()


def fold(text: str) -> str:
    """`text` for matching: without accents (NFD, combining marks dropped, đ → d) and case-folded,
    character by character, so a match in the folded text maps back to the original."""
    return "".join(_fold_char(char) for char in text)


def _fold_with_positions(text: str) -> tuple[str, array]:
    """The folded text and, for each of its characters, the index of the original character."""
    pieces, positions = [], array("I")
    for index, char in enumerate(text):
        piece = _fold_char(char)
        pieces.append(piece)
        positions.extend([index] * len(piece))
    return "".join(pieces), positions


def plain_text(lesson_html: str) -> str:
    """The words of a lesson's (sanitised) HTML, without tags, on one line."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", lesson_html))).strip()


def parse_query(raw: str | None) -> str:
    """The query as typed, trimmed with its spaces collapsed; "" means no search.

    Raises Invalid when it is longer than QUERY_MAX_LENGTH characters.
    """
    query = _SPACE.sub(" ", raw or "").strip()
    if len(query) > QUERY_MAX_LENGTH:
        raise Invalid(
            _("Type at most %(n)d characters to search for.", n=QUERY_MAX_LENGTH),
            field="q",
        )
    return query


@dataclass(frozen=True)
class _Entry:
    """One searchable course or lesson in one language."""

    kind: str  # "course" or "lesson"
    course_slug: str
    course_title: str
    lesson_key: str | None
    title: str
    text: str
    folded_title: str
    folded_text: str
    #: For each character of folded_text, the index of its character in text.
    positions: array
    order: int


@dataclass(frozen=True)
class Hit:
    """A course or lesson that matched, with the piece of its text around the match (`before`,
    `match`, `after`: plain text, to be escaped when shown)."""

    kind: str
    course_slug: str
    course_title: str
    lesson_key: str | None
    title: str
    before: str
    match: str
    after: str

    @property
    def snippet(self) -> str:
        return f"{self.before}{self.match}{self.after}"


def search(raw_query: str | None, lang: str) -> list[Hit]:
    """The open courses and lessons matching `raw_query` in `lang`, best first (at most
    RESULT_LIMIT). An empty query finds nothing.

    Raises Invalid for a query that is too long (parse_query).
    """
    query = parse_query(raw_query)
    words = fold(query).split()[:QUERY_MAX_WORDS]
    if not words:
        return []
    phrase = " ".join(words)
    scored = []
    for entry in _entries(lang, _content_state()):
        haystack = f"{entry.folded_title}\n{entry.folded_text}"
        if not all(word in haystack for word in words):
            continue
        in_title = all(word in entry.folded_title for word in words)
        score = (4 if phrase in entry.folded_title else 0) + (2 if in_title else 0) + (1 if phrase in haystack else 0)
        scored.append((-score, entry.order, entry))
    scored.sort(key=lambda item: (item[0], item[1]))
    return [_hit(entry, phrase, words) for _score, _order, entry in scored[:RESULT_LIMIT]]


def _hit(entry: _Entry, phrase: str, words: list[str]) -> Hit:
    """The entry with its snippet: around the whole phrase in the text when it is there, else
    around the first word found in the text; the start of the text when only the title matched."""
    before, match, after = _snippet(entry, phrase, words)
    return Hit(entry.kind, entry.course_slug, entry.course_title, entry.lesson_key, entry.title, before, match, after)


def _snippet(entry: _Entry, phrase: str, words: list[str]) -> tuple[str, str, str]:
    text = entry.text
    for needle in (phrase, *words):
        found = entry.folded_text.find(needle)
        if found >= 0:
            break
    else:
        return "", "", _cut_after(text)
    start = entry.positions[found]
    end = entry.positions[found + len(needle) - 1] + 1
    before = text[max(0, start - SNIPPET_CONTEXT) : start]
    if start > SNIPPET_CONTEXT:  # begin at a whole word
        before = "…" + (before.split(" ", 1)[1] if " " in before else before)
    return before, text[start:end], _cut_after(text[end:])


def _cut_after(text: str) -> str:
    if len(text) <= SNIPPET_CONTEXT:
        return text
    cut = text[:SNIPPET_CONTEXT]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"


# --- the folded texts, cached per process ----------------------------------------------------


def _content_state() -> tuple[tuple[int, str], ...]:
    """The open courses and their content hashes: what the cached texts depend on."""
    rows = db.session.execute(
        select(Course.id, Course.content_hash).where(Course.retired_at.is_(None)).order_by(Course.id)
    )
    return tuple((course_id, content_hash) for course_id, content_hash in rows)


@lru_cache(maxsize=8)
def _entries(lang: str, state: tuple[tuple[int, str], ...]) -> tuple[_Entry, ...]:
    # `state` is part of the cache key only: a sync that changes, adds or retires a course changes it.
    course_ids = [course_id for course_id, _hash in state]
    if not course_ids:
        return ()
    courses = list(
        db.session.scalars(select(Course).where(Course.id.in_(course_ids)).order_by(Course.audience, Course.id))
    )
    lessons = db.session.execute(
        select(Lesson.id, Lesson.course_id, Lesson.key, Lesson.titles)
        .join(CourseModule, CourseModule.id == Lesson.module_id)
        .where(
            Lesson.course_id.in_(course_ids),
            Lesson.retired_at.is_(None),
            CourseModule.retired_at.is_(None),
        )
        .order_by(Lesson.course_id, CourseModule.position, Lesson.position)
    ).all()
    bodies: dict[int, dict[str, str]] = {}
    for lesson_id, body_lang, body_html in db.session.execute(
        select(LessonBody.lesson_id, LessonBody.lang, LessonBody.html).where(
            LessonBody.lesson_id.in_([row.id for row in lessons]), LessonBody.lang.in_({lang, DEFAULT_LANGUAGE})
        )
    ):
        bodies.setdefault(lesson_id, {})[body_lang] = body_html
    lessons_of: dict[int, list] = {}
    for row in lessons:
        lessons_of.setdefault(row.course_id, []).append(row)

    entries = []
    for course in courses:
        course_title = translated(course.titles, lang)
        summary = translated(course.summaries, lang)
        entries.append(_entry("course", course.slug, course_title, None, course_title, summary, len(entries)))
        for row in lessons_of.get(course.id, []):
            texts = bodies.get(row.id, {})
            body = texts.get(lang) or texts.get(DEFAULT_LANGUAGE) or ""
            title = translated(row.titles, lang)
            entries.append(_entry("lesson", course.slug, course_title, row.key, title, plain_text(body), len(entries)))
    return tuple(entries)


def _entry(kind, slug, course_title, lesson_key, title, text, order) -> _Entry:
    # Composed characters, so that a match never ends between a letter and its accent.
    title, text = unicodedata.normalize("NFC", title), unicodedata.normalize("NFC", text)
    folded_text, positions = _fold_with_positions(text)
    return _Entry(kind, slug, course_title, lesson_key, title, text, fold(title), folded_text, positions, order)
