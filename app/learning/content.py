"""Course folders: reading, validating, and syncing them into the database.

A course folder holds course.yml, quiz files, lessons/<lesson>.<lang>.md and optional images/ and
audio/ folders (see courses/README.md; the rules for pictures and recordings are in media.py).
Validation reports every problem with its file and place. Syncing matches everything by its id in
the files, so learners' progress and attempts survive edits; what disappeared from the files is
retired, never deleted.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.db import utcnow
from app.extensions import db
from app.learning import media as lesson_media
from app.learning.markdown import render_lesson
from app.learning.models import (
    AUDIENCES,
    DEFAULT_LANGUAGE,
    DEFAULT_QUIZ_REVIEW,
    QUESTION_KINDS,
    QUIZ_REVIEWS,
    Course,
    CourseModule,
    Lesson,
    LessonBody,
    Option,
    Question,
    Quiz,
)

LANGUAGES = ("vi", "en", "bn")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
#: Slugs that name other addresses (/api/v1/courses/search), so no course can take them.
RESERVED_SLUGS = frozenset({"search"})
TRUE_FALSE_TEXTS = {
    "true": {"vi": "Đúng", "en": "True", "bn": "সত্য"},
    "false": {"vi": "Sai", "en": "False", "bn": "মিথ্যা"},
}


@dataclass
class Problem:
    file: str
    place: str
    message: str
    #: Warnings do not stop a sync (e.g. a lesson not yet translated into a course language).
    warning: bool = False

    def __str__(self) -> str:
        kind = "warning" if self.warning else "error"
        return f"{self.file}: {self.place}: {kind}: {self.message}"


@dataclass
class LessonSpec:
    key: str
    titles: dict
    bodies: dict  # lang -> markdown
    #: lang -> {"audio/<file>": transcript Markdown} for the recordings the lesson plays.
    transcripts: dict = field(default_factory=dict)


@dataclass
class OptionSpec:
    key: str
    texts: dict
    is_correct: bool


@dataclass
class QuestionSpec:
    key: str
    kind: str
    prompts: dict
    explanations: dict
    options: list[OptionSpec]


@dataclass
class QuizSpec:
    pass_mark: int
    max_attempts: int
    questions: list[QuestionSpec]
    review: str = DEFAULT_QUIZ_REVIEW


@dataclass
class ModuleSpec:
    key: str
    titles: dict
    lessons: list[LessonSpec]
    quiz: QuizSpec | None


@dataclass
class CourseSpec:
    slug: str
    version: int
    audience: str
    estimated_minutes: int
    titles: dict
    summaries: dict
    modules: list[ModuleSpec]
    #: Languages in which every text and every lesson exists.
    complete_languages: list[str] = field(default_factory=list)
    content_hash: str = ""
    #: "images/<file>" and "audio/<file>" -> the checked file (app/learning/media.py).
    media: dict = field(default_factory=dict)


class _Checker:
    def __init__(self, folder: Path):
        self.folder = folder
        self.problems: list[Problem] = []

    def rel(self, path: Path) -> str:
        return str(path.relative_to(self.folder.parent)) if path.is_relative_to(self.folder.parent) else str(path)

    def error(self, file: Path, place: str, message: str) -> None:
        self.problems.append(Problem(self.rel(file), place, message))

    def warn(self, file: Path, place: str, message: str) -> None:
        self.problems.append(Problem(self.rel(file), place, message, warning=True))

    def load_yaml(self, path: Path):
        if not path.is_file():
            self.error(path, "file", "the file does not exist")
            return None
        try:
            return yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as problem:
            self.error(path, "file", f"not valid YAML: {problem}")
            return None

    def texts(self, file: Path, place: str, value, languages) -> dict:
        """A language -> text mapping; the default language is required, the course's languages
        are expected."""
        if not isinstance(value, dict) or not value:
            self.error(file, place, f"must be a mapping of language to text, with at least {DEFAULT_LANGUAGE}")
            return {}
        result = {}
        for lang, text in value.items():
            if lang not in LANGUAGES:
                self.error(file, place, f"unknown language {lang!r} (use {', '.join(LANGUAGES)})")
            elif not isinstance(text, str) or not text.strip():
                self.error(file, f"{place}.{lang}", "the text is empty")
            else:
                result[lang] = text.strip()
        for lang in languages:
            if lang not in result:
                self.error(file, place, f"missing translation: {lang}")
        return result

    def identifier(self, file: Path, place: str, value, seen: dict, what: str) -> str | None:
        if not isinstance(value, str) or not ID_PATTERN.match(value):
            self.error(file, place, f"the {what} id {value!r} must be lowercase letters, digits and hyphens")
            return None
        if value in seen:
            self.error(file, place, f"duplicate {what} id {value!r} (also at {seen[value]})")
            return None
        seen[value] = place
        return value


def _positive_int(value, minimum=0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def read_course(folder: Path) -> tuple[CourseSpec | None, list[Problem]]:
    """Read and check one course folder. Returns the spec (None if there are errors) and every
    problem found."""
    check = _Checker(folder)
    manifest_path = folder / "course.yml"
    manifest = check.load_yaml(manifest_path)
    if manifest is None:
        return None, check.problems
    if not isinstance(manifest, dict):
        check.error(manifest_path, "file", "must be a mapping (slug, version, audience, title, modules…)")
        return None, check.problems

    slug = manifest.get("slug")
    if slug != folder.name:
        check.error(manifest_path, "slug", f"must equal the folder name {folder.name!r}")
    elif not ID_PATTERN.match(slug):
        check.error(manifest_path, "slug", "use lowercase letters, digits and hyphens")
    elif slug in RESERVED_SLUGS:
        check.error(manifest_path, "slug", f"{slug!r} is the address of another page; choose another slug")
    version = manifest.get("version")
    if not _positive_int(version, 1):
        check.error(manifest_path, "version", "must be a whole number from 1 up")
    audience = manifest.get("audience")
    if audience not in AUDIENCES:
        check.error(manifest_path, "audience", f"must be one of: {', '.join(AUDIENCES)}")
    minutes = manifest.get("estimated_minutes")
    if not _positive_int(minutes, 1):
        check.error(manifest_path, "estimated_minutes", "must be a whole number of minutes")

    raw_title = manifest.get("title")
    languages = [lang for lang in LANGUAGES if isinstance(raw_title, dict) and lang in raw_title]
    if DEFAULT_LANGUAGE not in languages:
        languages.insert(0, DEFAULT_LANGUAGE)
    titles = check.texts(manifest_path, "title", raw_title, languages)
    summaries = check.texts(manifest_path, "summary", manifest.get("summary"), languages)

    modules: list[ModuleSpec] = []
    raw_modules = manifest.get("modules")
    if not isinstance(raw_modules, list) or not raw_modules:
        check.error(manifest_path, "modules", "a course needs at least one module")
        raw_modules = []
    media = _MediaChecker(check, folder)
    module_ids: dict = {}
    lesson_ids: dict = {}
    question_ids: dict = {}
    incomplete_languages: set[str] = set()
    for m_index, raw_module in enumerate(raw_modules):
        place = f"modules[{m_index}]"
        if not isinstance(raw_module, dict):
            check.error(manifest_path, place, "must be a mapping with id, title, lessons")
            continue
        module_key = check.identifier(manifest_path, f"{place}.id", raw_module.get("id"), module_ids, "module")
        module_titles = check.texts(manifest_path, f"{place}.title", raw_module.get("title"), languages)
        lessons = []
        raw_lessons = raw_module.get("lessons") or []
        if not isinstance(raw_lessons, list):
            check.error(manifest_path, f"{place}.lessons", "must be a list")
            raw_lessons = []
        for l_index, raw_lesson in enumerate(raw_lessons):
            lplace = f"{place}.lessons[{l_index}]"
            if not isinstance(raw_lesson, dict):
                check.error(manifest_path, lplace, "must be a mapping with id and title")
                continue
            lesson_key = check.identifier(manifest_path, f"{lplace}.id", raw_lesson.get("id"), lesson_ids, "lesson")
            lesson_titles = check.texts(manifest_path, f"{lplace}.title", raw_lesson.get("title"), languages)
            bodies = {}
            if lesson_key:
                for lang in LANGUAGES:
                    path = folder / "lessons" / f"{lesson_key}.{lang}.md"
                    if path.is_file():
                        try:
                            bodies[lang] = path.read_text(encoding="utf-8")
                        except UnicodeDecodeError:
                            check.error(path, "file", "not UTF-8 text")
                    elif lang == DEFAULT_LANGUAGE:
                        check.error(path, "file", f"the lesson file for {lesson_key!r} does not exist")
                    elif lang in languages:
                        incomplete_languages.add(lang)
                        check.warn(path, "file", f"lesson {lesson_key!r} is not yet translated into {lang}")
                transcripts = media.check_lesson(lesson_key, bodies)
                lessons.append(LessonSpec(lesson_key, lesson_titles, bodies, transcripts))
        quiz = None
        raw_quiz = raw_module.get("quiz")
        if raw_quiz is not None:
            quiz = _read_quiz(check, folder, manifest_path, f"{place}.quiz", raw_quiz, languages, question_ids)
        if not lessons and raw_quiz is None:
            check.error(manifest_path, place, "a module needs lessons or a quiz")
        if module_key:
            modules.append(ModuleSpec(module_key, module_titles, lessons, quiz))

    media.check_unused()
    if any(not problem.warning for problem in check.problems):
        return None, check.problems
    spec = CourseSpec(
        slug=slug,
        version=version,
        audience=audience,
        estimated_minutes=minutes,
        titles=titles,
        summaries=summaries,
        modules=modules,
        complete_languages=[lang for lang in languages if lang not in incomplete_languages],
        content_hash=folder_hash(folder),
        media=media.files,
    )
    return spec, check.problems


class _MediaChecker:
    """The pictures and recordings of one course folder (rules in app/learning/media.py): every
    file in images/ and audio/ is checked once, each lesson's references in every language."""

    def __init__(self, check: _Checker, folder: Path):
        self.check = check
        self.folder = folder
        self.files: dict[str, lesson_media.MediaFile] = {}
        self.used: set[str] = set()
        self.broken: set[str] = set()
        for kind, types in lesson_media.FOLDERS.items():
            directory = folder / kind
            if not directory.is_dir():
                continue
            for path in sorted(directory.iterdir()):
                if kind == "audio" and path.suffix == ".md" and path.is_file():
                    continue  # a transcript, read with its recording
                if path.suffix.lower() not in types or not lesson_media.FILE_NAME.fullmatch(path.name):
                    check.error(
                        path, "file", _("not a file a lesson can use here (types: %(types)s)", types=", ".join(types))
                    )
                    continue
                found, errors, warnings = lesson_media.inspect(folder, kind, path.name)
                for message in errors:
                    check.error(path, "file", message)
                for message in warnings:
                    check.warn(path, "file", message)
                if found is None or errors:
                    self.broken.add(f"{kind}/{path.name}")
                if found is not None:
                    self.files[found.key] = found

    def check_lesson(self, lesson_key: str, bodies: dict) -> dict:
        """Check the references of one lesson in every language; return its transcripts."""
        transcripts: dict = {}
        shown: dict[str, set[str]] = {}
        for lang, text in bodies.items():
            path = self.folder / "lessons" / f"{lesson_key}.{lang}.md"
            keys: set[str] = set()
            for reference in lesson_media.references(text):
                place = f"![{reference.alt[:30]}]({reference.source[:80]})"
                parsed = lesson_media.parse_reference(reference.source)
                if parsed is None:
                    self.check.error(
                        path,
                        place,
                        _("a lesson shows only files of its own course: images/<file> or audio/<file>"),
                    )
                    continue
                key = "/".join(parsed)
                keys.add(key)
                self.used.add(key)
                if key not in self.files and key not in self.broken:
                    self.check.error(path, place, _("the file %(file)s does not exist in the course folder", file=key))
                    continue
                if not reference.alt:
                    self.check.error(path, place, _("%(file)s has no alt text in %(lang)s", file=key, lang=lang))
                if parsed[0] == "audio":
                    if not reference.alone:
                        self.check.error(path, place, _("put a recording on a line of its own"))
                    transcript = lesson_media.transcript_path(self.folder, parsed[1], lang)
                    try:
                        text_of = transcript.read_text(encoding="utf-8").strip() if transcript.is_file() else ""
                    except UnicodeDecodeError:
                        text_of = ""
                    if not text_of:
                        self.check.error(
                            transcript, "file", _("%(file)s needs a transcript in %(lang)s", file=key, lang=lang)
                        )
                    transcripts.setdefault(lang, {})[key] = text_of
            shown[lang] = keys
            self._check_budget(path, lang, text, keys, transcripts.get(lang, {}))
        # The same pictures in every language, each with that language's alt text.
        missing = [
            (lang, other, key) for lang in shown for other in shown for key in sorted(shown[other] - shown[lang])
        ]
        for lang, other, key in missing:
            message = _("%(file)s is in the %(other)s text, not in this one: add it with alt text in %(lang)s")
            self.check.error(
                self.folder / "lessons" / f"{lesson_key}.{lang}.md",
                key,
                message % {"file": key, "other": other, "lang": lang},
            )
        return transcripts

    def _check_budget(self, path: Path, lang: str, text: str, keys: set[str], transcripts: dict) -> None:
        budget = lesson_media.limits()["budget"]
        pictures = sum(self.files[key].size for key in keys if key in self.files and self.files[key].is_image)
        page = len(render_lesson(text, self.files, transcripts=transcripts).encode()) + lesson_media.PAGE_FRAME_BYTES
        if page + pictures > budget:
            self.check.error(
                path,
                "file",
                _(
                    "the lesson weighs %(weight)d bytes (pictures: %(pictures)d); the budget is %(budget)d",
                    weight=page + pictures,
                    page=page,
                    pictures=pictures,
                    budget=budget,
                ),
            )

    def check_unused(self) -> None:
        for key in sorted(set(self.files) - self.used):
            self.check.warn(self.folder / key, "file", _("no lesson shows this file"))


