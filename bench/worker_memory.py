"""Memory of each gunicorn worker before and after 1,000 requests of the pages people use most.

    python bench/worker_memory.py            # PostgreSQL database kns_memory, dropped and made again
    python bench/worker_memory.py --sqlite   # SQLite in a temporary folder instead

It prepares a database with `flask db upgrade`, `flask courses sync` and `flask demo seed` (the
PostgreSQL database of --database-url or BENCH_DATABASE_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/kns_memory, is dropped and created first; with
--sqlite, a file in a temporary folder: two workers writing at once on SQLite may meet "database is
locked", so production's PostgreSQL is the default), serves the app with
`gunicorn -w 2 --worker-class sync 'app:create_app()'` in the production profile (limits in the
Redis at BENCH_REDIS_URL, default redis://127.0.0.1:6379/15), and reads every worker's VmRSS
(and PSS, and the peak VmHWM) from /proc once the server answers and again after the requests.

The requests: each demo account signs in through the real form, then the pages of its role are
asked for in turn from 4 threads — sign-in page, home, catalog, course pages, lessons, quizzes and
"my progress" for the resident and the cadre; home, agenda, triage, team calendar and residents
for the tech-team member; home, the province and commune dashboards, indicators, trends, teams
and course analytics for the managers. Links are found in the pages themselves. No certificate,
export or calendar feed is asked for: they load their libraries when first used.

Goal: every worker under 100 MB RSS after the requests. Exit status 0 when met, 1 when not, 2
when the run could not finish. The table also says which heavy libraries a worker has mapped.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from load_tools import BenchError, Server, csrf_token, http_request, log, session_cookie, start_gunicorn, wait_ready

ROOT = Path(__file__).resolve().parent.parent
GOAL_MB = 100
DEMO_PASSWORD = "demo12345"  # the demo province's published password (README)
#: Libraries create_app() leaves out (tests/test_lean_start.py), as they appear in /proc/<pid>/maps.
HEAVY_LIBRARIES = ("fpdf", "uharfbuzz", "fontTools", "PIL", "openpyxl", "numpy", "icalendar", "zxcvbn", "alembic")

ROLE_PAGES = {
    "resident": ["/", "/learning/", "/learning/me", "/visits/requests/mine"],
    "cadre": ["/", "/learning/", "/learning/me"],
    "techteam": ["/", "/visits/agenda", "/visits/triage", "/visits/calendar", "/outcomes/residents"],
    "manager": ["/", "/reports/", "/reports/indicators", "/reports/trends", "/reports/teams", "/reports/courses"],
    "commune_manager": ["/", "/reports/units/D01", "/reports/indicators", "/reports/teams", "/visits/triage"],
}
COURSE_LINK = re.compile(r'href="(/learning/[a-z0-9-]+/)"')
LESSON_LINK = re.compile(r'href="(/learning/[a-z0-9-]+/(?:lessons/[^"/?#]+|modules/[^"/?#]+/quiz))"')
UNIT_LINK = re.compile(r'href="(/reports/units/[A-Za-z0-9_-]+)"')


def memory(pid: int) -> dict[str, float]:
    """VmRSS, VmHWM and PSS of a process, in MB."""
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            figures[name] = int(rest.split()[0]) / 1024
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                figures["Pss"] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return figures


def heavy_mapped(pid: int) -> list[str]:
    """The heavy libraries whose files the process has mapped (compiled modules, e.g. PIL's)."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return []
    return [name for name in HEAVY_LIBRARIES if f"/{name}/" in maps or f"/{name}." in maps]


def worker_pids(server: Server) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == server.process.pid:
            pids.append(int(stat.parent.name))
    return sorted(pids)


class Visitor:
    """One signed-in demo account: its cookie, kept up to date from the answers."""

    def __init__(self, port: int, username: str):
        self.port = port
        self.username = username
        self.cookie = ""
        self.lock = threading.Lock()
        self.sent = 0

    def get(self, path: str) -> tuple[int, str]:
        status, headers, body = http_request(self.port, "GET", path, self.cookie)
        with self.lock:
            self.cookie = session_cookie(headers, self.cookie)
            self.sent += 1
        return status, body.decode(errors="replace")

    def sign_in(self) -> None:
        status, headers, body = http_request(self.port, "GET", "/login")
        if status != 200:
            raise BenchError(f"GET /login answered {status}")
        cookie = session_cookie(headers, "")
        form = [("csrf_token", csrf_token(body.decode())), ("username", self.username), ("password", DEMO_PASSWORD)]
        status, headers, body = http_request(self.port, "POST", "/login", cookie, form)
        if status != 302:
            raise BenchError(f"signing in {self.username} answered {status}: {body[:200]!r}")
        self.cookie = session_cookie(headers, cookie)
        self.sent += 2


def pages_of(visitor: Visitor, role: str) -> list[str]:
    """The role's pages, with the courses, lessons, quizzes and units their pages link to."""
    pages = list(ROLE_PAGES[role])
    if role in ("resident", "cadre"):
        _status, catalog = visitor.get("/learning/")
        courses = sorted(set(COURSE_LINK.findall(catalog)))[:3]
        pages += courses
        for course in courses:
            _status, page = visitor.get(course)
            pages += list(dict.fromkeys(LESSON_LINK.findall(page)))[:6]
    if role in ("manager", "commune_manager"):
        _status, dashboard = visitor.get("/reports/")
        pages += sorted(set(UNIT_LINK.findall(dashboard)))[:4]
    return pages


def prepare_database(url: str) -> None:
    from lesson_data import flask_command, reset_database

    if url.startswith("postgresql"):
        log(f"resetting {url.rsplit('/', 1)[-1]}")
        reset_database(url)
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": url, "SEED_DEMO": "1"}
    flask_command(["db", "upgrade"], env)
    flask_command(["courses", "sync"], env)
    flask_command(["demo", "seed"], env)


def run(args, workdir: Path, servers: list[Server]) -> dict:
    url = f"sqlite:///{workdir / 'memory.db'}" if args.sqlite else args.database_url
    prepare_database(url)
    env = {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": url,
        "SESSION_COOKIE_SECURE": "0",
        "RATELIMIT_STORAGE_URI": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
        "PROXY_COUNT": "0",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    server = start_gunicorn("app", "app:create_app()", env, args.workers, ROOT, workdir)
    servers.append(server)
    wait_ready(server, "/healthz", timeout=60)
    deadline = time.monotonic() + 30
    while len(worker_pids(server)) < args.workers and time.monotonic() < deadline:
        time.sleep(0.2)
    # Every worker has built its app once it has answered; ask until each has (a few requests).
    for _ in range(20 * args.workers):
        http_request(server.port, "GET", "/healthz")
    pids = worker_pids(server)
    before = {pid: memory(pid) for pid in pids}
    log(f"workers {pids}: " + ", ".join(f"{figures['VmRSS']:.1f} MB" for figures in before.values()))

    visitors = {role: Visitor(server.port, role) for role in ROLE_PAGES}
    for visitor in visitors.values():
        visitor.sign_in()
    plan = []
    for role, visitor in visitors.items():
        plan += [(visitor, path) for path in pages_of(visitor, role)]
    sent = sum(visitor.sent for visitor in visitors.values())  # signing in and finding the links
    plan.append((None, "/login"))
    queue = [plan[n % len(plan)] for n in range(max(0, args.requests - sent))]
    statuses: dict[int, int] = {}
    bad: list[str] = []
    started = time.monotonic()

    def send(item) -> None:
        visitor, path = item
        status = http_request(server.port, "GET", path)[0] if visitor is None else visitor.get(path)[0]
        statuses[status] = statuses.get(status, 0) + 1
        if status != 200:
            bad.append(f"{visitor.username if visitor else 'anonymous'} {path} -> {status}")

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(send, queue))
    seconds = time.monotonic() - started
    total = sent + len(queue)
    after = {pid: memory(pid) for pid in pids if Path(f"/proc/{pid}").exists()}
    return {
        "database": url.split(":", 1)[0],
        "workers": [
            {
                "pid": pid,
                "rss_before_mb": round(before[pid]["VmRSS"], 1),
                "rss_after_mb": round(after[pid]["VmRSS"], 1) if pid in after else None,
                "pss_after_mb": round(after[pid].get("Pss", 0), 1) if pid in after else None,
                "peak_mb": round(after[pid]["VmHWM"], 1) if pid in after else None,
                "heavy_libraries": heavy_mapped(pid),
            }
            for pid in pids
        ],
        "requests": total,
        "distinct_pages": len(plan),
        "seconds": round(seconds, 1),
        "statuses": statuses,
        "not_200": bad[:20],
        "log_tail": server.log_tail(60) if bad else "",
    }


def report(result: dict) -> bool:
    print()
    print(
        f"{result['requests']} requests ({result['distinct_pages']} distinct pages, {result['seconds']} s), "
        f"answers: {result['statuses']}, database: {result['database']}"
    )
    columns = f"{'worker':>8} | {'RSS before':>10} | {'RSS after':>9} | {'PSS after':>9} | {'peak':>7}"
    print(f"{columns} | heavy libraries mapped")
    print("-" * 88)
    for worker in result["workers"]:
        print(
            f"{worker['pid']:>8} | {worker['rss_before_mb']:>7.1f} MB | {worker['rss_after_mb'] or 0:>6.1f} MB"
            f" | {worker['pss_after_mb'] or 0:>6.1f} MB | {worker['peak_mb'] or 0:>4.1f} MB"
            f" | {', '.join(worker['heavy_libraries']) or 'none'}"
        )
    for line in result["not_200"]:
        print(f"  not 200: {line}")
    if result["log_tail"]:
        print(f"--- server log ---\n{result['log_tail']}")
    worst = max((worker["rss_after_mb"] or 10**6) for worker in result["workers"])
    met = worst < GOAL_MB and not result["not_200"]
    print(f"\nlargest worker after the requests: {worst:.1f} MB (goal < {GOAL_MB} MB): {'met' if met else 'MISSED'}")
    return met


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/kns_memory"),
        help="a PostgreSQL database to drop and use",
    )
    parser.add_argument("--sqlite", action="store_true", help="use SQLite in a temporary folder instead")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="kns-memory-"))
    servers: list[Server] = []
    try:
        result = run(args, workdir, servers)
    except BenchError as error:
        log(f"failed: {error}")
        for server in servers:
            print(f"--- {server.name} log ---\n{server.log_tail()}")
        return 2
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0 if report(result) else 1


if __name__ == "__main__":
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    sys.exit(main())
