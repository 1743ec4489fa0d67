"""Synthetic data at province scale, for load and benchmark work (`flask demo generate`).

Everything generated is marked: usernames start with ``gen_``, people's and places' names end in
"(gen)", generated villages are flagged ``is_demo``. All generated accounts share one password
(hashed once). What is written, for N learners (V visits, by default N / 5):

- units: the real province file (data/units/bac-ninh-2025.csv) when there are no real units yet,
  and 3–5 generated villages or residential groups under every commune or ward that has none,
  with adult populations that add up to a province of 1.3–1.6 million adults;
- the shipped courses (synced) and the default milestones;
- N learners: ~0.15 % tech-team members (at least 3, spread over communes by population, one
  team per commune with members, skills and weekly hours), ~8 % cadres (at their commune's office,
  a few at the province), the rest residents in villages chosen by population; plus one
  department manager and one commune manager per commune (not counted in N);
- 1–3 enrolments per learner over the past year (more in recent months, bursts of campaigns),
  about half of them completed (self-study, in-person class or with help), with module
  completions and a certificate for every completed course;
- per-lesson progress and quiz attempts (questions, shuffled options, chosen answers — with a
  tempting wrong option per question) only for a sample of learners (10 % and 5 %): per-lesson
  rows for everyone would be ~5 rows per enrolment and would dominate the run;
- help requests (most turned into visits, some still waiting or cancelled, communes without a
  team keep theirs waiting) and V visits by members of the commune's team, never two at once for
  a member, with outcomes, ratings, follow-ups for unresolved ones, and the milestones reached;
- course assignments (cadres province-wide; residents in some communes).

- with Settings(household_share=…) (the demo province): households holding every resident record
  of a village, and more records, so that campaigns have households to walk to.

Not generated: group sessions, in-person classes and their attendance (in-person and assisted
completions carry their mode but no class), campaigns, ledger months (the demo province adds
these through the app's own operations, app.demo.province). Running it
again adds more (usernames continue; villages and managers already there are reused).

It writes with COPY on PostgreSQL (executemany on SQLite, slower), never through the ORM per row,
then recounts the dashboards' summary tables (app.reports.recount.rebuild).

This module runs the steps in order. What happens is decided in simulation.py (places, courses,
the clock), simulation_people.py (learners, learning, teams) and simulation_visits.py (requests,
visits, outcomes); bulk_writer.py writes the rows.
"""

from __future__ import annotations

import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import text

from app.demo.simulation import Settings, Simulation
from app.demo.simulation_households import add_households
from app.demo.simulation_people import add_learners, add_staff
from app.demo.simulation_visits import add_visits
from app.extensions import db
from app.reports import recount

#: The tables the generator fills (analysed before the summaries are recounted).
ANALYZED = (
    "units", "users", "enrollments", "module_completions", "lesson_progress", "certificates", "quiz_attempts",
    "attempt_questions", "attempt_choices", "teams", "team_members", "help_requests", "visits", "residents",
    "resident_milestones", "milestone_evidence", "follow_ups", "households",
)  # fmt: skip


@dataclass
class GenerateResult:
    learners: int = 0
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    timings: dict[str, float] = field(default_factory=dict)
    password: str = ""


def generate(
    learners: int,
    visits: int | None = None,
    *,
    seed: int = 1,
    password: str,
    echo: Callable[[str], None] = print,
    settings: Settings | None = None,
) -> GenerateResult:
    """Add `learners` synthetic learners (and `visits` visits, by default learners / 5) with
    their learning, teams, requests, visits and milestones, then rebuild the summaries.
    `settings` change the shape (the demo province uses a small, recent one).

    Runs in the caller's transaction (the caller commits)."""
    if visits is None:
        visits = learners // 5
    settings = settings or Settings()
    result = GenerateResult(learners=learners, password=password)
    sim = Simulation(seed, password, result.counts, echo, settings)
    writer = sim.writer
    postgresql = writer.postgresql
    if postgresql:
        db.session.execute(text("SET LOCAL synchronous_commit = off"))

    @contextmanager
    def step(name: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        result.timings[name] = time.perf_counter() - start

    try:
        with step("units and courses"):
            sim.prepare_units()
            sim.prepare_courses()
        with step("learners"):
            people = add_learners(sim, learners)
            writer.drain()
        with step("teams and managers"):
            managers = add_staff(sim, people)
        with step("visits"):
            add_visits(sim, visits, people, managers)
            writer.drain()
        if settings.household_share > 0:
            with step("households"):
                add_households(sim)
                writer.drain()
    except BaseException:
        writer.close(give_back=False)  # the transaction is to be rolled back anyway
        raise
    writer.close()
    db.session.expire_all()
    if not settings.recount:
        result.timings["total"] = time.perf_counter() - sim.started
        return result
    if postgresql:  # the planner needs to know the new rows before the recount
        with step("analyze"):
            db.session.execute(text(f"ANALYZE {', '.join(ANALYZED)}"))
    with step("rebuild summaries"):
        recount.rebuild()
    sim.log("summary tables rebuilt")
    if postgresql:
        db.session.execute(text(f"ANALYZE {', '.join(model.__tablename__ for model in recount.STAT_MODELS)}"))
    result.timings["total"] = time.perf_counter() - sim.started
    return result


def default_password() -> str:
    return "gen-" + secrets.token_urlsafe(9)


__all__ = ["GenerateResult", "Settings", "default_password", "generate"]
