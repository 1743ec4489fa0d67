"""Load benchmark of the learner hot path: lesson pages and quiz submissions.

One command, from the repository root:

    python bench/lesson_load.py

It resets the PostgreSQL database kns_bench (or the one in BENCH_DATABASE_URL / --database-url),
migrates it, syncs the courses, seeds the demo province, adds signed-in learners with some
progress, serves the app and a bare Flask baseline (bench/baseline_app.py) each with
`gunicorn -w 2`, loads them with wrk and prints requests/s, p50 and p99, the lesson/baseline
ratio, pass/fail against the goals, the weight of a cold lesson page in Chromium, and the machine.
Every process it starts is stopped at the end, also on failure or after --time-limit seconds.
See bench/README.md for the options and what exactly is measured.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
LUA_SCRIPT = BENCH_DIR / "wrk" / "rotate.lua"
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kns_bench"
#: A copy of smartphone-basics with unlimited quiz attempts, so every measured submission is a
#: real grading (the shipped courses allow 3 attempts).
BENCH_COURSE = "bench-quiz"
BENCH_COURSE_SOURCE = "smartphone-basics"
LEARNER_PASSWORD = "bench-learner-pw-1"  # a throwaway account in a throwaway database
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
GOAL_RATIO = 0.5
GOAL_P99_MS = 50.0
GOAL_PAGE_BYTES = 100 * 1024

sys.path.insert(0, str(ROOT))


class BenchError(RuntimeError):
    """The benchmark cannot go on; the message says why."""


class TimeLimit(BaseException):
    """Raised by the alarm when the run takes longer than --time-limit."""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- processes ------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop gunicorn and its workers: the process group it leads (started by us)."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)
        except ProcessLookupError:
            pass

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(name: str, target: str, env: dict, workers: int, workdir: Path, logs: Path) -> Server:
    port = free_port()
    log_path = logs / f"{name}.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--chdir",
        str(workdir),
        target,
    ]
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Server(name, port, process, log_path)


def wait_ready(server: Server, path: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(f"{server.name} exited at start:\n{server.log_tail()}")
        try:
            status, _headers, _body = http_request(server.port, "GET", path)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError(f"{server.name} did not answer 200 on {path} in {timeout:.0f}s:\n{server.log_tail()}")


# --- a tiny HTTP client (no redirects followed, one cookie) ---------------------------------


def http_request(port: int, method: str, path: str, cookie: str = "", form: list | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Accept-Language": "vi"}
    body = None
    if cookie:
        headers["Cookie"] = cookie
    if form is not None:
        body = urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def session_cookie(headers, current: str) -> str:
    """The session cookie a response sets ("session=…"), else the one we had."""
    for value in headers.get_all("Set-Cookie") or []:
        pair = value.split(";", 1)[0]
        name, _, content = pair.partition("=")
        if name == "session" and content:
            return pair
    return current


CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
VALUE_ATTR = re.compile(r'value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_INPUT.search(html)
    value = VALUE_ATTR.search(match.group(0)) if match else None
    if value is None:
        raise BenchError("no csrf_token input in the page")
    return value.group(1)


@dataclass
class Learner:
    username: str
    user_id: int
    cookie: str = ""
    token: str = ""


def sign_in(port: int, learner: Learner, probe_path: str) -> None:
    """Sign in through the real form (CSRF on), then open a lesson to get the form token."""
    status, headers, body = http_request(port, "GET", "/login")
    if status != 200:
        raise BenchError(f"GET /login answered {status}")
    cookie = session_cookie(headers, "")
    form = [
        ("csrf_token", csrf_token(body.decode())),
        ("username", learner.username),
        ("password", LEARNER_PASSWORD),
        ("next", ""),
    ]
    status, headers, body = http_request(port, "POST", "/login", cookie, form)
    if status != 302:
        raise BenchError(f"signing in {learner.username} answered {status}: {body[:300]!r}")
    cookie = session_cookie(headers, cookie)
    status, headers, body = http_request(port, "GET", probe_path, cookie)
    if status != 200:
        raise BenchError(f"{learner.username} signed in but {probe_path} answered {status}")
    learner.cookie = session_cookie(headers, cookie)
    learner.token = csrf_token(body.decode())


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


def flask_command(args: list[str], env: dict) -> None:
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
    last = (result.stdout.strip().splitlines() or [""])[-1]
    log(f"flask {' '.join(args)}: {last}")


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
    answers everything right (a pass, which also runs the completion check), the others get the
    first question wrong."""
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
            db.session.scalars(
                insert(QuizAttempt).returning(QuizAttempt.id, sort_by_parameter_order=True), rows
            )
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

        first = questions[0]
        wrong_first = next(o.id for o in first.active_options if o.id not in correct[first.id])
        result = []
        for index, attempt_id in enumerate(attempt_ids):
            answers = dict(correct)
            if index % 2:
                answers[first.id] = {wrong_first}
            result.append((learners[index % len(learners)], attempt_id, answers))
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


