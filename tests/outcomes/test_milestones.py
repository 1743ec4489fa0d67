"""Milestones: reached once, evidence kept as history; help credited as learning apart from
self-study; follow-ups from unresolved visits."""

from datetime import date, timedelta

import pytest

from app.db import local_today
from app.exceptions import Conflict, Invalid, NotAllowed
from app.learning import operations as learning
from app.learning.models import Enrollment, ModuleCompletion
from app.outcomes import operations
from app.outcomes.models import FollowUp, MilestoneEvidence, Resident, ResidentMilestone
from app.outcomes.residents import add_resident, link_account
from app.visits import help_requests
from app.visits import operations as visits


@pytest.fixture
def resident(db, units, team):
    return add_resident(
        team[0], village=units["v1a"], full_name="Nguyễn Thị Lan", birth_year=1958, legal_basis="state_task"
    )


def test_a_milestone_is_reached_once_and_later_evidence_is_history(db, milestones, resident, team):
    today = local_today()
    first, created = operations.record_milestone(
        team[0], resident, milestones["eid_installed"], on_date=today - timedelta(days=3), confirmation="seen_on_phone"
    )
    assert created is True
    again, created_again = operations.record_milestone(
        team[1], resident, milestones["eid_installed"], on_date=today, confirmation="document", helped_by=team[1]
    )
    assert created_again is False
    assert again.id == first.id
    assert again.reached_on == today - timedelta(days=3)
    evidence = db.session.scalars(
        db.select(MilestoneEvidence).where(MilestoneEvidence.resident_id == resident.id)
    ).all()
    assert [e.confirmation for e in evidence] == ["seen_on_phone", "document"]
    assert db.session.scalar(db.select(db.func.count()).select_from(ResidentMilestone)) == 1


def test_earlier_evidence_moves_the_date_back(db, milestones, resident, team):
    today = local_today()
    operations.record_milestone(
        team[0], resident, milestones["cashless_setup"], on_date=today, confirmation="resident_word"
    )
    reached, _ = operations.record_milestone(
        team[0], resident, milestones["cashless_setup"], on_date=today - timedelta(days=10), confirmation="document"
    )
    assert reached.reached_on == today - timedelta(days=10)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"confirmation": "gut_feeling"}, "confirmed_by"),
        ({"on_date": date(2999, 1, 1)}, "date"),
    ],
)
def test_bad_milestone_records_are_refused(db, milestones, resident, team, kwargs, field):
    values = {"on_date": local_today(), "confirmation": "document", **kwargs}
    with pytest.raises(Invalid) as caught:
        operations.record_milestone(team[0], resident, milestones["eid_installed"], **values)
    assert caught.value.field == field


def test_another_communes_member_cannot_record(db, milestones, resident, make_user, units):
    outsider = make_user("tech_team", units["v2a"])
    with pytest.raises(NotAllowed):
        operations.record_milestone(
            outsider, resident, milestones["eid_installed"], on_date=local_today(), confirmation="document"
        )


def test_a_milestone_names_only_a_visit_about_the_resident(
    db, milestones, resident, units, team, make_user, past_visit
):
    someone_else = past_visit(resident=make_user("resident", units["v1a"]))
    with pytest.raises(Invalid) as caught:
        operations.record_milestone(
            team[0],
            resident,
            milestones["eid_installed"],
            on_date=local_today(),
            confirmation="document",
            visit=someone_else,
        )
    assert caught.value.field == "visit_id"
    with pytest.raises(Invalid):
        operations.visit_about(resident, someone_else.id)
    with pytest.raises(Invalid):
        operations.visit_about(resident, 999999)
    own = past_visit(hours_ago=3)
    own.resident_record_id = resident.id
    assert operations.visit_about(resident, own.id) is own


def test_the_helper_named_is_a_member_of_the_communes_teams(db, resident, units, team, make_user):
    assert operations.team_helper(resident, team[1].id) is team[1]
    for stranger in (make_user("tech_team", units["v2a"]), make_user("resident", units["v1a"])):
        with pytest.raises(Invalid) as caught:
            operations.team_helper(resident, stranger.id)
        assert caught.value.field == "helped_by"


def test_a_resident_keeps_the_account_already_linked(db, resident, units, team, make_user):
    link_account(team[0], resident, make_user("resident", units["v1a"]))
    with pytest.raises(Conflict):
        link_account(team[0], resident, make_user("resident", units["v1a"]))


