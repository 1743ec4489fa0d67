"""A deadline-day load test: the cluster of bench/cluster.py (two gunicorn nodes behind nginx,
the scheduler, PostgreSQL, Redis) under the mix of bench/deadline_day_locust.py, run by Locust
headless for a bounded time.

    pip install -r requirements-bench.txt
    python bench/deadline_day.py                 # 60 people, 60 s of load; about 3 minutes in all
    python bench/deadline_day.py --users 120 --duration 120 --json result.json
    python bench/deadline_day.py --users 10,20,30 --spawn-rate 2   # a ladder: each load in turn

It starts the cluster (a fresh database, dropped at the end), seeds the demo province, syncs a
copy of a course with unlimited quiz attempts, adds learners with progress (bench/lesson_data.py),
gives the demo's tech-team members visits that have started (to record outcomes of) and every
member and manager the run's password, writes the plan the Locust users read, runs Locust, and
prints per kind of request: requests, errors, requests/s, p50 and p99 (ms), then the totals.
With several loads (`--users 10,20,30`), each runs in turn on the same cluster and data (each with
visits of its own to record), and the end says the highest load the two nodes held: no error and
every page's p99 under --p99-goal ms. Exit status 0 when no load had an error and the first met the
p99 goal, 1 otherwise.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from cluster import Cluster  # noqa: E402
from lesson_data import (  # noqa: E402
    BENCH_COURSE,
    LEARNER_PASSWORD,
    SETUP_COMMANDS,
    add_bench_course,
    make_app,
    prepare_data,
)
from load_tools import log, machine  # noqa: E402

STAFF_PASSWORD = "deadline-day-staff-pw"  # throwaway accounts in a throwaway database
VISITS_PER_MEMBER = 40


class DeadlineCluster(Cluster):
    """The cluster with the demo province instead of the cluster tests' few accounts."""

    def setup(self) -> None:
        for command in SETUP_COMMANDS:
            self.flask(*command, timeout=300)


def prepare(database_url: str, learners: int, visits_per_member: int = VISITS_PER_MEMBER) -> dict:
    """The data the run needs, and the plan the Locust users read."""
    app = make_app(database_url)
    add_bench_course(app)
    prepared = prepare_data(app, learners)

    from sqlalchemy import select

    from app.auth.models import User
    from app.db import utcnow
    from app.extensions import db
    from app.learning.models import Course
    from app.units.models import Unit
    from app.visits import help_requests
    from app.visits.models import Visit

    with app.app_context():
        probe = User()
        probe.set_password(STAFF_PASSWORD)
        staff = {"member": [], "manager": []}
        for user in db.session.scalars(
            select(User).where(User.role.in_(("tech_team", "commune_manager", "department_manager")), User.active)
        ):
            user.password_hash = probe.password_hash
            user.must_change_password = False
            staff["member" if user.role == "tech_team" else "manager"].append(user)
        visits: dict[str, list[int]] = {}
        now = utcnow()
        for member in staff["member"]:
            visits[member.username] = []
            taken = [
                (visit.starts_at, visit.ends_at)
                for visit in db.session.scalars(select(Visit).where(Visit.member_id == member.id))
            ]
            starts = now - timedelta(hours=2)
            while len(visits[member.username]) < visits_per_member:
                ends = starts + timedelta(minutes=30)
                if not any(start < ends and starts < end for start, end in taken):
                    request = help_requests.create_help_request(
                        member, skill="eid", unit=member.unit, place="Nhà văn hóa", name="Người dân (thử)", consent=True
                    )
                    db.session.flush()
                    visit = Visit(
                        member_id=member.id,
                        unit_id=request.unit_id,
                        request_id=request.id,
                        skill="eid",
                        place="Nhà văn hóa",
                        starts_at=starts,
                        ends_at=ends,
                        booked_by_id=member.id,
                    )
                    db.session.add(visit)
                    db.session.flush()
                    visits[member.username].append(visit.id)
                starts -= timedelta(minutes=40)  # started visits, one after another, never overlapping
        course = db.session.scalar(select(Course).where(Course.slug == BENCH_COURSE))
        module = course.active_modules[0]
        province = db.session.scalar(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.code))
        communes = list(db.session.scalars(select(Unit).where(Unit.parent_id == province.id).order_by(Unit.code)))
        db.session.commit()
        plan = {
            "accounts": {
                "learner": [learner.username for learner in prepared.learners],
                "member": [user.username for user in staff["member"]],
                "manager": [user.username for user in staff["manager"]],
            },
            "passwords": {"learner": LEARNER_PASSWORD, "member": STAFF_PASSWORD, "manager": STAFF_PASSWORD},
            "lesson_paths": prepared.lesson_paths,
            "quiz_path": f"/learning/{course.slug}/modules/{module.key}/quiz",
            "visits": visits,
            "visit_paths": [f"/visits/visits/{ids[0]}" for ids in visits.values() if ids],
            "outcome_form": {"skills_done": "eid", "outcome": "resolved", "minutes_spent": "30"},
            "manager_areas": {user.username: manager_area(user, province, communes) for user in staff["manager"]},
        }
    return plan


