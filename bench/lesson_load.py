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
import json
import os
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lesson_data import (
    DEFAULT_DATABASE_URL,
    LEARNER_PASSWORD,
    SETUP_COMMANDS,
    add_bench_course,
    count_graded,
    create_open_attempts,
    flask_command,
    make_app,
    per_request_costs,
    postgres_version,
    prepare_data,
    reset_database,
)
from load_tools import (
    BENCH_DIR,
    CHROMIUM,
    BenchError,
    LoadResult,
    Server,
    http_request,
    log,
    machine,
    page_weights,
    run_wrk,
    sign_in,
    start_gunicorn,
    wait_ready,
    write_requests,
)

ROOT = BENCH_DIR.parent
GOAL_RATIO = 0.5
#: A graded quiz submission's throughput against the baseline's, in the same run (issue 15).
GOAL_QUIZ_RATIO = 0.25
GOAL_P99_MS = 50.0
GOAL_PAGE_BYTES = 100 * 1024


class TimeLimit(BaseException):
    """Raised by the alarm when the run takes longer than --time-limit."""


# --- report ---------------------------------------------------------------------------------


def report(results: dict, args) -> bool:
    base, lesson, quiz = results["baseline"], results["lesson"], results["quiz"]
    print()
    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency; "
        f"gunicorn -w {args.workers} (sync) for each app; PostgreSQL; one machine"
    )
    header = (
        f"{'':<34}{'req/s':>8}{'p50 ms':>8}{'p90 ms':>8}{'p99 ms':>8}{'max ms':>8}{'requests':>9}"
        f"{'CPU ms':>8}{'PG ms':>7}{'wrk ms':>7}{'busy':>6}  checks"
    )
    print(header)
    print("-" * len(header))
    for item in (base, lesson, quiz):
        checks = f"ok {item.ok}, bad {item.bad}" + (f", exhausted {item.exhausted}" if item.exhausted else "")
        if item.socket_errors:
            checks += f"; socket errors: {item.socket_errors}"
        print(
            f"{item.name:<34}{item.rps:>8.0f}{item.p50_ms:>8.1f}{item.p90_ms:>8.1f}{item.p99_ms:>8.1f}"
            f"{item.max_ms:>8.1f}{item.requests:>9}{item.worker_cpu_ms:>8.2f}{item.postgres_cpu_ms:>7.2f}"
            f"{item.wrk_cpu_ms:>7.2f}{item.busy_before:>6.0%}  {checks}"
        )
        if item.note:
            print(f"{'':<34}{item.note}")
    print("CPU ms: CPU time of the gunicorn workers per request; PG ms: of PostgreSQL; wrk ms: of wrk.")
    print("busy: share of the CPUs used by other programs in the second before the run (ideally ~0%).")
    if max(item.busy_before for item in (base, lesson, quiz)) > 0.1:
        print("WARNING: the machine was busy with other work; the figures are lower than it can do.")
    ratio = lesson.rps / base.rps if base.rps else 0.0
    quiz_ratio = quiz.rps / base.rps if base.rps else 0.0
    print()
    print(f"lesson/baseline throughput ratio: {ratio:.2f}; quiz submission/baseline: {quiz_ratio:.2f}")
    goals = [
        (f"lesson page ≥ {GOAL_RATIO:.0%} of the baseline's throughput", ratio >= GOAL_RATIO, f"{ratio:.0%}"),
        (
            f"lesson page p99 < {GOAL_P99_MS:.0f} ms at {args.connections} connections",
            lesson.p99_ms < GOAL_P99_MS,
            f"{lesson.p99_ms:.1f} ms",
        ),
        (
            f"graded quiz submission ≥ {GOAL_QUIZ_RATIO:.0%} of the baseline's throughput",
            quiz_ratio >= GOAL_QUIZ_RATIO,
            f"{quiz_ratio:.0%}",
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
    print("One request at a time in-process (Flask test client, no HTTP), medians:")
    print(f"    {'':<20}{'SQL statements':>15}{'DB wait ms':>12}{'Python CPU ms':>15}{'wall ms':>10}")
    for name, figure in results["costs"].items():
        low, high = figure["statements"]
        count = f"{low}" if low == high else f"{low}-{high}"
        print(f"    {name:<20}{count:>15}{figure['db_ms']:>12.1f}{figure['cpu_ms']:>15.1f}{figure['wall_ms']:>10.1f}")
    costs = results["costs"]
    print(
        "    (plus BEGIN, COMMIT/ROLLBACK and the pool's pre-ping per request; "
        f"lesson/baseline CPU ratio {costs['lesson page']['cpu_ms'] / costs['baseline route']['cpu_ms']:.1f}x)"
    )
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
    parser.add_argument("--time-limit", type=int, default=290, help="stop everything after this many seconds (290)")
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
    for command in SETUP_COMMANDS:
        flask_command(command, setup_env)

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
        # Sign-in limits shared by the workers, as production requires with more than one.
        "RATELIMIT_STORAGE_URI": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
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

    def sign_everyone_in() -> None:
        # wrk sends the cookies it is given and keeps none it receives. A fresh sign-in just before
        # each load means the session's cached menu count (app/jobs/routes.py, kept 60 s) holds
        # for the whole load, as it would in a browser that stores the cookies it gets.
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(
                pool.map(
                    lambda learner: sign_in(app_server.port, learner, LEARNER_PASSWORD, prepared.lesson_paths[0]),
                    prepared.learners,
                )
            )

    sign_everyone_in()
    _status, _headers, body = http_request(
        app_server.port, "GET", prepared.lesson_paths[0], prepared.learners[0].cookie
    )
    log(
        f"{len(prepared.learners)} learners signed in; lesson page {len(body) / 1024:.1f} KB of HTML, "
        f"baseline page {baseline_bytes / 1024:.1f} KB"
    )

    results: dict = {"machine": machine(postgres_version(app)), "data": prepared.counts}

    def measure(name: str, server: Server, requests_file: Path, **check) -> LoadResult:
        """A short warm-up, then the measured load (both with wrk)."""
        options = {"threads": args.threads, "connections": args.connections, **check}
        if args.warmup:
            run_wrk("warm-up", server, requests_file, seconds=args.warmup, **options)
        return run_wrk(name, server, requests_file, seconds=args.duration, **options)

    # (a) the baseline: one row, a 10 KB template
    base_file = write_requests(
        workdir / "baseline.tsv", [("GET", f"/row/{lesson_id}", "", "") for lesson_id in prepared.lesson_ids]
    )
    results["baseline"] = measure(
        "baseline: 1 row + 10 KB template", base_server, base_file, mode="cycle", expect_status=200
    )
    results["baseline"].note = f"GET /row/<id>, {baseline_bytes / 1024:.1f} KB page"
    log(f"baseline: {results['baseline'].rps:.0f} req/s")

    # (b) lesson pages: every learner reads every lesson in turn
    sign_everyone_in()
    learners, paths = prepared.learners, prepared.lesson_paths
    lesson_entries = [
        ("GET", paths[(index + turn) % len(paths)], learner.cookie, "")
        for turn in range(len(paths))
        for index, learner in enumerate(learners)
    ]
    lesson_file = write_requests(workdir / "lessons.tsv", lesson_entries)
    results["lesson"] = measure("lesson page (signed in)", app_server, lesson_file, mode="cycle", expect_status=200)
    results["lesson"].note = f"GET /learning/<slug>/lessons/<key>, {len(paths)} lessons x {len(learners)} learners"
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
        form += [(f"q-{question}", str(option)) for question, chosen in answers.items() for option in sorted(chosen)]
        return ("POST", f"/learning/attempts/{attempt_id}", learner.cookie, urlencode(form))

    graded_before = count_graded(app, prepared.quiz_id)
    wrk_options = {"threads": args.threads, "connections": args.connections}
    quiz_options = {"mode": "once", "expect_status": 302, "expect_location": r"^/learning/attempts/%d+$"}
    warm_ok = 0
    if args.warmup:
        warm_file = write_requests(workdir / "quiz-warm.tsv", [submission(item) for item in attempts[:warm_count]])
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

    log("measuring each request alone in this process (test client)")
    results["costs"] = per_request_costs(app, prepared, url)

    if not args.skip_browser:
        log("weighing cold lesson pages in Chromium")
        results["weights"] = page_weights(app_server.base, learners[0].cookie, paths)

    passed = report(results, args)
    if args.json:
        payload = {key: (value.__dict__ if isinstance(value, LoadResult) else value) for key, value in results.items()}
        payload["ratio"] = results["lesson"].rps / results["baseline"].rps
        payload["quiz_ratio"] = results["quiz"].rps / results["baseline"].rps
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