def statements_per_request(app, prepared: Prepared, samples: int = 40) -> dict[str, dict]:
    """Run the two measured requests in this process (Flask's test client, no HTTP, CSRF off) and
    count the SQL statements each sends, with the time spent waiting for them. Every request also
    costs BEGIN, COMMIT or ROLLBACK and the pool's pre-ping, which are not counted here."""
    from sqlalchemy import event
    from werkzeug.datastructures import MultiDict

    from app.extensions import db

    app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        engine = db.engine
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
    attempts = create_open_attempts(app, learners, prepared.quiz_id, samples + 10)
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    figures = {}
    try:
        lesson_runs, quiz_runs = [], []
        for index in range(samples + 10):
            learner = learners[index % len(learners)]
            path = prepared.lesson_paths[(index * 7) % len(prepared.lesson_paths)]
            timings.clear()
            started = time.perf_counter()
            response = clients[learner.username].get(path)
            lesson_runs.append((len(timings), sum(timings), time.perf_counter() - started))
            if response.status_code != 200:
                raise BenchError(f"test client: {path} answered {response.status_code}")
        for learner, attempt_id, answers in attempts:
            form = MultiDict(
                [(f"q-{question}", str(option)) for question, chosen in answers.items() for option in chosen]
            )
            timings.clear()
            started = time.perf_counter()
            response = clients[learner.username].post(f"/learning/attempts/{attempt_id}", data=form)
            quiz_runs.append((len(timings), sum(timings), time.perf_counter() - started))
            if response.status_code != 302 or "/learning/attempts/" not in response.headers["Location"]:
                raise BenchError(
                    f"test client: submitting attempt {attempt_id} answered {response.status_code}"
                )
        for name, runs in (("lesson page", lesson_runs[10:]), ("quiz submission", quiz_runs[10:])):
            counts = [count for count, _db, _wall in runs]
            figures[name] = {
                "statements": (min(counts), max(counts)),
                "db_ms": statistics.median(db_time for _c, db_time, _w in runs) * 1000,
                "wall_ms": statistics.median(wall for _c, _d, wall in runs) * 1000,
            }
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    return figures


# --- wrk ------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    name: str
    requests: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    ok: int = 0
    bad: int = 0
    exhausted: int = 0
    socket_errors: str = ""
    busy_before: float = 0.0
    note: str = ""


