"""Course folders: the validator's reports, and syncing that keeps learners' progress."""

import shutil
from pathlib import Path

import pytest
import yaml

from app.learning import operations
from app.learning.content import read_course, validate_courses
from app.learning.models import (
    Course,
    CourseModule,
    Lesson,
    LessonBody,
    LessonProgress,
    Option,
    Question,
    Quiz,
    QuizAttempt,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_courses_are_valid_and_complete_enough():
    specs, problems = validate_courses(ROOT / "courses")
    assert [str(p) for p in problems if not p.warning] == []
    assert len(specs) >= 5
    for spec in specs:
        lessons = [lesson for module in spec.modules for lesson in module.lessons]
        questions = [q for module in spec.modules if module.quiz for q in module.quiz.questions]
        assert 3 <= len(lessons) <= 6, spec.slug
        assert len(questions) >= 8, spec.slug
        assert all(q.explanations.get("vi") and q.explanations.get("en") for q in questions), spec.slug
        assert {"vi", "en"} <= set(spec.complete_languages), spec.slug


def test_every_shipped_course_is_complete_in_vietnamese_english_and_bengali():
    specs, problems = validate_courses(ROOT / "courses")
    assert [str(p) for p in problems] == []
    languages = {"vi", "en", "bn"}
    for spec in specs:
        assert languages <= set(spec.complete_languages), spec.slug
        for module in spec.modules:
            assert languages <= set(module.titles), (spec.slug, module.key)
            for lesson in module.lessons:
                assert languages <= set(lesson.titles), lesson.key
                assert all(lesson.bodies.get(lang, "").strip() for lang in languages), lesson.key
            for question in module.quiz.questions if module.quiz else []:
                assert languages <= set(question.prompts), question.key
                assert languages <= set(question.explanations), question.key
                for option in question.options:
                    assert languages <= set(option.texts), (question.key, option.key)


def test_the_sync_loads_bengali_lessons_and_questions_of_every_course(db, real_courses):
    for slug, course in real_courses.items():
        assert "bn" in course.languages, slug
        lessons = db.session.scalars(db.select(Lesson).where(Lesson.course_id == course.id)).all()
        assert lessons, slug
        for lesson in lessons:
            assert "bn" in lesson.titles, (slug, lesson.key)
            body = db.session.get(LessonBody, (lesson.id, "bn"))
            assert body is not None and body.html.strip(), (slug, lesson.key)
        questions = db.session.scalars(
            db.select(Question).join(Quiz).join(CourseModule).where(CourseModule.course_id == course.id)
        ).all()
        assert questions, slug
        assert all(q.prompts.get("bn") and q.explanations.get("bn") for q in questions), slug
        assert all(o.texts.get("bn") for q in questions for o in q.options), slug


def copy_course(tmp_path, slug="smartphone-basics") -> Path:
    folder = tmp_path / slug
    shutil.copytree(ROOT / "courses" / slug, folder)
    return folder


def edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def problems_of(folder: Path) -> list[str]:
    spec, problems = read_course(folder)
    errors = [str(p) for p in problems if not p.warning]
    assert spec is None if errors else spec is not None
    return errors


def test_missing_translation_of_a_title_is_reported_with_file_and_place(tmp_path):
    folder = copy_course(tmp_path)
    edit_yaml(folder / "course.yml", lambda d: d["modules"][1]["title"].pop("bn"))
    assert problems_of(folder) == ["smartphone-basics/course.yml: modules[1].title: error: missing translation: bn"]


def test_a_quiz_answer_that_names_no_option_is_reported(tmp_path):
    folder = copy_course(tmp_path)
    edit_yaml(folder / "quiz-first-steps.yml", lambda d: d["questions"][0].update(correct=["z"]))
    assert problems_of(folder) == [
        "smartphone-basics/quiz-first-steps.yml: questions[0].correct: error: names no option: z"
    ]


def test_a_missing_lesson_file_is_reported(tmp_path):
    folder = copy_course(tmp_path)
    (folder / "lessons" / "calls-and-messages.vi.md").unlink()
    errors = problems_of(folder)
    assert errors == [
        "smartphone-basics/lessons/calls-and-messages.vi.md: file: error: "
        "the lesson file for 'calls-and-messages' does not exist"
    ]


def test_a_missing_translation_of_a_lesson_is_a_warning_and_the_language_is_incomplete(tmp_path):
    folder = copy_course(tmp_path)
    (folder / "lessons" / "calls-and-messages.bn.md").unlink()
    spec, problems = read_course(folder)
    assert spec is not None
    assert [p.warning for p in problems] == [True]
    assert "bn" not in spec.complete_languages


def test_duplicate_ids_are_reported(tmp_path):
    folder = copy_course(tmp_path)

    def duplicate(data):
        data["modules"][1]["lessons"][0]["id"] = data["modules"][0]["lessons"][0]["id"]

    edit_yaml(folder / "course.yml", duplicate)
    errors = problems_of(folder)
    assert len(errors) == 1
    assert "duplicate lesson id 'turn-on-and-unlock' (also at modules[0].lessons[0].id)" in errors[0]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(audience="everyone"), "audience: error: must be one of"),
        (lambda d: d.update(version="two"), "version: error: must be a whole number"),
        (lambda d: d.update(slug="other"), "slug: error: must equal the folder name"),
        (lambda d: d.update(modules=[]), "modules: error: a course needs at least one module"),
        (lambda d: d["modules"][0]["quiz"].update(pass_mark=120), "pass_mark: error: must be a percentage"),
        (lambda d: d["modules"][0]["quiz"].update(file="nope.yml"), "nope.yml: file: error: the file does not exist"),
        (lambda d: d["title"].update(fr="Bonjour"), "title: error: unknown language 'fr'"),
    ],
)
def test_manifest_mistakes_are_reported(tmp_path, change, expected):
    folder = copy_course(tmp_path)
    edit_yaml(folder / "course.yml", change)
    errors = problems_of(folder)
    assert any(expected in error for error in errors), errors


