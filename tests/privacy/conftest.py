"""Fixtures of the privacy tests: the people of two communes and their records, residents made
on demand, the read log, and a resident with everything the platform can hold about a person,
to erase."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.db import utcnow
from app.jobs import reminders
from app.learning import operations as learning
from app.outcomes import operations as outcomes
from app.outcomes.models import Household, Resident
from app.outcomes.residents import add_resident, link_account
from app.privacy.consents import give_consent
from app.privacy.models import PersonalDataRead
from app.privacy.subjects import subject_of_user
from app.reports import recount
from app.users import operations as users
from app.visits import help_requests
from app.visits import operations as visits
from app.visits.models import CalendarFeed, Team, TeamMember, Visit


@pytest.fixture
def people(db, units, make_user):
    """Commune C1: its manager `cm`, a tech-team member `tech`, a resident `r` with an account
    and a linked record `r_record`, and `rec`, a record without an account. Commune C2: `cm2`,
    `tech2` and the record `rec2`. `officer` is the administrator (the data-protection officer)."""
    p = SimpleNamespace(units=units)
    p.officer = make_user("admin", units["province"], full_name="Cán bộ bảo vệ dữ liệu")
    p.cm = make_user("commune_manager", units["c1"], full_name="Chủ tịch Một")
    p.cm2 = make_user("commune_manager", units["c2"], full_name="Chủ tịch Hai")
    p.tech = make_user("tech_team", units["c1"], full_name="Tổ viên Một")
    p.tech2 = make_user("tech_team", units["c2"], full_name="Tổ viên Hai")
    p.r = make_user("resident", units["v1a"], full_name="Bà Năm", phone="0912 345 678")
    p.r_record = Resident(unit_id=units["v1a"].id, full_name="Bà Năm", birth_year=1960, user_id=p.r.id)
    p.rec = Resident(unit_id=units["v1b"].id, full_name="Ông Sáu", birth_year=1955, phone="0987 654 321")
    p.rec2 = Resident(unit_id=units["v2a"].id, full_name="Chú Tám", birth_year=1950)
    db.session.add_all([p.r_record, p.rec, p.rec2])
    db.session.flush()
    return p


@pytest.fixture
def make_resident(db, units):
    counter = {"n": 0}

    def make(unit=None, **fields):
        counter["n"] += 1
        resident = Resident(
            unit_id=(unit or units["v1a"]).id,
            full_name=fields.pop("full_name", f"Cư dân {counter['n']}"),
            phone=fields.pop("phone", f"0912 345 {counter['n']:03d}"),
            **fields,
        )
        db.session.add(resident)
        db.session.flush()
        return resident

    return make


@pytest.fixture
def reads(db):
    """`reads(**where)`: the logged reads matching these column values, oldest first."""

    def find(**where) -> list[PersonalDataRead]:
        db.session.expire_all()
        query = select(PersonalDataRead).order_by(PersonalDataRead.id)
        for column, value in where.items():
            query = query.where(getattr(PersonalDataRead, column) == value)
        return list(db.session.scalars(query))

    return find


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


@pytest.fixture
def lan(db, units, make_user, make_course):
    """Nguyễn Thị Lan: an account, a resident record in a household, a help request, a completed
    visit with notes, a milestone, a follow-up, a booked visit (and its reminders), a consent
    with a note, a completed course with its certificate, and a changed phone in the audit log."""
    outcomes.ensure_default_milestones()
    course, _folder = make_course(modules=[{"id": "m1", "lessons": ["l1"]}])
    admin = make_user("admin", units["province"], username="officer")
    manager = make_user("commune_manager", units["c1"], username="managerc1")
    member = make_user("tech_team", units["v1a"], username="memberc1", full_name="Trần Văn Minh")
    db.session.add(Team(unit_id=units["c1"].id, name="Tổ C1", members=[TeamMember(user_id=member.id, skills=["eid"])]))
    db.session.flush()
    recount.rebuild()  # the fixtures wrote rows directly; from here on only operations write

    values = SimpleNamespace(
        full_name="Nguyễn Thị Lan",
        username="lan.nguyen",
        email="lan.nguyen@example.vn",
        phone="+84912345678",  # as stored: the search looks for the stored value
        new_phone="+84987654321",
        address="Số 7 ngõ Hoa Sữa",
        request_note="Cần cài VNeID, mắt kém",
        preferred_times="Chiều thứ Bảy sau bốn giờ",
        visit_notes="Đã cài VNeID cho cô, con gái giúp đăng nhập",
        follow_up="Gọi lại hỏi mật khẩu VNeID",
        consent_note="Đồng ý qua điện thoại, có con gái làm chứng",
    )
    account = users.create_user(
        admin,
        username=values.username,
        full_name=values.full_name,
        role="resident",
        unit=units["v1a"],
        email=values.email,
        phone=values.phone,
        password="correct horse battery",
    ).user
    users.update_user(
        admin,
        account,
        full_name=values.full_name,
        role="resident",
        unit=units["v1a"],
        email=values.email,
        phone=values.new_phone,
    )
    household = Household(unit_id=units["v1a"].id, code="HS-0007", address=values.address)
    db.session.add(household)
    db.session.flush()
    resident = add_resident(
        member,
        village=units["v1a"],
        full_name=values.full_name,
        phone=values.phone,
        household=household,
        legal_basis="consent",
        consents=[("help_visits", "assisted")],
    )
    link_account(manager, resident, account)
    give_consent(
        subject_of_user(account), "messages", recorded_by=member, channel="paper", evidence=values.consent_note
    )

    request = help_requests.create_help_request(
        member,
        skill="eid",
        unit=units["v1a"],
        place=values.address,
        name=values.full_name,
        phone=values.phone,
        note=values.request_note,
        preferred_times=values.preferred_times,
        consent=True,
        resident=account,
    )
    request.resident_record_id = resident.id
    start = utcnow() - timedelta(hours=3)
    done = Visit(
        member_id=member.id,
        unit_id=units["v1a"].id,
        request_id=request.id,
        resident_id=account.id,
        resident_record_id=resident.id,
        skill="eid",
        place=values.address,
        starts_at=start,
        ends_at=start + timedelta(minutes=45),
        booked_by_id=member.id,
    )
    db.session.add(done)
    db.session.flush()
    visits.complete_visit(
        member,
        done,
        skills_done=["eid"],
        resolved=False,
        minutes_spent=40,
        notes=values.visit_notes,
        rating=5,
        follow_up_reason=values.follow_up,
        milestones=[("eid_installed", "seen_on_phone")],
    )
    later = utcnow() + timedelta(hours=5)
    coming = Visit(
        member_id=member.id,
        unit_id=units["v1a"].id,
        resident_id=account.id,
        resident_record_id=resident.id,
        skill="eid",
        place=values.address,
        starts_at=later,
        ends_at=later + timedelta(minutes=45),
        booked_by_id=member.id,
    )
    db.session.add(coming)
    db.session.flush()
    reminders.enqueue_visit_reminders()
    db.session.add(CalendarFeed(user_id=account.id, token="lan-feed-token-0001"))
    complete(account, course)
    db.session.flush()
    return SimpleNamespace(
        admin=admin,
        manager=manager,
        member=member,
        account=account,
        resident=resident,
        household=household,
        request=request,
        visit=done,
        coming=coming,
        course=course,
        values=values,
    )
