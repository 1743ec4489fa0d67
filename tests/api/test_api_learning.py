"""The learning API: courses, lessons, quizzes, progress and certificate checks over /api/v1."""

from __future__ import annotations

import json
import shutil
from datetime import datetime

import pytest
from sqlalchemy import select

from app.db import utcnow
from app.extensions import db
from app.learning.models import Certificate, Lesson, Quiz, QuizAttempt

EXPLANATION_MARKER = "because "


@pytest.fixture
def learner(make_user, units):
    return make_user("resident", units["v1a"])


@pytest.fixture
def headers(learner, api_token):
    return api_token(learner)


def lesson_ids(course) -> list[int]:
    return [lesson.id for module in course.active_modules for lesson in module.active_lessons]


def quiz_of(course, module_index=0) -> Quiz:
    return course.active_modules[module_index].active_quiz


def answers_for(quiz: Quiz, *, right: bool) -> dict:
    """Every question answered: with exactly the correct options, or with one wrong option."""
    answers = {}
    for question in quiz.active_questions:
        options = question.active_options
        if right:
            chosen = [option.id for option in options if option.is_correct]
        else:
            chosen = [next(option.id for option in options if not option.is_correct)]
        answers[str(question.id)] = [str(option_id) for option_id in chosen]
    return answers


def chosen_count(attempt: QuizAttempt) -> int:
    """How many chosen options are stored for `attempt`."""
    return sum(len(asked.choices) for asked in attempt.questions)


def all_keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in all_keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in all_keys(item)}
    return set()


def complete_course(client, headers, course) -> None:
    for lesson_id in lesson_ids(course):
        assert client.post(f"/api/v1/lessons/{lesson_id}/read", headers=headers).status_code == 200
    for module in course.active_modules:
        if module.active_quiz:
            response = client.post(
                f"/api/v1/quizzes/{module.active_quiz.id}/attempts",
                json={"answers": answers_for(module.active_quiz, right=True)},
                headers=headers,
            )
            assert response.get_json()["passed"] is True


# --- authentication -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/courses"),
        ("get", "/api/v1/courses/test-course"),
        ("post", "/api/v1/courses/test-course/enrollments"),
        ("post", "/api/v1/lessons/{lesson}/read"),
        ("get", "/api/v1/quizzes/{quiz}"),
        ("post", "/api/v1/quizzes/{quiz}/attempts"),
        ("get", "/api/v1/me/progress"),
    ],
)
def test_every_learner_endpoint_needs_a_token(client, make_course, method, path):
    course, _folder = make_course()
    url = path.format(lesson=lesson_ids(course)[0], quiz=quiz_of(course).id)
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = getattr(client, method)(url, headers=headers, json={"answers": {}})
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthorized"
    assert db.session.scalar(select(QuizAttempt)) is None


# --- courses ------------------------------------------------------------------------------


