"""In-person classes: attendance credits modules as in-person, on-the-spot registration, scope."""

import re
from datetime import timedelta

import pytest

from app.auth.models import User
from app.db import local_today
from app.extensions import db
from app.learning.models import (
    Certificate,
    ClassAttendance,
    CourseModule,
    Enrollment,
    LessonProgress,
    ModuleCompletion,
    TrainingClass,
)
from app.privacy.models import PersonConsent

MODULES = [
    {
        "id": "m1",
        "lessons": ["l1", "l2"],
        "questions": [{"id": "q1", "type": "single", "options": ["a", "b"], "correct": ["a"]}],
    },
    {"id": "m2", "lessons": ["l3"]},
]


@pytest.fixture
def course(make_course):
    course, _folder = make_course(slug="e-id-basics", modules=MODULES)
    return course


@pytest.fixture
def tech(make_user, units):
    return make_user("tech_team", units["v1a"], full_name="Tổ Công Nghệ")


def class_data(for_course, people=(), **changes):
    data = {
        "course": for_course.slug,
        "held_on": local_today().isoformat(),
        "place": "Nhà văn hoá thôn 1A",
        "attendees": [str(person.id) for person in people],
    }
    data.update(changes)
    return data


def in_days(days: int):
    """A date field's value `days` from today, worked out when the test runs: a date computed
    when pytest collects the tests is stale once the run crosses midnight."""
    return lambda: (local_today() + timedelta(days=days)).isoformat()


def completions(user) -> dict[str, str]:
    rows = db.session.execute(
        db.select(CourseModule.key, ModuleCompletion.mode)
        .join(CourseModule, CourseModule.id == ModuleCompletion.module_id)
        .where(ModuleCompletion.user_id == user.id)
    )
    return dict(rows.all())


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_a_class_covering_the_whole_course_completes_it_in_person_with_a_certificate(
    client, login_as, make_user, units, course, tech
):
    resident = make_user("resident", units["v1a"], full_name="Bà Năm")
    cadre = make_user("cadre", units["c1"], full_name="Anh Tư")
    login_as(tech)
    response = client.post("/learning/classes/new", data=class_data(course, [resident, cadre]))
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    assert "Bà Năm" in html and "Anh Tư" in html and "Nhà văn hoá thôn 1A" in html

    training_class = db.session.scalar(db.select(TrainingClass))
    assert training_class.module_keys == ["m1", "m2"]
    assert training_class.recorded_by_id == tech.id and training_class.unit_id == units["c1"].id
    assert {a.user_id for a in training_class.attendees} == {resident.id, cadre.id}
    for person in (resident, cadre):
        assert completions(person) == {"m1": "in_person", "m2": "in_person"}
        enrollment = db.session.scalar(db.select(Enrollment).where(Enrollment.user_id == person.id))
        assert enrollment.completed_at is not None and enrollment.completion_mode == "in_person"
        certificate = db.session.scalar(db.select(Certificate).where(Certificate.user_id == person.id))
        assert certificate is not None and certificate.completed_on == local_today()
    modes = set(db.session.scalars(db.select(LessonProgress.mode).where(LessonProgress.user_id == resident.id)))
    assert modes == {"in_person"}


def test_a_class_covering_some_modules_credits_only_those(client, login_as, make_user, units, course, tech):
    resident = make_user("resident", units["v1b"])
    login_as(tech)
    response = client.post("/learning/classes/new", data=class_data(course, [resident], modules=["m2"]))
    assert response.status_code == 200
    assert completions(resident) == {"m2": "in_person"}
    enrollment = db.session.scalar(db.select(Enrollment).where(Enrollment.user_id == resident.id))
    assert enrollment.completed_at is None
    assert count(Certificate) == 0


def test_a_class_held_earlier_credits_the_day_of_the_class(client, login_as, make_user, units, course, tech):
    resident = make_user("resident", units["v1a"])
    held_on = local_today() - timedelta(days=3)
    login_as(tech)
    response = client.post("/learning/classes/new", data=class_data(course, [resident], held_on=held_on.isoformat()))
    assert response.status_code == 200
    certificate = db.session.scalar(db.select(Certificate).where(Certificate.user_id == resident.id))
    assert certificate.completed_on == held_on


def test_an_account_from_another_commune_is_refused(client, login_as, make_user, units, course, tech):
    neighbour = make_user("resident", units["v2a"])
    own = make_user("resident", units["v1a"])
    login_as(tech)
    response = client.post("/learning/classes/new", data=class_data(course, [own, neighbour]))
    assert response.status_code == 403
    assert "not in your commune" in response.get_data(as_text=True)
    assert count(TrainingClass) == 0
    assert count(ModuleCompletion) == 0


def test_the_attendance_list_shows_only_the_commune(client, login_as, make_user, units, course, tech):
    make_user("resident", units["v1b"], full_name="Người Xã Một")
    make_user("cadre", units["c1"], full_name="Cán Bộ Xã Một")
    make_user("resident", units["v2a"], full_name="Người Xã Hai")
    login_as(tech)
    html = client.get(f"/learning/classes/new?course={course.slug}").get_data(as_text=True)
    assert "Người Xã Một" in html and "Cán Bộ Xã Một" in html
    assert "Người Xã Hai" not in html
    assert 'value="m1"' in html and 'value="m2"' in html
    assert 'value="C1A"' in html and 'value="C2A"' not in html


