"""The quiz page's submission (operations.submission_state / submit_answers): few statements, the
right options from a per-process cache that a course sync renews, graded once."""

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.exceptions import Conflict
from app.learning import operations
from app.learning.models import (
    AttemptChoice,
    AttemptQuestion,
    Certificate,
    Enrollment,
    ModuleCompletion,
    Question,
    QuizAttempt,
)
from tests.conftest import is_postgresql
from tests.learning.quiz_support import as_form, right_answers, wrong_answers

QUIZ = "/learning/test-course/modules/m1/quiz"


def _modules(q1_correct="b"):
    return [
        {
            "id": "m1",
            "lessons": ["l1", "l2"],
            "max_attempts": 3,
            "questions": [
                {"id": "q1", "type": "single", "options": ["a", "b", "c"], "correct": [q1_correct]},
                {"id": "q2", "type": "multiple", "options": ["a", "b", "c"], "correct": ["a", "c"]},
                {"id": "q3", "type": "true_false", "correct": False},
            ],
        }
    ]


def _open(client, db, learner) -> QuizAttempt:
    assert client.get(QUIZ).status_code == 200
    return db.session.scalar(
        db.select(QuizAttempt).where(QuizAttempt.user_id == learner.id, QuizAttempt.submitted_at.is_(None))
    )


def _option(db, question_key: str, option_key: str) -> int:
    question = db.session.scalar(db.select(Question).where(Question.key == question_key))
    return next(option.id for option in question.options if option.key == option_key)


def _graded(db, attempt_id: int) -> dict[str, bool]:
    rows = db.session.execute(
        db.select(Question.key, AttemptQuestion.is_correct)
        .join(Question, Question.id == AttemptQuestion.question_id)
        .where(AttemptQuestion.attempt_id == attempt_id)
    )
    return dict(rows.all())


def test_a_synced_change_of_the_right_answer_is_graded_at_once(client, db, login_as, make_course, make_user):
    make_course(modules=_modules(q1_correct="b"))
    learner = make_user("resident")
    login_as(learner)
    first = _open(client, db, learner)
    answers = wrong_answers(first)
    q1 = db.session.scalar(db.select(Question).where(Question.key == "q1")).id
    answers[q1] = {_option(db, "q1", "b")}
    assert client.post(f"/learning/attempts/{first.id}", data=as_form(answers)).status_code == 302
    assert _graded(db, first.id)["q1"] is True  # the quiz's key is now cached in this process

    make_course(modules=_modules(q1_correct="c"))  # the course files change and are synced
    second = _open(client, db, learner)
    answers = wrong_answers(second)
    answers[q1] = {_option(db, "q1", "b")}
    assert client.post(f"/learning/attempts/{second.id}", data=as_form(answers)).status_code == 302
    assert _graded(db, second.id)["q1"] is False
    third = _open(client, db, learner)
    answers = right_answers(third)
    assert answers[q1] == {_option(db, "q1", "c")}
    response = client.post(f"/learning/attempts/{third.id}", data=as_form(answers))
    assert "You scored 3 of 3." in client.get(response.headers["Location"]).get_data(as_text=True)


def _statements_of(call) -> list[str]:
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statement = statement.lstrip().upper()
        if not statement.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK", "BEGIN", "COMMIT")):
            statements.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    try:
        call()
    finally:
        event.remove(Engine, "before_cursor_execute", record)
    return statements


