"""Course assignments: who sees them, what is overdue, who may assign what where.

Decision on late completion: a learner who completes after the due date is "completed late". They
count as completed and are not overdue any more (nothing left to remind them of); the lateness
stays visible to the manager on the assignment's page.
"""

from datetime import UTC, datetime, timedelta

import pytest
from babel.dates import format_date
from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.db import local_today
from app.extensions import db
from app.learning import assignments
from app.learning.models import Assignment
from app.learning.operations import credit_module

TWO_MODULES = [{"id": "m1", "lessons": ["l1"]}, {"id": "m2", "lessons": ["l2"]}]


@pytest.fixture
def course(make_course):
    course, _folder = make_course(slug="digital-basics", modules=TWO_MODULES, audience="cadre")
    return course


@pytest.fixture
def switch_to(client, login_as):
    def switch(user):
        client.post("/logout")
        return login_as(user)

    return switch


def today():
    return local_today()


def in_days(days: int):
    """A date field's value `days` from today, worked out when the test runs: a date computed
    when pytest collects the tests is stale once the run crosses midnight."""
    return lambda: (today() + timedelta(days=days)).isoformat()


def complete(user, course, at=None):
    for module in course.active_modules:
        credit_module(user, module, mode="self", at=at)
    db.session.flush()


def make_assignment(course, unit, creator, *, role="cadre", due_on=None):
    assignment = Assignment(
        course_id=course.id,
        unit_id=unit.id,
        role=role,
        due_on=due_on or today() + timedelta(days=14),
        created_by_id=creator.id,
    )
    db.session.add(assignment)
    db.session.flush()
    return assignment


def post_assignment(client, course_slug, unit_code, *, role="cadre", due_on=None, note=""):
    due_on = due_on if due_on is not None else (today() + timedelta(days=14)).isoformat()
    return client.post(
        "/learning/assignments/",
        data={"course": course_slug, "unit": unit_code, "role": role, "due_on": due_on, "note": note},
    )


# --- who sees an assignment ----------------------------------------------------------------


def test_an_assignment_reaches_the_role_in_the_unit_subtree_and_no_one_else(client, login_as, make_user, units, course):
    manager = make_user("department_manager", units["province"])
    login_as(manager)
    response = post_assignment(client, course.slug, "C1", note="Before the e-government review")
    assert response.status_code == 302
    assignment = db.session.scalar(db.select(Assignment))
    assert response.headers["Location"].endswith(f"/learning/assignments/{assignment.id}")
    assert assignment.note == "Before the e-government review"

    cadre_in_commune = make_user("cadre", units["c1"])
    cadre_in_village = make_user("cadre", units["v1a"])
    resident_in_commune = make_user("resident", units["c1"])
    cadre_elsewhere = make_user("cadre", units["c2"])
    cadre_in_other_village = make_user("cadre", units["v2a"])

    def courses_of(user):
        return [item.course.slug for item in assignments.assignments_for(user)]

    assert courses_of(cadre_in_commune) == ["digital-basics"]
    assert courses_of(cadre_in_village) == ["digital-basics"]
    assert courses_of(resident_in_commune) == []
    assert courses_of(cadre_elsewhere) == []
    assert courses_of(cadre_in_other_village) == []
    assert {u.id for u in assignments.assignees(assignment)} == {cadre_in_commune.id, cadre_in_village.id}


def test_deactivated_people_are_not_assignees(make_user, units, course):
    manager = make_user("department_manager", units["province"])
    active = make_user("cadre", units["v1a"])
    make_user("cadre", units["v1a"], active=False)
    assignment = make_assignment(course, units["c1"], manager)
    assert [u.id for u in assignments.assignees(assignment)] == [active.id]


def test_the_home_page_lists_assigned_courses_first_with_the_due_date(client, login_as, make_user, units, course):
    manager = make_user("commune_manager", units["c1"])
    due = today() + timedelta(days=10)
    make_assignment(course, units["c1"], manager, due_on=due)
    cadre = make_user("cadre", units["v1b"])
    login_as(cadre)
    html = client.get("/").get_data(as_text=True)
    assert "Courses assigned to you" in html
    title_at = html.index(course.titles["en"])
    assert title_at < html.index("You are signed in as") < html.index("My account", title_at)
    assert f"Due {format_date(due, 'long', locale='en')}" in html
    assert f'href="/learning/{course.slug}/"' in html


