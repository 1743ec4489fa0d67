"""Retention: notes of closed requests and visits, phone numbers of residents with no activity and
old messages go after their period; what is still in use, or younger than its period, stays."""

from __future__ import annotations

from datetime import timedelta

from app.audit.models import AuditEvent
from app.auth.models import User
from app.db import utcnow
from app.jobs.models import Message
from app.jobs.scheduler import JOBS_BY_ID
from app.outcomes.models import Resident
from app.outcomes.residents import add_resident
from app.privacy.retention import apply_retention, days
from app.visits import help_requests
from app.visits.models import AvailabilityException, HelpRequest, Visit


def later(app, key: str, extra_days: int):
    """A moment `extra_days` after the period of `key` has passed (negative: before it ends)."""
    with app.app_context():
        return utcnow() + timedelta(days=days(key) + extra_days)


def make_request(member, units, *, status, note="Nhà có chó dữ, gọi trước"):
    request = help_requests.create_help_request(
        member,
        skill="eid",
        unit=units["v1a"],
        place="Xóm Đông",
        name="Phạm Thị Hoa",
        phone="0911222333",
        note=note,
        preferred_times="Sáng sớm",
        consent=True,
    )
    if status != "new":
        request.status = status
        request.closed_at = utcnow()
    return request


def make_visit(db, member, units, *, status, notes="Bà cần học thêm", starts=None, resident=None):
    start = starts or utcnow() - timedelta(hours=2)
    visit = Visit(
        member_id=member.id,
        unit_id=units["v1a"].id,
        resident_record_id=resident.id if resident else None,
        skill="eid",
        place="Xóm Đông",
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        booked_by_id=member.id,
        status=status,
        notes=notes,
        completed_at=start + timedelta(minutes=30) if status == "done" else None,
    )
    db.session.add(visit)
    db.session.flush()
    return visit


def test_notes_of_closed_requests_and_visits_go_after_their_period(db, app, units, make_user):
    member = make_user("tech_team", units["v1a"])
    closed = make_request(member, units, status="done")
    still_open = make_request(member, units, status="new")
    visit = make_visit(db, member, units, status="done")

    report = apply_retention(later(app, "closed_note", 1))
    db.session.expire_all()
    assert (closed.note, closed.preferred_times) == (None, None)
    assert closed.name == "Phạm Thị Hoa" and closed.status == "done"  # the request itself stays
    assert closed.phone == "+84911222333"  # kept for the longer period of phone numbers
    assert visit.notes is None and visit.status == "done"
    # An open request is still in use, however old.
    assert still_open.note == "Nhà có chó dữ, gọi trước" and still_open.phone == "+84911222333"
    assert [item["count"] for item in report.items if item["key"] == "closed_note"] == [1, 1, 0]

    apply_retention(later(app, "inactive_phone", 1))
    db.session.expire_all()
    assert closed.phone is None and still_open.phone == "+84911222333"


def test_notes_younger_than_their_period_are_left_alone(db, app, units, make_user):
    member = make_user("tech_team", units["v1a"])
    closed = make_request(member, units, status="cancelled")
    visit = make_visit(db, member, units, status="done")
    report = apply_retention(later(app, "closed_note", -1))
    db.session.expire_all()
    assert closed.note == "Nhà có chó dữ, gọi trước" and visit.notes == "Bà cần học thêm"
    assert report.total == 0


def test_the_phone_of_a_resident_with_no_activity_goes(db, app, units, make_user):
    member = make_user("tech_team", units["v1a"])
    idle = add_resident(
        member, village=units["v1a"], full_name="Đỗ Văn Tư", phone="0900000001", legal_basis="state_task"
    )
    report = apply_retention(later(app, "inactive_phone", 1))
    db.session.expire_all()
    assert db.session.get(Resident, idle.id).phone is None
    assert db.session.get(Resident, idle.id).full_name == "Đỗ Văn Tư"
    assert [item["count"] for item in report.items if item["key"] == "inactive_phone"] == [1, 0, 0]


