"""Course analytics: module drop-off and, per quiz question, the share answered correctly and the
most chosen wrong answer — over the learners in the viewer's area, with CSV/XLSX exports."""

from __future__ import annotations

import csv
import io
from collections import Counter
from contextlib import contextmanager

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from app.auth.models import User
from app.learning import operations as learning
from app.learning.models import Enrollment, ModuleCompletion, QuizAttempt, translated
from app.reports.exports import TITLE_ROWS
from app.units.models import Unit


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


@contextmanager
def counting_queries():
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def read_module(learner, module):
    for lesson in module.active_lessons:
        learning.mark_lesson_read(learner, lesson)


def answer(learner, module, picks: dict[str, list[str]]):
    """Open an attempt at the module's quiz and submit the options named by key."""
    quiz = module.active_quiz
    attempt = learning.open_attempt(learner, quiz)
    by_key = {question.key: question for question in quiz.active_questions}
    answers = {
        by_key[key].id: {option.id for option in by_key[key].options if option.key in keys}
        for key, keys in picks.items()
    }
    return learning.submit_attempt(learner, attempt, answers)


RIGHT = {"q1": ["b"], "q2": ["a", "c"], "q3": ["false"]}


@pytest.fixture
def course(make_course):
    course, _folder = make_course(
        slug="quiz-course",
        modules=[
            {
                "id": "m1",
                "lessons": ["l1"],
                "questions": [
                    {"id": "q1", "type": "single", "options": ["a", "b", "c"], "correct": ["b"]},
                    {"id": "q2", "type": "multiple", "options": ["a", "b", "c"], "correct": ["a", "c"]},
                    {"id": "q3", "type": "true_false", "correct": False},
                ],
                "pass_mark": 60,
            },
            {
                "id": "m2",
                "lessons": ["l2"],
                "questions": [{"id": "q4", "type": "single", "options": ["x", "y"], "correct": ["x"]}],
            },
            {"id": "m3", "lessons": ["l3"]},
        ],
    )
    return course


@pytest.fixture
def learners(db, course, make_user, units):
    """Four learners in commune 1 who get different distances, one in commune 2."""
    m1, m2, m3 = course.active_modules
    people = {
        "ann": make_user("resident", units["v1a"], full_name="Ann"),
        "bao": make_user("resident", units["v1b"], full_name="Bao"),
        "chi": make_user("cadre", units["c1"], full_name="Chi"),
        "eve": make_user("resident", units["v1a"], full_name="Eve"),
        "dan": make_user("resident", units["v2a"], full_name="Dan"),
    }
    ann, bao, chi, eve, dan = people.values()
    # Ann fails the first quiz, passes it, then goes through to the end.
    read_module(ann, m1)
    answer(ann, m1, {"q1": ["a"], "q2": ["a", "b"], "q3": ["true"]})
    answer(ann, m1, RIGHT)
    read_module(ann, m2)
    answer(ann, m2, {"q4": ["x"]})
    read_module(ann, m3)
    # Bao passes the first module with one mistake and fails the second quiz.
    read_module(bao, m1)
    answer(bao, m1, {"q1": ["b"], "q2": ["a", "c"], "q3": ["true"]})
    read_module(bao, m2)
    answer(bao, m2, {"q4": ["y"]})
    # Chi fails the first quiz; Eve opens it and never submits (not counted).
    read_module(chi, m1)
    answer(chi, m1, {"q1": ["a"], "q2": ["c"], "q3": ["false"]})
    learning.open_attempt(eve, m1.active_quiz)
    # Dan, in the other commune, gets everything wrong.
    read_module(dan, m1)
    answer(dan, m1, {"q1": ["c"], "q2": ["b"], "q3": ["true"]})
    db.session.flush()
    return people


def direct_figures(db, course, unit: Unit):
    """The same figures counted by walking the attempts one by one."""
    in_unit = {
        user.id
        for user in db.session.scalars(
            select(User).join(Unit, Unit.id == User.unit_id).where(Unit.path.startswith(unit.path))
        )
    }
    enrolled = sum(
        1
        for e in db.session.scalars(select(Enrollment).where(Enrollment.course_id == course.id))
        if e.user_id in in_unit
    )
    per_module = Counter(mc.module_id for mc in db.session.scalars(select(ModuleCompletion)) if mc.user_id in in_unit)
    answered, correct, wrong = Counter(), Counter(), {}
    for attempt in db.session.scalars(select(QuizAttempt).where(QuizAttempt.submitted_at.is_not(None))):
        if attempt.user_id not in in_unit:
            continue
        for asked in attempt.questions:
            answered[asked.question_id] += 1
            correct[asked.question_id] += bool(asked.is_correct)
            options = {option.id: option for option in asked.question.options}
            for choice in asked.choices:
                if not options[choice.option_id].is_correct:
                    text = translated(options[choice.option_id].texts, "en")
                    wrong.setdefault(asked.question_id, Counter())[text] += 1
    return enrolled, per_module, answered, correct, wrong