def test_a_graded_submission_sends_few_statements_and_stores_everything(client, db, login_as, make_course, make_user):
    make_course(modules=_modules())
    learner = make_user("resident")
    login_as(learner)
    warm = _open(client, db, learner)  # the first submission in the process loads the quiz's key
    client.post(f"/learning/attempts/{warm.id}", data=as_form(wrong_answers(warm)))

    failed = _open(client, db, learner)
    answers = wrong_answers(failed)
    sent = _statements_of(lambda: client.post(f"/learning/attempts/{failed.id}", data=as_form(answers)))
    # The signed-in user, the attempt with its questions, then three writes (on PostgreSQL in one
    # statement).
    writes = ["WITH"] if is_postgresql() else ["UPDATE", "UPDATE", "INSERT"]
    assert len(sent) == 2 + len(writes), sent
    assert [s.split()[0] for s in sent[2:]] == writes
    db.session.expire_all()
    failed = db.session.get(QuizAttempt, failed.id)
    assert (failed.score, failed.passed, failed.submitted_at is not None) == (0, False, True)
    assert all(asked.is_correct is False for asked in failed.questions)
    assert {asked.question_id: {c.option_id for c in asked.choices} for asked in failed.questions} == answers

    passed = _open(client, db, learner)
    answers = right_answers(passed)
    sent = _statements_of(lambda: client.post(f"/learning/attempts/{passed.id}", data=as_form(answers)))
    # One more for a pass: is the module complete now? (No: its lessons are not read.)
    assert len(sent) == 3 + len(writes), sent
    db.session.expire_all()
    passed = db.session.get(QuizAttempt, passed.id)
    assert (passed.score, passed.passed) == (3, True)
    assert all(asked.is_correct for asked in passed.questions)
    assert db.session.scalar(db.select(db.func.count()).select_from(AttemptChoice)) == 3 * 3 + 1  # q2: two
    assert db.session.scalar(db.select(ModuleCompletion).where(ModuleCompletion.user_id == learner.id)) is None


def test_a_pass_after_reading_every_lesson_completes_the_course_and_issues_the_certificate(
    client, db, login_as, make_course, make_user
):
    course, _folder = make_course(modules=_modules())
    learner = make_user("resident")
    for lesson in course.modules[0].lessons:
        operations.mark_lesson_read(learner, lesson)
    db.session.commit()
    login_as(learner)
    attempt = _open(client, db, learner)
    assert client.post(f"/learning/attempts/{attempt.id}", data=as_form(right_answers(attempt))).status_code == 302
    assert db.session.scalar(db.select(ModuleCompletion).where(ModuleCompletion.user_id == learner.id)) is not None
    enrollment = db.session.scalar(db.select(Enrollment).where(Enrollment.user_id == learner.id))
    assert enrollment.completed_at is not None and enrollment.completion_mode == "self"
    assert db.session.scalar(db.select(Certificate).where(Certificate.user_id == learner.id)) is not None


def test_of_two_submissions_read_at_the_same_moment_only_one_is_graded(db, make_course, make_user):
    course, _folder = make_course(modules=_modules())
    learner = make_user("resident")
    attempt = operations.open_attempt(learner, course.modules[0].quiz)
    db.session.commit()
    first = operations.submission_state(learner, attempt.id)
    second = operations.submission_state(learner, attempt.id)
    assert operations.submit_answers(learner, first, right_answers(attempt)) is True
    with pytest.raises(Conflict):
        operations.submit_answers(learner, second, wrong_answers(attempt))
    db.session.expire_all()
    stored = db.session.get(QuizAttempt, attempt.id)
    assert (stored.score, stored.passed) == (3, True)
    assert db.session.scalar(db.select(db.func.count()).select_from(AttemptChoice)) == 4


def test_an_unknown_attempt_is_404_and_someone_elses_403(client, db, login_as, make_course, make_user):
    course, _folder = make_course(modules=_modules())
    owner, other = make_user("resident"), make_user("resident")
    attempt = operations.open_attempt(owner, course.modules[0].quiz)
    db.session.commit()
    login_as(other)
    form = as_form(right_answers(attempt))
    assert client.post(f"/learning/attempts/{attempt.id}", data=form).status_code == 403
    for unknown in (attempt.id + 1000, 2**31, 2**40):
        assert client.post(f"/learning/attempts/{unknown}", data=form).status_code == 404
    db.session.expire_all()
    assert db.session.get(QuizAttempt, attempt.id).submitted_at is None
