"""How long the demo province takes to seed on the first `python run.py` (issue 14: under 10 s).

One command, from the repository root:

    python bench/demo_seed.py [--runs 3] [--postgresql]

Each run makes a fresh SQLite file in a temporary folder (with --postgresql also the PostgreSQL
database kns_demo_seed, or the one in BENCH_DEMO_DATABASE_URL, dropped and recreated), applies
the migrations and syncs the courses as run.py does (not timed), then times `seed_demo()` and its
commit. Every run is a process of its own, as a first start is. It prints each time, the median,
the CPU time the app's process spent (on SQLite nearly all the work; a figure that a busy
machine does not inflate) and the load average (compare wall times at a similar load).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/kns_demo_seed"


def one(url: str) -> None:
    """Prepare the database at `url` and print the seconds seed_demo() took."""
    sys.path.insert(0, str(ROOT))
    os.environ["APP_ENV"] = "development"
    os.environ["DATABASE_URL"] = url
    import logging

    logging.disable(logging.INFO)
    from flask_migrate import upgrade

    from app import create_app
    from app.demo.operations import seed_demo
    from app.extensions import db
    from app.learning.cli import COURSES_DIR
    from app.learning.content import sync_courses

    app = create_app()
    with app.app_context():
        upgrade()
        sync_courses(COURSES_DIR)
        db.session.commit()
        start, cpu = time.perf_counter(), time.process_time()
        assert seed_demo(), "the database was not empty"
        db.session.commit()
        print(f"{time.perf_counter() - start:.3f} {time.process_time() - cpu:.3f}")


def recreate(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def measure(label: str, urls) -> list[float]:
    times, cpus = [], []
    for url in urls:
        output = subprocess.run(
            [sys.executable, __file__, "--one", url], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
        wall, cpu = output.strip().splitlines()[-1].split()
        times.append(float(wall))
        cpus.append(float(cpu))
    print(
        f"{label}: median {statistics.median(times):.2f} s, best {min(times):.2f} s "
        f"({', '.join(f'{t:.2f}' for t in times)}); the app's own CPU time median {statistics.median(cpus):.2f} s; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgresql", action="store_true", help="also time it on PostgreSQL")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.one)
        return
    print(f"{os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        measure("SQLite", (f"sqlite:///{folder}/demo-{n}.db" for n in range(args.runs)))
    if args.postgresql:
        url = os.environ.get("BENCH_DEMO_DATABASE_URL", DEFAULT_PG)

        def fresh():
            for _ in range(args.runs):
                recreate(url)
                yield url

        measure("PostgreSQL", fresh())
        sys.path.insert(0, str(ROOT))
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
