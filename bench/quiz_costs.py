"""What one graded quiz submission costs, in-process: SQL statements, DB wait, Python CPU time,
through the quiz page and through the API.

The quick companion of `bench/lesson_load.py` for working on the submission path: no HTTP
server and no wrk, so other programs on the machine disturb it little (CPU time is the Python
process's own). Uses the same data as lesson_load.py (same database, kns_bench by default).

    python bench/quiz_costs.py                  # drop and fill kns_bench, then measure
    python bench/quiz_costs.py --reuse          # measure again on the data already there
    python bench/quiz_costs.py --reuse --profile 20   # and print cProfile's 20 costliest calls
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lesson_data import (
    BENCH_COURSE,
    DEFAULT_DATABASE_URL,
    SETUP_COMMANDS,
    Prepared,
    add_bench_course,
    flask_command,
    make_app,
    per_request_costs,
    prepare_data,
    reset_database,
)
from load_tools import Learner, log


def existing_data(app) -> Prepared:
    """The learners, lessons and bench quiz a previous run left in the database."""
    from sqlalchemy import select

    from app.auth.models import User
    from app.extensions import db
    from app.learning.models import Course

    with app.app_context():
        users = list(db.session.scalars(select(User).where(User.username.like("bench%")).order_by(User.username)))
        course = db.session.scalar(select(Course).where(Course.slug == BENCH_COURSE))
        quiz = course.active_modules[0].active_quiz
        lessons = [lesson for module in course.active_modules for lesson in module.active_lessons]
        return Prepared(
            learners=[Learner(user.username, user.id) for user in users],
            lesson_paths=[f"/learning/{BENCH_COURSE}/lessons/{lesson.key}" for lesson in lessons],
            lesson_ids=[lesson.id for lesson in lessons],
            quiz_id=quiz.id,
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--reuse", action="store_true", help="keep the database a previous run filled")
    parser.add_argument("--learners", type=int, default=50)
    parser.add_argument("--samples", type=int, default=60, help="measured requests of each kind (60)")
    parser.add_argument("--profile", type=int, metavar="N", help="profile the submissions; print the N costliest")
    parser.add_argument("--profile-file", help="with --profile: also save the profile here (pstats)")
    args = parser.parse_args(argv)
    url = args.database_url
    if not args.reuse:
        log("resetting the database")
        reset_database(url)
        env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": url, "SEED_DEMO": "1"}
        for command in SETUP_COMMANDS:
            flask_command(command, env)
    app = make_app(url)
    if args.reuse:
        prepared = existing_data(app)
    else:
        add_bench_course(app)
        prepared = prepare_data(app, args.learners)
    profiler = cProfile.Profile(time.process_time) if args.profile else None  # CPU time, not wall
    figures = per_request_costs(app, prepared, url, samples=args.samples, profiler=profiler)
    print(f"{'request':<22}{'statements':>12}{'DB wait ms':>12}{'CPU ms':>9}{'wall ms':>9}")
    for name, figure in figures.items():
        low, high = figure["statements"]
        count = f"{low}" if low == high else f"{low}-{high}"
        print(f"{name:<22}{count:>12}{figure['db_ms']:>12.2f}{figure['cpu_ms']:>9.2f}{figure['wall_ms']:>9.2f}")
    for name in ("quiz submission", "API quiz submission"):
        quiz = figures[name]
        print(
            f"{name}, pass / fail: CPU ms {statistics.median(quiz['pass_cpu']) * 1000:.2f} / "
            f"{statistics.median(quiz['fail_cpu']) * 1000:.2f}; statements {sorted(set(quiz['pass_statements']))} / "
            f"{sorted(set(quiz['fail_statements']))}"
        )
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)
        if args.profile_file:
            profiler.dump_stats(args.profile_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
