"""Every dashboard figure (app.reports.queries, read from the summary tables) equals the same
figure computed directly from the underlying tables, on a small province written through the
operations: an empty commune, people registered at the province itself, help-credited and
self-study completions, past completions and milestones, cancelled visits, overdue assignments.

`build_world` is shared with the page and API tests."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.auth.models import User
from app.db import utcnow
from app.extensions import db
from app.learning import assignments
from app.learning import operations as learning
from app.learning.models import Course, Enrollment
from app.outcomes import operations as outcomes
from app.outcomes.models import Resident, ResidentMilestone
from app.outcomes.residents import add_resident
from app.reports import queries, recount
from app.reports.summaries import bucket_hours, wait_bucket, week_of
from app.units.models import Unit
from app.units.operations import children_of
from app.users import operations as users
from app.visits import help_requests
from app.visits import operations as visits
from app.visits.models import HelpRequest, Team, TeamMember, Visit

# --- the data set ----------------------------------------------------------------------------


def lesson_of(course: Course, n: int = 0):
    return [lesson for module in course.active_modules for lesson in module.active_lessons][n]


def complete_self(person, course):
    for module in course.active_modules:
        for lesson in module.active_lessons:
            learning.mark_lesson_read(person, lesson)


def complete_with_help(person, course, mode="in_person", at=None):
    for module in course.active_modules:
        learning.credit_module(person, module, mode=mode, at=at)


def build_world(db, units, make_user, make_unit, make_course):
    """A province P with communes C1 (villages C1A, C1B), C2 (village C2A) and an empty C3."""
    outcomes.ensure_default_milestones()
    w = SimpleNamespace(units=units, now=utcnow(), today=outcomes.local_today())
    w.c3 = make_unit("commune", units["province"], code="C3", name="Xã Ba Trống", population=1500)
    w.core, _ = make_course(slug="smartphone-basics", modules=[{"id": "m1", "lessons": ["c1", "c2"]}])
    w.other, _ = make_course(slug="other-course", modules=[{"id": "m1", "lessons": ["o1"]}])
    w.cadre_course, _ = make_course(slug="cadre-course", audience="cadre", modules=[{"id": "m1", "lessons": ["k1"]}])
    w.admin = make_user("admin", units["province"], username="admin")
    w.department = make_user("department_manager", units["province"], username="department")
    w.manager = make_user("commune_manager", units["c1"], username="manager1")
    w.manager_c2 = make_user("commune_manager", units["c2"], username="manager2")
    recount.rebuild()  # the fixtures wrote their rows directly; from here on only operations write

    def person(username, role, unit, name=None):
        return users.create_user(
            w.admin,
            username=f"learner-{username}",
            full_name=name or username.title(),
            role=role,
            unit=unit,
            password=None,
        ).user

    # Learners: residents and cadres in villages, communes, and at the province itself.
    w.r1 = person("r1", "resident", units["v1a"], "Nguyễn Thị Một")
    w.r2 = person("r2", "resident", units["v1a"], "Trần Văn Hai")
    w.r3 = person("r3", "resident", units["v1b"], "Lê Thị Ba")
    w.r4 = person("r4", "resident", units["v2a"], "Phạm Văn Bốn")
    w.rp = person("rp", "resident", units["province"], "Người Tỉnh")
    w.k1 = person("k1", "cadre", units["c1"], "Cán bộ Một")
    w.k2 = person("k2", "cadre", units["c1"], "Cán bộ Hai")
    w.k3 = person("k3", "cadre", units["v1b"], "Cán bộ Ba")
    w.k4 = person("k4", "cadre", units["c2"], "Cán bộ Bốn")
    w.kp = person("kp", "cadre", units["province"], "Cán bộ Tỉnh")
    w.m1 = person("m1", "tech_team", units["v1a"], "Thành viên Một")
    w.m2 = person("m2", "tech_team", units["v2a"], "Thành viên Hai")
    db.session.add_all(
        [
            Team(
                unit_id=units["c1"].id, name="Tổ C1", members=[TeamMember(user_id=w.m1.id, skills=["eid", "cashless"])]
            ),
            Team(unit_id=units["c2"].id, name="Tổ C2", members=[TeamMember(user_id=w.m2.id, skills=["eid"])]),
        ]
    )
    db.session.flush()

    past = w.now - timedelta(days=60)
    complete_self(w.r1, w.core)
    learning.mark_lesson_read(w.r1, lesson_of(w.other))  # r1 also completes the other course
    complete_with_help(w.r2, w.core, "in_person", at=past)  # two months ago, in a class
    learning.mark_lesson_read(w.r3, lesson_of(w.core))  # enrolled, not finished
    complete_with_help(w.r4, w.core, "assisted")
    complete_self(w.rp, w.core)  # registered at the province: counts only in its totals
    complete_self(w.k1, w.cadre_course)
    learning.mark_lesson_read(w.k2, lesson_of(w.core))  # a cadre in a resident course
    complete_with_help(w.k3, w.cadre_course, "assisted", at=past)
    complete_self(w.kp, w.cadre_course)

    # Assignments now past their due date (made as if on an earlier day).
    earlier = w.today - timedelta(days=20)
    w.assigned_cadres = assignments.create_assignment(
        w.admin,
        course=w.cadre_course,
        unit=units["c1"],
        role="cadre",
        due_on=w.today - timedelta(days=3),
        today=earlier,
    )
    w.assigned_residents = assignments.create_assignment(
        w.admin,
        course=w.core,
        unit=units["province"],
        role="resident",
        due_on=w.today - timedelta(days=1),
        today=earlier,
    )
    assignments.create_assignment(  # not yet due: never overdue
        w.admin, course=w.other, unit=units["c2"], role="resident", due_on=w.today + timedelta(days=5)
    )

    # Help requests, filed through the operation, then dated back (as if filed earlier) and the
    # summaries recounted, so waits from request to visit are real.
    def ask(unit, skill, days_ago, name):
        request = help_requests.create_help_request(
            w.m1 if unit.path.startswith(units["c1"].path) else w.m2,
            skill=skill,
            unit=unit,
            place="Nhà văn hóa",
            name=name,
            consent=True,
        )
        request.created_at = w.now - timedelta(days=days_ago)
        return request

    w.q1 = ask(units["v1a"], "eid", 70, "Bà A")
    w.q2 = ask(units["v1a"], "eid", 20, "Ông B")
    w.q3 = ask(units["v1b"], "cashless", 12, "Cô C")
    w.q4 = ask(units["v1b"], "eid", 3, "Chú D")  # its visit is cancelled: a request, no visit
    w.q5 = ask(units["v2a"], "eid", 8, "Bác E")
    w.q6 = ask(units["v2a"], "eid", 1, "Anh F")  # waiting
    db.session.flush()
    recount.rebuild()

    def visit(member, request, hours_after, *, unit=None, resident=None):
        starts = request.created_at + timedelta(hours=hours_after) if request else w.now - timedelta(hours=hours_after)
        row = Visit(
            member_id=member.id,
            unit_id=(request.unit_id if request else unit.id),
            request_id=request.id if request else None,
            resident_id=resident.id if resident else None,
            skill=request.skill if request else "eid",
            place="Nhà văn hóa",
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            booked_by_id=member.id,
        )
        db.session.add(row)
        db.session.flush()
        return row

    done = [
        (visit(w.m1, w.q1, 5), {"resolved": True, "rating": 5, "milestones": [("eid_activated", "seen_on_phone")]}),
        (visit(w.m1, w.q2, 50), {"resolved": True, "rating": 3}),
        (visit(w.m1, w.q3, 100), {"resolved": False, "rating": None, "follow_up_reason": "Gọi lại"}),
        (visit(w.m1, None, 30, unit=units["v1b"], resident=w.r3), {"resolved": True, "rating": 4}),  # no request
        (visit(w.m2, w.q5, 30), {"resolved": True, "rating": 4}),
    ]
    for row, outcome in done:
        skills = [row.skill]
        visits.complete_visit(
            w.m1 if row.member_id == w.m1.id else w.m2, row, skills_done=skills, minutes_spent=40, **outcome
        )
    w.cancelled = visit(w.m1, w.q4, 10)
    visits.cancel_visit(w.m1, w.cancelled, "Trời mưa")

    # Milestones on resident records (and one above, at a visit 70 days ago): two reached two
    # months ago or more, the others today.
    w.lan = add_resident(w.m1, village=units["v1a"], full_name="Nguyễn Thị Lan", legal_basis="state_task")
    w.hoa = add_resident(w.m1, village=units["v1b"], full_name="Lê Thị Hoa", legal_basis="state_task")
    w.tam = add_resident(w.m2, village=units["v2a"], full_name="Chú Tám", legal_basis="state_task")
    activated = outcomes.get_milestone("eid_activated")
    outcomes.record_milestone(w.m1, w.lan, activated, on_date=w.today - timedelta(days=60), confirmation="document")
    outcomes.record_milestone(
        w.m1, w.hoa, outcomes.get_milestone("cashless_setup"), on_date=w.today, confirmation="document"
    )
    outcomes.record_milestone(w.m2, w.tam, activated, on_date=w.today, confirmation="document")
    outcomes.record_milestone(
        w.m2, w.tam, outcomes.get_milestone("eid_installed"), on_date=w.today, confirmation="document"
    )
    db.session.flush()
    return w


@pytest.fixture
def world(db, units, make_user, make_unit, make_course):
    return build_world(db, units, make_user, make_unit, make_course)


# --- direct computations from the underlying tables -----------------------------------------


def in_weeks(moment, week_from, week_to) -> bool:
    week = week_of(moment)
    return (week_from is None or week >= week_from) and (week_to is None or week <= week_to)


def people_in(unit: Unit) -> list[User]:
    return [u for u in db.session.scalars(select(User)) if u.unit.path.startswith(unit.path)]


def direct_completion(unit: Unit, *, course=None, role=None, week_from=None, week_to=None, population=None) -> dict:
    people = {u.id: u for u in people_in(unit)}
    enrollments = [e for e in db.session.scalars(select(Enrollment)) if e.user_id in people]
    chosen = [
        e
        for e in enrollments
        if (course is None or e.course_id == course.id) and (role is None or people[e.user_id].role == role)
    ]
    enrolled = sum(1 for e in chosen if in_weeks(e.enrolled_at, week_from, week_to))
    completions = [e for e in chosen if e.completed_at and in_weeks(e.completed_at, week_from, week_to)]
    helped = sum(1 for e in completions if e.completion_mode in ("in_person", "assisted"))
    by_person = defaultdict(list)
    for e in enrollments:
        by_person[e.user_id].append(e)
    if course is None:
        learners = sum(
            1
            for uid, es in by_person.items()
            if (role is None or people[uid].role == role)
            and in_weeks(min(e.enrolled_at for e in es), week_from, week_to)
        )
        completers = sum(
            1
            for uid, es in by_person.items()
            if people[uid].role == "resident"
            and any(e.completed_at for e in es)
            and in_weeks(min(e.completed_at for e in es if e.completed_at), week_from, week_to)
        )
    else:
        learners = enrolled
        completers = sum(
            1
            for e in enrollments
            if e.course_id == course.id
            and people[e.user_id].role == "resident"
            and e.completed_at
            and in_weeks(e.completed_at, week_from, week_to)
        )
    population = unit.population if population is None else population
    return {
        "population": population,
        "learners": learners,
        "enrolled": enrolled,
        "completed": len(completions),
        "completion_rate": len(completions) / enrolled if enrolled else None,
        "coverage": completers * 1000 / population if population else None,
        "in_person_share": helped / len(completions) if completions else None,
        "overdue_assignments": direct_overdue(unit, course=course, role=role),
        **direct_visits(unit, week_from, week_to),
    }


def direct_overdue(unit: Unit, *, course=None, role=None) -> int:
    from app.learning.models import Assignment

    count = 0
    for assignment in db.session.scalars(select(Assignment)):
        if (course is not None and assignment.course_id != course.id) or (role is not None and assignment.role != role):
            continue
        count += sum(1 for u in assignments.overdue_assignees(assignment) if u.unit.path.startswith(unit.path))
    return count


def direct_visits(unit: Unit, week_from=None, week_to=None) -> dict:
    requests = [
        r
        for r in db.session.scalars(select(HelpRequest))
        if r.unit.path.startswith(unit.path) and in_weeks(r.created_at, week_from, week_to)
    ]
    done = [
        v
        for v in db.session.scalars(select(Visit).where(Visit.status == "done"))
        if v.unit.path.startswith(unit.path) and in_weeks(v.starts_at, week_from, week_to)
    ]
    ratings = [v.rating for v in done if v.rating]
    waits = sorted(wait_bucket((v.starts_at - v.request.created_at).total_seconds() / 3600) for v in done if v.request)
    return {
        "requests": len(requests),
        "visits_done": len(done),
        "median_wait_hours": bucket_hours(waits[(len(waits) - 1) // 2]) if waits else None,
        "resolved_share": sum(1 for v in done if v.resolved) / len(done) if done else None,
        "average_rating": sum(ratings) / len(ratings) if ratings else None,
    }


def direct_indicators(unit: Unit, world, population=None) -> dict:
    cutoff = week_of(world.today.replace(day=1))
    population = unit.population if population is None else population
    people = {u.id: u for u in people_in(unit)}
    cadre_course_ids = {c.id for c in db.session.scalars(select(Course).where(Course.audience == "cadre"))}
    done = [e for e in db.session.scalars(select(Enrollment)) if e.user_id in people and e.completed_at]

    def share(count, whole):
        return count / whole if whole else None

    def cadres_done(before):
        return len(
            {
                e.user_id
                for e in done
                if people[e.user_id].role == "cadre"
                and e.course_id in cadre_course_ids
                and (not before or week_of(e.completed_at) < cutoff)
            }
        )

    def core_done(modes, before):
        return sum(
            1
            for e in done
            if people[e.user_id].role == "resident"
            and e.course_id == world.core.id
            and e.completion_mode in modes
            and (not before or week_of(e.completed_at) < cutoff)
        )

    cadres = sum(1 for u in people.values() if u.role == "cadre" and u.active)
    result = {"population": population, "cadres": cadres}
    pairs = {
        "cadre_skills": (share(cadres_done(False), cadres), share(cadres_done(True), cadres)),
        "adult_skills_self": (
            share(core_done({"self"}, False), population),
            share(core_done({"self"}, True), population),
        ),
        "adult_skills_help": (
            share(core_done({"in_person", "assisted"}, False), population),
            share(core_done({"in_person", "assisted"}, True), population),
        ),
    }
    reached = db.session.execute(
        select(ResidentMilestone, Resident).join(Resident, Resident.id == ResidentMilestone.resident_id)
    ).all()
    for milestone in outcomes.active_milestones():
        mine = [
            rm
            for rm, resident in reached
            if rm.milestone_id == milestone.id and resident.unit.path.startswith(unit.path)
        ]
        pairs[f"milestone_{milestone.key}"] = (
            share(len(mine), population),
            share(sum(1 for rm in mine if week_of(rm.reached_on) < cutoff), population),
        )
    for key, (now, before) in pairs.items():
        result[key] = now
        result[f"{key}_change"] = None if now is None or before is None else now - before
    return result


def assert_figures(row: dict, expected: dict, where: str):
    for key, value in expected.items():
        if isinstance(value, float):
            assert row[key] == pytest.approx(value), (where, key, row[key], value)
        else:
            assert row[key] == value, (where, key, row[key], value)


def province_population(world) -> int:
    return sum(child.population for child in children_of(world.units["province"]) if child.population is not None)


# --- the tests -------------------------------------------------------------------------------


def test_the_summaries_behind_the_figures_equal_a_recount(world):
    def nonzero(rows):  # compute_from_scratch() keeps zero columns next to non-zero ones
        return {key: {name: value for name, value in values.items() if value} for key, values in rows.items()}

    stored, fresh = recount.stored_rows(), recount.compute_from_scratch()
    for table in fresh:
        assert nonzero(stored[table]) == nonzero(fresh[table]), table


def test_completion_figures_equal_a_direct_count_for_every_commune_and_the_totals(world):
    this_week = week_of(world.now)
    choices = {
        "all": {},
        "core course": {"course": world.core},
        "cadre course": {"course": world.cadre_course},
        "residents": {"role": "resident"},
        "cadres": {"role": "cadre"},
        "earlier weeks": {"week_from": this_week - timedelta(weeks=12), "week_to": this_week - timedelta(weeks=1)},
        "this week": {"week_from": this_week, "week_to": this_week},
        "residents, earlier weeks": {"role": "resident", "week_to": this_week - timedelta(weeks=1)},
        "core course, from this week": {"course": world.core, "week_from": this_week},
    }
    province = world.units["province"]
    for choice, given in choices.items():
        course = given.get("course")
        filters = {key: value for key, value in given.items() if key != "course"}
        table = queries.completion_table(province, course_id=course.id if course else None, **filters)
        assert [row["unit_code"] for row in table.rows] == [c.code for c in children_of(province)]
        assert {"C1", "C2", "C3"} == {row["unit_code"] for row in table.rows}
        for row in table.rows:
            unit = db.session.scalar(select(Unit).where(Unit.code == row["unit_code"]))
            assert_figures(row, direct_completion(unit, course=course, **filters), f"{choice}: {row['unit_code']}")
        expected = direct_completion(province, course=course, population=province_population(world), **filters)
        assert_figures(table.totals, expected, f"{choice}: totals")


def test_the_completion_table_holds_the_expected_figures(world):
    """A few figures by hand, so the direct computation itself is checked too."""
    table = queries.completion_table(world.units["province"])
    rows = {row["unit_code"]: row for row in table.rows}
    c1, c2, c3 = rows["C1"], rows["C2"], rows["C3"]
    # C1: r1 (2 courses), r2, r3, k1, k2, k3 enrolled; r1 twice, r2, k1, k3 completed.
    assert (c1["learners"], c1["enrolled"], c1["completed"]) == (6, 7, 5)
    assert c1["in_person_share"] == pytest.approx(2 / 5)  # r2 in a class, k3 assisted
    assert c1["coverage"] == pytest.approx(2 * 1000 / 5000)  # r1 and r2
    assert c1["overdue_assignments"] == 2  # k2 (cadre course) and r3 (core course)
    assert (c1["requests"], c1["visits_done"]) == (4, 4)  # the cancelled visit does not count
    assert c1["resolved_share"] == pytest.approx(3 / 4)
    assert c1["average_rating"] == pytest.approx(4.0)
    assert c1["median_wait_hours"] == bucket_hours(wait_bucket(50))  # waits 5 h, 50 h, 100 h
    assert (c2["requests"], c2["visits_done"], c2["overdue_assignments"]) == (2, 1, 0)
    # The empty commune: zeros, no rates.
    assert (c3["learners"], c3["enrolled"], c3["completed"], c3["requests"], c3["visits_done"]) == (0, 0, 0, 0, 0)
    assert c3["completion_rate"] is None and c3["median_wait_hours"] is None and c3["coverage"] == 0
    # Totals count the people registered at the province itself (rp, kp).
    assert table.totals["completed"] == c1["completed"] + c2["completed"] + 2
    assert table.totals["population"] == 5000 + 3000 + 1500


def test_visit_figures_equal_a_direct_count(world):
    this_week = week_of(world.now)
    province = world.units["province"]
    for week_from, week_to in [(None, None), (this_week - timedelta(weeks=2), this_week), (this_week, None)]:
        table = queries.visits_table(province, week_from, week_to)
        for row in table.rows:
            unit = db.session.scalar(select(Unit).where(Unit.code == row["unit_code"]))
            assert_figures(row, direct_visits(unit, week_from, week_to), row["unit_code"])
        assert_figures(table.totals, direct_visits(province, week_from, week_to), "totals")


def test_the_commune_tables_are_by_village(world):
    c1 = world.units["c1"]
    table = queries.completion_table(c1)
    assert [row["unit_code"] for row in table.rows] == ["C1A", "C1B"]
    for row in table.rows:
        unit = db.session.scalar(select(Unit).where(Unit.code == row["unit_code"]))
        assert_figures(row, direct_completion(unit), row["unit_code"])
    # k1 and k2 are registered at the commune itself: in its totals, in no village.
    assert_figures(table.totals, direct_completion(c1), "totals")
    assert table.totals["enrolled"] > sum(row["enrolled"] for row in table.rows)
    indicators = queries.indicators_table(c1)
    for row in indicators.rows:
        unit = db.session.scalar(select(Unit).where(Unit.code == row["unit_code"]))
        assert_figures(row, direct_indicators(unit, world), row["unit_code"])


def test_indicator_figures_equal_a_direct_count_ranked_by_e_id_activation(world):
    province = world.units["province"]
    table = queries.indicators_table(province)
    for row in table.rows:
        unit = db.session.scalar(select(Unit).where(Unit.code == row["unit_code"]))
        assert_figures(row, direct_indicators(unit, world), row["unit_code"])
    assert_figures(table.totals, direct_indicators(province, world, population=province_population(world)), "totals")
    # Ranked by the share with the e-ID activated (C1: 2 of 5,000 before C2: 1 of 3,000), none last.
    assert [row["unit_code"] for row in table.rows] == ["C1", "C2", "C3"]
    assert [row["rank"] for row in table.rows] == [1, 2, 3]
    milestone_keys = [c.key for c in table.columns if c.key.startswith("milestone_") and not c.key.endswith("_change")]
    assert milestone_keys[0] == "milestone_eid_activated"
    rows = {row["unit_code"]: row for row in table.rows}
    # The change since last month: C1's activations were two months ago and more, C2's today.
    assert rows["C1"]["milestone_eid_activated_change"] == 0
    assert rows["C2"]["milestone_eid_activated_change"] == pytest.approx(1 / 3000)
    # Self-study and help apart: in C1 r1 by herself, r2 in a class two months ago.
    assert rows["C1"]["adult_skills_self"] == pytest.approx(1 / 5000)
    assert rows["C1"]["adult_skills_help"] == pytest.approx(1 / 5000)
    assert rows["C1"]["adult_skills_help_change"] == 0
    # Cadres: k1 and k3 of k1, k2, k3 in C1 (k3 two months ago, with help).
    assert rows["C1"]["cadre_skills"] == pytest.approx(2 / 3)
    assert rows["C1"]["cadre_skills_change"] == pytest.approx(1 / 3)
    assert rows["C3"]["cadre_skills"] is None  # no cadres: no share


def test_a_commune_without_a_population_has_no_shares(world, make_unit):
    make_unit("commune", world.units["province"], code="C4", name="Phường Bốn", population=None)
    rows = {row["unit_code"]: row for row in queries.indicators_table(world.units["province"]).rows}
    assert rows["C4"]["adult_skills_self"] is None and rows["C4"]["milestone_eid_activated"] is None
    completion = {row["unit_code"]: row for row in queries.completion_table(world.units["province"]).rows}
    assert completion["C4"]["coverage"] is None and completion["C4"]["population"] is None


def test_the_median_wait_is_the_lower_middle_of_the_histogram():
    assert queries.median_hours({}) is None
    assert queries.median_hours({3: 1}) == bucket_hours(3)
    assert queries.median_hours({1: 1, 5: 1}) == bucket_hours(1)
    assert queries.median_hours({1: 1, 5: 1, 60: 1}) == bucket_hours(5)
    assert queries.median_hours({1: 2, 60: 3}) == bucket_hours(60)


def test_the_database_finds_the_same_median_wait_as_the_histogram(db, units):
    """median_wait_buckets() (counted by the database, all time and over weeks) gives the bucket
    median_hours() gives for the same histograms, zero counts and a unit without visits included."""
    import random

    from app.reports.models import WaitStat, WaitTotal

    chooser = random.Random(11)
    week = week_of(utcnow())
    targets = [units["province"], units["c1"], units["c2"], units["v1a"]]
    for _round in range(25):
        db.session.execute(WaitStat.__table__.delete())
        db.session.execute(WaitTotal.__table__.delete())
        histograms = {}
        for unit in targets[:-1]:
            buckets = chooser.sample(range(90), chooser.randint(1, 8))
            histograms[unit.id] = {bucket: chooser.choice((0, 1, 1, 2, 3, 7, 40)) for bucket in buckets}
            for bucket, count in histograms[unit.id].items():
                halves = (count // 2, count - count // 2)  # the same visits over two weeks
                db.session.add(WaitStat(unit_id=unit.id, week=week, bucket=bucket, visits=halves[0]))
                db.session.add(
                    WaitStat(unit_id=unit.id, week=week - timedelta(days=7), bucket=bucket, visits=halves[1])
                )
                db.session.add(WaitTotal(unit_id=unit.id, bucket=bucket, visits=count))
        db.session.flush()
        expected = {
            unit_id: queries.median_hours(histogram)
            for unit_id, histogram in histograms.items()
            if queries.median_hours(histogram) is not None
        }
        ids = [unit.id for unit in targets]
        for period in ((None, None), (week - timedelta(days=7), week)):
            found = {unit_id: bucket_hours(bucket) for unit_id, bucket in queries.summary_rows(
                queries.median_wait_buckets(ids, *period)
            )}  # fmt: skip
            assert found == expected, (histograms, period)
