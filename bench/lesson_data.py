"""The benchmark's data: a fresh PostgreSQL database with the shipped courses, the demo province,
a copy of a course with unlimited quiz attempts, learners with progress, and open quiz attempts
to submit. Also measures single requests in-process (statements, DB wait, CPU)."""

from __future__ import annotations

import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from load_tools import BenchError, Learner, log

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kns_bench"
#: A copy of smartphone-basics with unlimited quiz attempts, so every measured submission is a
#: real grading (the shipped courses allow 3 attempts).
BENCH_COURSE = "bench-quiz"
BENCH_COURSE_SOURCE = "smartphone-basics"
LEARNER_PASSWORD = "bench-learner-pw-1"  # a throwaway account in a throwaway database

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# --- database and data ------------------------------------------------------------------------


def reset_database(url: str) -> None:
    """Drop and create the database named in `url` (through the server's `postgres` database)."""
    import psycopg

    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://", 1))
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise BenchError(f"database name {name!r}: use letters, digits and underscores only")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


#: The flask commands that make a fresh database the benchmarks' starting point: the schema, the
#: shipped courses and the demo province.
SETUP_COMMANDS = (("db", "upgrade"), ("courses", "sync"), ("demo", "seed"))


def flask_command(args: list[str] | tuple[str, ...], env: dict) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flask", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        raise BenchError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    first = (result.stdout.strip().splitlines() or ["done"])[0]
    log(f"flask {' '.join(args)}: {first}")


def make_app(database_url: str):
    """The app factory in this process (development profile) for preparing data."""
    os.environ["APP_ENV"] = "development"
    os.environ["DATABASE_URL"] = database_url
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SEED_DEMO": False})


@dataclass
class Prepared:
    learners: list[Learner]
    lesson_paths: list[str]
    lesson_ids: list[int]
    quiz_id: int
    counts: dict = field(default_factory=dict)


def add_bench_course(app) -> None:
    """Sync the shipped courses plus a copy of smartphone-basics with unlimited quiz attempts."""
    from app.extensions import db
    from app.learning.cli import COURSES_DIR
    from app.learning.content import sync_courses

    with tempfile.TemporaryDirectory(prefix="kns-bench-courses-") as tmp:
        root = Path(tmp)
        for folder in COURSES_DIR.iterdir():
            if folder.is_dir():
                shutil.copytree(folder, root / folder.name)
        bench_folder = root / BENCH_COURSE
        shutil.copytree(COURSES_DIR / BENCH_COURSE_SOURCE, bench_folder)
        manifest = bench_folder / "course.yml"
        text = manifest.read_text(encoding="utf-8")
        text = text.replace(f"slug: {BENCH_COURSE_SOURCE}", f"slug: {BENCH_COURSE}", 1)
        text = re.sub(r"max_attempts: \d+", "max_attempts: 0", text)
        manifest.write_text(text, encoding="utf-8")
        with app.app_context():
            result = sync_courses(root)
            db.session.commit()
    if result.created != [BENCH_COURSE] or result.updated or result.retired:
        raise BenchError(f"unexpected course sync result: {result}")


def correct_answers(quiz) -> dict[int, set[int]]:
    return {
        question.id: {option.id for option in question.active_options if option.is_correct}
        for question in quiz.active_questions
    }


def prepare_data(app, learner_count: int) -> Prepared:
    """Learners (residents in the demo villages), enrolled in every shipped course, each with a
    different number of lessons read and some quizzes passed — through app.learning.operations."""
    from sqlalchemy import func, select

    from app.auth.models import User
    from app.extensions import db
    from app.learning import operations
    from app.learning.models import Course, LessonProgress, QuizAttempt
    from app.units.models import Unit

    with app.app_context():
        villages = list(db.session.scalars(select(Unit).where(Unit.kind == "village").order_by(Unit.code)))
        if not villages:
            raise BenchError("no villages: did `flask demo seed` run?")
        probe = User()
        probe.set_password(LEARNER_PASSWORD)  # hashed once (scrypt is slow on purpose), then copied
        users = []
        for number in range(learner_count):
            user = User(
                username=f"bench{number:03d}",
                full_name=f"Học viên thử {number:03d}",
                role="resident",
                unit=villages[number % len(villages)],
                password_hash=probe.password_hash,
            )
            db.session.add(user)
            users.append(user)
        db.session.flush()

        courses = [c for c in operations.active_courses() if c.slug != BENCH_COURSE]
        lesson_paths, lesson_ids = [], []
        for course in courses:
            for module in course.active_modules:
                for lesson in module.active_lessons:
                    lesson_paths.append(f"/learning/{course.slug}/lessons/{lesson.key}")
                    lesson_ids.append(lesson.id)
        for number, user in enumerate(users):
            for position, course in enumerate(courses):
                operations.enroll(user, course)
                lessons = [lesson for module in course.active_modules for lesson in module.active_lessons]
                for lesson in lessons[: (number + position) % (len(lessons) + 1)]:
                    operations.mark_lesson_read(user, lesson)
                if number % 3 == 0:  # a third of the learners passed the first quiz of each course
                    quiz = course.active_modules[0].active_quiz
                    attempt = operations.open_attempt(user, quiz)
                    operations.submit_attempt(user, attempt, correct_answers(quiz))
        db.session.commit()

        bench_course = db.session.scalar(select(Course).where(Course.slug == BENCH_COURSE))
        quiz = bench_course.active_modules[0].active_quiz
        prepared = Prepared(
            learners=[Learner(user.username, user.id) for user in users],
            lesson_paths=lesson_paths,
            lesson_ids=lesson_ids,
            quiz_id=quiz.id,
            counts={
                "learners": len(users),
                "courses": len(courses),
                "lessons": len(lesson_paths),
                "lessons read": db.session.scalar(select(func.count()).select_from(LessonProgress)),
                "quiz attempts": db.session.scalar(select(func.count()).select_from(QuizAttempt)),
            },
        )
    return prepared


