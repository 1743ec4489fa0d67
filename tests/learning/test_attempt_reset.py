"""When a learner has used every attempt, a commune manager of their area (or an admin) gives
the attempts back from the learner's page; the reset is audited, and nobody else may do it."""

import pytest

from app.audit.models import AuditEvent
from app.exceptions import Conflict, NotAllowed
from app.learning import operations
from app.outcomes.operations import resident_for_user
from tests.learning.quiz_support import right_answers, wrong_answers


@pytest.fixture
def stuck(db, make_course, make_user, units):
    """A resident of commune C1 who failed the only attempt at a quiz, with a resident record."""
    course, _folder = make_course(
        modules=[
            {
                "id": "m1",
                "lessons": ["l1"],
                "max_attempts": 1,
                "questions": [{"id": "q1", "type": "single", "options": ["a", "b"], "correct": ["b"]}],
            }
        ]
    )
    learner = make_user("resident", units["v1a"])
    quiz = course.modules[0].quiz
    attempt = operations.open_attempt(learner, quiz)
    operations.submit_attempt(learner, attempt, wrong_answers(attempt))
    record = resident_for_user(learner)
    db.session.commit()
    assert operations.out_of_attempts(learner, quiz)
    return learner, quiz, record


def reset_url(record, quiz) -> str:
    return f"/outcomes/residents/{record.id}/quizzes/{quiz.id}/reset-attempts"


def test_the_commune_manager_gives_the_attempts_back_from_the_learners_page(
    client, db, login_as, make_user, units, stuck
):
    learner, quiz, record = stuck
    manager = make_user("commune_manager", units["c1"])
    login_as(manager)
    page = client.get(f"/outcomes/residents/{record.id}").get_data(as_text=True)
    assert "No attempts left at the quiz" in page
    assert f'action="{reset_url(record, quiz)}"' in page
    response = client.post(reset_url(record, quiz))
    assert response.status_code == 302
    assert "can take the quiz" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert operations.attempts_left(learner, quiz) == 1
    assert not operations.out_of_attempts(learner, quiz)
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "quiz_attempts_reset"))
    assert (event.actor_id, event.target_user_id) == (manager.id, learner.id)
    assert event.details == {"course": "test-course", "module": "m1", "attempts": 1}
    # The attempt is kept, marked as given back.
    (kept,) = operations.submitted_attempts(learner, quiz)
    assert kept.reset_at is not None and kept.score == 0
    # Nothing left to reset now: the button is gone and a second reset is refused.
    page = client.get(f"/outcomes/residents/{record.id}").get_data(as_text=True)
    assert "No attempts left at the quiz" not in page
    refused = client.post(reset_url(record, quiz), follow_redirects=True)
    assert "still has attempts left" in refused.get_data(as_text=True)

    # The learner sees it in their quiz history.
    client.post("/logout")
    login_as(learner)
    assert "attempts given back on" in client.get("/learning/me").get_data(as_text=True)

    # The learner takes the quiz again: attempt 2, and it can complete the module.
    attempt = operations.open_attempt(learner, quiz)
    assert attempt.number == 2
    operations.submit_attempt(learner, attempt, right_answers(attempt))
    assert operations.attempts_left(learner, quiz) == 0
    assert not operations.out_of_attempts(learner, quiz)


def test_another_communes_manager_and_the_learner_are_refused(client, db, login_as, make_user, units, stuck):
    learner, quiz, record = stuck
    login_as(make_user("commune_manager", units["c2"]))
    assert client.post(reset_url(record, quiz)).status_code == 403
    client.post("/logout")
    login_as(learner)
    assert client.post(reset_url(record, quiz)).status_code == 403
    db.session.expire_all()
    assert operations.attempts_left(learner, quiz) == 0
    assert db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "quiz_attempts_reset")) is None


def test_a_tech_team_member_sees_the_learner_but_may_not_reset(client, db, login_as, make_user, units, stuck):
    _learner, quiz, record = stuck
    login_as(make_user("tech_team", units["v1a"]))
    page = client.get(f"/outcomes/residents/{record.id}").get_data(as_text=True)
    assert "No attempts left at the quiz" in page
    assert reset_url(record, quiz) not in page
    assert client.post(reset_url(record, quiz)).status_code == 403


def test_the_rule_who_may_reset(db, make_user, units, stuck):
    learner, quiz, _record = stuck
    for role, unit in (("commune_manager", "c2"), ("department_manager", "province"), ("tech_team", "c1")):
        with pytest.raises(NotAllowed):
            operations.reset_attempts(make_user(role, units[unit]), learner, quiz)
    with pytest.raises(NotAllowed):
        operations.reset_attempts(learner, learner, quiz)
    assert operations.reset_attempts(make_user("admin", units["province"]), learner, quiz) == 1
    with pytest.raises(Conflict):  # attempts are left now
        operations.reset_attempts(make_user("admin", units["province"]), learner, quiz)


def test_a_passed_quiz_is_not_reset(db, make_user, units, stuck):
    learner, quiz, _record = stuck
    admin = make_user("admin", units["province"])
    operations.reset_attempts(admin, learner, quiz)
    attempt = operations.open_attempt(learner, quiz)
    operations.submit_attempt(learner, attempt, right_answers(attempt))
    with pytest.raises(Conflict):
        operations.reset_attempts(admin, learner, quiz)
