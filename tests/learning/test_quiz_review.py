"""A quiz that teaches: unanswered questions are flagged and use no attempt (page and API); a
failed attempt shows the mistakes but not the right options while attempts are left; everything
after a pass or the last attempt, with a next step when the attempts run out."""

import re

import pytest

from app.learning import operations
from app.learning.content import read_course
from app.learning.models import QuizAttempt
from tests.learning.quiz_support import as_form, right_answers, wrong_answers

QUIZ_URL = "/learning/test-course/modules/m1/quiz"
#: The right options' texts of make_course's default quiz (q1: b; q2: a and c).
RIGHT_OPTION_TEXTS = ("q1-b en", "q2-a en", "q2-c en")


def open_on_page(client, db, learner) -> QuizAttempt:
    assert client.get(QUIZ_URL).status_code == 200
    return db.session.scalar(
        db.select(QuizAttempt).where(QuizAttempt.user_id == learner.id, QuizAttempt.submitted_at.is_(None))
    )


@pytest.fixture
def learner(make_user, login_as):
    person = make_user("resident")
    login_as(person)
    return person


def submit_on_page(client, attempt, answers):
    response = client.post(f"/learning/attempts/{attempt.id}", data=as_form(answers))
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.get(response.headers["Location"]).get_data(as_text=True)


# --- unanswered questions -------------------------------------------------------------------


def test_an_empty_quiz_is_shown_again_with_every_question_marked_and_uses_no_attempt(client, db, make_course, learner):
    course, _folder = make_course()
    quiz = course.modules[0].quiz
    attempt = open_on_page(client, db, learner)
    response = client.post(f"/learning/attempts/{attempt.id}", data={})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "You have not answered any question yet" in html
    assert html.count('class="question unanswered"') == 3
    assert html.count("Not answered yet: choose an answer.") == 3
    db.session.expire_all()
    assert db.session.get(QuizAttempt, attempt.id).submitted_at is None
    assert operations.attempts_left(learner, quiz) == 3


def test_a_partly_answered_quiz_keeps_the_answers_marks_the_rest_and_then_counts_once(client, db, make_course, learner):
    course, _folder = make_course()
    quiz = course.modules[0].quiz
    attempt = open_on_page(client, db, learner)
    everything = right_answers(attempt)
    first = attempt.questions[0].question_id
    response = client.post(f"/learning/attempts/{attempt.id}", data=as_form({first: everything[first]}))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "2 of 3 questions are not answered yet" in html
    assert html.count('class="question unanswered"') == 2
    assert f'id="question-{first}"' in html and f'class="question" id="question-{first}"' in html
    for option_id in everything[first]:  # what was answered is still chosen
        assert re.search(rf'value="{option_id}"[^>]*checked', html)
    for asked in attempt.questions[1:]:
        assert f'href="#question-{asked.question_id}"' in html  # the summary links to each
    assert operations.attempts_left(learner, quiz) == 3

    result = submit_on_page(client, attempt, everything)
    assert "You scored 3 of 3." in result
    assert operations.attempts_left(learner, quiz) == 2
    assert [a.number for a in operations.submitted_attempts(learner, quiz)] == [1]


def test_the_api_refuses_unanswered_questions_with_their_ids_and_uses_no_attempt(
    client, db, make_course, make_user, api_token
):
    course, _folder = make_course()
    quiz = course.modules[0].quiz
    learner = make_user("resident")
    headers = api_token(learner)
    opened = client.get(f"/api/v1/quizzes/{quiz.id}", headers=headers).get_json()
    question_ids = [question["id"] for question in opened["questions"]]
    empty = client.post(f"/api/v1/quizzes/{quiz.id}/attempts", json={"answers": {}}, headers=headers)
    assert empty.status_code == 422
    error = empty.get_json()["error"]
    assert error["field"] == "answers"
    assert error["unanswered"] == question_ids
    partly = {str(question_ids[0]): [str(opened["questions"][0]["options"][0]["id"])]}
    refused = client.post(f"/api/v1/quizzes/{quiz.id}/attempts", json={"answers": partly}, headers=headers)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["unanswered"] == question_ids[1:]
    again = client.get(f"/api/v1/quizzes/{quiz.id}", headers=headers).get_json()
    assert (again["attempt"], again["attempts_left"]) == (1, 3)
    assert operations.submitted_attempts(learner, quiz) == []


def test_the_operation_names_the_unanswered_questions(db, make_course, make_user):
    from app.exceptions import Invalid

    course, _folder = make_course()
    learner = make_user("resident")
    attempt = operations.open_attempt(learner, course.modules[0].quiz)
    answers = right_answers(attempt)
    missing = attempt.questions[1].question_id
    answers[missing] = set()
    with pytest.raises(Invalid) as refused:
        operations.submit_attempt(learner, attempt, answers)
    assert refused.value.details == {"unanswered": [missing]}
    assert attempt.submitted_at is None and attempt.score is None


# --- what a result shows --------------------------------------------------------------------