def test_course_list_gives_the_courses_of_an_audience_with_their_facts(client, headers, real_courses):
    response = client.get("/api/v1/courses?audience=resident", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    residents = {slug: course for slug, course in real_courses.items() if course.audience == "resident"}
    assert {item["slug"] for item in body} == set(residents)
    for item in body:
        course = residents[item["slug"]]
        assert item == {
            "slug": course.slug,
            "title": course.titles["en"],
            "audience": "resident",
            "module_count": len(course.active_modules),
            "languages": course.languages,
            "estimated_minutes": course.estimated_minutes,
        }
    cadre = client.get("/api/v1/courses?audience=cadre", headers=headers).get_json()
    assert [item["slug"] for item in cadre] == ["data-protection-for-cadres"]


def test_course_list_without_an_audience_lists_every_active_course(client, headers, real_courses):
    body = client.get("/api/v1/courses", headers=headers).get_json()
    assert {item["slug"] for item in body} == set(real_courses)


def test_an_unknown_audience_is_refused_with_422(client, headers, real_courses):
    for audience in ("farmers", "", "RESIDENT"):
        response = client.get("/api/v1/courses", query_string={"audience": audience}, headers=headers)
        assert response.status_code == 422
        assert response.get_json()["error"]["code"] == "invalid"


def test_course_list_counts_only_active_modules(client, headers, make_course):
    modules = [
        {"id": "m1", "lessons": ["l1"]},
        {"id": "m2", "lessons": ["l2"]},
    ]
    make_course(modules=modules)
    make_course(modules=modules[:1])  # m2 retired
    [item] = client.get("/api/v1/courses", headers=headers).get_json()
    assert item["module_count"] == 1


def test_titles_follow_the_saved_language_else_accept_language(client, make_user, api_token, make_course):
    make_course()
    anonymous_choice = api_token(make_user("resident"))
    listed = client.get("/api/v1/courses", headers={**anonymous_choice, "Accept-Language": "vi"})
    assert listed.get_json()[0]["title"] == "Course test-course vi"
    listed = client.get("/api/v1/courses", headers={**anonymous_choice, "Accept-Language": "en"})
    assert listed.get_json()[0]["title"] == "Course test-course en"

    saved_vietnamese = api_token(make_user("resident", locale="vi"))
    detail = client.get("/api/v1/courses/test-course", headers={**saved_vietnamese, "Accept-Language": "en"})
    assert detail.get_json()["title"] == "Course test-course vi"
    assert detail.get_json()["modules"][0]["lessons"][0]["title"] == "l1 vi"


def test_course_detail_lists_active_modules_lessons_and_quiz_ids(client, headers, make_course):
    make_course(
        modules=[
            {
                "id": "m1",
                "lessons": ["l1", "l2", "l3"],
                "questions": [{"id": "q1", "type": "true_false", "correct": True}],
            },
            {"id": "m2", "lessons": ["l4"]},
        ]
    )
    course, _folder = make_course(
        modules=[
            {
                "id": "m1",
                "lessons": ["l1", "l2"],
                "questions": [{"id": "q1", "type": "true_false", "correct": True}],
            },
            {"id": "m2", "lessons": ["l4"]},
        ]
    )
    response = client.get("/api/v1/courses/test-course", headers=headers)
    assert response.status_code == 200
    lessons = {lesson.key: lesson.id for lesson in db.session.scalars(select(Lesson))}
    assert response.get_json() == {
        "slug": "test-course",
        "title": "Course test-course en",
        "summary": "Summary en",
        "audience": "resident",
        "version": 1,
        "modules": [
            {
                "key": "m1",
                "title": "m1 en",
                "lessons": [
                    {"id": lessons["l1"], "key": "l1", "title": "l1 en"},
                    {"id": lessons["l2"], "key": "l2", "title": "l2 en"},
                ],
                "quiz_id": quiz_of(course).id,
            },
            {
                "key": "m2",
                "title": "m2 en",
                "lessons": [{"id": lessons["l4"], "key": "l4", "title": "l4 en"}],
                "quiz_id": None,
            },
        ],
    }


def test_an_unknown_or_retired_course_is_a_json_404(client, headers, make_course):
    make_course(slug="going-away")
    shutil.rmtree(make_course.root / "going-away")
    make_course.resync()
    for slug in ("no-such-course", "going-away", "%00", "Test-Course", "a" * 300, "test-course%0A"):
        for response in (
            client.get(f"/api/v1/courses/{slug}", headers=headers),
            client.post(f"/api/v1/courses/{slug}/enrollments", headers=headers),
        ):
            assert response.status_code == 404
            assert response.get_json()["error"]["code"] == "not_found"


def test_the_course_page_also_answers_404_to_something_that_is_not_a_slug(client, learner, login_as):
    login_as(learner)
    assert client.get("/learning/%00/").status_code == 404


def test_enrolling_answers_201_then_200(client, headers, learner, make_course):
    make_course()
    first = client.post("/api/v1/courses/test-course/enrollments", headers=headers)
    assert first.status_code == 201
    body = first.get_json()
    assert body["course"] == "test-course"
    assert datetime.fromisoformat(body["enrolled_at"]).tzinfo is not None
    assert body["completed_at"] is None
    again = client.post("/api/v1/courses/test-course/enrollments", headers=headers)
    assert again.status_code == 200
    assert again.get_json() == body
    [progress] = client.get("/api/v1/me/progress", headers=headers).get_json()
    assert progress["slug"] == "test-course"
    assert progress["status"] == "in_progress"


# --- lessons and progress -----------------------------------------------------------------


def test_reading_lessons_moves_course_progress(client, headers, make_course):
    course, _folder = make_course()  # two lessons and a quiz: three steps
    first, second = lesson_ids(course)
    response = client.post(f"/api/v1/lessons/{first}/read", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == {"lesson_id": first, "read": True, "course_progress": 33}
    again = client.post(f"/api/v1/lessons/{first}/read", headers=headers)
    assert again.get_json()["course_progress"] == 33
    assert client.post(f"/api/v1/lessons/{second}/read", headers=headers).get_json()["course_progress"] == 66

    [progress] = client.get("/api/v1/me/progress", headers=headers).get_json()
    assert progress == {
        "slug": "test-course",
        "status": "in_progress",
        "percent": 66,
        "completed_at": None,
        "completion_mode": None,
        "certificate_code": None,
    }


def test_unknown_or_retired_lessons_are_404(client, headers, make_course):
    course, _folder = make_course()
    retired = lesson_ids(course)[1]
    make_course(modules=[{"id": "m1", "lessons": ["l1"]}])
    for lesson_id in (retired, 999999, 2**31, 10**30):
        response = client.post(f"/api/v1/lessons/{lesson_id}/read", headers=headers)
        assert response.status_code == 404, lesson_id
        assert response.get_json()["error"]["code"] == "not_found"
    assert client.post("/api/v1/lessons/abc/read", headers=headers).status_code == 404
    assert client.get("/api/v1/me/progress", headers=headers).get_json() == []


def test_progress_shows_completion_and_certificate_only_for_the_caller(
    client, headers, make_user, api_token, units, make_course
):
    course, _folder = make_course()
    make_course(slug="second-course")
    client.post("/api/v1/courses/second-course/enrollments", headers=headers)
    complete_course(client, headers, course)

    progress = {item["slug"]: item for item in client.get("/api/v1/me/progress", headers=headers).get_json()}
    done = progress["test-course"]
    assert done["status"] == "completed"
    assert done["percent"] == 100
    assert datetime.fromisoformat(done["completed_at"]).tzinfo is not None
    assert done["completion_mode"] == "self"
    certificate = db.session.scalar(select(Certificate))
    assert done["certificate_code"] == certificate.code
    assert progress["second-course"]["status"] == "in_progress"
    assert progress["second-course"]["percent"] == 0

    neighbour = api_token(make_user("resident", units["v2a"]))
    assert client.get("/api/v1/me/progress", headers=neighbour).get_json() == []


# --- quizzes ------------------------------------------------------------------------------


def test_quiz_questions_come_in_the_attempts_order_without_answers(client, headers, learner, make_course):
    course, _folder = make_course()
    quiz = quiz_of(course)
    response = client.get(f"/api/v1/quizzes/{quiz.id}", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == learner.id))
    assert body["quiz_id"] == quiz.id
    assert body["attempt"] == attempt.number == 1
    assert body["pass_mark"] == 60
    assert body["attempts_left"] == 3
    assert [question["id"] for question in body["questions"]] == [aq.question_id for aq in attempt.questions]
    for question, asked in zip(body["questions"], attempt.questions, strict=True):
        assert set(question) == {"id", "kind", "prompt", "options"}
        assert [option["id"] for option in question["options"]] == asked.option_order
        assert all(set(option) == {"id", "text"} for option in question["options"])
    kinds = {question["prompt"]: question["kind"] for question in body["questions"]}
    assert kinds == {"q1? (en)": "single", "q2? (en)": "multiple", "q3? (en)": "true_false"}

    assert not all_keys(body) & {"is_correct", "correct", "correct_option_ids", "explanation", "explanations"}
    assert EXPLANATION_MARKER not in response.get_data(as_text=True)
    # Opening again continues the same attempt, in the same order.
    assert client.get(f"/api/v1/quizzes/{quiz.id}", headers=headers).get_json() == body


def test_quiz_json_is_the_same_whichever_option_is_correct(client, headers, make_course):
    course, _folder = make_course(
        modules=[
            {
                "id": "m1",
                "lessons": ["l1"],
                "questions": [
                    {"id": "q1", "type": "single", "options": ["a", "b", "c"], "correct": ["a"]},
                    {"id": "q2", "type": "true_false", "correct": True},
                ],
            }
        ]
    )
    quiz_id = quiz_of(course).id
    before = client.get(f"/api/v1/quizzes/{quiz_id}", headers=headers).get_data()
    make_course(
        modules=[
            {
                "id": "m1",
                "lessons": ["l1"],
                "questions": [
                    {"id": "q1", "type": "single", "options": ["a", "b", "c"], "correct": ["c"]},
                    {"id": "q2", "type": "true_false", "correct": False},
                ],
            }
        ]
    )
    assert client.get(f"/api/v1/quizzes/{quiz_id}", headers=headers).get_data() == before


def test_real_course_quizzes_leak_no_explanations(client, headers, real_courses):
    course = real_courses["vneid-basics"]
    for module in course.active_modules:
        quiz = module.active_quiz
        response = client.get(f"/api/v1/quizzes/{quiz.id}", headers=headers)
        assert response.status_code == 200
        text = json.dumps(response.get_json(), ensure_ascii=False)
        for question in quiz.active_questions:
            for explanation in question.explanations.values():
                assert explanation not in text


def test_right_answers_pass_and_feedback_explains_after_submission(client, headers, learner, make_course):
    course, _folder = make_course()
    quiz = quiz_of(course)
    client.get(f"/api/v1/quizzes/{quiz.id}", headers=headers)
    response = client.post(
        f"/api/v1/quizzes/{quiz.id}/attempts",
        json={"answers": answers_for(quiz, right=True)},
        headers=headers,
    )
    assert response.status_code == 200  # the attempt opened by the GET was graded
    body = response.get_json()
    assert body["score"] == body["max_score"] == 3
    assert body["passed"] is True
    assert body["attempt"] == 1
    questions = {question.id: question for question in quiz.active_questions}
    assert {item["question_id"] for item in body["feedback"]} == set(questions)
    for item in body["feedback"]:
        question = questions[item["question_id"]]
        assert item["correct"] is True
        assert set(item["correct_option_ids"]) == {o.id for o in question.active_options if o.is_correct}
        assert item["explanation"] == f"because {question.key} (en)"
    attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == learner.id))
    assert attempt.submitted_at is not None
    assert attempt.passed is True