def test_broken_yaml_is_reported_not_raised(tmp_path):
    folder = copy_course(tmp_path)
    (folder / "quiz-first-steps.yml").write_text("questions: [unclosed", encoding="utf-8")
    errors = problems_of(folder)
    assert any("quiz-first-steps.yml: file: error: not valid YAML" in e for e in errors)


def test_single_choice_with_two_answers_and_true_false_with_options_are_refused(tmp_path):
    folder = copy_course(tmp_path)

    def break_quiz(data):
        single = next(q for q in data["questions"] if q["type"] == "single")
        single["correct"] = [single["options"][0]["id"], single["options"][1]["id"]]

    edit_yaml(folder / "quiz-first-steps.yml", break_quiz)
    assert any("exactly one answer" in e for e in problems_of(folder))


def test_cli_validate_exits_non_zero_on_problems(app, tmp_path, monkeypatch):
    import app.learning.cli as cli

    folder = copy_course(tmp_path)
    edit_yaml(folder / "course.yml", lambda d: d.update(audience="everyone"))
    monkeypatch.setattr(cli, "COURSES_DIR", tmp_path)
    result = app.test_cli_runner().invoke(args=["courses", "validate"])
    assert result.exit_code == 1
    assert "smartphone-basics/course.yml: audience: error" in result.output
    sync = app.test_cli_runner().invoke(args=["courses", "sync"])
    assert sync.exit_code == 1
    assert "Chưa đồng bộ gì" in sync.output  # the CLI speaks Vietnamese


def test_sync_is_idempotent(db, real_courses, app):
    from app.learning.content import sync_courses

    counts = (db.session.query(Lesson).count(), db.session.query(Question).count(), db.session.query(Option).count())
    result = sync_courses(ROOT / "courses")
    assert result.unchanged == sorted(real_courses)
    forced = sync_courses(ROOT / "courses", force=True)
    assert sorted(forced.updated) == sorted(real_courses)
    assert (
        db.session.query(Lesson).count(),
        db.session.query(Question).count(),
        db.session.query(Option).count(),
    ) == counts


def test_editing_a_course_keeps_progress_and_retires_what_was_removed(db, make_course, make_user):
    course, folder = make_course(
        modules=[
            {
                "id": "m1",
                "lessons": ["l1", "l2"],
                "questions": [
                    {"id": "q1", "type": "single", "options": ["a", "b"], "correct": ["a"]},
                    {"id": "q2", "type": "true_false", "correct": True},
                ],
            },
        ]
    )
    learner = make_user("resident")
    lessons = {lesson.key: lesson for lesson in course.modules[0].lessons}
    operations.mark_lesson_read(learner, lessons["l1"])
    quiz = course.modules[0].quiz
    attempt = operations.open_attempt(learner, quiz)
    q = {aq.question.key: aq.question for aq in attempt.questions}
    operations.submit_attempt(
        learner, attempt, {q["q1"].id: {q["q1"].options[1].id}, q["q2"].id: {q["q2"].options[0].id}}
    )
    db.session.commit()

    # Version 2: l1 is removed, l3 added, q1 removed, the module retitled.
    def version_2(data):
        data["version"] = 2
        data["modules"][0]["title"]["vi"] = "Chương một (mới)"
        data["modules"][0]["lessons"] = [
            {"id": "l2", "title": {"vi": "l2 vi", "en": "l2 en"}},
            {"id": "l3", "title": {"vi": "l3 vi", "en": "l3 en"}},
        ]

    edit_yaml(folder / "course.yml", version_2)
    for lang in ("vi", "en"):
        (folder / "lessons" / f"l3.{lang}.md").write_text("New lesson", encoding="utf-8")
    edit_yaml(folder / "quiz-m1.yml", lambda d: d.update(questions=d["questions"][1:]))
    result = make_course.resync()
    assert result.updated == ["test-course"]
    db.session.expire_all()

    course = db.session.scalar(db.select(Course).where(Course.slug == "test-course"))
    assert course.version == 2
    by_key = {lesson.key: lesson for lesson in course.modules[0].lessons}
    assert by_key["l1"].retired_at is not None
    assert by_key["l3"].retired_at is None
    assert [lesson.key for lesson in course.modules[0].active_lessons] == ["l2", "l3"]
    # The learner's record of reading l1 and their attempt survive.
    assert db.session.scalar(
        db.select(LessonProgress).where(
            LessonProgress.user_id == learner.id, LessonProgress.lesson_id == by_key["l1"].id
        )
    )
    kept = db.session.scalar(db.select(QuizAttempt).where(QuizAttempt.user_id == learner.id))
    assert kept.score == 1 and len(kept.questions) == 2
    retired_question = db.session.scalar(db.select(Question).where(Question.key == "q1"))
    assert retired_question.retired_at is not None
    assert [q.key for q in course.modules[0].quiz.active_questions] == ["q2"]


def test_a_removed_course_folder_retires_the_course(db, make_course):
    course, folder = make_course(slug="going-away")
    shutil.rmtree(folder)
    result = make_course.resync()
    assert result.retired == ["going-away"]
    assert operations.get_course("going-away") is None
    assert db.session.get(Course, course.id) is not None