def test_another_commune_does_not_see_the_assignment_on_its_home_page(client, login_as, make_user, units, course):
    make_assignment(course, units["c1"], make_user("commune_manager", units["c1"]))
    login_as(make_user("cadre", units["c2"]))
    html = client.get("/").get_data(as_text=True)
    assert "Courses assigned to you" not in html
    assert course.titles["en"] not in html


# --- overdue --------------------------------------------------------------------------------


def test_overdue_means_due_date_passed_and_not_completed(client, switch_to, make_user, units, course):
    manager = make_user("commune_manager", units["c1"])
    due = today() - timedelta(days=5)
    assignment = make_assignment(course, units["c1"], manager, due_on=due)
    not_done = make_user("cadre", units["v1a"], full_name="Chưa Học")
    on_time = make_user("cadre", units["v1a"], full_name="Đúng Hạn")
    late = make_user("cadre", units["v1b"], full_name="Trễ Hạn")
    complete(on_time, course, at=datetime.now(UTC) - timedelta(days=8))
    complete(late, course, at=datetime.now(UTC) - timedelta(days=1))

    assert [u.id for u in assignments.overdue_assignees(assignment, today())] == [not_done.id]
    statuses = {row.user.id: row.status for row in assignments.assignee_statuses(assignment, today())}
    assert statuses == {not_done.id: "overdue", on_time.id: "completed", late.id: "completed_late"}
    [summary] = assignments.assignments_in_scope(manager, today())
    assert (summary.assigned, summary.completed, summary.overdue) == (3, 2, 1)

    # The manager's page lists the overdue person first and shows who was late.
    switch_to(manager)
    html = client.get(f"/learning/assignments/{assignment.id}").get_data(as_text=True)
    assert html.index("Chưa Học") < html.index("Đúng Hạn")
    assert html.index("Chưa Học") < html.index("Trễ Hạn")
    assert "Overdue" in html and "Completed late" in html

    # The learner sees it highlighted on the home page.
    switch_to(not_done)
    html = client.get("/").get_data(as_text=True)
    assert f"Overdue: was due {format_date(due, 'long', locale='en')}" in html
    assert 'class="error"' in html

    switch_to(late)
    assert "Completed late" in client.get("/").get_data(as_text=True)


def test_nothing_is_overdue_before_the_due_date(make_user, units, course):
    manager = make_user("commune_manager", units["c1"])
    assignment = make_assignment(course, units["c1"], manager, due_on=today())
    cadre = make_user("cadre", units["v1a"])
    assert assignments.overdue_assignees(assignment, today()) == []
    assert [row.status for row in assignments.assignee_statuses(assignment, today())] == ["due"]
    assert [item.status for item in assignments.assignments_for(cadre, today())] == ["due"]
    assert [u.id for u in assignments.overdue_assignees(assignment, today() + timedelta(days=1))] == [cadre.id]


def test_completing_late_in_the_evening_of_the_due_date_counts_as_on_time_in_local_time(make_user, units, course):
    manager = make_user("commune_manager", units["c1"])
    due = today() - timedelta(days=3)
    assignment = make_assignment(course, units["c1"], manager, due_on=due)
    evening = make_user("cadre", units["v1a"])
    after_midnight = make_user("cadre", units["v1a"])
    # 23:30 in Hanoi on the due date is 16:30 UTC the same day; 00:30 the next day is 17:30 UTC.
    complete(evening, course, at=datetime(due.year, due.month, due.day, 16, 30, tzinfo=UTC))
    complete(after_midnight, course, at=datetime(due.year, due.month, due.day, 17, 30, tzinfo=UTC))
    statuses = {row.user.id: row.status for row in assignments.assignee_statuses(assignment, today())}
    assert statuses == {evening.id: "completed", after_midnight.id: "completed_late"}


# --- who may assign where ------------------------------------------------------------------


def test_commune_manager_cannot_assign_outside_their_commune(client, login_as, make_user, units, course):
    login_as(make_user("commune_manager", units["c1"]))
    html = client.get("/learning/assignments/").get_data(as_text=True)
    assert 'value="C1A"' in html
    assert 'value="C2"' not in html and 'value="P"' not in html
    for unit_code in ("C2", "C2A", "P"):
        response = post_assignment(client, course.slug, unit_code)
        assert response.status_code == 403
        assert "You may only assign courses within your own area." in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 0

    assert post_assignment(client, course.slug, "C1A").status_code == 302
    assert db.session.scalar(db.select(Assignment)).unit_id == units["v1a"].id