def test_wrong_answers_do_not_pass_and_a_new_attempt_is_created(client, headers, make_course):
    course, _folder = make_course()
    quiz = quiz_of(course)
    response = client.post(
        f"/api/v1/quizzes/{quiz.id}/attempts",
        json={"answers": answers_for(quiz, right=False)},
        headers=headers,
    )
    assert response.status_code == 201  # no attempt was open: one was opened and graded
    body = response.get_json()
    assert body["score"] == 0
    assert body["passed"] is False
    assert all(item["correct"] is False for item in body["feedback"])
    assert all(item["explanation"].startswith(EXPLANATION_MARKER) for item in body["feedback"])

    partly = answers_for(quiz, right=True)
    left_out = next(iter(partly))
    partly.pop(left_out)  # a question left unanswered: refused, and no attempt is used
    refused = client.post(f"/api/v1/quizzes/{quiz.id}/attempts", json={"answers": partly}, headers=headers)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["unanswered"] == [int(left_out)]
    partly[left_out] = answers_for(quiz, right=False)[left_out]  # answered, wrongly
    second = client.post(f"/api/v1/quizzes/{quiz.id}/attempts", json={"answers": partly}, headers=headers)
    assert second.status_code == 201
    assert second.get_json()["attempt"] == 2
    assert second.get_json()["score"] == 2
    assert second.get_json()["passed"] is True  # 2 of 3 is 66%, the pass mark is 60%