def test_the_phone_of_a_resident_in_use_or_recently_active_stays(db, app, units, make_user):
    member = make_user("tech_team", units["v1a"])
    moment = later(app, "inactive_phone", 1)
    booked = add_resident(
        member, village=units["v1a"], full_name="Vũ Thị Năm", phone="0900000002", legal_basis="state_task"
    )
    make_visit(db, member, units, status="booked", notes=None, starts=moment + timedelta(days=1), resident=booked)
    recent = add_resident(
        member, village=units["v1a"], full_name="Hồ Văn Sáu", phone="0900000003", legal_basis="state_task"
    )
    make_visit(db, member, units, status="done", starts=moment - timedelta(days=3), resident=recent)
    young = add_resident(
        member, village=units["v1a"], full_name="Lý Thị Bảy", phone="0900000004", legal_basis="state_task"
    )
    apply_retention(later(app, "inactive_phone", -1))
    db.session.expire_all()
    assert db.session.get(Resident, young.id).phone == "+84900000004"  # the period has not passed yet
    apply_retention(moment)
    db.session.expire_all()
    assert db.session.get(Resident, booked.id).phone == "+84900000002"
    assert db.session.get(Resident, recent.id).phone == "+84900000003"
    assert db.session.get(Resident, young.id).phone is None  # no activity since the period began


def test_old_messages_go_and_pending_ones_stay(db, app, units, make_user):
    person = make_user("resident", units["v1a"])
    sent = Message(key="t:sent", user_id=person.id, subject="Nhắc lịch", body="Hẹn 8 giờ", status="sent")
    pending = Message(key="t:pending", user_id=person.id, subject="Nhắc lịch", body="Hẹn 9 giờ", status="pending")
    db.session.add_all([sent, pending])
    db.session.flush()
    ids = (sent.id, pending.id)
    apply_retention(later(app, "messages", -1))
    assert db.session.get(Message, ids[0]) is not None
    apply_retention(later(app, "messages", 1))
    db.session.expire_all()
    assert db.session.get(Message, ids[0]) is None
    assert db.session.get(Message, ids[1]) is not None


def test_running_twice_changes_nothing_more(db, app, units, make_user):
    member = make_user("tech_team", units["v1a"])
    make_request(member, units, status="done")
    moment = later(app, "closed_note", 1)
    assert apply_retention(moment).total == 1
    assert apply_retention(moment).total == 0


def test_retention_is_a_daily_job_and_a_command(db, app, units, make_user):
    member = make_user("tech_team", units["v1a"])
    request = make_request(member, units, status="done")
    job = JOBS_BY_ID["privacy_retention"]
    assert job.trigger == "cron"
    assert job.function(now=later(app, "closed_note", 1)) == 1
    db.session.expire_all()
    assert db.session.get(HelpRequest, request.id).note is None

    result = app.test_cli_runner().invoke(args=["privacy", "retention"])
    assert result.exit_code == 0, result.output
    assert "closed_note" in result.output and "Tổng: 0." in result.output


def test_security_events_availability_notes_and_idle_account_phones_go_after_their_periods(db, app, units, make_user):
    member = make_user("tech_team", units["v1a"], phone="0933444555")
    idle = make_user("resident", units["v1a"], phone="0933444666")
    event = AuditEvent(action="login", actor_id=member.id, ip_address="203.0.113.7", at=utcnow())
    away = AvailabilityException(user_id=member.id, on_date=utcnow().date(), kind="away", note="Đưa con đi khám")
    db.session.add_all([event, away])
    db.session.flush()
    ids = (event.id, away.id)

    apply_retention(later(app, "security_log", -2))
    db.session.expire_all()
    assert db.session.get(AuditEvent, ids[0]) is not None
    assert db.session.get(AvailabilityException, ids[1]).note == "Đưa con đi khám"

    apply_retention(later(app, "security_log", 2))
    db.session.expire_all()
    assert db.session.get(AuditEvent, ids[0]) is None
    assert db.session.get(AvailabilityException, ids[1]).note is None
    assert db.session.get(User, idle.id).phone == "0933444666"  # two years have not passed

    # The member has a visit booked; the resident has done nothing for the period.
    moment = later(app, "inactive_phone", 1)
    make_visit(db, member, units, status="booked", notes=None, starts=moment + timedelta(days=1))
    apply_retention(moment)
    db.session.expire_all()
    assert db.session.get(User, idle.id).phone is None
    assert db.session.get(User, member.id).phone == "0933444555"


def test_the_read_log_is_kept_for_its_period_then_goes(db, app, units, make_user):
    from app.privacy.access_log import record_read
    from app.privacy.models import PersonalDataRead

    member = make_user("tech_team", units["v1a"])
    person = make_user("resident", units["v1a"])
    record_read(member, users=[person], kind="person_page", where="users.show")
    db.session.flush()
    count = lambda: db.session.scalar(db.select(db.func.count()).select_from(PersonalDataRead))  # noqa: E731
    assert count() == 1

    apply_retention(later(app, "read_log", -2))
    assert count() == 1
    report = apply_retention(later(app, "read_log", 2))
    assert count() == 0
    assert any(item["key"] == "read_log" and item["count"] == 1 for item in report.items)
