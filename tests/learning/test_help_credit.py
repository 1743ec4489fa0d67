"""Help is not a certificate: a course completed with help (modules credited from milestones a
team member recorded) says so, and never issues the self-study certificate."""

import pytest

from app.db import local_today
from app.learning import operations
from app.learning.models import Certificate
from app.outcomes import operations as outcomes
from app.visits.models import Team, TeamMember
from tests.learning.quiz_support import right_answers


@pytest.fixture
def helper(db, units, make_user):
    member = make_user("tech_team", units["v1a"])
    db.session.add(Team(unit_id=units["c1"].id, name="Tổ C1", members=[TeamMember(user_id=member.id, skills=["eid"])]))
    db.session.flush()
    return member


def record_help(helper, account, *keys):
    outcomes.ensure_default_milestones()
    milestones = {m.key: m for m in outcomes.active_milestones()}
    record = outcomes.resident_for_user(account, recorded_by=helper)
    for key in keys:
        outcomes.record_milestone(
            helper, record, milestones[key], on_date=local_today(), confirmation="seen_on_phone", helped_by=helper
        )


def certificates_of(db, account):
    return db.session.scalars(db.select(Certificate).where(Certificate.user_id == account.id)).all()


def test_vneid_milestones_with_help_complete_the_course_with_help_and_no_certificate(
    client, db, login_as, make_user, units, real_courses, helper
):
    account = make_user("resident", units["v1a"])
    record_help(helper, account, "eid_installed", "eid_activated")
    progress = operations.course_progress(account, real_courses["vneid-basics"])
    assert progress.status == "completed"
    assert progress.enrollment.completion_mode == "assisted"
    assert progress.certificate is None
    assert certificates_of(db, account) == []
    db.session.commit()

    login_as(account)
    page = client.get("/learning/vneid-basics/").get_data(as_text=True)
    assert "You completed this course with help on" in page
    assert "none is issued for learning with help" in page
    assert "certificate.pdf" not in page
    assert client.get("/learning/vneid-basics/certificate.pdf").status_code == 404
    assert "completed with help" in client.get("/learning/me").get_data(as_text=True)


def test_self_study_of_one_module_and_help_for_the_other_issue_no_certificate(
    db, make_user, units, real_courses, helper
):
    account = make_user("resident", units["v1a"])
    vneid = real_courses["vneid-basics"]
    first = vneid.active_modules[0]
    for lesson in first.active_lessons:
        operations.mark_lesson_read(account, lesson)
    attempt = operations.open_attempt(account, first.active_quiz)
    operations.submit_attempt(account, attempt, right_answers(attempt))
    record_help(helper, account, "eid_activated")
    progress = operations.course_progress(account, vneid)
    assert (progress.status, progress.enrollment.completion_mode) == ("completed", "assisted")
    assert certificates_of(db, account) == []


def test_self_study_and_a_class_still_earn_the_certificate(db, make_course, make_user):
    course, _folder = make_course(modules=[{"id": "m1", "lessons": ["l1"]}, {"id": "m2", "lessons": ["l2"]}])
    learner = make_user("resident")
    operations.credit_module(learner, course.modules[0], mode="in_person")
    operations.mark_lesson_read(learner, course.modules[1].lessons[0])
    progress = operations.course_progress(learner, course)
    assert progress.enrollment.completion_mode == "in_person"
    assert progress.certificate is not None