def test_department_manager_assigns_province_wide(client, login_as, make_user, units, course):
    manager = make_user("department_manager", units["province"])
    cadres = [make_user("cadre", unit) for unit in (units["c1"], units["v1a"], units["c2"], units["v2a"])]
    login_as(manager)
    assert post_assignment(client, course.slug, "P").status_code == 302
    assignment = db.session.scalar(db.select(Assignment))
    assert {u.id for u in assignments.assignees(assignment)} == {c.id for c in cadres}
    html = client.get("/learning/assignments/").get_data(as_text=True)
    assert course.titles["en"] in html
    assert all(assignments.assignments_for(cadre) for cadre in cadres)


def test_managers_see_only_assignments_in_their_area(client, switch_to, make_user, units, course):
    department = make_user("department_manager", units["province"])
    other_commune = make_assignment(course, units["c2"], department)
    own_commune = make_assignment(course, units["c1"], department, role="resident")
    manager = make_user("commune_manager", units["c1"])
    switch_to(manager)
    assert client.get(f"/learning/assignments/{other_commune.id}").status_code == 403
    assert client.get(f"/learning/assignments/{own_commune.id}").status_code == 200
    assert client.get("/learning/assignments/999999").status_code == 404
    listed = [s.assignment.id for s in assignments.assignments_in_scope(manager)]
    assert listed == [own_commune.id]


@pytest.mark.parametrize("role", ["cadre", "resident", "tech_team"])
def test_learners_and_tech_team_cannot_assign_courses(client, login_as, make_user, units, course, role):
    login_as(make_user(role, units["c1"]))
    assert client.get("/learning/assignments/").status_code == 403
    assert post_assignment(client, course.slug, "C1").status_code == 403
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 0


def test_home_page_links_managers_to_assignments(client, login_as, make_user, units):
    login_as(make_user("commune_manager", units["c1"]))
    assert 'href="/learning/assignments/"' in client.get("/").get_data(as_text=True)


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"due_on": in_days(-1)}, "cannot be in the past"),
        ({"due_on": ""}, "Enter the due date."),
        ({"due_on": "31/02/2030"}, "Not a valid date value"),
        ({"course": ""}, "Choose a course."),
        ({"course": "no-such-course"}, "Choose a course from the list."),
        ({"unit": "NOPE"}, "Choose a unit from the list."),
        ({"unit": ""}, "Choose a unit."),
        ({"role": "admin"}, "Not a valid choice"),
    ],
)
def test_bad_input_on_the_assignment_form_is_explained(client, login_as, make_user, units, course, changes, message):
    login_as(make_user("department_manager", units["province"]))
    data = {
        "course": course.slug,
        "unit": "C1",
        "role": "cadre",
        "due_on": (today() + timedelta(days=7)).isoformat(),
        **{field: value() if callable(value) else value for field, value in changes.items()},
    }
    response = client.post("/learning/assignments/", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 0


def test_the_same_course_cannot_be_assigned_twice_to_the_same_group(client, login_as, make_user, units, course):
    login_as(make_user("department_manager", units["province"]))
    assert post_assignment(client, course.slug, "C1").status_code == 302
    response = post_assignment(client, course.slug, "C1")
    assert response.status_code == 400
    assert "already assigned to this group" in response.get_data(as_text=True)


# --- no N+1 ---------------------------------------------------------------------------------


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, *args, **kwargs):
        self.count += 1

    def __enter__(self):
        event.listen(Engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *exc):
        event.remove(Engine, "before_cursor_execute", self)


def test_the_managers_list_counts_with_a_fixed_number_of_queries(make_user, make_course, units, course):
    manager = make_user("department_manager", units["province"])
    for unit in (units["c1"], units["v1a"], units["c2"]):
        make_user("cadre", unit)
    make_assignment(course, units["c1"], manager)
    db.session.expire_all()
    with QueryCounter() as one:
        assignments.assignments_in_scope(manager, today())

    other, _folder = make_course(slug="safety", modules=TWO_MODULES)
    make_assignment(other, units["province"], manager)
    make_assignment(other, units["c2"], manager, role="resident", due_on=today() - timedelta(days=1))
    db.session.expire_all()
    with QueryCounter() as three:
        summaries = assignments.assignments_in_scope(manager, today())
    assert len(summaries) == 3
    assert 2 <= three.count == one.count <= 3
    assigned = {(s.assignment.unit_id, s.assignment.role): s.assigned for s in summaries}
    assert assigned == {
        (units["c1"].id, "cadre"): 2,
        (units["province"].id, "cadre"): 3,
        (units["c2"].id, "resident"): 0,
    }