def write_requests(path: Path, entries: list[tuple[str, str, str, str]]) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for method, url_path, cookie, body in entries:
            if any("\t" in part or "\n" in part for part in (url_path, cookie, body)):
                raise BenchError("a request field holds a tab or newline")
            out.write(f"{method}\t{url_path}\t{cookie}\t{body}\n")
    return path


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def parse_wrk(name: str, output: str) -> LoadResult:
    result = LoadResult(name)
    match = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", output)
    if not match:
        raise BenchError(f"cannot read wrk's output:\n{output}")
    result.requests = int(match.group(1))
    result.seconds = _ms(match.group(2) + match.group(3)) / 1000
    result.rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    for percent, attr in (("50", "p50_ms"), ("90", "p90_ms"), ("99", "p99_ms")):
        found = re.search(rf"^\s+{percent}%\s+([\d.]+\w+)", output, re.MULTILINE)
        setattr(result, attr, _ms(found.group(1)))
    result.max_ms = _ms(re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", output).group(1))
    errors = re.search(r"Socket errors: (.*)", output)
    result.socket_errors = errors.group(1).strip() if errors else ""
    check = re.search(r"BENCH-CHECK ok=(\d+) bad=(\d+) exhausted=(\d+)", output)
    if not check:
        raise BenchError(f"the wrk script did not report its checks:\n{output}")
    result.ok, result.bad, result.exhausted = (int(value) for value in check.groups())
    return result


def run_wrk(
    name: str,
    server: Server,
    requests_file: Path,
    *,
    threads: int,
    connections: int,
    seconds: int,
    mode: str,
    expect_status: int,
    expect_location: str = "",
) -> LoadResult:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(LUA_SCRIPT),
        server.base,
        "--",
        str(requests_file),
        str(threads),
        mode,
        str(expect_status),
        expect_location,
    ]
    busy = background_busy()
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = parse_wrk(name, done.stdout)
    result.busy_before = busy
    return result


# --- Chromium -----------------------------------------------------------------------------