def test_no_attempts_left_is_409(client, headers, make_course):
    course, _folder = make_course(
        modules=[
            {
                "id": "m1",
                "lessons": ["l1"],
                "questions": [{"id": "q1", "type": "true_false", "correct": True}],
                "max_attempts": 1,
            }
        ]
    )
    quiz = quiz_of(course)
    opened = client.get(f"/api/v1/quizzes/{quiz.id}", headers=headers).get_json()
    assert opened["attempts_left"] == 1
    wrong = answers_for(quiz, right=False)
    assert (
        client.post(f"/api/v1/quizzes/{quiz.id}/attempts", json={"answers": wrong}, headers=headers).status_code == 200
    )
    for response in (
        client.get(f"/api/v1/quizzes/{quiz.id}", headers=headers),
        client.post(
            f"/api/v1/quizzes/{quiz.id}/attempts",
            json={"answers": answers_for(quiz, right=True)},
            headers=headers,
        ),
    ):
        assert response.status_code == 409
        assert response.get_json()["error"]["code"] == "conflict"
    assert len(db.session.scalars(select(QuizAttempt)).all()) == 1


def test_a_submission_grades_the_callers_own_attempt_never_another_learners(
    client, headers, learner, make_user, api_token, units, make_course
):
    course, _folder = make_course()
    quiz = quiz_of(course)
    other = make_user("resident", units["v1a"])
    other_headers = api_token(other)
    assert client.get(f"/api/v1/quizzes/{quiz.id}", headers=other_headers).status_code == 200
    mine = client.post(
        f"/api/v1/quizzes/{quiz.id}/attempts", json={"answers": answers_for(quiz, right=True)}, headers=headers
    )
    assert mine.status_code == 201  # the other learner's open attempt is not the caller's
    assert mine.get_json()["attempt"] == 1
    db.session.expire_all()
    [others] = db.session.scalars(select(QuizAttempt).where(QuizAttempt.user_id == other.id)).all()
    assert (others.submitted_at, others.score, chosen_count(others)) == (None, None, 0)
    theirs = client.post(
        f"/api/v1/quizzes/{quiz.id}/attempts", json={"answers": answers_for(quiz, right=False)}, headers=other_headers
    )
    assert theirs.status_code == 200
    assert (theirs.get_json()["attempt"], theirs.get_json()["score"]) == (1, 0)


