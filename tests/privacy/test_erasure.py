"""Erasing a person: nothing of theirs is left in any column of any table, the figures stay as
they were (and equal a recount), the person answers 404 everywhere, and the ledger erases them
again after a backup is restored."""

from __future__ import annotations

import json
from datetime import date

import pytest
from flask_babel import force_locale
from sqlalchemy import select, update

from app.audit.models import AuditEvent
from app.auth.models import User
from app.exceptions import Conflict, Invalid
from app.extensions import db as _db
from app.jobs.models import Message
from app.learning.models import Certificate, Enrollment
from app.outcomes.models import FollowUp, Household, LedgerMonth, Resident, ResidentMilestone
from app.outcomes.residents import add_resident
from app.privacy import erasers, erasure
from app.privacy.models import Erasure, PersonConsent
from app.privacy.register import Subject
from app.privacy.subjects import subject_of_user
from app.reports import recount
from app.visits.models import (
    AvailabilityException,
    CalendarFeed,
    HelpRequest,
    TeamMember,
    Visit,
    WeeklyAvailability,
)

REASON = "The person asked for erasure at the commune office."


def personal_values(lan) -> list[str]:
    v = lan.values
    return [
        v.full_name,
        v.username,
        v.email,
        v.phone,
        v.new_phone,
        v.address,
        v.request_note,
        v.preferred_times,
        v.visit_notes,
        v.follow_up,
        v.consent_note,
    ]


def texts_of(value) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return None


