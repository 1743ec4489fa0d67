"""A module is complete when its lessons are read and its quiz passed; a course when all its
modules are. Help-credited completion is kept apart from self-study."""

import pytest

from app.learning import operations
from app.learning.models import Certificate, ModuleCompletion
from tests.learning.quiz_support import wrong_answers


@pytest.fixture
def two_modules(make_course):
    course, _folder = make_course(
        modules=[
            {"id": "m1", "lessons": ["l1", "l2"], "questions": [{"id": "q1", "type": "true_false", "correct": True}]},
            {"id": "m2", "lessons": ["l3"]},
        ]
    )
    return course


def pass_quiz(learner, module):
    attempt = operations.open_attempt(learner, module.quiz)
    operations.submit_attempt(
        learner,
        attempt,
        {aq.question_id: {o.id for o in aq.question.options if o.is_correct} for aq in attempt.questions},
    )


def module_done(db, learner, module):
    return db.session.scalar(
        db.select(ModuleCompletion).where(
            ModuleCompletion.user_id == learner.id, ModuleCompletion.module_id == module.id
        )
    )


def test_lessons_alone_do_not_complete_a_module_with_a_quiz(db, two_modules, make_user):
    learner = make_user("resident")
    m1, _m2 = two_modules.modules
    for lesson in m1.lessons:
        operations.mark_lesson_read(learner, lesson)
    assert module_done(db, learner, m1) is None
    pass_quiz(learner, m1)
    assert module_done(db, learner, m1).mode == "self"


def test_a_failed_quiz_does_not_complete_the_module(db, two_modules, make_user):
    learner = make_user("resident")
    m1 = two_modules.modules[0]
    for lesson in m1.lessons:
        operations.mark_lesson_read(learner, lesson)
    attempt = operations.open_attempt(learner, m1.quiz)
    operations.submit_attempt(learner, attempt, wrong_answers(attempt))
    assert module_done(db, learner, m1) is None


def test_the_course_completes_with_its_last_module_and_records_the_time(db, two_modules, make_user):
    learner = make_user("resident")
    m1, m2 = two_modules.modules
    for lesson in m1.lessons:
        operations.mark_lesson_read(learner, lesson)
    pass_quiz(learner, m1)
    progress = operations.course_progress(learner, two_modules)
    assert progress.status == "in_progress"
    assert progress.percent == 75
    operations.mark_lesson_read(learner, m2.lessons[0])
    progress = operations.course_progress(learner, two_modules)
    assert progress.status == "completed"
    assert progress.enrollment.completed_at is not None
    assert progress.enrollment.completion_mode == "self"
    assert db.session.scalar(db.select(Certificate).where(Certificate.user_id == learner.id)).completed_on


def test_reading_twice_changes_nothing(db, two_modules, make_user):
    learner = make_user("resident")
    lesson = two_modules.modules[1].lessons[0]
    assert operations.mark_lesson_read(learner, lesson) is True
    assert operations.mark_lesson_read(learner, lesson) is False


def test_in_person_credit_is_recorded_apart_from_self_study(db, two_modules, make_user):
    learner = make_user("resident")
    m1, m2 = two_modules.modules
    operations.credit_module(learner, m1, mode="in_person")
    operations.mark_lesson_read(learner, m2.lessons[0])
    progress = operations.course_progress(learner, two_modules)
    assert progress.status == "completed"
    assert progress.enrollment.completion_mode == "in_person"
    assert module_done(db, learner, m1).mode == "in_person"
    assert module_done(db, learner, m2).mode == "self"


def test_a_lesson_added_later_does_not_take_back_a_completion(db, make_course, make_user):
    import yaml

    course, folder = make_course(modules=[{"id": "m1", "lessons": ["l1"]}])
    learner = make_user("resident")
    operations.mark_lesson_read(learner, course.modules[0].lessons[0])
    assert operations.course_progress(learner, course).status == "completed"
    manifest = yaml.safe_load((folder / "course.yml").read_text())
    manifest["modules"][0]["lessons"].append({"id": "l9", "title": {"vi": "l9", "en": "l9"}})
    (folder / "course.yml").write_text(yaml.safe_dump(manifest, allow_unicode=True))
    for lang in ("vi", "en"):
        (folder / "lessons" / f"l9.{lang}.md").write_text("new")
    make_course.resync()
    db.session.expire_all()
    assert operations.course_progress(learner, course).status == "completed"
