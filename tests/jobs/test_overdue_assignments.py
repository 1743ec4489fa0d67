"""Learners past the due date of an assigned course are reminded once, in their language."""

from datetime import timedelta

from app.db import utcnow
from app.jobs.models import Message
from app.jobs.reminders import enqueue_overdue_assignment_reminders
from app.learning.operations import credit_module
from app.privacy.consents import give_consent, withdraw_consent
from app.privacy.subjects import subject_of_user
from tests.learning.test_assignments import TWO_MODULES, make_assignment, today


def test_overdue_learners_are_reminded_once(db, make_course, make_user, units):
    course, _ = make_course(slug="digital-basics", modules=TWO_MODULES, audience="cadre")
    manager = make_user("department_manager", units["province"])
    late = make_user("cadre", units["c1"], locale="en")
    done = make_user("cadre", units["c1"])
    elsewhere = make_user("cadre", units["c2"])
    for module in course.active_modules:
        credit_module(done, module, mode="self")
    make_assignment(course, units["c1"], manager, due_on=today() - timedelta(days=2))
    make_assignment(course, units["c2"], manager, due_on=today() + timedelta(days=2))  # not yet due

    for _run in range(3):
        enqueue_overdue_assignment_reminders(now=utcnow())
    messages = db.session.scalars(db.select(Message)).all()
    assert [m.user_id for m in messages] == [late.id]
    assert "was due on" in messages[0].subject
    assert course.titles["en"] in messages[0].body
    assert elsewhere.id not in {m.user_id for m in messages}


def test_a_learner_who_withdrew_consent_to_messages_is_not_reminded(db, make_course, make_user, units):
    course, _ = make_course(slug="digital-basics", modules=TWO_MODULES, audience="cadre")
    manager = make_user("department_manager", units["province"])
    withdrawn = make_user("cadre", units["c1"])
    never_asked = make_user("cadre", units["c1"])
    subject = subject_of_user(withdrawn)
    give_consent(subject, "messages", recorded_by=None, channel="online")
    withdraw_consent(subject, "messages", by=withdrawn)
    make_assignment(course, units["c1"], manager, due_on=today() - timedelta(days=2))

    enqueue_overdue_assignment_reminders(now=utcnow())
    messages = db.session.scalars(db.select(Message)).all()
    assert [(m.user_id, m.purpose) for m in messages] == [(never_asked.id, "messages")]