def test_a_graded_attempt_is_never_graded_again_the_next_submission_opens_a_new_one(client, headers, make_course):
    course, _folder = make_course()
    quiz = quiz_of(course)
    client.get(f"/api/v1/quizzes/{quiz.id}", headers=headers)
    url = f"/api/v1/quizzes/{quiz.id}/attempts"
    first = client.post(url, json={"answers": answers_for(quiz, right=True)}, headers=headers)
    again = client.post(url, json={"answers": answers_for(quiz, right=False)}, headers=headers)
    assert (first.status_code, again.status_code) == (200, 201)
    assert (again.get_json()["attempt"], again.get_json()["score"]) == (2, 0)
    db.session.expire_all()
    attempts = db.session.scalars(select(QuizAttempt).order_by(QuizAttempt.number)).all()
    assert [(attempt.number, attempt.score, attempt.passed) for attempt in attempts] == [(1, 3, True), (2, 0, False)]
    assert [chosen_count(attempt) for attempt in attempts] == [4, 3]  # q2 has two right options


def test_unknown_or_retired_quizzes_are_404(client, headers, make_course):
    course, _folder = make_course()
    retired = quiz_of(course).id
    make_course(modules=[{"id": "m1", "lessons": ["l1"]}])
    for quiz_id in (retired, 999999, 2**31, 10**30):
        assert client.get(f"/api/v1/quizzes/{quiz_id}", headers=headers).status_code == 404
        response = client.post(f"/api/v1/quizzes/{quiz_id}/attempts", json={"answers": {}}, headers=headers)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"


def _malformed_answers(quiz: Quiz, other_quiz: Quiz):
    q1, q2, q3 = quiz.active_questions  # single, multiple, true_false
    wrong_question_option = q2.active_options[0].id
    q1_options = [option.id for option in q1.active_options]
    other_question = other_quiz.active_questions[0]
    return {
        "answers missing": {},
        "answers a list": {"answers": [[q1.id, q1_options[0]]]},
        "answers a string": {"answers": "all of them"},
        "answers null": {"answers": None},
        "question id not a number": {"answers": {"q1": [q1_options[0]]}},
        "question id negative": {"answers": {"-1": [q1_options[0]]}},
        "options not a list": {"answers": {str(q1.id): q1_options[0]}},
        "option id text": {"answers": {str(q1.id): ["b"]}},
        "option id a fraction": {"answers": {str(q1.id): [1.5]}},
        "option id a boolean": {"answers": {str(q3.id): [True]}},
        "option id an object": {"answers": {str(q1.id): [{"id": q1_options[0]}]}},
        "option id null": {"answers": {str(q1.id): [None]}},
        "option id huge": {"answers": {str(q1.id): [10**30]}},
        "option of another question": {"answers": {str(q1.id): [wrong_question_option]}},
        "option that does not exist": {"answers": {str(q1.id): [999999]}},
        "question of another quiz": {"answers": {str(other_question.id): [other_question.active_options[0].id]}},
        "two answers to a single-choice question": {"answers": {str(q1.id): q1_options[:2]}},
    }


MALFORMED = [
    "answers missing",
    "answers a list",
    "answers a string",
    "answers null",
    "question id not a number",
    "question id negative",
    "options not a list",
    "option id text",
    "option id a fraction",
    "option id a boolean",
    "option id an object",
    "option id null",
    "option id huge",
    "option of another question",
    "option that does not exist",
    "question of another quiz",
    "two answers to a single-choice question",
]