def test_a_failed_attempt_with_attempts_left_shows_the_mistakes_not_the_right_options(
    client, db, make_course, learner, api_token
):
    make_course()
    attempt = open_on_page(client, db, learner)
    html = submit_on_page(client, attempt, wrong_answers(attempt))
    assert "You scored 0 of 3." in html
    assert "The questions you got wrong are marked" in html
    assert "because q1 (en)" in html and "because q3 (en)" in html  # the explanations
    assert html.count("Not right") == 3
    assert "q1-a en" in html  # the learner's own (wrong) answer
    for text in RIGHT_OPTION_TEXTS:
        assert text not in html
    assert "— <strong>correct</strong>" not in html
    assert "Try again" in html
    assert "used all your attempts" not in html

    # The API shows as much: which answers were wrong, not the right options.
    headers = api_token(learner)
    quiz_id = attempt.quiz_id
    opened = client.get(f"/api/v1/quizzes/{quiz_id}", headers=headers).get_json()
    # The first option shown of each: q2 needs two and q3 is "false", so one right at most: a fail.
    wrong = {str(q["id"]): [str(q["options"][0]["id"])] for q in opened["questions"]}
    body = client.post(f"/api/v1/quizzes/{quiz_id}/attempts", json={"answers": wrong}, headers=headers).get_json()
    assert body["passed"] is False and body["review"] == "mistakes" and body["attempts_left"] == 1
    assert all(item["correct_option_ids"] is None for item in body["feedback"])
    assert all(item["explanation"].startswith("because") for item in body["feedback"])


def test_the_last_failed_attempt_shows_everything_and_the_next_step(client, db, make_course, learner):
    make_course(
        modules=[
            {
                "id": "m1",
                "lessons": ["l1"],
                "max_attempts": 1,
                "questions": [
                    {"id": "q1", "type": "single", "options": ["a", "b", "c"], "correct": ["b"]},
                    {"id": "q2", "type": "multiple", "options": ["a", "b", "c"], "correct": ["a", "c"]},
                ],
            }
        ]
    )
    attempt = open_on_page(client, db, learner)
    html = submit_on_page(client, attempt, wrong_answers(attempt))
    assert "you have used all your attempts" in html
    for text in RIGHT_OPTION_TEXTS:
        assert text in html
    assert "— <strong>correct</strong>" in html
    assert "Try again" not in html
    assert 'href="/visits/requests/new"' in html  # ask for help
    assert "ask your commune manager to give you new attempts" in html
    # The course page says what to do next, too.
    course_page = client.get("/learning/test-course/").get_data(as_text=True)
    assert "no attempts left" in course_page
    assert 'href="/visits/requests/new"' in course_page
    # And the quiz itself sends the learner back there.
    assert client.get(QUIZ_URL).status_code == 302


def test_a_pass_shows_everything(client, db, make_course, learner):
    make_course()
    attempt = open_on_page(client, db, learner)
    answers = right_answers(attempt)
    q1 = next(asked for asked in attempt.questions if asked.question.key == "q1")
    answers[q1.question_id] = wrong_answers(attempt)[q1.question_id]  # 2 of 3: a pass at 60%
    html = submit_on_page(client, attempt, answers)
    assert "Passed — well done!" in html
    for text in RIGHT_OPTION_TEXTS:
        assert text in html
    assert "because q1 (en)" in html


@pytest.mark.parametrize(
    ("review", "shows_explanations", "shows_right_options"),
    [("score", False, False), ("full", True, True), ("mistakes", True, False)],
)
def test_the_course_decides_what_a_failed_attempt_shows(
    client, db, make_course, learner, review, shows_explanations, shows_right_options
):
    make_course(
        modules=[
            {
                "id": "m1",
                "lessons": ["l1"],
                "review": review,
                "questions": [
                    {"id": "q1", "type": "single", "options": ["a", "b", "c"], "correct": ["b"]},
                    {"id": "q2", "type": "multiple", "options": ["a", "b", "c"], "correct": ["a", "c"]},
                ],
            }
        ]
    )
    attempt = open_on_page(client, db, learner)
    assert attempt.quiz.review == review
    html = submit_on_page(client, attempt, wrong_answers(attempt))
    assert ("because q1 (en)" in html) is shows_explanations
    assert all((text in html) is shows_right_options for text in RIGHT_OPTION_TEXTS)
    assert "Try again" in html


def test_the_course_loader_refuses_an_unknown_review_setting(make_course):
    import yaml

    _course, folder = make_course()
    manifest = yaml.safe_load((folder / "course.yml").read_text())
    manifest["modules"][0]["quiz"]["review"] = "answers"
    (folder / "course.yml").write_text(yaml.safe_dump(manifest, allow_unicode=True))
    spec, problems = read_course(folder)
    assert spec is None
    assert [(p.place, p.warning) for p in problems] == [("modules[0].quiz.review", False)]
    assert "mistakes, score, full" in problems[0].message


def test_the_shipped_courses_use_the_default_review(real_courses):
    for course in real_courses.values():
        for module in course.active_modules:
            if module.active_quiz is not None:
                assert module.active_quiz.review == "mistakes"
