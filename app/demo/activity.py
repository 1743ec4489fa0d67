"""Demo activity on top of the demo province: learners' progress, an assignment, a tech team
with availability, help requests, visits and a group session — so that a first start shows a
living system. All dates are relative to the moment of seeding."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from app.audit.operations import record
from app.auth.models import User
from app.db import LOCAL_TZ, local_today, utcnow
from app.extensions import db
from app.learning import operations as learning
from app.learning.models import Assignment, Course
from app.outcomes.operations import resident_for_user
from app.units.operations import get_unit_by_code
from app.visits.help_requests import contact_deadline
from app.visits.models import (
    GroupSession,
    HelpRequest,
    SessionSignup,
    Team,
    TeamMember,
    Visit,
    WeeklyAvailability,
)

ALL_SKILLS = ["eid", "public_services", "cashless", "safety", "phone_basics"]


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _course(slug: str) -> Course | None:
    return db.session.scalar(select(Course).where(Course.slug == slug))


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ)


def _complete_course(user: User, course: Course) -> None:
    for module in course.active_modules:
        for lesson in module.active_lessons:
            learning.mark_lesson_read(user, lesson)
        if module.active_quiz:
            attempt = learning.open_attempt(user, module.active_quiz)
            answers = {
                asked.question_id: {o.id for o in asked.question.options if o.is_correct} for asked in attempt.questions
            }
            learning.submit_attempt(user, attempt, answers)


def _use_every_attempt(user: User, course: Course | None) -> None:
    """Fail the course's first quiz as often as allowed: the learner sees what to do next, and
    the commune manager the button that gives the attempts back (on the resident's page)."""
    quiz = course.active_modules[0].active_quiz if course is not None else None
    if quiz is None or not quiz.max_attempts:
        return
    for _try in range(quiz.max_attempts):
        attempt = learning.open_attempt(user, quiz)
        answers = {
            asked.question_id: {next(o.id for o in asked.question.active_options if not o.is_correct)}
            for asked in attempt.questions
        }
        learning.submit_attempt(user, attempt, answers)
    resident_for_user(user)


def seed_learning() -> None:
    cadre, resident, manager = _user("cadre"), _user("resident"), _user("manager")
    protection = _course("data-protection-for-cadres")
    phone = _course("smartphone-basics")
    if protection is None or phone is None:
        return  # courses not synced (e.g. a test database)
    _complete_course(cadre, protection)
    first_module = phone.active_modules[0]
    for lesson in first_module.active_lessons:
        learning.mark_lesson_read(resident, lesson)
    _use_every_attempt(resident, _course("vneid-basics"))
    learning.enroll(_user("cadre2"), protection)
    db.session.add(
        Assignment(
            course_id=protection.id,
            unit_id=get_unit_by_code("DEMO").id,
            role="cadre",
            due_on=local_today() + timedelta(days=14),
            created_by_id=manager.id,
            note="Tất cả cán bộ hoàn thành trước hạn (dữ liệu mẫu).",
        )
    )
    db.session.add(
        Assignment(
            course_id=phone.id,
            unit_id=get_unit_by_code("D01").id,
            role="resident",
            due_on=local_today() + timedelta(days=30),
            created_by_id=_user("commune_manager").id,
        )
    )


def seed_visits(extra_people: list[User]) -> None:
    now = utcnow()
    today = now.astimezone(LOCAL_TZ).date()
    commune = get_unit_by_code("D01")
    village = get_unit_by_code("D01-01")
    techteam, duc = _user("techteam"), next(u for u in extra_people if u.username == "techteam_duc")
    resident, manager = _user("resident"), _user("commune_manager")

    team = Team(unit_id=commune.id, name="Tổ công nghệ số cộng đồng xã An Phú (demo)", contact_promise_days=2)
    team.members = [
        # A fictional work phone, shown to the residents the member is booked to visit.
        TeamMember(user_id=techteam.id, skills=ALL_SKILLS, is_leader=True, work_phone="+84912000111"),
        TeamMember(user_id=duc.id, skills=["eid", "cashless", "selling_online", "phone_basics"]),
    ]
    db.session.add(team)
    team2 = Team(
        unit_id=get_unit_by_code("D02").id, name="Tổ công nghệ số cộng đồng xã Bình Minh (demo)", contact_promise_days=3
    )
    team2.members = [TeamMember(user_id=_user("techteam2").id, skills=ALL_SKILLS)]
    db.session.add(team2)
    # Weekday evenings and Saturday mornings for one, daytime for the other.
    for weekday in range(5):
        db.session.add(
            WeeklyAvailability(user_id=techteam.id, weekday=weekday, start_minute=18 * 60, end_minute=20 * 60 + 30)
        )
    db.session.add(WeeklyAvailability(user_id=techteam.id, weekday=5, start_minute=8 * 60, end_minute=11 * 60 + 30))
    for weekday in (1, 3):
        db.session.add(WeeklyAvailability(user_id=duc.id, weekday=weekday, start_minute=8 * 60, end_minute=11 * 60))
    db.session.add(WeeklyAvailability(user_id=duc.id, weekday=6, start_minute=14 * 60, end_minute=17 * 60))
    for weekday in range(6):
        db.session.add(
            WeeklyAvailability(user_id=_user("techteam2").id, weekday=weekday, start_minute=8 * 60, end_minute=11 * 60)
        )

    requests = [
        (
            "eid",
            "D01-02",
            "Bà Nguyễn Thị Lan (demo)",
            "Xóm 2, gần chợ",
            "Cài VNeID và kích hoạt tài khoản",
            5,
        ),
        (
            "cashless",
            "D01-01",
            "Ông Trần Văn Sáu (demo)",
            "Nhà văn hóa thôn Đông",
            "Muốn trả tiền điện bằng điện thoại",
            3,
        ),
        (
            "public_services",
            "D01-03",
            "Chị Lê Thị Thu (demo)",
            "Số 12 đường làng",
            "Nộp hồ sơ đăng ký khai sinh trực tuyến",
            2,
        ),
        ("safety", "D01-02", "Ông Phạm Văn Tư (demo)", "Xóm 3", "Hay nhận tin nhắn lạ, sợ bị lừa", 1),
        ("phone_basics", "D01-04", "Bà Hoàng Thị Năm (demo)", "Đầu ngõ 5", "Phóng to chữ trên điện thoại", 0),
        ("selling_online", "D01-03", "Anh Đỗ Văn Bảy (demo)", "Vườn bưởi cuối thôn", "Muốn bán bưởi qua mạng", 4),
        ("selling_online", "D01-01", "Chị Vũ Thị Mai (demo)", "Ao cá cuối xóm", "Muốn bán cá qua mạng", 2),
    ]
    created = []
    for skill, unit_code, name, place, note, days_ago in requests:
        request = HelpRequest(
            skill=skill,
            unit_id=get_unit_by_code(unit_code).id,
            place=place,
            note=note,
            name=name,
            preferred_times="Buổi tối sau 18 giờ",
            created_by_id=techteam.id,
            created_at=now - timedelta(days=days_ago, hours=3),
            consent_at=now - timedelta(days=days_ago, hours=3),
            consent_recorded_by_id=techteam.id,
        )
        db.session.add(request)
        created.append(request)
    # The team's promise to call; when it first contacted each request (one late, one never).
    contacted_after = {0: timedelta(days=4), 1: timedelta(hours=20), 2: timedelta(hours=3), 6: timedelta(hours=2)}
    for index, request in enumerate(created):
        request.contact_promise_days = team.contact_promise_days
        request.contact_due_at = contact_deadline(request.created_at, request.contact_promise_days)
        if index in contacted_after:
            request.first_contacted_at = request.created_at + contacted_after[index]
    db.session.flush()

    # Two visits done last week (with outcomes), one booked for the coming days.
    last_week = today - timedelta(days=6)
    done = [
        (created[0], _local(last_week, 18), 45, True, 5),
        (created[2], _local(last_week + timedelta(days=1), 18, 30), 60, False, 4),
    ]
    for request, start, minutes, resolved, rating in done:
        request.status = "done"
        request.closed_at = start + timedelta(minutes=minutes)
        db.session.add(
            Visit(
                member_id=techteam.id,
                unit_id=request.unit_id,
                request_id=request.id,
                skill=request.skill,
                place=request.place,
                starts_at=start,
                ends_at=start + timedelta(minutes=minutes),
                status="done",
                booked_by_id=techteam.id,
                skills_done=[request.skill],
                resolved=resolved,
                follow_up_needed=not resolved,
                minutes_spent=minutes,
                notes="Đã hướng dẫn từng bước (dữ liệu mẫu).",
                rating=rating,
                completed_at=start + timedelta(minutes=minutes),
            )
        )
    upcoming_day = today + timedelta(days=1)
    while upcoming_day.weekday() > 4:
        upcoming_day += timedelta(days=1)
    created[1].status = "scheduled"
    start = _local(upcoming_day, 18)
    db.session.add(
        Visit(
            member_id=techteam.id,
            unit_id=created[1].unit_id,
            request_id=created[1].id,
            skill="cashless",
            place=created[1].place,
            starts_at=start,
            ends_at=start + timedelta(minutes=45),
            booked_by_id=manager.id,
        )
    )
    # One that began two hours ago and waits for its outcome, on the member's agenda.
    created[3].status = "scheduled"
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    db.session.add(
        Visit(
            member_id=techteam.id,
            unit_id=created[3].unit_id,
            request_id=created[3].id,
            skill=created[3].skill,
            place=created[3].place,
            starts_at=start,
            ends_at=start + timedelta(minutes=60),
            booked_by_id=techteam.id,
        )
    )
    _seed_residents_own_requests(resident, techteam, manager, now, _local(upcoming_day, 19, 15), team)
    # One booked by the commune manager outside the member's hours, as the audit log shows.
    created[6].status = "scheduled"
    start = _local(upcoming_day + timedelta(days=1), 17, 30)
    outside_hours = Visit(
        member_id=duc.id,
        unit_id=created[6].unit_id,
        request_id=created[6].id,
        skill="selling_online",
        place=created[6].place,
        starts_at=start,
        ends_at=start + timedelta(minutes=60),
        booked_by_id=manager.id,
    )
    db.session.add(outside_hours)
    db.session.flush()
    record(
        "visit_override",
        actor=manager,
        target=duc,
        details={
            "visit": outside_hours.id,
            "action": "booked",
            "start": start.isoformat(timespec="minutes"),
            "set_aside": ["hours"],
            "reason": "Chị Mai chỉ ở nhà sau khi cho cá ăn chiều (dữ liệu mẫu)",
        },
    )
    sunday = today + timedelta(days=(6 - today.weekday()) or 7)
    session = GroupSession(
        unit_id=village.id,
        title="Buổi hỗ trợ cài VNeID và thanh toán không dùng tiền mặt (demo)",
        place="Nhà văn hóa thôn Đông",
        starts_at=_local(sunday, 8),
        ends_at=_local(sunday, 10, 30),
        skills=["eid", "cashless"],
        capacity=20,
        signed_up=1,
        host_id=duc.id,
        created_by_id=manager.id,
    )
    session.signups = [SessionSignup(user_id=resident.id, signed_up_by_id=resident.id)]
    db.session.add(session)


def _seed_residents_own_requests(resident: User, member: User, manager: User, now, visit_start, team: Team) -> None:
    """The demo resident's own requests: a new one they may cancel, and one with a visit booked
    that shows who will come and their work phone (and a wish for another time the team sees)."""
    common = {
        "unit_id": resident.unit_id,
        "name": resident.full_name,
        "phone": resident.phone,
        "resident_id": resident.id,
        "created_by_id": resident.id,
        "consent_recorded_by_id": resident.id,
        "contact_promise_days": team.contact_promise_days,
    }
    to_cancel = HelpRequest(
        skill="safety",
        place="Nhà riêng, thôn Đoài",
        note="Muốn biết cách nhận ra tin nhắn lừa đảo (dữ liệu mẫu)",
        created_at=now - timedelta(hours=5),
        consent_at=now - timedelta(hours=5),
        **common,
    )
    booked = HelpRequest(
        skill="eid",
        place="Nhà riêng, thôn Đoài",
        note="Kích hoạt tài khoản định danh mức 2 (dữ liệu mẫu)",
        status="scheduled",
        created_at=now - timedelta(days=1, hours=2),
        consent_at=now - timedelta(days=1, hours=2),
        first_contacted_at=now - timedelta(hours=20),
        time_wish="Sáng thứ Bảy thì tiện hơn (dữ liệu mẫu)",
        time_wish_at=now - timedelta(hours=2),
        **common,
    )
    for request in (to_cancel, booked):
        request.contact_due_at = contact_deadline(request.created_at, request.contact_promise_days)
    db.session.add_all([to_cancel, booked])
    db.session.flush()
    db.session.add(
        Visit(
            member_id=member.id,
            unit_id=booked.unit_id,
            request_id=booked.id,
            resident_id=resident.id,
            skill="eid",
            place=booked.place,
            starts_at=visit_start,
            ends_at=visit_start + timedelta(minutes=45),
            booked_by_id=manager.id,
        )
    )