def test_module_drop_off_counts_the_enrolled_learners_of_the_area_who_completed_each_module(
    client, db, login_as, course, learners, make_user, units
):
    login_as(make_user("commune_manager", units["c1"]))
    rows = read_csv(client.get("/reports/courses/quiz-course/export.csv?table=modules"))
    assert rows[0] == ["Step", "Learners", "Share of enrolled", "Fewer than the step before"]
    assert rows[1:] == [
        ["Enrolled", "4", "100.0", ""],
        ["1. m1 en", "2", "50.0", "2"],
        ["2. m2 en", "1", "25.0", "1"],
        ["3. m3 en", "1", "25.0", "0"],
    ]
    enrolled, per_module, *_rest = direct_figures(db, course, units["c1"])
    assert enrolled == 4
    assert [per_module[m.id] for m in course.active_modules] == [2, 1, 1]


def test_each_question_shows_its_share_correct_and_the_most_chosen_wrong_answer(
    client, db, login_as, course, learners, make_user, units
):
    login_as(make_user("commune_manager", units["c1"]))
    rows = read_csv(client.get("/reports/courses/quiz-course/export.csv?table=questions"))
    assert rows[0] == ["Module", "Question", "Answers", "Answered correctly", "Most chosen wrong answer", "Chosen in"]
    assert rows[1:] == [
        ["1. m1 en", "q1? (en)", "4", "50.0", "q1-a en", "50.0"],
        ["1. m1 en", "q2? (en)", "4", "50.0", "q2-b en", "25.0"],
        ["1. m1 en", "q3? (en)", "4", "50.0", "True", "50.0"],
        ["2. m2 en", "q4? (en)", "2", "50.0", "q4-y en", "50.0"],
    ]
    # The same as walking every attempt, for the commune and for the province.
    for unit, code in ((units["c1"], "C1"), (units["province"], "P")):
        if code == "P":
            client.post("/logout")
            login_as(make_user("department_manager", units["province"]))
        rows = read_csv(client.get(f"/reports/courses/quiz-course/export.csv?table=questions&unit={code}"))
        _enrolled, _per_module, answered, correct, wrong = direct_figures(db, course, unit)
        questions = [q for m in course.active_modules if m.active_quiz for q in m.active_quiz.active_questions]
        for row, question in zip(rows[1:], questions, strict=True):
            top_text, top_count = wrong[question.id].most_common(1)[0]
            assert int(row[2]) == answered[question.id]
            assert float(row[3]) == round(100 * correct[question.id] / answered[question.id], 1)
            assert row[4] == top_text
            assert float(row[5]) == round(100 * top_count / answered[question.id], 1)


def test_the_course_page_shows_both_tables_and_the_province_sees_every_commune(
    client, db, login_as, course, learners, make_user, units
):
    login_as(make_user("department_manager", units["province"]))
    response = client.get("/reports/courses/quiz-course")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Modules completed" in html and "Quiz questions" in html
    assert "q1-a en" in html and "Most chosen wrong answer" in html
    assert " style=" not in html
    rows = read_csv(client.get("/reports/courses/quiz-course/export.csv?table=modules"))
    assert rows[1] == ["Enrolled", "5", "100.0", ""]  # Dan of commune 2 counts province-wide
    rows = read_csv(client.get("/reports/courses/quiz-course/export.csv?table=modules&unit=C2"))
    assert rows[1:3] == [["Enrolled", "1", "100.0", ""], ["1. m1 en", "0", "0.0", "1"]]