def _read_quiz(check, folder, manifest_path, place, raw_quiz, languages, question_ids) -> QuizSpec | None:
    if not isinstance(raw_quiz, dict):
        check.error(manifest_path, place, "must be a mapping with file, pass_mark, max_attempts")
        return None
    pass_mark = raw_quiz.get("pass_mark", 70)
    if not _positive_int(pass_mark) or pass_mark > 100:
        check.error(manifest_path, f"{place}.pass_mark", "must be a percentage from 0 to 100")
    max_attempts = raw_quiz.get("max_attempts", 0)
    if not _positive_int(max_attempts):
        check.error(manifest_path, f"{place}.max_attempts", "must be 0 (unlimited) or more")
    review = raw_quiz.get("review", DEFAULT_QUIZ_REVIEW)
    if review not in QUIZ_REVIEWS:
        check.error(manifest_path, f"{place}.review", f"must be one of: {', '.join(QUIZ_REVIEWS)}")
    file_name = raw_quiz.get("file")
    if not isinstance(file_name, str) or "/" in file_name or not file_name.endswith(".yml"):
        check.error(manifest_path, f"{place}.file", "must name a .yml file in the course folder")
        return None
    quiz_path = folder / file_name
    data = check.load_yaml(quiz_path)
    if data is None:
        return None
    raw_questions = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(raw_questions, list) or not raw_questions:
        check.error(quiz_path, "questions", "a quiz needs a list of questions")
        return None
    questions = []
    for q_index, raw in enumerate(raw_questions):
        qplace = f"questions[{q_index}]"
        if not isinstance(raw, dict):
            check.error(quiz_path, qplace, "must be a mapping")
            continue
        key = check.identifier(quiz_path, f"{qplace}.id", raw.get("id"), question_ids, "question")
        kind = raw.get("type")
        if kind not in QUESTION_KINDS:
            check.error(quiz_path, f"{qplace}.type", f"must be one of: {', '.join(QUESTION_KINDS)}")
            continue
        prompts = check.texts(quiz_path, f"{qplace}.prompt", raw.get("prompt"), languages)
        explanations = check.texts(quiz_path, f"{qplace}.explanation", raw.get("explanation"), languages)
        correct = raw.get("correct")
        options: list[OptionSpec] = []
        if kind == "true_false":
            if not isinstance(correct, bool):
                check.error(quiz_path, f"{qplace}.correct", "must be true or false")
                continue
            if raw.get("options"):
                check.error(quiz_path, f"{qplace}.options", "a true_false question has no options")
            options = [
                OptionSpec("true", TRUE_FALSE_TEXTS["true"], correct is True),
                OptionSpec("false", TRUE_FALSE_TEXTS["false"], correct is False),
            ]
        else:
            raw_options = raw.get("options")
            if not isinstance(raw_options, list) or len(raw_options) < 2:
                check.error(quiz_path, f"{qplace}.options", "needs at least two options")
                continue
            option_ids: dict = {}
            for o_index, raw_option in enumerate(raw_options):
                oplace = f"{qplace}.options[{o_index}]"
                if not isinstance(raw_option, dict):
                    check.error(quiz_path, oplace, "must be a mapping with id and text")
                    continue
                option_key = check.identifier(quiz_path, f"{oplace}.id", raw_option.get("id"), option_ids, "option")
                texts = check.texts(quiz_path, f"{oplace}.text", raw_option.get("text"), languages)
                if option_key:
                    options.append(OptionSpec(option_key, texts, False))
            if not isinstance(correct, list) or not correct:
                check.error(quiz_path, f"{qplace}.correct", "must list the correct option ids")
                continue
            known = {option.key for option in options}
            unknown = [answer for answer in correct if answer not in known]
            if unknown:
                check.error(quiz_path, f"{qplace}.correct", f"names no option: {', '.join(map(str, unknown))}")
                continue
            if kind == "single" and len(set(correct)) != 1:
                check.error(quiz_path, f"{qplace}.correct", "a single-choice question has exactly one answer")
                continue
            for option in options:
                option.is_correct = option.key in correct
        if key:
            questions.append(QuestionSpec(key, kind, prompts, explanations, options))
    return QuizSpec(pass_mark, max_attempts, questions, review)