def test_help_credits_learning_apart_from_self_study(db, milestones, real_courses, units, team, make_user):
    account = make_user("resident", units["v1a"])
    vneid = real_courses["vneid-basics"]
    record = operations.resident_for_user(account, recorded_by=team[0])
    # Self-study of the first module.
    first = vneid.active_modules[0]
    for lesson in first.active_lessons:
        learning.mark_lesson_read(account, lesson)
    attempt = learning.open_attempt(account, first.active_quiz)
    learning.submit_attempt(
        account,
        attempt,
        {aq.question_id: {o.id for o in aq.question.options if o.is_correct} for aq in attempt.questions},
    )
    # Help during a visit confirms e-ID activation: the second module is credited with help.
    operations.record_milestone(
        team[0],
        record,
        milestones["eid_activated"],
        on_date=local_today(),
        confirmation="seen_on_phone",
        helped_by=team[0],
    )
    modes = dict(
        db.session.execute(
            db.select(ModuleCompletion.module_id, ModuleCompletion.mode).where(ModuleCompletion.user_id == account.id)
        ).all()
    )
    assert modes == {first.id: "self", vneid.active_modules[1].id: "assisted"}
    enrollment = db.session.scalar(db.select(Enrollment).where(Enrollment.user_id == account.id))
    assert enrollment.completion_mode == "assisted"  # not counted as self-study
    assert learning.course_progress(account, vneid).status == "completed"


def test_an_unresolved_visit_creates_a_dated_follow_up_and_milestones(
    db, milestones, units, team, make_user, past_visit
):
    account = make_user("resident", units["v1a"])
    visit = past_visit(resident=account)
    visits.complete_visit(
        team[0],
        visit,
        skills_done=["eid"],
        resolved=False,
        minutes_spent=40,
        follow_up_reason="Activation needs a trip to the police office",
        milestones=[("eid_installed", "seen_on_phone")],
    )
    follow_up = db.session.scalar(db.select(FollowUp).where(FollowUp.visit_id == visit.id))
    assert follow_up.reason == "Activation needs a trip to the police office"
    assert follow_up.due_on == local_today() + timedelta(days=7)
    assert follow_up.assigned_to_id == team[0].id
    record = db.session.scalar(db.select(Resident).where(Resident.user_id == account.id))
    assert follow_up.resident_id == record.id
    assert db.session.scalar(db.select(ResidentMilestone).where(ResidentMilestone.resident_id == record.id))
    assert operations.open_follow_ups(team[1]) == [follow_up]
    assert operations.open_follow_ups(team[1], overdue_only=True, today=follow_up.due_on + timedelta(days=1)) == [
        follow_up
    ]
    outsider = make_user("tech_team", units["v2a"])
    assert operations.open_follow_ups(outsider) == []


def test_a_request_without_an_account_gets_a_resident_record(db, milestones, units, team, past_visit):
    request = help_requests.create_help_request(
        team[0], skill="cashless", unit=units["v1b"], place="Xóm 2", name="Ông Sáu", consent=True
    )
    visit = past_visit(request=request, skill="cashless")
    visits.complete_visit(
        team[0],
        visit,
        skills_done=["cashless"],
        resolved=True,
        minutes_spent=30,
        milestones=[("cashless_setup", "seen_on_phone")],
    )
    record = db.session.get(Resident, visit.resident_record_id)
    assert record.full_name == "Ông Sáu"
    assert record.unit_id == units["v1b"].id
    assert request.resident_record_id == record.id


def test_confidence_is_measured_from_first_contact_to_close(db, resident, team):
    operations.record_assessment(team[0], resident, stage="first_contact", answers={"use_phone": 2, "eid": 1})
    operations.record_assessment(team[0], resident, stage="close", answers={"use_phone": 4, "eid": 4, "pay": 3})
    assert operations.confidence_gain(resident) == 2.5
    with pytest.raises(Invalid):
        operations.record_assessment(team[0], resident, stage="close", answers={"use_phone": 9})
    with pytest.raises(Invalid):
        operations.record_assessment(team[0], resident, stage="whenever", answers={"use_phone": 3})


def test_a_follow_up_is_closed_once_by_its_member_or_the_communes_teams(db, units, team, make_user, past_visit):
    follow_up = operations.create_follow_up(team[0], past_visit(), reason="Come back with the papers")
    outsider = make_user("tech_team", units["v2a"])
    assert not operations.may_close_follow_up(outsider, follow_up)
    with pytest.raises(NotAllowed):
        operations.close_follow_up(outsider, follow_up)
    assert operations.may_close_follow_up(team[1], follow_up)
    operations.close_follow_up(team[0], follow_up)
    with pytest.raises(Conflict):
        operations.close_follow_up(team[0], follow_up, done=False)
    assert follow_up.status == "done"
