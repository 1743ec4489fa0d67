"""The demo data a newcomer sees at the first `python run.py`."""

from app.audit.models import AuditEvent
from app.auth.models import User
from app.demo.operations import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo
from app.learning.models import Assignment, Certificate
from app.privacy.models import PersonalDataCorrection, PersonRequest
from app.privacy.requests import is_late
from app.units.models import Unit
from app.visits.models import GroupSession, HelpRequest, TeamMember, Visit, WeeklyAvailability


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