def create_open_attempts(app, learners: list[Learner], quiz_id: int, count: int) -> list[tuple]:
    """`count` open attempts at the bench quiz, spread over the learners, with their questions in a
    shuffled order as open_attempt would store them (inserted in bulk: open_attempt keeps one open
    attempt per learner). Returns one (learner, attempt id, answers) per attempt; every second one
    answers everything right (a pass, which also runs the completion check), the others choose a
    wrong option in every question (a fail)."""
    from sqlalchemy import func, insert, select

    from app.extensions import db
    from app.learning.models import AttemptQuestion, Quiz, QuizAttempt

    shuffle = random.Random(20240611)
    with app.app_context():
        quiz = db.session.get(Quiz, quiz_id)
        questions = quiz.active_questions
        correct = correct_answers(quiz)
        numbers = dict(
            db.session.execute(
                select(QuizAttempt.user_id, func.max(QuizAttempt.number))
                .where(QuizAttempt.quiz_id == quiz_id)
                .group_by(QuizAttempt.user_id)
            ).all()
        )
        rows, orders = [], []
        for index in range(count):
            learner = learners[index % len(learners)]
            numbers[learner.user_id] = numbers.get(learner.user_id, 0) + 1
            rows.append(
                {
                    "user_id": learner.user_id,
                    "quiz_id": quiz_id,
                    "number": numbers[learner.user_id],
                    "seed": shuffle.getrandbits(31),
                    "max_score": len(questions),
                }
            )
            order = list(questions)
            shuffle.shuffle(order)
            orders.append(order)
        attempt_ids = list(
            db.session.scalars(insert(QuizAttempt).returning(QuizAttempt.id, sort_by_parameter_order=True), rows)
        )
        question_rows = []
        for attempt_id, order in zip(attempt_ids, orders, strict=True):
            for position, question in enumerate(order):
                option_ids = [option.id for option in question.active_options]
                if question.kind != "true_false":
                    shuffle.shuffle(option_ids)
                question_rows.append(
                    {
                        "attempt_id": attempt_id,
                        "question_id": question.id,
                        "position": position,
                        "option_order": option_ids,
                    }
                )
        db.session.execute(insert(AttemptQuestion), question_rows)
        db.session.commit()

        wrong = {
            question.id: {next(o.id for o in question.active_options if o.id not in correct[question.id])}
            for question in questions
        }
        result = [
            (learners[index % len(learners)], attempt_id, wrong if index % 2 else correct)
            for index, attempt_id in enumerate(attempt_ids)
        ]
    return result


def count_graded(app, quiz_id: int) -> int:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.learning.models import QuizAttempt

    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(QuizAttempt)
            .where(QuizAttempt.quiz_id == quiz_id, QuizAttempt.submitted_at.is_not(None))
        )