def test_a_resident_registered_on_the_spot_gets_an_assisted_account_and_is_credited(
    client, login_as, units, course, tech
):
    login_as(tech)
    data = class_data(
        course,
        **{
            "new_residents-0-full_name": "Nguyễn Thị Lan",
            "new_residents-0-birth_year": "1958",
            "new_residents-0-village": "C1B",
            "new_residents-0-phone": "0912 345 678",
            "new_residents-0-consent": "y",
        },
    )
    response = client.post("/learning/classes/new", data=data)
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    username, password = re.findall(r'<dd class="code">([^<]+)</dd>', html)
    resident = db.session.scalar(db.select(User).where(User.full_name == "Nguyễn Thị Lan"))
    assert resident.username == username and resident.check_password(password)
    assert resident.role == "resident" and resident.unit_id == units["v1b"].id
    assert resident.must_change_password and resident.created_by_id == tech.id
    assert resident.birth_year == 1958
    purposes = set(db.session.scalars(db.select(PersonConsent.purpose).where(PersonConsent.user_id == resident.id)))
    assert purposes == {"account"}
    assert completions(resident) == {"m1": "in_person", "m2": "in_person"}
    assert db.session.scalar(db.select(Certificate).where(Certificate.user_id == resident.id)) is not None

    # The slip is shown once, right after recording; the class page later shows no password.
    training_class = db.session.scalar(db.select(TrainingClass))
    later = client.get(f"/learning/classes/{training_class.id}").get_data(as_text=True)
    assert "Nguyễn Thị Lan" in later and password not in later


def test_a_new_resident_without_consent_is_refused_and_nothing_is_recorded(
    client, login_as, make_user, units, course, tech
):
    resident = make_user("resident", units["v1a"])
    login_as(tech)
    data = class_data(
        course,
        [resident],
        **{"new_residents-1-full_name": "Trần Văn Bình", "new_residents-1-village": "C1A"},
    )
    response = client.post("/learning/classes/new", data=data)
    assert response.status_code == 400
    assert "Ask the resident for consent" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(User).where(User.full_name == "Trần Văn Bình")) is None
    assert count(TrainingClass) == 0
    assert count(ModuleCompletion) == 0


@pytest.mark.parametrize("role", ["cadre", "resident", "department_manager"])
def test_people_without_the_right_cannot_record_a_class(client, login_as, make_user, units, course, role):
    resident = make_user("resident", units["v1a"])
    login_as(make_user(role, units["c1"] if role != "department_manager" else units["province"]))
    assert client.get("/learning/classes/new").status_code == 403
    assert client.post("/learning/classes/new", data=class_data(course, [resident])).status_code == 403
    assert count(TrainingClass) == 0


def test_a_commune_manager_may_record_a_class(client, login_as, make_user, units, course):
    resident = make_user("resident", units["v1a"])
    login_as(make_user("commune_manager", units["c1"]))
    assert client.post("/learning/classes/new", data=class_data(course, [resident])).status_code == 200
    assert completions(resident) == {"m1": "in_person", "m2": "in_person"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"held_on": in_days(1)}, "cannot be in the future"),
        ({"held_on": ""}, "Enter the date of the class."),
        ({"modules": ["m1", "m9"]}, "These modules are not part of the course: m9"),
        ({"place": "  "}, "Enter where the class was held."),
        ({"course": ""}, "Choose a course."),
        ({"course": "no-such-course"}, "Choose a course from the list."),
        ({"attendees": []}, "Tick at least one attendee or register a new resident."),
        ({"attendees": ["999999"]}, "Some of the people chosen do not exist."),
        ({"attendees": ["x"]}, "Invalid choice"),
    ],
)
def test_bad_input_on_the_class_form_is_explained(client, login_as, make_user, units, course, tech, changes, message):
    resident = make_user("resident", units["v1a"])
    login_as(tech)
    changes = {field: value() if callable(value) else value for field, value in changes.items()}
    response = client.post("/learning/classes/new", data=class_data(course, [resident], **changes))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(TrainingClass) == 0
    assert count(ModuleCompletion) == 0


def test_the_class_page_is_visible_in_the_commune_only(client, login_as, make_user, units, course, tech):
    resident = make_user("resident", units["v1a"])
    login_as(tech)
    client.post("/learning/classes/new", data=class_data(course, [resident]))
    training_class = db.session.scalar(db.select(TrainingClass))
    assert count(ClassAttendance) == 1
    client.post("/logout")

    login_as(make_user("tech_team", units["c2"]))
    assert client.get(f"/learning/classes/{training_class.id}").status_code == 403
    client.post("/logout")

    login_as(make_user("commune_manager", units["c1"]))
    assert client.get(f"/learning/classes/{training_class.id}").status_code == 200
    assert client.get("/learning/classes/999999").status_code == 404
    client.post("/logout")

    login_as(resident)
    assert client.get(f"/learning/classes/{training_class.id}").status_code == 403


def test_home_page_links_the_tech_team_to_record_a_class(client, login_as, tech):
    login_as(tech)
    assert 'href="/learning/classes/new"' in client.get("/").get_data(as_text=True)