def page_weights(base: str, cookie: str, paths: list[str]) -> list[dict]:
    """Load each page cold (a new browser context: empty cache, no service worker) as the signed-in
    learner and add up the bytes transferred: Chromium's encodedDataLength, headers and bodies of
    every response including the favicon and any fonts."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            return [_weigh(browser, base, cookie, path) for path in paths]
        finally:
            browser.close()


def _weigh(browser, base: str, cookie: str, path: str) -> dict:
    name, _, value = cookie.partition("=")
    context = browser.new_context(locale="vi-VN")
    try:
        context.add_cookies([{"name": name, "value": value, "url": base}])
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        seen: dict[str, tuple[str, str]] = {}
        sizes: dict[str, int] = {}

        def on_response(event):
            seen[event["requestId"]] = (urlsplit(event["response"]["url"]).path, event["type"])

        def on_finished(event):
            sizes[event["requestId"]] = int(event["encodedDataLength"])

        cdp.on("Network.responseReceived", on_response)
        cdp.on("Network.loadingFinished", on_finished)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        response = page.goto(base + path, wait_until="load")
        if response is None or response.status != 200 or "/login" in page.url:
            raise BenchError(f"Chromium could not open {path} as a signed-in learner")
        page.evaluate("document.fonts.ready.then(() => document.fonts.size)")
        page.wait_for_load_state("networkidle")
        resources = sorted(
            ((*seen.get(request_id, ("?", "?")), size) for request_id, size in sizes.items()),
            key=lambda item: -item[2],
        )
    finally:
        context.close()
    return {
        "path": path,
        "bytes": sum(size for _path, _kind, size in resources),
        "resources": resources,
        "fonts": sum(1 for _path, kind, _size in resources if kind == "Font"),
    }


# --- the machine ----------------------------------------------------------------------------


def _cpu_times() -> tuple[int, int]:
    with open("/proc/stat", encoding="utf-8") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields[:8]) - idle, sum(fields[:8])


def background_busy(seconds: float = 1.0) -> float:
    """Share of all CPUs busy with other work while our servers sit idle (0..1): other
    programs on a shared machine take CPU from the measured run and lower its figures."""
    busy_before, total_before = _cpu_times()
    time.sleep(seconds)
    busy_after, total_after = _cpu_times()
    return (busy_after - busy_before) / max(total_after - total_before, 1)


def machine(app) -> dict:
    from sqlalchemy import text

    from app.extensions import db

    cpu = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with open("/proc/meminfo", encoding="utf-8") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    with app.app_context():
        postgres = db.session.execute(text("SHOW server_version")).scalar_one()
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    import gunicorn

    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "memory": memory,
        "postgresql": postgres,
        "python": platform.python_version(),
        "gunicorn": gunicorn.__version__,
        "wrk": " ".join(wrk_version.split()[:2]),
        "kernel": platform.release(),
    }


# --- report ---------------------------------------------------------------------------------


def report(results: dict, args) -> bool:
    base, lesson, quiz = results["baseline"], results["lesson"], results["quiz"]
    print()
    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency; "
        f"gunicorn -w {args.workers} (sync) for each app; PostgreSQL; one machine"
    )
    header = (
        f"{'':<34}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}{'requests':>10}"
        f"{'busy':>6}  checks"
    )
    print(header)
    print("-" * len(header))
    for item in (base, lesson, quiz):
        checks = f"ok {item.ok}, bad {item.bad}" + (f", exhausted {item.exhausted}" if item.exhausted else "")
        print(
            f"{item.name:<34}{item.rps:>9.0f}{item.p50_ms:>9.1f}{item.p90_ms:>9.1f}{item.p99_ms:>9.1f}"
            f"{item.max_ms:>9.1f}{item.requests:>10}{item.busy_before:>6.0%}  {checks}"
        )
        if item.note:
            print(f"{'':<34}{item.note}")
    print("busy: share of the CPUs used by other programs in the second before the run (ideally ~0%).")
    if max(item.busy_before for item in (base, lesson, quiz)) > 0.1:
        print("WARNING: the machine was busy with other work; the figures are lower than it can do.")
    ratio = lesson.rps / base.rps if base.rps else 0.0
    print()
    print(f"lesson/baseline throughput ratio: {ratio:.2f}")
    goals = [
        (f"lesson page ≥ {GOAL_RATIO:.0%} of the baseline's throughput", ratio >= GOAL_RATIO, f"{ratio:.0%}"),
        (
            f"lesson page p99 < {GOAL_P99_MS:.0f} ms at {args.connections} connections",
            lesson.p99_ms < GOAL_P99_MS,
            f"{lesson.p99_ms:.1f} ms",
        ),
    ]
    weights = results.get("weights")
    if weights:
        heaviest = max(weights, key=lambda item: item["bytes"])
        goals.append(
            (
                f"cold lesson page < {GOAL_PAGE_BYTES // 1024} KB in Chromium (heaviest of {len(weights)})",
                heaviest["bytes"] < GOAL_PAGE_BYTES,
                f"{heaviest['bytes'] / 1024:.1f} KB",
            )
        )
    valid = all(item.bad == 0 and item.exhausted == 0 for item in (base, lesson, quiz))
    goals.append(("every measured answer was the expected one", valid, "yes" if valid else "NO"))
    print()
    for text, passed, figure in goals:
        print(f"  [{'PASS' if passed else 'FAIL'}] {text}: {figure}")
    if weights:
        sizes = sorted(item["bytes"] for item in weights)
        print()
        print(
            f"Cold lesson page in Chromium ({len(weights)} lessons): median "
            f"{statistics.median(sizes) / 1024:.1f} KB, lightest {sizes[0] / 1024:.1f} KB, "
            f"heaviest {sizes[-1] / 1024:.1f} KB ({heaviest['path']}):"
        )
        for path, kind, size in heaviest["resources"]:
            print(f"    {size / 1024:8.1f} KB  {kind:<11} {path}")
        print(f"    fonts downloaded: {heaviest['fonts']}")
    print()
    print("In-process, one request at a time (Flask test client, no HTTP), median:")
    print(f"    {'baseline route':<16} 1 SQL statement")
    for name, figure in results["statements"].items():
        low, high = figure["statements"]
        count = f"{low}" if low == high else f"{low}-{high}"
        print(
            f"    {name:<16} {count} SQL statements, {figure['db_ms']:.1f} ms waiting for them, "
            f"{figure['wall_ms']:.1f} ms in all"
        )
    print("    (each request also sends BEGIN, COMMIT/ROLLBACK and the pool's pre-ping SELECT 1)")
    print()
    print("Machine: " + "; ".join(f"{key} {value}" for key, value in results["machine"].items()))
    print("Data: " + ", ".join(f"{key} {value}" for key, value in results["data"].items()))
    return all(passed for _text, passed, _figure in goals)


# --- main -----------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL database to DROP and recreate (default: BENCH_DATABASE_URL or kns_bench)",
    )
    parser.add_argument("--duration", type=int, default=15, help="seconds of each measured load (15)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of load before each measure (3)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers per app (2)")
    parser.add_argument("--learners", type=int, default=50, help="signed-in learners (50)")
    parser.add_argument("--skip-browser", action="store_true", help="skip the Chromium page weight")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument(
        "--time-limit", type=int, default=290, help="stop everything after this many seconds (290)"
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    if not args.skip_browser and not Path(CHROMIUM).exists():
        sys.exit(f"{CHROMIUM} is missing: apt-get install -y chromium (or pass --skip-browser)")

    def on_alarm(_signum, _frame):
        raise TimeLimit

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(args.time_limit)
    started = time.monotonic()
    servers: list[Server] = []
    workdir = Path(tempfile.mkdtemp(prefix="kns-bench-"))
    try:
        return run(args, servers, workdir)
    except TimeLimit:
        log(f"stopped: the run took longer than --time-limit {args.time_limit}s")
        for server in servers:
            print(f"--- {server.name} log ---\n{server.log_tail()}")
        return 2
    except BenchError as error:
        log(f"failed: {error}")
        for server in servers:
            print(f"--- {server.name} log ---\n{server.log_tail()}")
        return 2
    finally:
        signal.alarm(0)
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        log(f"done in {time.monotonic() - started:.0f}s; servers stopped")


def run(args, servers: list[Server], workdir: Path) -> int:
    url = args.database_url
    log(f"resetting {urlsplit(url).path.lstrip('/')} on {urlsplit(url).hostname}")
    reset_database(url)
    setup_env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": url, "SEED_DEMO": "1"}
    flask_command(["db", "upgrade"], setup_env)
    flask_command(["courses", "sync"], setup_env)
    flask_command(["demo", "seed"], setup_env)

    app = make_app(url)
    add_bench_course(app)
    log(f"creating {args.learners} learners with progress")
    prepared = prepare_data(app, args.learners)
    log("data: " + ", ".join(f"{k} {v}" for k, v in prepared.counts.items()))

    serve_env = {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": url,
        "SESSION_COOKIE_SECURE": "0",
        "RATELIMIT_STORAGE_URI": "memory://",
        "PROXY_COUNT": "0",
    }
    servers.append(start_gunicorn("app", "app:create_app()", serve_env, args.workers, ROOT, workdir))
    base_env = {**os.environ, "BENCH_DATABASE_URL": url}
    servers.append(start_gunicorn("baseline", "baseline_app:app", base_env, args.workers, BENCH_DIR, workdir))
    app_server, base_server = servers
    wait_ready(app_server, "/healthz")
    wait_ready(base_server, f"/row/{prepared.lesson_ids[0]}")
    log(f"serving: app {app_server.base}, baseline {base_server.base}")

    _status, _headers, body = http_request(base_server.port, "GET", f"/row/{prepared.lesson_ids[0]}")
    baseline_bytes = len(body)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(
            pool.map(
                lambda learner: sign_in(app_server.port, learner, prepared.lesson_paths[0]), prepared.learners
            )
        )
    _status, _headers, body = http_request(
        app_server.port, "GET", prepared.lesson_paths[0], prepared.learners[0].cookie
    )
    log(
        f"{len(prepared.learners)} learners signed in; lesson page {len(body) / 1024:.1f} KB of HTML, "
        f"baseline page {baseline_bytes / 1024:.1f} KB"
    )

    wrk_options = {"threads": args.threads, "connections": args.connections}
    results: dict = {"machine": machine(app), "data": prepared.counts}

    # (a) the baseline: one row, a 10 KB template
    base_file = write_requests(
        workdir / "baseline.tsv", [("GET", f"/row/{lesson_id}", "", "") for lesson_id in prepared.lesson_ids]
    )
    if args.warmup:
        run_wrk(
            "warm-up",
            base_server,
            base_file,
            seconds=args.warmup,
            mode="cycle",
            expect_status=200,
            **wrk_options,
        )
    results["baseline"] = run_wrk(
        "baseline: 1 row + 10 KB template",
        base_server,
        base_file,
        seconds=args.duration,
        mode="cycle",
        expect_status=200,
        **wrk_options,
    )
    results["baseline"].note = f"GET /row/<id>, {baseline_bytes / 1024:.1f} KB page"
    log(f"baseline: {results['baseline'].rps:.0f} req/s")

    # (b) lesson pages: every learner reads every lesson in turn
    learners, paths = prepared.learners, prepared.lesson_paths
    lesson_entries = [
        ("GET", paths[(index + turn) % len(paths)], learner.cookie, "")
        for turn in range(len(paths))
        for index, learner in enumerate(learners)
    ]
    lesson_file = write_requests(workdir / "lessons.tsv", lesson_entries)
    if args.warmup:
        run_wrk(
            "warm-up",
            app_server,
            lesson_file,
            seconds=args.warmup,
            mode="cycle",
            expect_status=200,
            **wrk_options,
        )
    results["lesson"] = run_wrk(
        "lesson page (signed in)",
        app_server,
        lesson_file,
        seconds=args.duration,
        mode="cycle",
        expect_status=200,
        **wrk_options,
    )
    results[
        "lesson"
    ].note = f"GET /learning/<slug>/lessons/<key>, {len(paths)} lessons x {len(learners)} learners"
    log(f"lesson page: {results['lesson'].rps:.0f} req/s")

    # (c) quiz submissions: each request grades a distinct open attempt
    ceiling = max(results["baseline"].rps, results["lesson"].rps)
    warm_count = int(1.5 * ceiling * args.warmup) + 200 if args.warmup else 0
    measure_count = int(1.5 * ceiling * args.duration) + 500
    log(f"opening {warm_count + measure_count} quiz attempts")
    attempts = create_open_attempts(app, learners, prepared.quiz_id, warm_count + measure_count)

    def submission(item) -> tuple[str, str, str, str]:
        learner, attempt_id, answers = item
        form = [("csrf_token", learner.token)]
        form += [
            (f"q-{question}", str(option))
            for question, chosen in answers.items()
            for option in sorted(chosen)
        ]
        return ("POST", f"/learning/attempts/{attempt_id}", learner.cookie, urlencode(form))

    graded_before = count_graded(app, prepared.quiz_id)
    quiz_options = {"mode": "once", "expect_status": 302, "expect_location": r"^/learning/attempts/%d+$"}
    warm_ok = 0
    if args.warmup:
        warm_file = write_requests(
            workdir / "quiz-warm.tsv", [submission(item) for item in attempts[:warm_count]]
        )
        warm = run_wrk("warm-up", app_server, warm_file, seconds=args.warmup, **quiz_options, **wrk_options)
        warm_ok = warm.ok
        if warm.bad or warm.exhausted:
            raise BenchError(f"quiz warm-up: {warm.bad} bad answers, {warm.exhausted} past the pool")
    quiz_file = write_requests(workdir / "quiz.tsv", [submission(item) for item in attempts[warm_count:]])
    results["quiz"] = run_wrk(
        "quiz submission (graded)",
        app_server,
        quiz_file,
        seconds=args.duration,
        **quiz_options,
        **wrk_options,
    )
    time.sleep(0.5)  # let the requests still in flight when wrk stopped finish
    graded = count_graded(app, prepared.quiz_id) - graded_before
    results["quiz"].note = (
        f"POST /learning/attempts/<id>, half pass; {graded} attempts graded in the database for "
        f"{warm_ok + results['quiz'].ok} answered (the rest were in flight when wrk stopped)"
    )
    log(f"quiz submission: {results['quiz'].rps:.0f} req/s")

    log("counting SQL statements per request (in-process test client)")
    results["statements"] = statements_per_request(app, prepared)

    if not args.skip_browser:
        log("weighing cold lesson pages in Chromium")
        results["weights"] = page_weights(app_server.base, learners[0].cookie, paths)

    passed = report(results, args)
    if args.json:
        payload = {
            key: (value.__dict__ if isinstance(value, LoadResult) else value)
            for key, value in results.items()
        }
        payload["ratio"] = results["lesson"].rps / results["baseline"].rps
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