def manager_area(user, province, communes) -> dict:
    """The report pages of a manager's own area: the province's for a department manager, their
    commune's for a commune manager (another area's answer 403, as they should)."""
    if user.role == "department_manager":
        return {
            "dashboard": f"/reports/?unit={province.code}",
            "indicators": f"/reports/indicators?unit={province.code}",
            "export": f"/reports/completion.csv?unit={province.code}",
            "communes": [f"/reports/units/{commune.code}" for commune in communes],
        }
    code = user.unit.code
    return {
        "dashboard": f"/reports/units/{code}",
        "indicators": f"/reports/indicators?unit={code}",
        "export": f"/reports/completion.csv?unit={code}",
        "communes": [f"/reports/units/{code}"],
    }


def run_locust(url: str, plan_file: Path, certificate: Path, args, users: int, folder: Path) -> list[dict]:
    prefix = folder / "locust"
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(BENCH / "deadline_day_locust.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        f"{args.duration}s",
        "--stop-timeout",
        "10",
        "--host",
        url,
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    env = {**os.environ, "DEADLINE_DAY_PLAN": str(plan_file), "DEADLINE_DAY_CA_BUNDLE": str(certificate)}
    log(f"locust: {users} people, {args.spawn_rate}/s arriving, {args.duration} s")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=args.duration + 120, check=False)
    if done.returncode not in (0, 1):  # 1: some requests failed (counted below)
        raise RuntimeError(f"locust failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    with (folder / "locust_stats.csv").open(encoding="utf-8") as stats:
        rows = list(csv.DictReader(stats))
    failures_file = folder / "locust_failures.csv"
    failures = failures_file.read_text(encoding="utf-8") if failures_file.exists() else ""
    if failures.count("\n") > 1:
        log("failures:\n" + failures)
    return rows


def report(rows: list[dict], p99_goal: float) -> tuple[list[dict], bool]:
    results = []
    for row in rows:
        results.append(
            {
                "kind": row["Name"],
                "method": row["Type"],
                "requests": int(row["Request Count"]),
                "errors": int(row["Failure Count"]),
                "per_second": float(row["Requests/s"]),
                "p50_ms": float(row["50%"] or 0),
                "p99_ms": float(row["99%"] or 0),
            }
        )
    width = max(len(item["kind"]) for item in results)
    print(f"\n{'kind of request':<{width}}  {'requests':>8}  {'errors':>6}  {'req/s':>7}  {'p50 ms':>7}  {'p99 ms':>7}")
    for item in results:
        print(
            f"{item['kind']:<{width}}  {item['requests']:>8}  {item['errors']:>6}  {item['per_second']:>7.1f}  "
            f"{item['p50_ms']:>7.0f}  {item['p99_ms']:>7.0f}"
        )
    total = next((item for item in results if item["kind"] == "Aggregated"), None)
    pages = [item for item in results if item["kind"] != "Aggregated" and item["method"] == "GET"]
    slow = [item["kind"] for item in pages if item["p99_ms"] > p99_goal]
    passed = total is not None and total["errors"] == 0 and not slow
    errors = total["errors"] if total else "?"
    print(f"\nerrors: {errors} (goal 0); pages with p99 over {p99_goal:.0f} ms: {slow or 'none'}")
    return results, passed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--users", default="60", help="simulated people at once; several, comma-separated, run one after another"
    )
    parser.add_argument("--spawn-rate", type=float, default=10, help="people arriving per second")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (of each load)")
    parser.add_argument("--learners", type=int, default=200, help="learner accounts to spread the learners over")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per node")
    parser.add_argument("--p99-goal", type=float, default=200, help="ms: every page's p99 must stay under it")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    try:
        loads = [int(value) for value in args.users.split(",")]
    except ValueError:
        parser.error("--users: whole numbers, comma-separated (e.g. 10,20,30)")
    if not loads or min(loads) < 1:
        parser.error("--users: at least one person")

    started = time.monotonic()
    levels = []
    with tempfile.TemporaryDirectory(prefix="kns-deadline-") as tmp, DeadlineCluster(workers=args.workers) as cluster:
        folder = Path(tmp)
        log(f"cluster up: {cluster.url} (nodes {cluster.node_ports}), preparing data")
        plan = prepare(cluster.database_url, args.learners, visits_per_member=VISITS_PER_MEMBER * len(loads))
        for index, users in enumerate(loads):
            # Each load records the outcomes of visits of its own (an outcome is recorded once).
            visits = {name: ids[index :: len(loads)] for name, ids in plan["visits"].items()}
            plan_file = folder / f"plan-{index}.json"
            plan_file.write_text(json.dumps(plan | {"visits": visits}), encoding="utf-8")
            run_folder = folder / f"run-{index}"
            run_folder.mkdir()
            rows = run_locust(cluster.url, plan_file, cluster.certificate, args, users, run_folder)
            print(f"\n{users} people at once:")
            results, passed = report(rows, args.p99_goal)
            levels.append({"users": users, "results": results, "passed": passed})
        memory = {process.name: process.memory() for process in cluster.processes if process.name.startswith("node")}
    held = [level for level in levels if level["passed"]]
    if len(levels) > 1:
        print(f"\n{'people':>6}  {'req/s':>6}  {'errors':>6}  {'slowest page p99 ms':>19}  held")
        for level in levels:
            total = next((item for item in level["results"] if item["kind"] == "Aggregated"), {})
            pages = [item["p99_ms"] for item in level["results"] if item["method"] == "GET"]
            print(
                f"{level['users']:>6}  {total.get('per_second', 0):>6.1f}  {total.get('errors', '?'):>6}  "
                f"{max(pages, default=0):>19.0f}  {'yes' if level['passed'] else 'no'}"
            )
        print(f"highest load held: {held[-1]['users'] if held else 'none'} people")
    no_errors = all(
        next((item["errors"] for item in level["results"] if item["kind"] == "Aggregated"), 1) == 0 for level in levels
    )
    passed = no_errors and levels[0]["passed"]
    summary = {
        "loads": levels,
        "highest_load_held": held[-1]["users"] if held else None,
        "duration_s": args.duration,
        "spawn_rate": args.spawn_rate,
        "workers_per_node": args.workers,
        "passed": passed,
        "memory": {name: {str(pid): rss for pid, rss in values.items()} for name, values in memory.items()},
        "machine": machine(""),
        "seconds": round(time.monotonic() - started, 1),
    }
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1), encoding="utf-8")
    print(f"{'PASS' if passed else 'FAIL'} in {summary['seconds']} s")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