def where_found(needles: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, value) for every string or JSON cell of every table holding a needle."""
    found = []
    for table in _db.metadata.sorted_tables:
        for row in _db.session.execute(select(table)).mappings():
            for column, value in row.items():
                text = texts_of(value)
                if text is None:
                    continue
                found.extend((table.name, column, needle) for needle in needles if needle in text)
    return found


def figures_without_accounts() -> dict:
    return {name: rows for name, rows in recount.stored_rows().items() if name != "people_stats"}


def assert_summaries_match():
    stored, fresh = recount.stored_rows(), recount.compute_from_scratch()
    for table in fresh:
        assert stored[table] == fresh[table], table


def test_the_fixture_holds_every_value_somewhere(db, lan):
    # Without this the search below could pass for a person who was never stored.
    found = {needle for _table, _column, needle in where_found(personal_values(lan))}
    assert found == set(personal_values(lan))
    assert db.session.scalar(select(Certificate).where(Certificate.user_id == lan.account.id)) is not None
    assert db.session.scalars(select(Message).where(Message.user_id == lan.member.id)).first() is not None


def test_no_personal_value_is_left_in_any_column_of_any_table(db, lan):
    erasure.erase_resident(lan.admin, lan.resident, REASON)
    db.session.flush()
    db.session.expire_all()
    assert where_found(personal_values(lan)) == []


def test_figures_are_unchanged_and_equal_a_recount(db, lan):
    assert_summaries_match()
    before = figures_without_accounts()
    accounts_before = recount.stored_rows()["people_stats"]
    erasure.erase_resident(lan.admin, lan.resident, REASON)
    assert_summaries_match()
    assert figures_without_accounts() == before
    # The erased account no longer counts as an active account, like a deactivated one.
    key = (lan.account.unit_id, "resident")
    assert recount.stored_rows()["people_stats"].get(key, {}).get("accounts", 0) == (
        accounts_before[key]["accounts"] - 1
    )


def test_the_report_says_what_was_erased_and_what_was_kept_and_why(db, lan):
    report = erasure.erase_resident(lan.admin, lan.resident, REASON)
    tables = {item["table"] for item in report.erased}
    assert {"users", "residents", "help_requests", "visits", "messages", "certificates", "person_consents"} <= tables
    assert report.kept and all(item["what"] and item["why"] for item in report.kept)
    ledger = db.session.get(Erasure, report.ledger_id)
    assert ledger.user_id == lan.account.id and ledger.resident_ids == [lan.resident.id]
    assert ledger.reason == REASON and ledger.actor_id == lan.admin.id
    assert ledger.report == report.as_dict()


def test_what_the_figures_need_is_kept_without_a_name(db, lan):
    erasure.erase_resident(lan.admin, lan.resident, REASON)
    resident = db.session.get(Resident, lan.resident.id)
    assert resident.erased_at is not None and resident.user_id is None and resident.household_id is None
    assert db.session.scalar(select(ResidentMilestone).where(ResidentMilestone.resident_id == resident.id))
    assert db.session.scalar(select(Enrollment).where(Enrollment.user_id == lan.account.id)).completed_at
    visit = db.session.get(Visit, lan.visit.id)
    assert (visit.status, visit.rating, visit.notes, visit.resident_id) == ("done", 5, None, None)
    assert db.session.get(Visit, lan.coming.id).status == "cancelled"
    assert db.session.get(HelpRequest, lan.request.id).phone is None
    assert db.session.get(Household, lan.household.id).address == erasers.ERASED
    for model, column in ((Certificate, Certificate.user_id), (PersonConsent, PersonConsent.user_id)):
        assert db.session.scalar(select(model).where(column == lan.account.id)) is None
    assert db.session.scalar(select(PersonConsent).where(PersonConsent.resident_id == resident.id)) is None
    assert db.session.scalar(select(CalendarFeed).where(CalendarFeed.user_id == lan.account.id)) is None
    assert db.session.scalar(select(FollowUp).where(FollowUp.resident_id == resident.id)) is None
    # Security events stay, by account number only.
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.target_user_id == lan.account.id)).all()
    assert events and all(e.details is None and e.username is None for e in events)


def test_the_account_can_no_longer_be_used(db, lan, client, login_as):
    login_as(lan.account)
    assert client.get("/account").status_code == 200
    erasure.erase_resident(lan.admin, lan.resident, REASON)
    db.session.flush()
    account = db.session.get(User, lan.account.id)
    assert not account.active and account.username.startswith("erased-") and account.username != lan.values.username
    assert not account.check_password("correct horse battery")
    assert client.get("/account").status_code == 302  # signed out: to the sign-in page
    response = client.post("/login", data={"username": lan.values.username, "password": "correct horse battery"})
    assert response.status_code != 302


def test_a_household_address_stays_while_someone_else_lives_there(db, lan):
    other = add_resident(
        lan.member,
        village=lan.resident.unit,
        full_name="Lê Văn Hùng",
        household=lan.household,
        legal_basis="state_task",
    )
    with force_locale("en"):
        report = erasure.erase_resident(lan.admin, lan.resident, REASON)
    assert db.session.get(Household, lan.household.id).address == lan.values.address
    assert db.session.get(Resident, other.id).household_id == lan.household.id
    assert any("address" in item["what"] for item in report.kept)


def test_erasing_twice_changes_nothing(db, lan):
    first = erasure.erase_resident(lan.admin, lan.resident, REASON)
    count = db.session.scalar(select(_db.func.count()).select_from(Erasure))
    again = erasure.erase_person(lan.admin, Subject(lan.account.id, (lan.resident.id,)), REASON)
    assert again.as_dict() == first.as_dict()
    assert db.session.scalar(select(_db.func.count()).select_from(Erasure)) == count


def test_the_last_administrator_is_not_erased(db, lan):
    with pytest.raises(Conflict):
        erasure.erase_person(lan.admin, subject_of_user(lan.admin), REASON)
    assert db.session.get(User, lan.admin.id).erased_at is None


def test_an_administrator_may_erase_themselves_when_another_remains(db, lan, make_user, units):
    make_user("admin", units["province"], username="officer2")
    erasure.erase_account(lan.admin, lan.admin, REASON)
    assert db.session.get(User, lan.admin.id).erased_at is not None


def test_a_reason_is_required(db, lan):
    for reason in (None, "", "   ", 42, "x" * 501):
        with pytest.raises(Invalid):
            erasure.erase_resident(lan.admin, lan.resident, reason)
    assert db.session.get(Resident, lan.resident.id).full_name == lan.values.full_name


def test_reapply_erases_again_what_a_restored_backup_brought_back(db, lan, app):
    erasure.erase_resident(lan.admin, lan.resident, REASON)
    db.session.flush()
    v = lan.values
    # A backup taken before the erasure is restored: the person's values are back.
    db.session.execute(
        update(User)
        .where(User.id == lan.account.id)
        .values(full_name=v.full_name, username=v.username, email=v.email, phone=v.phone, active=True, erased_at=None)
    )
    db.session.execute(
        update(Resident)
        .where(Resident.id == lan.resident.id)
        .values(full_name=v.full_name, phone=v.phone, household_id=lan.household.id, erased_at=None)
    )
    db.session.execute(update(Household).where(Household.id == lan.household.id).values(address=v.address))
    db.session.execute(
        update(Visit)
        .where(Visit.id == lan.visit.id)
        .values(notes=v.visit_notes, resident_id=lan.account.id, resident_record_id=lan.resident.id)
    )
    db.session.flush()
    db.session.expire_all()
    assert where_found([v.full_name, v.address, v.visit_notes])

    result = app.test_cli_runner().invoke(args=["privacy", "reapply"])
    assert result.exit_code == 0, result.output
    assert "1" in result.output
    db.session.expire_all()
    assert where_found(personal_values(lan)) == []
    assert db.session.get(Resident, lan.resident.id).erased_at is not None
    assert not db.session.get(User, lan.account.id).active


def test_erasing_a_member_removes_their_team_hours_and_feed_and_keeps_their_ledger(db, lan):
    member = lan.member
    db.session.add_all(
        [
            WeeklyAvailability(user_id=member.id, weekday=1, start_minute=18 * 60, end_minute=20 * 60),
            AvailabilityException(user_id=member.id, on_date=date(2026, 1, 5), kind="away", note="Đi khám bệnh"),
            CalendarFeed(user_id=member.id, token="minh-feed-token-0001"),
            LedgerMonth(
                member_id=member.id,
                month=date(2025, 12, 1),
                visits=3,
                sessions=0,
                hours_minutes=120,
                residents_helped=3,
                milestones_confirmed=2,
                closed_by_id=lan.admin.id,
            ),
        ]
    )
    db.session.flush()
    # Their booked visit would be left with no one to do it: refused until it is moved or cancelled.
    with pytest.raises(Conflict):
        erasure.erase_account(lan.manager, member, REASON)
    assert db.session.get(User, member.id).erased_at is None
    db.session.get(Visit, lan.coming.id).status = "cancelled"
    erasure.erase_account(lan.manager, member, REASON)
    db.session.flush()
    for model in (TeamMember, WeeklyAvailability, AvailabilityException, CalendarFeed):
        assert db.session.scalar(select(model).where(model.user_id == member.id)) is None
    assert db.session.scalar(select(LedgerMonth).where(LedgerMonth.member_id == member.id)).visits == 3
    # The visit they made stays for the figures, under the anonymous account.
    assert db.session.get(Visit, lan.visit.id).member_id == member.id
    assert where_found(["Trần Văn Minh", "memberc1", "Đi khám bệnh"]) == []


def test_every_table_holding_a_persons_data_has_an_erase_handler():
    from app.privacy import register

    register.load()
    tables = {
        "users", "residents", "households", "person_consents", "help_requests", "visits", "follow_ups",
        "milestone_evidence", "resident_milestones", "confidence_assessments", "walk_list_entries", "enrollments",
        "lesson_progress", "module_completions", "quiz_attempts", "attempt_questions", "attempt_choices",
        "certificates", "class_attendance", "session_signups", "calendar_feeds", "team_members",
        "weekly_availability", "availability_exceptions", "messages", "audit_events", "ledger_months", "erasures",
        "assignments", "campaigns", "closed_months", "group_sessions", "training_classes", "recovery_codes",
    }  # fmt: skip
    assert tables <= set(register.ERASERS)
    assert set(erasers.HANDLERS) <= tables


def test_a_restore_that_lost_the_ledger_gets_it_back_from_the_exported_file(db, lan, app, tmp_path):
    erasure.erase_resident(lan.admin, lan.resident, REASON)
    db.session.flush()
    runner = app.test_cli_runner()
    ledger_file = tmp_path / "erasures.json"
    result = runner.invoke(args=["privacy", "ledger-export", str(ledger_file)])
    assert result.exit_code == 0, result.output
    exported = json.loads(ledger_file.read_text(encoding="utf-8"))
    assert [entry["resident_ids"] for entry in exported] == [[lan.resident.id]]
    assert lan.values.full_name not in ledger_file.read_text(encoding="utf-8")

    # The backup predates the erasure: the person is back and the ledger row is not.
    v = lan.values
    db.session.execute(_db.delete(Erasure))
    db.session.execute(
        update(Resident)
        .where(Resident.id == lan.resident.id)
        .values(full_name=v.full_name, phone=v.phone, household_id=lan.household.id, erased_at=None)
    )
    db.session.flush()
    db.session.expire_all()

    result = runner.invoke(args=["privacy", "reapply", "--from", str(ledger_file)])
    assert result.exit_code == 0, result.output
    assert "Đã đưa lại 1 dòng sổ xóa." in result.output
    db.session.expire_all()
    assert db.session.get(Resident, lan.resident.id).erased_at is not None
    assert where_found([v.full_name, v.phone, v.address]) == []
    # Again: nothing to put back, and nothing changes.
    result = runner.invoke(args=["privacy", "reapply", "--from", str(ledger_file)])
    assert "Đã đưa lại 0 dòng sổ xóa." in result.output
    assert db.session.scalar(select(_db.func.count()).select_from(Erasure)) == 1


def test_reapply_refuses_a_file_that_is_not_a_ledger(db, app, tmp_path):
    for content in ("not json", '{"id": 1}', '[{"id": 1}]'):
        bad = tmp_path / "bad.json"
        bad.write_text(content, encoding="utf-8")
        result = app.test_cli_runner().invoke(args=["privacy", "reapply", "--from", str(bad)])
        assert result.exit_code != 0
        assert "không phải sổ xóa dữ liệu" in result.output