def folder_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def course_folders(root: Path) -> list[Path]:
    return sorted(path for path in root.iterdir() if path.is_dir() and not path.name.startswith((".", "_")))


def validate_courses(root: Path) -> tuple[list[CourseSpec], list[Problem]]:
    """Read every course folder under `root` (a folder name is its slug, so slugs are unique)."""
    specs, problems = [], []
    for folder in course_folders(root):
        spec, found = read_course(folder)
        problems.extend(found)
        if spec is not None:
            specs.append(spec)
    return specs, problems


# --- sync --------------------------------------------------------------------------------


@dataclass
class SyncResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)


def sync_courses(root: Path, *, force: bool = False) -> SyncResult:
    """Bring the database in line with the course folders. Call only after validation passed.

    Unchanged courses (same folder hash) are skipped unless `force`.
    """
    specs, problems = validate_courses(root)
    errors = [problem for problem in problems if not problem.warning]
    if errors:
        raise ValueError(f"{len(errors)} problem(s) in the course files; run flask courses validate")
    result = SyncResult()
    now = utcnow()
    existing = {course.slug: course for course in db.session.scalars(select(Course))}
    for spec in specs:
        course = existing.get(spec.slug)
        if course is not None and course.content_hash == spec.content_hash and not course.retired_at and not force:
            result.unchanged.append(spec.slug)
            continue
        if course is None:
            course = Course(slug=spec.slug)
            db.session.add(course)
            result.created.append(spec.slug)
        else:
            result.updated.append(spec.slug)
        course.version = spec.version
        course.audience = spec.audience
        course.estimated_minutes = spec.estimated_minutes
        course.titles = spec.titles
        course.summaries = spec.summaries
        course.languages = spec.complete_languages
        course.content_hash = spec.content_hash
        course.synced_at = now
        course.retired_at = None
        db.session.flush()
        _sync_modules(course, spec, now)
    for slug, course in existing.items():
        if slug not in {spec.slug for spec in specs} and course.retired_at is None:
            course.retired_at = now
            result.retired.append(slug)
    db.session.flush()
    return result


