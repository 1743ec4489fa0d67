"""The province dashboard and its XLSX export at province scale (issue 6, "Scale").

One command, from the repository root:

    python bench/dashboard_scale.py [--learners 1000000] [--reuse]

It creates the PostgreSQL database kns_scale (or the one in BENCH_SCALE_DATABASE_URL /
--database-url; dropped and recreated unless --reuse), runs the migrations, fills it with
`flask demo generate`'s generator (skipped with --reuse when the generated learners are there),
then measures in-process, through the app (Flask's test client, signed in as an administrator):

- the province dashboard (GET /reports/?unit=<province>), without and with filters;
- the manager's overview on the home page (GET /: headline figures and the comparison of communes);
- the province completion export (GET /reports/completion.xlsx?unit=<province>);

each once cold and --runs times warm (median and best wall time, the SQL statements and the time
spent in them), and, for comparison, plain GROUP BY queries over the base tables that the
summary tables replace. It prints the figures and the machine and writes them, dated, into
bench/README.md (section "Province dashboard at scale").
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/kns_scale"
README = ROOT / "bench" / "README.md"
ADMIN = "bench_scale_admin"
PASSWORD = "bench-scale-password"  # a throw-away benchmark database
GOALS = {"dashboard": 0.050, "export": 10.0}
BEGIN, END = "<!-- dashboard-scale:results -->", "<!-- /dashboard-scale:results -->"
GEN_BEGIN, GEN_END = "<!-- dashboard-scale:generation -->", "<!-- /dashboard-scale:generation -->"


def log(message: str) -> None:
    print(message, flush=True)


# --- database ------------------------------------------------------------------------------


def _driver_url(url: str, database: str | None = None) -> str:
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    if database is not None:
        plain = re.sub(r"/[^/?]+(\?|$)", f"/{database}\\1", plain, count=1)
    return plain


def prepare_database(url: str, *, fresh: bool) -> None:
    import psycopg

    name = re.search(r"/([^/?]+)(?:\?|$)", url).group(1)
    with psycopg.connect(_driver_url(url, "postgres"), autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and fresh:
            log(f"dropping database {name}")
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            log(f"creating database {name}")
            connection.execute(f'CREATE DATABASE "{name}"')


def make_app(url: str):
    os.environ.setdefault("APP_ENV", "development")
    os.environ["SEED_DEMO"] = "0"
    os.environ["SCHEDULER_IN_PROCESS"] = "0"
    from app import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SEED_DEMO": False,
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": "localhost",
        }
    )


def migrate(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))


def generated_learners(app) -> int:
    from sqlalchemy import func, select

    from app.auth.models import User
    from app.extensions import db

    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(User).where(User.username.between("gen_0000000", "gen_9999999"))
        )


def generate_data(app, learners: int, visits: int | None, seed: int) -> dict:
    from app.demo.generate import generate
    from app.extensions import db

    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    with app.app_context():
        started = time.perf_counter()
        result = generate(learners, visits, seed=seed, password=PASSWORD, echo=log)
        db.session.commit()
        timings = dict(result.timings)
        timings["total with commit"] = time.perf_counter() - started
        return {"counts": dict(result.counts), "timings": timings, "load": load}


def ensure_admin(app) -> None:
    from sqlalchemy import select

    from app.auth.models import User
    from app.extensions import db
    from app.reports import summaries
    from app.units.models import Unit

    with app.app_context():
        if db.session.scalar(select(User).where(User.username == ADMIN)) is not None:
            return
        province = db.session.scalar(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.name))
        admin = User(username=ADMIN, full_name="Benchmark administrator (gen)", role="admin", unit=province)
        admin.set_password(PASSWORD)
        db.session.add(admin)
        db.session.flush()
        summaries.on_person_changed(admin)
        db.session.commit()


# --- measuring -----------------------------------------------------------------------------


class SqlTimer:
    """Counts the statements and the time spent in them (cursor execute to its return)."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.statements: list[tuple[float, str]] = []
        self._started: list[float] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *_args):
        self._started.append(time.perf_counter())

    def _after(self, _conn, _cursor, statement, *_args):
        self.statements.append((time.perf_counter() - self._started.pop(), statement))

    def reset(self) -> None:
        self.statements = []


