"""Two submissions of one open quiz attempt through the API at the same moment: the attempt is
graded once.

These tests cannot use the per-test rolled-back transaction of tests/conftest.py: each request
needs its own connection and has to see what the other committed.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, select

from app.auth.models import User
from app.extensions import db
from app.learning.cli import COURSES_DIR
from app.learning.content import sync_courses
from app.learning.models import Course, QuizAttempt
from app.units.models import Unit
from tests.conftest import TEST_PASSWORD
from tests.visits.concurrency_support import build_app, dispose

COURSE = "smartphone-basics"


def seed(app) -> dict:
    """The shipped courses and one resident, committed. Returns the quiz of the course's first
    module, a token's headers and the right and wrong answers (as the API takes them)."""
    with app.app_context():
        sync_courses(COURSES_DIR)
        province = Unit(code="P", kind="province", name="Tỉnh", path="/P/")
        commune = Unit(code="C1", kind="commune", name="Xã Một", parent=province, path="/P/C1/")
        village = Unit(code="C1A", kind="village", name="Thôn 1A", parent=commune, path="/P/C1/C1A/")
        learner = User(username="learner", full_name="Người học", role="resident", unit=village)
        learner.set_password(TEST_PASSWORD)
        db.session.add_all([province, commune, village, learner])
        db.session.commit()
        quiz = db.session.scalar(select(Course).where(Course.slug == COURSE)).active_modules[0].active_quiz
        right, wrong = {}, {}
        for question in quiz.active_questions:
            options = question.active_options
            right[str(question.id)] = [option.id for option in options if option.is_correct]
            wrong[str(question.id)] = [next(option.id for option in options if not option.is_correct)]
        quiz_id = quiz.id
    response = app.test_client().post("/api/v1/auth/token", json={"username": "learner", "password": TEST_PASSWORD})
    assert response.status_code == 200, response.get_json()
    headers = {"Authorization": f"Bearer {response.get_json()['token']}"}
    assert app.test_client().get(f"/api/v1/quizzes/{quiz_id}", headers=headers).status_code == 200  # opens it
    return {"quiz_id": quiz_id, "headers": headers, "answers": [right, wrong]}


def submit_both_at_once(app, seeded) -> list[tuple[int, dict]]:
    """The right answers and the wrong ones, sent by two threads at the same moment, each with its
    own client (so its own connection). Returns (status, JSON) of each."""
    start = threading.Barrier(2)
    outcomes: list = [None, None]

    def run(i: int) -> None:
        client = app.test_client()
        try:
            start.wait(timeout=30)
            response = client.post(
                f"/api/v1/quizzes/{seeded['quiz_id']}/attempts",
                json={"answers": seeded["answers"][i]},
                headers=seeded["headers"],
            )
            outcomes[i] = (response.status_code, response.get_json())
        except BaseException as error:  # reported by the test, never lost in the thread
            outcomes[i] = error
            start.abort()

    workers = [threading.Thread(target=run, args=(i,), name=f"submit-{i}") for i in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not any(worker.is_alive() for worker in workers), "a submission did not finish"
    assert not any(isinstance(outcome, BaseException) for outcome in outcomes), outcomes
    return outcomes


def stored_attempts(app) -> list[tuple[int, int, bool, int]]:
    """(number, score, passed, chosen options stored) of every attempt, in order."""
    with app.app_context():
        attempts = db.session.scalars(select(QuizAttempt).order_by(QuizAttempt.number)).all()
        return [
            (
                attempt.number,
                attempt.score,
                attempt.passed,
                sum(len(asked.choices) for asked in attempt.questions),
            )
            for attempt in attempts
        ]


def chosen(answers: dict) -> int:
    return sum(len(options) for options in answers.values())


@pytest.fixture
def postgresql_app(empty_database_url):
    """A fresh PostgreSQL database with the schema (conftest's empty_database_url drops it afterwards)."""
    if not empty_database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: the guarantee under test is the database's")
    app = build_app(empty_database_url)
    try:
        yield app
    finally:
        dispose(app)


@pytest.mark.postgresql
def test_of_two_api_submissions_of_one_attempt_at_the_same_moment_one_is_graded_the_other_409(postgresql_app):
    app = postgresql_app
    seeded = seed(app)
    # Both requests have read the attempt as open before either writes its grade.
    before_writing = threading.Barrier(2)

    def hold_the_first_write(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith(("WITH MARKED", "UPDATE QUIZ_ATTEMPTS")):
            before_writing.wait(timeout=30)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", hold_the_first_write)
    try:
        outcomes = submit_both_at_once(app, seeded)
    finally:
        event.remove(engine, "before_cursor_execute", hold_the_first_write)

    assert sorted(status for status, _body in outcomes) == [200, 409], outcomes
    winner = next(i for i, (status, _body) in enumerate(outcomes) if status == 200)
    graded, refused = outcomes[winner][1], outcomes[1 - winner][1]
    assert refused["error"]["code"] == "conflict" and refused["error"]["message"]
    assert stored_attempts(app) == [(1, graded["score"], graded["passed"], chosen(seeded["answers"][winner]))]


def test_on_sqlite_two_api_submissions_at_the_same_moment_grade_one_attempt_each(tmp_path):
    """SQLite gives a writing request the write lock at its start: the second submission waits,
    then finds the attempt graded and opens the next one."""
    app = build_app(f"sqlite:///{tmp_path / 'race.db'}")
    try:
        seeded = seed(app)
        outcomes = submit_both_at_once(app, seeded)
        assert sorted(status for status, _body in outcomes) == [200, 201], outcomes
        expected = sorted(
            (body["attempt"], body["score"], body["passed"], chosen(seeded["answers"][i]))
            for i, (_status, body) in enumerate(outcomes)
        )
        assert stored_attempts(app) == expected
        assert [number for number, *_rest in expected] == [1, 2]
    finally:
        dispose(app)