def per_request_costs(app, prepared: Prepared, database_url: str, samples: int = 60, profiler=None) -> dict[str, dict]:
    """Run the measured requests one at a time in this process (Flask's test client: no HTTP,
    no queueing; CSRF off) and take, per request, the SQL statements sent, the time spent
    waiting for them, the CPU time of this Python process and the wall time (medians). CPU time
    is the least disturbed by other programs on the machine. Every request also sends BEGIN,
    COMMIT or ROLLBACK and the pool's pre-ping SELECT 1, which are not counted as statements.
    The quiz submissions' figures (the page's and the API's) also hold the CPU time and
    statements of passes and fails apart; `profiler` (a cProfile.Profile), when given, profiles
    the measured submissions of the page."""
    from sqlalchemy import event
    from werkzeug.datastructures import MultiDict

    from app.extensions import db

    os.environ["BENCH_DATABASE_URL"] = database_url
    import baseline_app  # bench/ is on sys.path: this script's folder

    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        app_engine = db.engine
    with baseline_app.app.app_context():
        baseline_engine = baseline_app.db.engine
    timings: list[float] = []

    def before(_conn, _cursor, _statement, _parameters, context, _executemany):
        context.bench_started = time.perf_counter()

    def after(_conn, _cursor, _statement, _parameters, context, _executemany):
        timings.append(time.perf_counter() - context.bench_started)

    learners = prepared.learners[:5]
    clients = {}
    for learner in learners:
        client = app.test_client()
        form = {"username": learner.username, "password": LEARNER_PASSWORD, "next": ""}
        if client.post("/login", data=form).status_code != 302:
            raise BenchError(f"test client could not sign in {learner.username}")
        clients[learner.username] = client
    baseline_client = baseline_app.app.test_client()
    attempts = create_open_attempts(app, learners, prepared.quiz_id, samples + 10)
    api_headers = {}
    for learner in learners:
        response = app.test_client().post(
            "/api/v1/auth/token", json={"username": learner.username, "password": LEARNER_PASSWORD}
        )
        if response.status_code != 200:
            raise BenchError(f"test client could not get an API token for {learner.username}")
        api_headers[learner.username] = {"Authorization": f"Bearer {response.get_json()['token']}"}
    api_client = app.test_client()
    api_answers = [answers for _learner, _attempt_id, answers in attempts[:2]]  # a pass, a fail

    def baseline(index: int):
        response = baseline_client.get(f"/row/{prepared.lesson_ids[index % len(prepared.lesson_ids)]}")
        return response.status_code == 200

    def lesson(index: int):
        learner = learners[index % len(learners)]
        path = prepared.lesson_paths[(index * 7) % len(prepared.lesson_paths)]
        return clients[learner.username].get(path).status_code == 200

    def submission(index: int):
        learner, attempt_id, answers = attempts[index]
        form = MultiDict([(f"q-{q}", str(option)) for q, chosen in answers.items() for option in chosen])
        response = clients[learner.username].post(f"/learning/attempts/{attempt_id}", data=form)
        return response.status_code == 302 and "/learning/attempts/" in response.headers["Location"]

    def api_open(index: int):
        """Not measured: the app's first request, which opens the attempt the submission grades
        (the page's submissions used every attempt create_open_attempts made)."""
        headers = api_headers[learners[index % len(learners)].username]
        if api_client.get(f"/api/v1/quizzes/{prepared.quiz_id}", headers=headers).status_code != 200:
            raise BenchError("test client: the API did not open a quiz attempt")

    def api_submission(index: int):
        headers = api_headers[learners[index % len(learners)].username]
        answers = {str(q): sorted(chosen) for q, chosen in api_answers[index % 2].items()}
        response = api_client.post(
            f"/api/v1/quizzes/{prepared.quiz_id}/attempts", json={"answers": answers}, headers=headers
        )
        return response.status_code == 200

    measured = (
        ("baseline route", None, baseline),
        ("lesson page", None, lesson),
        ("quiz submission", None, submission),
        ("API quiz submission", api_open, api_submission),
    )
    figures = {}
    for engine in (app_engine, baseline_engine):
        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
    try:
        for name, setup, call in measured:
            runs = []
            profile = profiler if name == "quiz submission" else None
            for index in range(samples + 10):
                if setup is not None:
                    setup(index)
                timings.clear()
                if profile is not None and index >= 10:
                    profile.enable()
                cpu, wall = time.process_time(), time.perf_counter()
                if not call(index):
                    raise BenchError(f"test client: the {name} did not answer as expected")
                if index >= 10:  # the first ones warm up
                    runs.append((len(timings), sum(timings), time.process_time() - cpu, time.perf_counter() - wall))
                if profile is not None:
                    profile.disable()
            counts = [run[0] for run in runs]
            figures[name] = {
                "statements": (min(counts), max(counts)),
                "db_ms": statistics.median(run[1] for run in runs) * 1000,
                "cpu_ms": statistics.median(run[2] for run in runs) * 1000,
                "wall_ms": statistics.median(run[3] for run in runs) * 1000,
            }
            if "quiz submission" in name:  # even samples pass, odd ones fail
                passes, fails = runs[0::2], runs[1::2]
                figures[name].update(
                    pass_cpu=[run[2] for run in passes],
                    fail_cpu=[run[2] for run in fails],
                    pass_statements=[run[0] for run in passes],
                    fail_statements=[run[0] for run in fails],
                )
    finally:
        for engine in (app_engine, baseline_engine):
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
    return figures


def postgres_version(app) -> str:
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        return db.session.execute(text("SHOW server_version")).scalar_one()