@pytest.mark.parametrize("shape", MALFORMED)
def test_malformed_answers_are_refused_with_422_and_nothing_is_graded(client, headers, make_course, shape):
    course, _folder = make_course()
    other, _other_folder = make_course(slug="other-course")
    quiz = quiz_of(course)
    payload = _malformed_answers(quiz, quiz_of(other))[shape]
    response = client.post(f"/api/v1/quizzes/{quiz.id}/attempts", json=payload, headers=headers)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "invalid"
    assert error["message"]
    assert db.session.scalar(select(QuizAttempt).where(QuizAttempt.submitted_at.is_not(None))) is None
    assert client.get(f"/api/v1/quizzes/{quiz.id}", headers=headers).get_json()["attempts_left"] == 3


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": "answers=1", "content_type": "application/x-www-form-urlencoded"}, 415),
        ({"data": "{not json", "content_type": "application/json"}, 400),
        ({"json": ["answers"]}, 400),
    ],
)
def test_a_body_that_is_not_a_json_object_gets_a_json_4xx(client, headers, make_course, kwargs, status):
    course, _folder = make_course()
    response = client.post(f"/api/v1/quizzes/{quiz_of(course).id}/attempts", headers=headers, **kwargs)
    assert response.status_code == status
    assert response.get_json()["error"]["message"]


def test_option_ids_may_be_sent_as_numbers_or_digit_strings(client, headers, make_course):
    course, _folder = make_course()
    quiz = quiz_of(course)
    answers = {key: [int(value) for value in values] for key, values in answers_for(quiz, right=True).items()}
    response = client.post(f"/api/v1/quizzes/{quiz.id}/attempts", json={"answers": answers}, headers=headers)
    assert response.status_code == 201
    assert response.get_json()["passed"] is True


def test_passing_the_last_quiz_completes_the_course(client, headers, make_course):
    course, _folder = make_course()
    for lesson_id in lesson_ids(course):
        client.post(f"/api/v1/lessons/{lesson_id}/read", headers=headers)
    quiz = quiz_of(course)
    client.post(
        f"/api/v1/quizzes/{quiz.id}/attempts",
        json={"answers": answers_for(quiz, right=True)},
        headers=headers,
    )
    [progress] = client.get("/api/v1/me/progress", headers=headers).get_json()
    assert progress["status"] == "completed"
    assert progress["certificate_code"]


# --- certificates -------------------------------------------------------------------------


def test_certificates_are_verified_publicly_without_a_token(client, headers, learner, make_course):
    course, _folder = make_course()
    complete_course(client, headers, course)
    certificate = db.session.scalar(select(Certificate))
    for code in (certificate.code, certificate.code.lower(), f" {certificate.code} "):
        response = client.get(f"/api/v1/certificates/{code}")
        assert response.status_code == 200
        assert response.get_json() == {
            "valid": True,
            "name": learner.full_name,
            "course": "Course test-course en",
            "completed_on": certificate.completed_on.isoformat(),
        }
    assert client.get(f"/verify/{certificate.code}").status_code == 200


def test_unknown_or_revoked_certificates_are_404(client, headers, make_course):
    course, _folder = make_course()
    complete_course(client, headers, course)
    certificate = db.session.scalar(select(Certificate))
    certificate.revoked_at = utcnow()
    db.session.commit()
    for code in (certificate.code, "ABCD-EFGH-JKMN", "x" * 300, "%00"):
        response = client.get(f"/api/v1/certificates/{code}")
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
    for code in (certificate.code, "%00"):  # the web page shares the lookup
        assert client.get(f"/verify/{code}").status_code == 404


def test_question_kinds_of_the_real_courses_are_all_served(client, headers, real_courses):
    quiz_ids = [
        module.active_quiz.id
        for course in real_courses.values()
        for module in course.active_modules
        if module.active_quiz
    ]
    kinds = set()
    for quiz_id in quiz_ids:
        body = client.get(f"/api/v1/quizzes/{quiz_id}", headers=headers).get_json()
        kinds |= {question["kind"] for question in body["questions"]}
        assert all(len(question["options"]) >= 2 for question in body["questions"])
    assert kinds <= {"single", "multiple", "true_false"}