def measure(client, timer: SqlTimer, url: str, runs: int) -> dict:
    """One cold request, then `runs` warm ones."""
    samples = []
    for run in range(runs + 1):
        timer.reset()
        started = time.perf_counter()
        response = client.get(url)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}: {response.get_data(as_text=True)[:500]}")
        sql = sum(seconds for seconds, _ in timer.statements)
        sample = {
            "wall": elapsed,
            "sql": sql,
            "statements": len(timer.statements),
            "bytes": len(response.data),
            "slowest": sorted(timer.statements, reverse=True)[:3],
        }
        if run == 0:
            cold = sample
        else:
            samples.append(sample)
    by_wall = sorted(samples, key=lambda s: s["wall"])
    median = by_wall[len(by_wall) // 2]
    return {
        "url": url,
        "cold": cold["wall"],
        "median": statistics.median(s["wall"] for s in samples),
        "best": by_wall[0]["wall"],
        "sql_median": statistics.median(s["sql"] for s in samples),
        "statements": median["statements"],
        "bytes": median["bytes"],
        "slowest": median["slowest"],
    }


def measure_requests(app, runs: int, course_slug: str | None) -> tuple[list[tuple[str, dict]], str]:
    from sqlalchemy import select

    from app.extensions import db
    from app.units.models import Unit

    with app.app_context():
        province = db.session.scalar(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.name))
        code = province.code
        timer = SqlTimer(db.engine)
    client = app.test_client()
    response = client.post("/login", data={"username": ADMIN, "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"could not sign in as {ADMIN}: {response.status_code}")
    today = date.today()
    filters = f"&role=resident&from={today - timedelta(days=90)}&to={today}"
    if course_slug:
        filters = f"&course={course_slug}" + filters
    results = []
    for name, url in (
        ("dashboard", f"/reports/?unit={code}"),
        ("dashboard, filtered", f"/reports/?unit={code}{filters}"),
        ("overview (home page)", "/"),
        ("export", f"/reports/completion.xlsx?unit={code}"),
        ("export, filtered", f"/reports/completion.xlsx?unit={code}{filters}"),
    ):
        log(f"measuring {name}: GET {url}")
        results.append((name, measure(client, timer, url, runs)))
    return results, code


COMPARISONS = {
    "enrolments per commune (base tables)": """
        SELECT split_part(v.path, '/', 3) AS commune, count(*), count(e.completed_at)
        FROM enrollments e JOIN users u ON u.id = e.user_id JOIN units v ON v.id = u.unit_id
        GROUP BY 1""",
    "module completions per commune (base tables)": """
        SELECT split_part(v.path, '/', 3) AS commune, count(*)
        FROM module_completions m JOIN users u ON u.id = m.user_id JOIN units v ON v.id = u.unit_id
        GROUP BY 1""",
    "visits and median wait per commune (base tables)": """
        SELECT split_part(u.path, '/', 3) AS commune, count(*),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM v.starts_at - r.created_at))
        FROM visits v JOIN help_requests r ON r.id = v.request_id JOIN units u ON u.id = v.unit_id
        WHERE v.status = 'done'
        GROUP BY 1""",
    "enrolments per commune (summary table)": """
        SELECT s.unit_id, sum(s.enrolled), sum(s.completed)
        FROM learning_stats s
        WHERE s.unit_id IN (SELECT id FROM units WHERE parent_id = (SELECT id FROM units WHERE code = %(code)s))
        GROUP BY 1""",
}


def measure_queries(url: str, code: str, runs: int) -> list[tuple[str, dict]]:
    import psycopg

    results = []
    with psycopg.connect(_driver_url(url)) as connection:
        for name, sql in COMPARISONS.items():
            times = []
            for _ in range(runs + 1):
                started = time.perf_counter()
                rows = connection.execute(sql, {"code": code}).fetchall()
                times.append(time.perf_counter() - started)
            warm = times[1:]
            results.append((name, {"median": statistics.median(warm), "best": min(warm), "rows": len(rows)}))
    return results


def data_set(url: str) -> dict[str, int]:
    import psycopg

    tables = (
        "users", "enrollments", "module_completions", "lesson_progress", "certificates", "quiz_attempts",
        "help_requests", "visits", "resident_milestones", "learning_stats", "visit_stats", "wait_stats",
    )  # fmt: skip
    with psycopg.connect(_driver_url(url)) as connection:
        counts = {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables}
        counts["communes"] = connection.execute(
            "SELECT count(*) FROM units WHERE kind IN ('commune', 'ward')"
        ).fetchone()[0]
    return counts


def machine(url: str) -> dict[str, str]:
    import psycopg

    cpu = platform.processor() or "?"
    memory = "?"
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        cpu = re.search(r"model name\s*:\s*(.+)", cpuinfo).group(1).strip()
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    with psycopg.connect(_driver_url(url)) as connection:
        version = connection.execute("SHOW server_version").fetchone()[0]
        settings = {name: connection.execute(f"SHOW {name}").fetchone()[0] for name in ("shared_buffers", "work_mem")}
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return {
        "CPUs (nproc)": str(os.cpu_count()),
        "CPU": cpu,
        "RAM": memory,
        "PostgreSQL": f"{version} (shared_buffers {settings['shared_buffers']}, work_mem {settings['work_mem']})",
        "Python": platform.python_version(),
        "load average before measuring (1, 5, 15 min)": load,
    }


# --- report --------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def report(requests, queries, counts, box, learners) -> tuple[str, bool]:
    ok = True
    lines = [
        f"Run on {date.today().isoformat()} with {counts['users']:,} accounts ({learners:,} generated learners), "
        f"{counts['enrollments']:,} enrolments, {counts['module_completions']:,} module completions, "
        f"{counts['lesson_progress']:,} lesson-progress rows, {counts['help_requests']:,} help requests, "
        f"{counts['visits']:,} visits, {counts['communes']} communes; summary rows: "
        f"{counts['learning_stats']:,} learning, {counts['visit_stats']:,} visit, {counts['wait_stats']:,} wait.",
        "",
        "| request (server time, in-process) | cold | warm median | warm best | SQL (median) | statements | "
        "size | goal |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, result in requests:
        goal = GOALS["export" if name.startswith("export") else "dashboard"]
        passed = result["median"] < goal
        ok &= passed
        lines.append(
            f"| {name} | {ms(result['cold'])} | {ms(result['median'])} | {ms(result['best'])} | "
            f"{ms(result['sql_median'])} | {result['statements']} | {result['bytes'] / 1024:,.0f} KB | "
            f"< {ms(goal)}: {'met' if passed else 'MISSED'} |"
        )
    lines += ["", "| plain query, for comparison | warm median | warm best | rows |", "|---|---:|---:|---:|"]
    for name, result in queries:
        lines.append(f"| {name} | {ms(result['median'])} | {ms(result['best'])} | {result['rows']} |")
    lines += ["", "| machine | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in box.items()]
    return "\n".join(lines), ok


def generation_report(generated: dict, learners: int) -> str:
    timings, counts = generated["timings"], generated["counts"]
    rows = [
        f"`flask demo generate --learners {learners:,}` (run on {date.today().isoformat()}; load average "
        f"before it {generated['load']}):",
        "",
        "| step | time | rows |",
        "|---|---:|---|",
        f"| units and courses | {timings['units and courses']:.1f} s | {counts.get('villages_created', 0)} villages |",
        f"| learners (accounts, enrolments, module completions, certificates, lesson and quiz samples) | "
        f"{timings['learners']:.1f} s | {counts.get('users', 0):,} accounts, {counts.get('enrollments', 0):,} "
        f"enrolments, {counts.get('module_completions', 0):,} module completions, "
        f"{counts.get('lesson_progress', 0):,} lessons, {counts.get('quiz_attempts', 0):,} quiz attempts |",
        f"| teams and managers | {timings['teams and managers']:.1f} s | {counts.get('team_members', 0):,} members |",
        f"| requests, visits, milestones | {timings['visits']:.1f} s | {counts.get('help_requests', 0):,} requests, "
        f"{counts.get('visits', 0):,} visits, {counts.get('resident_milestones', 0):,} milestones |",
        f"| rebuild summaries (recount.rebuild, in SQL) | {timings['rebuild summaries']:.1f} s | |",
        f"| ANALYZE | {timings.get('analyze', 0):.1f} s | |",
        f"| total, with the commit | {timings['total with commit']:.1f} s | |",
    ]
    return "\n".join(rows)


def write_readme(results: str, generation: str | None) -> None:
    text = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
    if BEGIN not in text:
        text = text.rstrip("\n") + "\n\n" + SECTION
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    text = text[:start] + "\n" + results + "\n" + text[end:]
    if generation is not None:
        start, end = text.index(GEN_BEGIN) + len(GEN_BEGIN), text.index(GEN_END)
        text = text[:start] + "\n" + generation + "\n" + text[end:]
    README.write_text(text, encoding="utf-8")


SECTION = f"""## Province dashboard at scale

`python bench/dashboard_scale.py [--learners 1000000] [--reuse]` (see its docstring).

{GEN_BEGIN}
{GEN_END}

{BEGIN}
{END}
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=1_000_000)
    parser.add_argument("--visits", type=int, default=None, help="default: learners / 5")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="keep the database and its data when it has some")
    parser.add_argument("--runs", type=int, default=7, help="warm runs of each request")
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_SCALE_DATABASE_URL", DEFAULT_URL), help="PostgreSQL URL"
    )
    parser.add_argument("--no-readme", action="store_true", help="print only; leave bench/README.md alone")
    args = parser.parse_args()

    prepare_database(args.database_url, fresh=not args.reuse)
    app = make_app(args.database_url)
    migrate(app)
    generation = None
    existing = generated_learners(app)
    if args.reuse and existing:
        log(f"reusing {existing:,} generated learners")
        learners = existing
    else:
        log(f"generating {args.learners:,} learners")
        generated = generate_data(app, args.learners, args.visits, args.seed)
        generation = generation_report(generated, args.learners)
        log(generation)
        learners = args.learners
    ensure_admin(app)

    with app.app_context():
        from sqlalchemy import select

        from app.extensions import db
        from app.learning.models import Course

        course_slug = db.session.scalar(select(Course.slug).where(Course.slug == "smartphone-basics"))
        if "reports.dashboard" not in app.view_functions:
            raise SystemExit("The province dashboard (GET /reports/) is not there yet.")
    box = machine(args.database_url)
    requests, code = measure_requests(app, args.runs, course_slug)
    queries = measure_queries(args.database_url, code, args.runs)
    counts = data_set(args.database_url)
    box["load average after measuring (1, 5, 15 min)"] = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    results, ok = report(requests, queries, counts, box, learners)
    print()
    print(results)
    print()
    for name, result in requests:
        print(f"slowest statements of '{name}' (median run):")
        for seconds, statement in result["slowest"]:
            print(f"  {ms(seconds):>10}  {' '.join(statement.split())[:150]}")
    if not args.no_readme:
        write_readme(results, generation)
        log(f"figures written to {README.relative_to(ROOT)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