def test_the_xlsx_export_holds_both_tables_as_shown(client, db, login_as, course, learners, make_user, units):
    login_as(make_user("commune_manager", units["c1"]))
    modules = read_csv(client.get("/reports/courses/quiz-course/export.csv?table=modules"))
    questions = read_csv(client.get("/reports/courses/quiz-course/export.csv?table=questions"))
    response = client.get("/reports/courses/quiz-course/export.xlsx")
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == ["Modules completed", "Quiz questions"]

    def same(cell, text: str) -> bool:
        if cell is None:
            return text == ""
        if isinstance(cell, int | float):  # percentages are fractions in the workbook
            return float(text) in (cell, round(cell * 100, 1), round(cell, 2))
        return str(cell) == text

    for sheet, expected in ((workbook["Modules completed"], modules), (workbook["Quiz questions"], questions)):
        values = list(sheet.iter_rows(values_only=True))[TITLE_ROWS:]
        assert len(values) == len(expected)
        for row, texts in zip(values, expected, strict=True):
            assert all(same(cell, text) for cell, text in zip(row, texts, strict=True)), (row, texts)
    single = load_workbook(io.BytesIO(client.get("/reports/courses/quiz-course/export.xlsx?table=questions").data))
    assert single.sheetnames == ["Quiz questions"]
    assert client.get("/reports/courses/quiz-course/export.csv?table=nope").status_code == 404


def test_a_course_nobody_took_shows_empty_figures(client, db, login_as, course, make_user, units):
    login_as(make_user("commune_manager", units["c1"]))
    response = client.get("/reports/courses/quiz-course")
    assert response.status_code == 200
    rows = read_csv(client.get("/reports/courses/quiz-course/export.csv?table=modules"))
    assert rows[1:] == [
        ["Enrolled", "0", "", ""],
        ["1. m1 en", "0", "", "0"],
        ["2. m2 en", "0", "", "0"],
        ["3. m3 en", "0", "", "0"],
    ]
    rows = read_csv(client.get("/reports/courses/quiz-course/export.csv?table=questions"))
    assert [row[2:] for row in rows[1:]] == [["0", "", "", ""]] * 4


def test_the_course_list_links_each_course_with_its_figures_from_the_summaries(
    client, db, login_as, course, learners, make_user, make_course, units
):
    make_course(slug="second", modules=[{"id": "s1", "lessons": ["s1l"]}])
    login_as(make_user("commune_manager", units["c1"]))
    response = client.get("/reports/courses")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'href="/reports/courses/quiz-course?unit=C1"' in html
    assert 'href="/reports/courses/second?unit=C1"' in html
    row = html[html.index("Course quiz-course en") :]
    row = row[: row.index("</tr>")]
    # Ann, Bao, Chi and Eve enrolled in commune 1; Ann completed.
    assert '<td class="num">4</td><td class="num">1</td><td class="num">25.0%</td>' in row


def test_the_course_page_costs_the_same_number_of_queries_for_more_learners(
    client, db, login_as, course, learners, make_user, units
):
    login_as(make_user("department_manager", units["province"]))
    client.get("/reports/courses/quiz-course")  # warm caches
    with counting_queries() as before:
        assert client.get("/reports/courses/quiz-course").status_code == 200
    m1 = course.active_modules[0]
    for n in range(4):
        learner = make_user("resident", units["v1b"], full_name=f"More {n}")
        read_module(learner, m1)
        answer(learner, m1, {"q1": ["c"], "q2": ["b"], "q3": ["true"]})
    db.session.flush()
    with counting_queries() as after:
        assert client.get("/reports/courses/quiz-course").status_code == 200
    assert len(after) == len(before)


def test_course_analytics_are_refused_outside_the_managers_commune(
    client, db, login_as, course, learners, make_user, units
):
    login_as(make_user("commune_manager", units["c2"]))
    rows = read_csv(client.get("/reports/courses/quiz-course/export.csv?table=modules"))
    assert rows[1] == ["Enrolled", "1", "100.0", ""]  # only Dan
    for url in (
        "/reports/courses/quiz-course?unit=C1",
        "/reports/courses/quiz-course?unit=P",
        "/reports/courses/quiz-course/export.csv?unit=C1A",
        "/reports/courses/quiz-course/export.xlsx?unit=C1",
        "/reports/courses?unit=C1",
    ):
        assert client.get(url).status_code == 403, url
    assert client.get("/reports/courses/no-such-course").status_code == 404
    client.post("/logout")
    login_as(make_user("tech_team", units["c1"]))
    assert client.get("/reports/courses").status_code == 403
    assert client.get("/reports/courses/quiz-course").status_code == 403
