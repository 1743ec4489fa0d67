"""Activity in every commune of the demo province: the synthetic data generator at a small,
recent scale (learners with their learning and quiz attempts, teams, help requests, visits done,
waiting and booked, milestones over the past months, households), then what the app's own
operations add on top: door-to-door campaigns with their walk lists, course assignments due and
overdue, a quiz with attempts left, and the last month's ledger closed. Everything is seeded
(the same rows for the same clock) and dated from the app's clock, so the demo is alive whatever
day it starts."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from app.auth.models import User
from app.db import LOCAL_TZ, local_today
from app.demo.generate import generate
from app.demo.simulation import Settings
from app.extensions import db
from app.learning import operations as learning
from app.learning.models import Assignment, Course
from app.outcomes import campaigns
from app.outcomes.ledger import close_month, month_start
from app.outcomes.models import MilestoneEvidence, ResidentMilestone
from app.outcomes.operations import get_milestone
from app.units.models import Unit, path_within
from app.units.operations import get_unit_by_code
from app.visits.availability import members_for

#: The generator's shape for the demo: 500 learners and 400 visits over half a year,
#: every commune with a team, a dense sample of lessons and quiz attempts, and households.
LEARNERS = 500
VISITS = 400
SEED = 2026
MARK = "(demo)"


def settings(password_hash: str) -> Settings:
    return Settings(
        days=182,
        mark=MARK,
        username_prefix="demo_",
        within="DEMO",
        sync_courses=False,
        lesson_sample=0.5,
        quiz_sample=0.35,
        tech_team_share=0.04,
        assignments=False,
        household_share=0.3,
        recount=False,
        password_hash=password_hash,
    )


def seed_province(people: dict[str, User], password_hash: str) -> None:
    """Fill the ten communes, then the campaigns, assignments, quiz attempts and ledger. The
    caller recounts the dashboards' summaries."""
    generate(LEARNERS, VISITS, seed=SEED, password="", echo=_quiet, settings=settings(password_hash))
    seed_campaigns(people)
    seed_assignments(people)
    seed_attempts_left(people)
    seed_closed_month(people)


def _quiet(_message: str) -> None:
    pass


def seed_campaigns(people: dict[str, User]) -> None:
    """A running e-ID campaign in Xã An Phú (the demo member walks a list; about half the
    households visited, some of them reaching the milestone), and one in Phường Thanh Hà that
    ended last month."""
    today = local_today()
    an_phu = get_unit_by_code("D01")
    running = _campaign(
        people["commune_manager"],
        an_phu,
        "Kích hoạt định danh điện tử mức 2 tháng này (dữ liệu mẫu)",
        "eid_activated",
        today - timedelta(days=12),
        today + timedelta(days=16),
    )
    thanh_ha = get_unit_by_code("D06")
    ended = _campaign(
        db.session.scalar(select(User).where(User.unit_id == thanh_ha.id, User.role == "commune_manager")),
        thanh_ha,
        "Phòng chống lừa đảo qua mạng đến từng hộ (dữ liệu mẫu)",
        "scam_briefing",
        today - timedelta(days=58),
        today - timedelta(days=30),
    )
    for campaign, share, last_day in ((running, 0.5, today - timedelta(days=1)), (ended, 0.85, ended.ends_on)):
        if campaign is None:
            continue
        _walk(campaign, share, last_day)


def _campaign(actor: User | None, commune: Unit, name: str, milestone_key: str, starts_on, ends_on):
    milestone = get_milestone(milestone_key)
    villages = [unit.code for unit in db.session.scalars(select(Unit).where(Unit.parent_id == commune.id))]
    if actor is None or milestone is None or not villages or not members_for(commune):
        return None
    return campaigns.create_campaign(
        actor,
        name=name,
        milestone=milestone,
        commune=commune,
        village_codes=villages,
        starts_on=starts_on,
        ends_on=ends_on,
    )


