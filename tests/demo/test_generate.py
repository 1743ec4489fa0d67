"""`flask demo generate`: synthetic data at scale, marked as generated, and summaries that agree."""

from collections import Counter, defaultdict
from datetime import timedelta
from itertools import pairwise

import pytest
from sqlalchemy import func, select

from app.auth.models import User
from app.demo.generate import generate
from app.learning.models import (
    AttemptChoice,
    AttemptQuestion,
    Certificate,
    Enrollment,
    LessonProgress,
    ModuleCompletion,
    QuizAttempt,
)
from app.outcomes.models import ResidentMilestone
from app.reports import recount, summaries
from app.units.models import Unit
from app.visits.models import HelpRequest, Team, TeamMember, Visit

LEARNERS, VISITS = 300, 100


def quiet(_message):
    pass


def count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def learners(db):
    return list(db.session.scalars(select(User).where(User.username.between("gen_0000000", "gen_9999999"))))


@pytest.fixture
def generated(db):
    return generate(LEARNERS, VISITS, seed=7, password="generated secret", echo=quiet)


def test_generating_places_learners_over_the_communes_by_population(db, generated):
    communes = list(db.session.scalars(select(Unit).where(Unit.kind.in_(("commune", "ward")))))
    assert len(communes) == 99  # the province file was imported into the empty database
    assert 1_300_000 <= sum(c.population for c in communes) <= 1_600_000
    villages = Counter(
        unit.parent_id for unit in db.session.scalars(select(Unit).where(Unit.parent_id.in_([c.id for c in communes])))
    )
    assert all(3 <= villages[c.id] <= 5 for c in communes)
    generated_villages = db.session.scalars(select(Unit).where(Unit.kind.in_(("village", "residential_group"))))
    assert all(v.is_demo and "(gen)" in v.name for v in generated_villages)

    people = learners(db)
    assert len(people) == LEARNERS
    assert all("(gen)" in person.full_name for person in people)
    roles = Counter(person.role for person in people)
    assert roles["resident"] > 0.8 * LEARNERS
    assert 0.03 * LEARNERS <= roles["cadre"] <= 0.15 * LEARNERS
    assert roles["tech_team"] >= 3

    # Spread: most communes have learners, and the larger half of the communes (by adults) has
    # more of them than the smaller half.
    commune_of = {}
    for unit in db.session.scalars(select(Unit)):
        commune_of[unit.id] = unit.commune().id if unit.commune() else None
    per_commune = Counter(commune_of[person.unit_id] for person in people)
    assert len([c for c in communes if per_commune[c.id]]) >= 60
    by_size = sorted(communes, key=lambda c: c.population)
    smaller, larger = by_size[: len(by_size) // 2], by_size[len(by_size) // 2 :]
    assert sum(per_commune[c.id] for c in larger) > sum(per_commune[c.id] for c in smaller)

    # Everyone shares one password hash (hashed once), which signs in.
    assert len({person.password_hash for person in people}) == 1
    assert people[0].check_password("generated secret")


def test_generated_learning_is_consistent(db, generated):
    people = {person.id: person for person in learners(db)}
    enrolments = list(db.session.scalars(select(Enrollment).where(Enrollment.user_id.in_(people))))
    per_person = Counter(e.user_id for e in enrolments)
    assert set(per_person) == set(people) and set(per_person.values()) <= {1, 2, 3}
    completed = [e for e in enrolments if e.completed_at is not None]
    assert 0.3 * len(enrolments) < len(completed) < 0.8 * len(enrolments)
    assert {e.completion_mode for e in completed} == {"self", "in_person", "assisted"}
    assert all(e.enrolled_at <= e.completed_at for e in completed)
    # Completions spread over the past year, week by week.
    weeks = {summaries.week_of(e.completed_at) for e in completed}
    assert len(weeks) >= 20
    assert max(e.completed_at for e in completed) - min(e.completed_at for e in completed) > timedelta(days=200)

    # A completed course has all its modules completed and a certificate.
    modules_done = Counter(m.user_id for m in db.session.scalars(select(ModuleCompletion)))
    for enrolment in completed[:50]:
        modules = len(enrolment.course.active_modules)
        assert modules_done[enrolment.user_id] >= modules
    assert count(db, Certificate) == len(completed)
    # Lessons and quiz attempts exist for a sample only.
    assert count(db, LessonProgress) > 0
    attempts = list(db.session.scalars(select(QuizAttempt)))
    assert attempts
    for attempt in attempts:
        assert (attempt.score * 100 >= attempt.quiz.pass_mark * attempt.max_score) == attempt.passed
        assert count(db, AttemptQuestion, AttemptQuestion.attempt_id == attempt.id) == attempt.max_score
    assert count(db, AttemptChoice) > 0


def test_generated_visits_are_done_by_the_communes_teams_and_never_overlap(db, generated):
    assert count(db, Visit) == VISITS
    assert count(db, HelpRequest) >= 0.9 * VISITS
    assert count(db, Team) >= 1 and count(db, TeamMember) >= 3
    team_communes = defaultdict(set)
    for team in db.session.scalars(select(Team)):
        for member in team.members:
            team_communes[member.user_id].add(team.unit_id)
    busy = defaultdict(list)
    for visit in db.session.scalars(select(Visit)):
        assert visit.unit.commune().id in team_communes[visit.member_id]
        if visit.request is not None:
            assert visit.request.created_at <= visit.starts_at
            assert visit.request.unit_id == visit.unit_id
        if visit.status == "done":
            assert visit.resolved is not None and visit.minutes_spent
        if visit.status in ("booked", "done"):
            busy[visit.member_id].append((visit.starts_at, visit.ends_at))
    for spans in busy.values():
        spans.sort()
        assert all(earlier[1] <= later[0] for earlier, later in pairwise(spans))
    assert count(db, Visit, Visit.rating.is_not(None)) > 0
    assert count(db, ResidentMilestone) > 0


def test_summaries_equal_a_recount_after_generating(db, generated):
    stored, fresh = recount.stored_rows(), recount.compute_from_scratch()
    for table in fresh:
        assert fresh[table], table
        assert stored[table] == fresh[table], table


def test_generating_again_adds_more_people_after_the_first(db, generated):
    result = generate(20, 60, seed=8, password="another", echo=quiet)
    assert result.counts["users"] == 20  # the managers exist already
    assert len(learners(db)) == LEARNERS + 20
    assert count(db, Unit, Unit.kind.in_(("village", "residential_group"))) == generated.counts["villages_created"]
    stored, fresh = recount.stored_rows(), recount.compute_from_scratch()
    assert stored == fresh


def test_the_command_refuses_a_production_database(app, db):
    app.config["ENV_NAME"] = "production"
    try:
        result = app.test_cli_runner().invoke(args=["demo", "generate", "--learners", "10"])
    finally:
        app.config["ENV_NAME"] = "testing"
    assert result.exit_code == 1
    assert "cơ sở dữ liệu vận hành thật" in result.output  # the CLI speaks Vietnamese
    assert count(db, User) == 0


def test_the_command_generates_and_reports_what_it_wrote(app, db):
    result = app.test_cli_runner().invoke(
        args=["demo", "generate", "--learners", "40", "--visits", "8", "--password", "cli secret"]
    )
    assert result.exit_code == 0, result.output
    assert "learners 40/40" in result.output
    assert "rebuild summaries" in result.output
    assert len(learners(db)) == 40
    assert count(db, Visit) == 8
