"""The weekly digest for managers: last week's figures from the summary tables against the week
before, and where help requests wait — once per manager and week, in the recipient's language,
and a commune manager's only about their commune."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from types import SimpleNamespace

import pytest
from babel.numbers import format_decimal
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.auth.models import User
from app.db import LOCAL_TZ, utcnow
from app.i18n import format_date
from app.jobs.models import Message
from app.jobs.scheduler import run_job
from app.learning import operations as learning
from app.learning.models import Enrollment
from app.reports import recount
from app.reports.models import LearnerStat, LearningStat, VisitStat
from app.reports.summaries import bucket_hours, wait_bucket, week_of
from app.units.models import Unit
from app.visits import help_requests
from app.visits import operations as visits
from app.visits.models import HelpRequest, Visit


@pytest.fixture
def province(db, units, make_user, make_unit, make_course):
    """Learning, help requests and visits last week and the week before, in both communes (and
    an empty C3), written through the operations. Requests filed "earlier" are dated back and
    the summaries recounted, as an older database would have them."""
    w = SimpleNamespace(units=units)
    w.c3 = make_unit("commune", units["province"], code="C3", name="Xã Ba", population=100)
    course, _folder = make_course(slug="phone", modules=[{"id": "m1", "lessons": ["l1"]}])
    module = course.active_modules[0]
    lesson = module.active_lessons[0]
    w.department = make_user(
        "department_manager", units["province"], full_name="Department En", email="dept@example.org", locale="en"
    )
    w.manager = make_user("commune_manager", units["c1"], full_name="Manager En", email="m1@example.org", locale="en")
    w.manager_c2 = make_user(
        "commune_manager", units["c2"], full_name="Quản lý Vi", email="m2@example.org", locale="vi"
    )
    w.retired = make_user("commune_manager", units["c2"], email="old@example.org", active=False)
    member = make_user("tech_team", units["v1a"])
    member_c2 = make_user("tech_team", units["v2a"])

    # The digest runs next Monday morning and reports this week against the week before.
    w.week = week_of(utcnow())
    w.week_before = w.week - timedelta(weeks=1)
    w.monday = datetime.combine(w.week + timedelta(weeks=1), time(7, 15), tzinfo=LOCAL_TZ)
    last_week = datetime.combine(w.week_before + timedelta(days=2), time(10), tzinfo=LOCAL_TZ)
    # "A moment ago", but never before this week began (the suite may run just after midnight
    # on a Monday).
    week_start = datetime.combine(w.week, time(0), tzinfo=LOCAL_TZ)
    half_an_hour_ago = max(utcnow() - timedelta(minutes=30), week_start)
    five_minutes_ago = max(utcnow() - timedelta(minutes=5), half_an_hour_ago)

    def person(role, unit):
        return make_user(role, unit)

    learning.mark_lesson_read(person("resident", units["v1a"]), lesson)  # completes now
    learning.credit_module(person("resident", units["v1b"]), module, mode="in_person", at=last_week)
    learning.credit_module(
        person("resident", units["v1a"]), module, mode="in_person", at=last_week - timedelta(weeks=3)
    )
    learning.mark_lesson_read(person("resident", units["v2a"]), lesson)
    learning.enroll(person("cadre", units["c1"]), course)

    def ask(unit, skill="eid", *, filed=None):
        actor = member if unit.path.startswith(units["c1"].path) else member_c2
        request = help_requests.create_help_request(
            actor, skill=skill, unit=unit, place="Nhà văn hóa", name="Bà A", consent=True
        )
        if filed is not None:
            request.created_at = filed
        return request

    q1 = ask(units["v1a"], filed=last_week - timedelta(days=1))
    q2 = ask(units["v1a"], filed=half_an_hour_ago)
    ask(units["v1b"], "cashless")  # these five wait: C1B 2, C1A 1, C2A 2
    ask(units["v1b"])
    ask(units["v1a"])
    ask(units["v2a"])
    ask(units["v2a"], filed=last_week)
    db.session.flush()
    recount.rebuild()

    def visit(request, starts, **outcome):
        row = Visit(
            member_id=member.id,
            unit_id=request.unit_id,
            request_id=request.id,
            skill=request.skill,
            place="Nhà văn hóa",
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            booked_by_id=member.id,
        )
        db.session.add(row)
        db.session.flush()
        visits.complete_visit(member, row, skills_done=[request.skill], minutes_spent=30, **outcome)

    visit(q1, last_week, resolved=True, rating=5)  # waited a day
    visit(q2, five_minutes_ago, resolved=False, follow_up_reason="Gọi lại")
    db.session.flush()
    return w


# --- the same figures, two other ways --------------------------------------------------------


def direct(db, unit: Unit, week) -> dict:
    """Counted from the underlying tables."""

    def inside(other_unit: Unit) -> bool:
        return other_unit.path.startswith(unit.path)

    enrollments = [(e, u) for e, u in db.session.execute(select(Enrollment, User).join(User)) if inside(u.unit)]
    first = {}
    for enrollment, user in enrollments:
        first[user.id] = min(first.get(user.id, enrollment.enrolled_at), enrollment.enrolled_at)
    requests = [r for r in db.session.scalars(select(HelpRequest)) if inside(r.unit)]
    done = [
        v
        for v in db.session.scalars(select(Visit).where(Visit.status == "done"))
        if inside(v.unit) and week_of(v.starts_at) == week
    ]
    waits = sorted(wait_bucket((v.starts_at - v.request.created_at).total_seconds() / 3600) for v in done if v.request)
    return {
        "completed": sum(1 for e, _u in enrollments if e.completed_at and week_of(e.completed_at) == week),
        "new_learners": sum(1 for moment in first.values() if week_of(moment) == week),
        "requests": sum(1 for r in requests if week_of(r.created_at) == week),
        "visits_done": len(done),
        "median_wait_hours": bucket_hours(waits[(len(waits) - 1) // 2]) if waits else None,
        "resolved_share": sum(1 for v in done if v.resolved) / len(done) if done else None,
    }


def from_summaries(db, unit: Unit, week) -> dict:
    """The counts as the summary tables hold them (the unit's own rows hold its subtree)."""

    def total(column, model):
        return int(db.session.scalar(select(func.sum(column)).where(model.unit_id == unit.id, model.week == week)) or 0)

    return {
        "completed": total(LearningStat.completed, LearningStat),
        "new_learners": total(LearnerStat.new_learners, LearnerStat),
        "requests": total(VisitStat.requests, VisitStat),
        "visits_done": total(VisitStat.visits_done, VisitStat),
    }


def expected_lines(now: dict, before: dict) -> list[str]:
    """The figure lines of an English digest."""

    def count(label: str, key: str) -> str:
        change = now[key] - before[key]
        text = "(the same as the week before)" if not change else f"({change:+d} on the week before)"
        return f"- {label}: {now[key]} {text}"

    def number(value, pattern="#,##0.#"):
        return format_decimal(value, pattern, locale="en")

    lines = [
        count("Courses completed", "completed"),
        count("New learners", "new_learners"),
        count("Help requests", "requests"),
        count("Visits done", "visits_done"),
    ]
    hours, hours_before = now["median_wait_hours"], before["median_wait_hours"]
    if hours is None:
        lines.append("- Median wait from request to visit: no visit for a request last week")
    elif hours_before is None:
        lines.append(f"- Median wait from request to visit: {number(hours)} hours (no figure for the week before)")
    else:
        change = number(hours - hours_before, "+#,##0.#;-#,##0.#")
        lines.append(f"- Median wait from request to visit: {number(hours)} hours ({change} hours on the week before)")
    share, share_before = now["resolved_share"], before["resolved_share"]
    if share is None:
        lines.append("- Visits that solved the problem: no visits last week")
    elif share_before is None:
        lines.append(
            f"- Visits that solved the problem: {number(share * 100, '#,##0')}% (no figure for the week before)"
        )
    else:
        change = number((share - share_before) * 100, "+#,##0;-#,##0")
        lines.append(
            f"- Visits that solved the problem: {number(share * 100, '#,##0')}% "
            f"({change} percentage points on the week before)"
        )
    return lines


def digests(db) -> dict[int, Message]:
    db.session.expire_all()
    return {m.user_id: m for m in db.session.scalars(select(Message).where(Message.key.startswith("manager-digest:")))}


# --- tests -----------------------------------------------------------------------------------


def test_each_active_manager_gets_one_digest_a_week_however_often_the_job_runs(app, db, province, smtp):
    w = province
    assert run_job(app, "manager_digests", now=w.monday) == 3
    assert run_job(app, "manager_digests", now=w.monday) == 0
    assert run_job(app, "manager_digests", now=w.monday + timedelta(hours=5)) == 0

    sent = digests(db)
    assert set(sent) == {w.department.id, w.manager.id, w.manager_c2.id}  # not the deactivated one
    assert {m.key for m in sent.values()} == {
        f"manager-digest:{user.id}:{w.week.isoformat()}" for user in (w.department, w.manager, w.manager_c2)
    }
    assert sent[w.department.id].link == "/reports/?unit=P"
    assert sent[w.manager.id].link == "/reports/units/C1"

    for _attempt in range(2):
        run_job(app, "send_outbox", now=w.monday + timedelta(minutes=1))
    for address in ("dept@example.org", "m1@example.org", "m2@example.org"):
        assert len(smtp.to(address)) == 1
    assert smtp.to("old@example.org") == []

    # The next Monday brings the next week's digest.
    assert run_job(app, "manager_digests", now=w.monday + timedelta(weeks=1)) == 3


def test_the_figures_are_last_weeks_from_the_summary_tables_against_the_week_before(app, db, province):
    w = province
    run_job(app, "manager_digests", now=w.monday)
    sent = digests(db)
    for user, unit in ((w.department, w.units["province"]), (w.manager, w.units["c1"])):
        now, before = direct(db, unit, w.week), direct(db, unit, w.week_before)
        assert from_summaries(db, unit, w.week) == {key: now[key] for key in from_summaries(db, unit, w.week)}
        assert from_summaries(db, unit, w.week_before) == {key: before[key] for key in from_summaries(db, unit, w.week)}
        body = sent[user.id].body
        for line in expected_lines(now, before):
            assert line in body.splitlines(), (line, body)
    # The data set has figures in both weeks (checked here so the comparison above means something).
    province_now = direct(db, w.units["province"], w.week)
    province_before = direct(db, w.units["province"], w.week_before)
    assert province_before["completed"] == 1 and province_before["visits_done"] == 1
    assert province_before["median_wait_hours"] == 24.5 and province_before["resolved_share"] == 1
    assert province_now["completed"] >= 2 and province_now["requests"] >= 5


def test_the_places_with_the_most_waiting_requests_are_named(app, db, province):
    w = province
    run_job(app, "manager_digests", now=w.monday)
    sent = digests(db)
    body = sent[w.department.id].body
    assert "Communes and wards with the most help requests waiting for a visit now:" in body
    assert "- Xã Một: 3 requests\n- Xã Hai: 2 requests\n" in body
    assert "Xã Ba" not in body  # nothing waits there
    body = sent[w.manager.id].body
    assert "Villages with the most help requests waiting for a visit now:" in body
    assert "- Thôn 1B: 2 requests\n- Thôn 1A: 1 request\n" in body


def test_a_commune_manager_gets_only_their_communes_figures(app, db, province):
    w = province
    run_job(app, "manager_digests", now=w.monday)
    body = digests(db)[w.manager.id].body
    assert "Last week in Xã Một (" in body
    for elsewhere in ("Xã Hai", "Thôn 2A", "Tỉnh Thử"):
        assert elsewhere not in body
    commune = direct(db, w.units["c1"], w.week)
    province_figures = direct(db, w.units["province"], w.week)
    assert commune["requests"] < province_figures["requests"]
    assert f"- Help requests: {commune['requests']} " in body


def test_each_digest_is_in_the_recipients_language(app, db, province):
    w = province
    run_job(app, "manager_digests", now=w.monday)
    sent = digests(db)
    english = sent[w.manager.id]
    assert english.subject.startswith("Weekly summary for Xã Một: ")
    assert english.body.startswith("Hello, Manager En\n")
    with app.test_request_context(), force_locale("en"):
        assert format_date(w.week, "medium") in english.subject
    vietnamese = sent[w.manager_c2.id]
    with app.test_request_context(), force_locale("vi"):
        greeting = _("Hello, %(name)s", name="Quản lý Vi")
        week_start = format_date(w.week, "medium")
    assert greeting != "Hello, Quản lý Vi"
    assert vietnamese.body.startswith(greeting)
    assert week_start in vietnamese.subject
    assert "Xã Hai" in vietnamese.subject


def test_the_digest_gives_the_share_of_last_weeks_requests_called_within_the_promise(app, db, province):
    w = province
    run_job(app, "manager_digests", now=w.monday)
    sent = digests(db)
    week_start = datetime.combine(w.week, time(0), tzinfo=LOCAL_TZ)
    for user, unit in ((w.department, w.units["province"]), (w.manager, w.units["c1"]), (w.manager_c2, w.units["c2"])):
        filed = [
            r
            for r in db.session.scalars(select(HelpRequest))
            if r.unit.path.startswith(unit.path) and week_start <= r.created_at < week_start + timedelta(weeks=1)
        ]
        counted = [r for r in filed if r.first_contacted_at is not None or r.contact_due_at <= w.monday]
        in_time = [r for r in counted if r.first_contacted_at is not None and r.first_contacted_at < r.contact_due_at]
        assert counted, unit.code  # the data set has requests whose promise has ended by Monday
        share = format_decimal(len(in_time) / len(counted) * 100, "#,##0", locale=user.locale)
        with app.test_request_context(), force_locale(user.locale):
            line = _(
                "Requests called within the team's promise: %(share)s%% (%(in_time)s of %(counted)s filed last week)",
                share=share,
                in_time=str(len(in_time)),
                counted=str(len(counted)),
            )
        assert f"- {line}" in sent[user.id].body.splitlines(), sent[user.id].body