def _walk(campaign, share: float, last_day) -> None:
    """Record what happened at the first `share` of each member's list, day by day: mostly
    reached (an adult there reaching the milestone, with the evidence, written as rows: the
    summaries are recounted at the end), some not at home, a few declined."""
    entries = campaigns.walk_list_with_households(campaign, None)
    by_member: dict[int, list] = {}
    for entry in entries:
        by_member.setdefault(entry.member_id, []).append(entry)
    members = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(list(by_member))))}
    days = max(1, (last_day - campaign.starts_on).days)
    for member_id, items in by_member.items():
        member = members[member_id]
        walked = items[: round(len(items) * share)]
        for n, entry in enumerate(walked):
            status = ("reached", "reached", "reached", "not_home", "reached", "declined")[n % 6]
            note = "Hẹn quay lại buổi tối (dữ liệu mẫu)" if status == "not_home" else None
            campaigns.update_walk_status(member, entry, status, note)
            on_date = campaign.starts_on + timedelta(days=n * days // max(1, len(walked)))
            moment = datetime.combine(on_date, time(17, 30), tzinfo=LOCAL_TZ)
            entry.updated_at = moment
            if status != "reached":
                continue
            adults = [r for r in entry.household.residents if r.is_adult(last_day.year) and r.restricted_at is None]
            if not adults or _has_reached(adults[0].id, campaign.milestone_id):
                continue
            db.session.add(
                ResidentMilestone(
                    resident_id=adults[0].id, milestone_id=campaign.milestone_id, reached_on=on_date, recorded_at=moment
                )
            )
            db.session.add(
                MilestoneEvidence(
                    resident_id=adults[0].id,
                    milestone_id=campaign.milestone_id,
                    on_date=on_date,
                    confirmation="seen_on_phone",
                    helped_by_id=member.id,
                    recorded_by_id=member.id,
                    recorded_at=moment,
                )
            )
    db.session.flush()


def _has_reached(resident_id: int, milestone_id: int) -> bool:
    return (
        db.session.scalar(
            select(ResidentMilestone.id).where(
                ResidentMilestone.resident_id == resident_id, ResidentMilestone.milestone_id == milestone_id
            )
        )
        is not None
    )


def seed_assignments(people: dict[str, User]) -> None:
    """Course assignments due and overdue: the demo cadre has one overdue and one due (besides
    the one already completed); residents of two more communes have theirs."""
    today = local_today()
    courses = {course.slug: course for course in db.session.scalars(select(Course))}
    plan = (
        (
            "online-public-services",
            "D01",
            "cadre",
            -9,
            "manager",
            "Để hướng dẫn người dân (dữ liệu mẫu).",
        ),
        ("cashless-and-scams", "DEMO", "cadre", 21, "manager", None),
        ("vneid-basics", "D05", "resident", -20, "manager", None),
        ("cashless-and-scams", "D08", "resident", 25, "manager", None),
        ("online-public-services", "D02", "resident", 10, "commune_manager2", None),
    )
    for slug, unit_code, role, days, author, note in plan:
        course = courses.get(slug)
        if course is None:
            continue
        db.session.add(
            Assignment(
                course_id=course.id,
                unit_id=get_unit_by_code(unit_code).id,
                role=role,
                due_on=today + timedelta(days=days),
                created_by_id=people[author].id,
                note=note,
            )
        )
    # The cadre has started the overdue course: the first module's lessons read.
    course = courses.get("online-public-services")
    if course is not None and course.active_modules:
        for lesson in course.active_modules[0].active_lessons:
            learning.mark_lesson_read(people["cadre"], lesson)


def seed_attempts_left(people: dict[str, User]) -> None:
    """The second demo resident failed the first quiz of Smartphone basics once: attempts left."""
    course = db.session.scalar(select(Course).where(Course.slug == "smartphone-basics"))
    if course is None or not course.active_modules or course.active_modules[0].active_quiz is None:
        return
    resident = people["resident2"]
    module = course.active_modules[0]
    for lesson in module.active_lessons:
        learning.mark_lesson_read(resident, lesson)
    attempt = learning.open_attempt(resident, module.active_quiz)
    answers = {}
    for n, asked in enumerate(attempt.questions):
        options = asked.question.active_options
        right = {o.id for o in options if o.is_correct}
        wrong = next((o.id for o in options if not o.is_correct), None)
        answers[asked.question_id] = right if n == 0 or wrong is None else {wrong}
    learning.submit_attempt(resident, attempt, answers)


def seed_closed_month(people: dict[str, User]) -> None:
    """Last month closed by the administrator for every tech-team member of the province."""
    last_month = month_start(month_start(local_today()) - timedelta(days=1))
    province = get_unit_by_code("DEMO")
    members = list(
        db.session.scalars(
            select(User)
            .join(Unit, Unit.id == User.unit_id)
            .where(User.role == "tech_team", path_within(Unit.path, province.path))
            .order_by(User.id)
        )
    )
    close_month(people["admin"], last_month, members)