def _retire_missing(items, keep_keys: set, now) -> None:
    for item in items:
        if item.key not in keep_keys and item.retired_at is None:
            item.retired_at = now


def _sync_modules(course: Course, spec: CourseSpec, now) -> None:
    modules = {
        module.key: module
        for module in db.session.scalars(select(CourseModule).where(CourseModule.course_id == course.id))
    }
    lessons = {lesson.key: lesson for lesson in db.session.scalars(select(Lesson).where(Lesson.course_id == course.id))}
    # Lesson pages live at /learning/<slug>/lessons/<key>; pictures at /learning/<slug>/images/.
    media_base = ".."
    for position, module_spec in enumerate(spec.modules):
        module = modules.get(module_spec.key)
        if module is None:
            module = CourseModule(course_id=course.id, key=module_spec.key)
            db.session.add(module)
            modules[module.key] = module
        module.position = position
        module.titles = module_spec.titles
        module.retired_at = None
        db.session.flush()
        for l_position, lesson_spec in enumerate(module_spec.lessons):
            lesson = lessons.get(lesson_spec.key)
            if lesson is None:
                lesson = Lesson(course_id=course.id, key=lesson_spec.key)
                db.session.add(lesson)
                lessons[lesson.key] = lesson
            lesson.module_id = module.id
            lesson.position = l_position
            lesson.titles = lesson_spec.titles
            lesson.retired_at = None
            db.session.flush()
            _sync_bodies(lesson, lesson_spec, spec.media, media_base)
        _sync_quiz(module, module_spec.quiz, now)
    _retire_missing(modules.values(), {m.key for m in spec.modules}, now)
    _retire_missing(lessons.values(), {lesson.key for m in spec.modules for lesson in m.lessons}, now)


