"""Pages that list people with their unit load the units with the people: the same people spread
over six villages instead of two cost no extra query (the unit is not joined to the user by
default, so a list that forgot to load it would query once per village)."""

from __future__ import annotations

from datetime import timedelta

from app.db import local_today
from app.extensions import db
from app.learning.models import Assignment, ClassAttendance, TrainingClass


def test_the_people_list_does_not_query_once_per_unit(login_as, make_user, units, villages, queries_by_spread):
    people = [make_user("resident", villages[0]) for _ in range(6)]
    login_as(make_user("commune_manager", units["c1"]))
    in_two, in_six = queries_by_spread("/users/", people)
    assert in_six == in_two


def test_the_class_attendance_form_does_not_query_once_per_unit(
    login_as, make_user, make_course, units, villages, queries_by_spread
):
    make_course(slug="class-course", modules=[{"id": "m1", "lessons": ["l1"]}])
    people = [make_user(role, villages[0]) for role in ("resident", "cadre") * 3]
    login_as(make_user("tech_team", units["c1"]))
    url = "/learning/classes/new?course=class-course"
    in_two, in_six = queries_by_spread(url, people)
    assert in_six == in_two


def test_a_recorded_class_lists_its_attendees_without_a_query_per_unit(
    login_as, make_user, make_course, units, villages, queries_by_spread
):
    course, _folder = make_course(slug="class-course", modules=[{"id": "m1", "lessons": ["l1"]}])
    tech = make_user("tech_team", units["c1"])
    people = [make_user("resident", villages[0]) for _ in range(6)]
    training_class = TrainingClass(
        course_id=course.id,
        unit_id=units["c1"].id,
        held_on=local_today(),
        place="Nhà văn hoá",
        recorded_by_id=tech.id,
        module_keys=["m1"],
        attendees=[ClassAttendance(user_id=person.id) for person in people],
    )
    db.session.add(training_class)
    db.session.flush()
    login_as(tech)
    url = f"/learning/classes/{training_class.id}"
    in_two, in_six = queries_by_spread(url, people)
    assert in_six == in_two


def test_an_assignment_lists_its_assignees_without_a_query_per_unit(
    login_as, make_user, make_course, units, villages, queries_by_spread
):
    course, _folder = make_course(slug="cadre-course", audience="cadre", modules=[{"id": "m1", "lessons": ["l1"]}])
    manager = make_user("commune_manager", units["c1"])
    people = [make_user("cadre", villages[0]) for _ in range(6)]
    assignment = Assignment(
        course_id=course.id,
        unit_id=units["c1"].id,
        role="cadre",
        due_on=local_today() + timedelta(days=14),
        created_by_id=manager.id,
    )
    db.session.add(assignment)
    db.session.flush()
    login_as(manager)
    url = f"/learning/assignments/{assignment.id}"
    in_two, in_six = queries_by_spread(url, people)
    assert in_six == in_two
