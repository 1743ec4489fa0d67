"""The demo data a newcomer sees at the first `python run.py`."""

from collections import defaultdict
from datetime import timedelta
from itertools import pairwise

from app.audit.models import AuditEvent
from app.auth.models import User
from app.db import local_today, utcnow
from app.demo.operations import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo
from app.learning.assignments import assignments_for
from app.learning.models import Assignment, Certificate, QuizAttempt
from app.learning.operations import attempts_left
from app.outcomes.models import Campaign, ClosedMonth, Household, LedgerMonth, Resident, ResidentMilestone
from app.privacy.models import PersonalDataCorrection, PersonRequest
from app.privacy.requests import is_late
from app.reports import recount
from app.reports.overview import headline_figures
from app.reports.summaries import week_of
from app.units.models import Unit
from app.visits.models import GroupSession, HelpRequest, Team, TeamMember, Visit, WeeklyAvailability


def count(db, model, *where):
    return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))


def test_demo_seeds_a_labelled_fictional_province_once(db, real_courses):
    assert seed_demo() is True
    province = db.session.scalar(db.select(Unit).where(Unit.code == "DEMO"))
    assert "dữ liệu mẫu" in province.name
    assert count(db, Unit, Unit.is_demo.is_(False)) == 0
    assert 8 <= count(db, Unit, Unit.kind.in_(["commune", "ward"])) <= 12
    for username, role in DEMO_ACCOUNTS:
        user = db.session.scalar(db.select(User).where(User.username == username))
        assert user.role == role
        assert user.check_password(DEMO_PASSWORD)
    assert seed_demo() is False


def test_demo_has_a_living_agenda_triage_list_and_learning(db, real_courses):
    seed_demo()
    techteam = db.session.scalar(db.select(User).where(User.username == "techteam"))
    commune_manager = db.session.scalar(db.select(User).where(User.username == "commune_manager"))
    assert techteam.unit.commune().id == commune_manager.unit_id
    assert count(db, TeamMember, TeamMember.user_id == techteam.id) == 1
    assert count(db, WeeklyAvailability, WeeklyAvailability.user_id == techteam.id) >= 5
    assert count(db, HelpRequest, HelpRequest.status == "new") >= 3
    assert count(db, Visit, Visit.status == "done") >= 2
    assert count(db, Visit, Visit.status == "booked") >= 1
    assert count(db, GroupSession) >= 1
    # A visit the commune manager booked outside a member's hours, with its reason in the audit log.
    assert count(db, AuditEvent, AuditEvent.action == "visit_override") == 1
    assert count(db, Certificate) >= 1
    assert count(db, Assignment) >= 1


def test_demo_has_requests_about_personal_data_in_each_state_one_late(db, real_courses):
    seed_demo()
    items = db.session.scalars(db.select(PersonRequest)).all()
    assert {item.status for item in items} == {"new", "acknowledged", "closed"}
    assert [item.kind for item in items if is_late(item)] == ["erasure"]
    assert count(db, PersonalDataCorrection) == 1


def test_every_commune_of_the_demo_is_alive_and_they_differ(db, real_courses):
    seed_demo()
    today = local_today()
    communes = db.session.scalars(db.select(Unit).where(Unit.kind.in_(["commune", "ward"])).order_by(Unit.code)).all()
    assert len(communes) == 10
    learners, visits = [], []
    for commune in communes:
        inside = db.select(Unit.id).where(Unit.path.startswith(commune.path))
        figures = {figure.key: figure.value for figure in headline_figures(commune, today=today)}
        assert figures["learners"] > 0, commune.code
        assert figures["completion_rate"] > 0, commune.code
        assert figures["adult_skills"] > 0, commune.code
        done = count(db, Visit, Visit.status == "done", Visit.unit_id.in_(inside))
        assert done > 0, commune.code
        assert count(db, Household, Household.unit_id.in_(inside)) > 0, commune.code
        reached = db.select(Resident.id).where(Resident.unit_id.in_(inside))
        assert count(db, ResidentMilestone, ResidentMilestone.resident_id.in_(reached)) > 0, commune.code
        assert count(db, TeamMember, TeamMember.team.has(Team.unit_id == commune.id)) > 0, commune.code
        learners.append(figures["learners"])
        visits.append(done)
    assert len(set(learners)) >= 5 and len(set(visits)) >= 5  # communes differ

    # A member's visits never overlap, the demo's own and the generated ones alike.
    spans = defaultdict(list)
    for visit in db.session.scalars(db.select(Visit).where(Visit.status.in_(["booked", "done"]))):
        spans[visit.member_id].append((visit.starts_at, visit.ends_at))
    for member_spans in spans.values():
        member_spans.sort()
        assert all(earlier[1] <= later[0] for earlier, later in pairwise(member_spans))

    # Requests waiting, visits booked ahead, and milestones reached over the past twelve weeks.
    assert count(db, HelpRequest, HelpRequest.status == "new") >= 10
    assert count(db, Visit, Visit.status == "booked", Visit.starts_at > utcnow()) >= 3
    recent = [
        day for day in db.session.scalars(db.select(ResidentMilestone.reached_on)) if 0 <= (today - day).days < 84
    ]
    assert len({week_of(day) for day in recent}) >= 8

    # A running campaign whose walk list the demo member walks, part of it done.
    techteam, cadre, resident2 = (
        db.session.scalar(db.select(User).where(User.username == name)) for name in ("techteam", "cadre", "resident2")
    )
    running = [c for c in db.session.scalars(db.select(Campaign)) if c.starts_on <= today <= c.ends_on]
    assert running
    mine = [entry for entry in running[0].entries if entry.member_id == techteam.id]
    assert mine and {entry.status for entry in mine} >= {"pending", "reached"}

    # The demo cadre has an overdue and a due assignment besides the completed one.
    statuses = {item.status for item in assignments_for(cadre, today)}
    assert {"overdue", "due", "completed"} <= statuses

    # Quiz attempts passed and failed, a learner with attempts left.
    assert count(db, QuizAttempt, QuizAttempt.passed.is_(True)) > 0
    assert count(db, QuizAttempt, QuizAttempt.passed.is_(False)) > 0
    attempt = db.session.scalar(db.select(QuizAttempt).where(QuizAttempt.user_id == resident2.id))
    assert not attempt.passed and attempts_left(resident2, attempt.quiz) > 0

    # Last month closed in the ledger, with the demo member's row.
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    assert db.session.get(ClosedMonth, last_month) is not None
    row = db.session.scalar(db.select(LedgerMonth).where(LedgerMonth.member_id == techteam.id))
    assert row.month == last_month

    # The dashboards' summaries agree with a recount from the rows.
    assert recount.stored_rows() == recount.compute_from_scratch()
    # The generated people are fictional and labelled.
    generated = db.session.scalars(db.select(User).where(User.username.like("demo\\_%", escape="\\"))).all()
    assert generated and all("(demo)" in person.full_name for person in generated)