def _sync_bodies(lesson: Lesson, spec: LessonSpec, media: dict, media_base: str) -> None:
    bodies = {
        body.lang: body for body in db.session.scalars(select(LessonBody).where(LessonBody.lesson_id == lesson.id))
    }
    for lang, markdown_text in spec.bodies.items():
        body = bodies.pop(lang, None)
        if body is None:
            body = LessonBody(lesson_id=lesson.id, lang=lang)
            db.session.add(body)
        body.markdown = markdown_text
        with force_locale(lang):
            label = _("Transcript")
        body.html = render_lesson(
            markdown_text, media, base=media_base, transcripts=spec.transcripts.get(lang), transcript_label=label
        )
    for body in bodies.values():  # a translation removed from the files
        db.session.delete(body)


def _sync_quiz(module: CourseModule, spec: QuizSpec | None, now) -> None:
    quiz = db.session.scalar(select(Quiz).where(Quiz.module_id == module.id))
    if spec is None:
        if quiz is not None and quiz.retired_at is None:
            quiz.retired_at = now
        return
    if quiz is None:
        quiz = Quiz(module_id=module.id)
        db.session.add(quiz)
    quiz.pass_mark = spec.pass_mark
    quiz.max_attempts = spec.max_attempts
    quiz.review = spec.review
    quiz.retired_at = None
    db.session.flush()
    questions = {q.key: q for q in db.session.scalars(select(Question).where(Question.quiz_id == quiz.id))}
    for position, question_spec in enumerate(spec.questions):
        question = questions.get(question_spec.key)
        if question is None:
            question = Question(quiz_id=quiz.id, key=question_spec.key)
            db.session.add(question)
            questions[question.key] = question
        question.kind = question_spec.kind
        question.position = position
        question.prompts = question_spec.prompts
        question.explanations = question_spec.explanations
        question.retired_at = None
        db.session.flush()
        options = {o.key: o for o in db.session.scalars(select(Option).where(Option.question_id == question.id))}
        for o_position, option_spec in enumerate(question_spec.options):
            option = options.get(option_spec.key)
            if option is None:
                option = Option(question_id=question.id, key=option_spec.key)
                db.session.add(option)
                options[option.key] = option
            option.position = o_position
            option.texts = option_spec.texts
            option.is_correct = option_spec.is_correct
            option.retired_at = None
        _retire_missing(options.values(), {o.key for o in question_spec.options}, now)
    _retire_missing(questions.values(), {q.key for q in spec.questions}, now)
