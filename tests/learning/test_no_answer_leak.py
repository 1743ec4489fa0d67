"""The quiz page must not give the answers away: no explanations, nothing marking the right option."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from app.extensions import db
from app.learning.models import QuizAttempt

QUESTIONS_CORRECT_B = [
    {"id": "q1", "type": "single", "options": ["a", "b", "c"], "correct": ["b"]},
    {"id": "q2", "type": "multiple", "options": ["a", "b", "c"], "correct": ["a", "b"]},
    {"id": "q3", "type": "true_false", "correct": True},
]
QUESTIONS_CORRECT_C = [
    {"id": "q1", "type": "single", "options": ["a", "b", "c"], "correct": ["c"]},
    {"id": "q2", "type": "multiple", "options": ["a", "b", "c"], "correct": ["c"]},
    {"id": "q3", "type": "true_false", "correct": False},
]


class TagCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(page: str) -> list[tuple[str, dict]]:
    collector = TagCollector()
    collector.feed(page)
    return collector.tags


def option_inputs(page: str) -> list[dict]:
    return [attrs for tag, attrs in tags_of(page) if tag == "input" and (attrs.get("name") or "").startswith("q-")]


@pytest.fixture
def learner_client(client, login_as, make_user, units):
    login_as(make_user("resident", units["v1a"]))
    return client


def quiz_page(client, slug="test-course", module_key="m1") -> str:
    response = client.get(f"/learning/{slug}/modules/{module_key}/quiz")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def course_with(make_course, questions):
    return make_course(modules=[{"id": "m1", "lessons": ["l1"], "questions": questions}])


def test_the_quiz_page_shows_no_explanations(learner_client, make_course):
    course_with(make_course, QUESTIONS_CORRECT_B)
    page = quiz_page(learner_client)
    assert "q1? (en)" in page  # the questions are there…
    assert "because" not in page  # …but none of their explanations
    assert "explanation" not in page


def test_option_inputs_carry_only_their_name_value_and_type(learner_client, make_course):
    course, _folder = course_with(make_course, QUESTIONS_CORRECT_B)
    page = quiz_page(learner_client)
    inputs = option_inputs(page)
    questions = course.active_modules[0].active_quiz.active_questions
    assert len(inputs) == sum(len(question.active_options) for question in questions)
    required = {}
    for attrs in inputs:
        # "required" (a radio group must be answered) is on every option of a question alike.
        assert set(attrs) - {"required"} == {"type", "name", "value"}
        assert attrs["type"] in {"radio", "checkbox"}
        required.setdefault(attrs["name"], set()).add("required" in attrs)
    assert all(len(marks) == 1 for marks in required.values())
    # Nor does any other tag of the page (a class, a data- attribute) say "correct".
    for _tag, attrs in tags_of(page):
        for name, value in attrs.items():
            assert "correct" not in name.lower()
            assert "correct" not in (value or "").lower()


def test_the_quiz_page_is_the_same_whichever_option_is_correct(learner_client, make_course):
    course_with(make_course, QUESTIONS_CORRECT_B)
    before = quiz_page(learner_client)
    # Same course, same questions and options (same ids), other correct answers; the learner's
    # open attempt keeps its order, so any difference in the page would point at the answer.
    course_with(make_course, QUESTIONS_CORRECT_C)
    after = quiz_page(learner_client)
    assert without_csrf_tokens(after) == without_csrf_tokens(before)


def without_csrf_tokens(page: str) -> str:
    """CSRF tokens carry a timestamp, so two loads a second apart differ there and only there."""
    return re.sub(r'name="csrf_token"( type="hidden")? value="[^"]*"', 'name="csrf_token"', page)


def test_the_explanations_appear_only_on_the_result_page(learner_client, make_course):
    course, _folder = course_with(make_course, QUESTIONS_CORRECT_B)
    page = quiz_page(learner_client)
    assert "because q1 (en)" not in page
    quiz = course.active_modules[0].active_quiz
    wrong = {
        f"q-{question.id}": [str(next(o.id for o in question.active_options if not o.is_correct))]
        for question in quiz.active_questions
    }
    attempt = db.session.scalar(db.select(QuizAttempt))
    response = learner_client.post(f"/learning/attempts/{attempt.id}", data=wrong, follow_redirects=True)
    assert response.status_code == 200
    assert "because q1 (en)" in response.get_data(as_text=True)


def test_real_course_quiz_pages_show_none_of_their_explanations(learner_client, real_courses):
    course = real_courses["vneid-basics"]
    for module in course.active_modules:
        page = quiz_page(learner_client, course.slug, module.key)
        inputs = option_inputs(page)
        assert inputs
        assert all(set(attrs) - {"required"} == {"type", "name", "value"} for attrs in inputs)
        for question in module.active_quiz.active_questions:
            for explanation in question.explanations.values():
                assert explanation not in page
                assert html.escape(explanation) not in page
