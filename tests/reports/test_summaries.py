"""The summary tables kept by every operation equal a recount from scratch."""

from datetime import timedelta

from app.db import utcnow
from app.learning import operations as learning
from app.outcomes import operations as outcomes
from app.outcomes.residents import add_resident
from app.reports import recount, summaries
from app.reports.models import LearningStat
from app.users import operations as users
from app.visits import help_requests
from app.visits import operations as visits
from app.visits.models import Team, TeamMember, Visit


def complete(learner, course):
    for module in course.active_modules:
        for lesson in module.active_lessons:
            learning.mark_lesson_read(learner, lesson)
        if module.active_quiz:
            attempt = learning.open_attempt(learner, module.active_quiz)
            learning.submit_attempt(
                learner,
                attempt,
                {aq.question_id: {o.id for o in aq.question.options if o.is_correct} for aq in attempt.questions},
            )


def assert_summaries_match():
    stored, fresh = recount.stored_rows(), recount.compute_from_scratch()
    for table in fresh:
        assert stored[table] == fresh[table], table


def test_maintained_summaries_equal_a_recount(db, units, make_user, make_course, real_courses):
    from app.outcomes.operations import ensure_default_milestones

    ensure_default_milestones()
    admin = make_user("admin", units["province"])
    course, _ = make_course(modules=[{"id": "m1", "lessons": ["l1"]}, {"id": "m2", "lessons": ["l2"]}])
    recount.rebuild()  # the fixtures wrote their rows directly; from here on only operations write
    # People created through the operations are counted as accounts.
    ann = users.create_user(admin, username="ann", full_name="Ann", role="resident", unit=units["v1a"]).user
    bao = users.create_user(admin, username="bao", full_name="Bao", role="cadre", unit=units["c1"]).user
    chi = users.create_user(admin, username="chi", full_name="Chi", role="resident", unit=units["v2a"]).user
    member = users.create_user(admin, username="member", full_name="Mem", role="tech_team", unit=units["v1b"]).user
    db.session.add(Team(unit_id=units["c1"].id, name="T", members=[TeamMember(user_id=member.id, skills=["eid"])]))
    db.session.flush()

    complete(ann, course)
    learning.mark_lesson_read(bao, course.active_modules[0].active_lessons[0])
    complete(chi, real_courses["smartphone-basics"])
    learning.credit_module(bao, course.active_modules[1], mode="in_person")
    assert_summaries_match()

    # Moving people between units and roles, and deactivating, moves their figures.
    users.update_user(admin, ann, full_name="Ann", role="cadre", unit=units["c2"], email=None, phone=None)
    users.set_active(admin, chi, False)
    assert_summaries_match()

    # Requests, visits (one with a request and a rating), milestones (one moved to an earlier date).
    request = help_requests.create_help_request(
        member, skill="eid", unit=units["v1a"], place="Xóm 1", name="Ông A", consent=True
    )
    help_requests.create_help_request(
        member, skill="cashless", unit=units["v1b"], place="Xóm 2", name="Bà B", consent=True
    )
    visit = Visit(
        member_id=member.id,
        unit_id=units["v1a"].id,
        request_id=request.id,
        skill="eid",
        place="x",
        starts_at=utcnow() - timedelta(hours=2),
        ends_at=utcnow() - timedelta(hours=1),
        booked_by_id=member.id,
    )
    db.session.add(visit)
    db.session.flush()
    visits.complete_visit(
        member,
        visit,
        skills_done=["eid"],
        resolved=True,
        minutes_spent=50,
        rating=4,
        milestones=[("eid_installed", "seen_on_phone")],
    )
    resident = add_resident(member, village=units["v1b"], full_name="Cụ C", legal_basis="state_task")
    milestone = outcomes.get_milestone("cashless_setup")
    today = outcomes.local_today()
    outcomes.record_milestone(member, resident, milestone, on_date=today, confirmation="document")
    outcomes.record_milestone(member, resident, milestone, on_date=today - timedelta(days=20), confirmation="document")
    assert_summaries_match()

    # A rebuild gives the same tables.
    before = recount.stored_rows()
    recount.rebuild()
    assert recount.stored_rows() == before


def test_each_event_counts_for_the_unit_and_every_unit_above(db, units, make_user, make_course):
    course, _ = make_course(modules=[{"id": "m1", "lessons": ["l1"]}])
    learner = make_user("resident", units["v1a"])
    learning.mark_lesson_read(learner, course.active_modules[0].active_lessons[0])
    rows = {
        row.unit_id: (row.enrolled, row.completed, row.completed_self)
        for row in db.session.scalars(db.select(LearningStat).where(LearningStat.course_id == course.id))
    }
    assert rows == {units["v1a"].id: (1, 1, 1), units["c1"].id: (1, 1, 1), units["province"].id: (1, 1, 1)}


def test_wait_buckets_are_hours_then_days():
    assert summaries.wait_bucket(0.2) == 0
    assert summaries.wait_bucket(47.9) == 47
    assert summaries.wait_bucket(48) == 48
    assert summaries.wait_bucket(24 * 5 + 3) == 51
    assert summaries.wait_bucket(24 * 400) == 89
    assert summaries.bucket_hours(51) == 5 * 24 + 12


def test_summaries_equal_a_recount_after_erasures_and_the_figures_stay(db, units, make_user, make_course):
    from app.outcomes.operations import ensure_default_milestones
    from app.outcomes.residents import link_account
    from app.privacy import erasure
    from app.privacy.subjects import subject_of_user

    ensure_default_milestones()
    admin = make_user("admin", units["province"])
    course, _ = make_course(modules=[{"id": "m1", "lessons": ["l1"]}])
    recount.rebuild()
    lan = users.create_user(admin, username="lan", full_name="Lan", role="resident", unit=units["v1a"]).user
    member = users.create_user(admin, username="minh", full_name="Minh", role="tech_team", unit=units["v1b"]).user
    db.session.add(Team(unit_id=units["c1"].id, name="T", members=[TeamMember(user_id=member.id, skills=["eid"])]))
    db.session.flush()
    complete(lan, course)
    complete(member, course)
    resident = add_resident(member, village=units["v1a"], full_name="Lan", legal_basis="state_task")
    link_account(admin, resident, lan)
    request = help_requests.create_help_request(
        member, skill="eid", unit=units["v1a"], place="Xóm 1", name="Lan", consent=True, resident=lan
    )
    request.resident_record_id = resident.id
    visit = Visit(
        member_id=member.id,
        unit_id=units["v1a"].id,
        request_id=request.id,
        resident_id=lan.id,
        resident_record_id=resident.id,
        skill="eid",
        place="Xóm 1",
        starts_at=utcnow() - timedelta(hours=2),
        ends_at=utcnow() - timedelta(hours=1),
        booked_by_id=member.id,
    )
    db.session.add(visit)
    db.session.flush()
    visits.complete_visit(
        member, visit, skills_done=["eid"], resolved=True, minutes_spent=30, rating=5,
        milestones=[("eid_installed", "seen_on_phone")],
    )  # fmt: skip
    assert_summaries_match()
    figures = {name: rows for name, rows in recount.stored_rows().items() if name != "people_stats"}

    # The resident (with their account), then the member who helped them.
    erasure.erase_resident(admin, resident, "The person asked.")
    assert_summaries_match()
    erasure.erase_person(admin, subject_of_user(member), "The member asked.")
    assert_summaries_match()
    assert {name: rows for name, rows in recount.stored_rows().items() if name != "people_stats"} == figures
    before = recount.stored_rows()
    recount.rebuild()
    assert recount.stored_rows() == before
