"""Courses, lessons, quizzes and certificates for learners, as JSON. The rules live in
app.learning.operations; these views parse input, call them and shape the answer."""

from __future__ import annotations

import re

from flask import jsonify, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from app.api.blueprint import bp
from app.api.common import current_api_user, in_callers_language, json_body, token_required
from app.db import MAX_ID
from app.exceptions import Invalid, NotFound
from app.extensions import db
from app.learning import operations, search
from app.learning.models import AUDIENCES, AttemptQuestion, Question, QuizAttempt

_DIGITS = re.compile(r"[0-9]{1,10}")


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


# --- courses ------------------------------------------------------------------------------


def enrollment_json(enrollment) -> dict:
    return {
        "course": enrollment.course.slug,
        "enrolled_at": _iso(enrollment.enrolled_at),
        "completed_at": _iso(enrollment.completed_at),
        "completion_mode": enrollment.completion_mode,
    }


@bp.route("/courses")
@token_required
@in_callers_language
def list_courses():
    """Active courses, optionally for one ?audience=resident|cadre|tech_team."""
    audience = request.args.get("audience")
    if audience is not None and audience not in AUDIENCES:
        raise Invalid(
            _("Unknown audience. Use one of: %(audiences)s.", audiences=", ".join(AUDIENCES)), field="audience"
        )
    return jsonify(
        [
            {
                "slug": course.slug,
                "title": course.title,
                "audience": course.audience,
                "module_count": len(course.active_modules),
                "languages": list(course.languages or []),
                "estimated_minutes": course.estimated_minutes,
            }
            for course in operations.active_courses(audience=audience)
        ]
    )


@bp.route("/courses/search")
@token_required
@in_callers_language
def search_courses():
    """Open courses and lessons matching ?q= in the caller's language, best first."""
    query = search.parse_query(request.args.get("q"))
    if not query:
        raise Invalid(_("Type what to search for."), field="q")
    return jsonify(
        [
            {
                "kind": hit.kind,
                "course": hit.course_slug,
                "course_title": hit.course_title,
                "lesson": hit.lesson_key,
                "title": hit.title,
                "snippet": hit.snippet,
                "match": hit.match,
                "path": url_for("learning.course", slug=hit.course_slug)
                if hit.kind == "course"
                else url_for("learning.lesson", slug=hit.course_slug, key=hit.lesson_key),
            }
            for hit in search.search(query, str(get_locale() or "vi"))
        ]
    )


@bp.route("/courses/<slug>")
@token_required
@in_callers_language
def course_detail(slug: str):
    course = operations.require_course(slug)
    return jsonify(
        {
            "slug": course.slug,
            "title": course.title,
            "summary": course.summary,
            "audience": course.audience,
            "version": course.version,
            "modules": [
                {
                    "key": module.key,
                    "title": module.title,
                    "lessons": [
                        {"id": lesson.id, "key": lesson.key, "title": lesson.title} for lesson in module.active_lessons
                    ],
                    "quiz_id": module.active_quiz.id if module.active_quiz else None,
                }
                for module in course.active_modules
            ],
        }
    )


@bp.route("/courses/<slug>/enrollments", methods=["POST"])
@token_required
@in_callers_language
def enroll(slug: str):
    """Enrol the caller: 201 when new, 200 when they were already enrolled."""
    course = operations.require_course(slug)
    enrollment, created = operations.enroll(current_api_user(), course)
    db.session.commit()
    return jsonify(enrollment_json(enrollment)), (201 if created else 200)


@bp.route("/lessons/<int:lesson_id>/read", methods=["POST"])
@token_required
@in_callers_language
def mark_lesson_read(lesson_id: int):
    user = current_api_user()
    lesson = operations.require_lesson(lesson_id)
    operations.mark_lesson_read(user, lesson)
    percent = operations.course_progress(user, lesson.course).percent
    db.session.commit()
    return jsonify(lesson_id=lesson.id, read=True, course_progress=percent)


# --- quizzes ------------------------------------------------------------------------------


@bp.route("/quizzes/<int:quiz_id>")
@token_required
@in_callers_language
def quiz(quiz_id: int):
    """The questions of the caller's open attempt (opened now if needed), in its shuffled order.
    Never the answers: those come back only with the graded attempt."""
    user = current_api_user()
    quiz = operations.require_quiz(quiz_id)
    attempt = operations.open_attempt(user, quiz)
    db.session.commit()
    return jsonify(
        {
            "quiz_id": quiz.id,
            "attempt": attempt.number,
            "pass_mark": quiz.pass_mark,
            # Attempts not yet submitted, this open one included; null when unlimited.
            "attempts_left": operations.attempts_left(user, quiz),
            "questions": [
                {
                    "id": asked.question.id,
                    "kind": asked.question.kind,
                    "prompt": asked.question.prompt,
                    "options": [{"id": option.id, "text": option.text} for option in asked.shown_options],
                }
                for asked in attempt.questions
            ],
        }
    )


def _as_id(value) -> int | None:
    """An id sent as a JSON integer or a string of digits; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        return None
    return number if 0 < number <= MAX_ID else None


def parse_answers(data: dict) -> dict[int, set[int]]:
    """{"answers": {"<question id>": ["<option id>", ...]}} → {question id: {option ids}}, or
    Invalid (422) saying what is wrong with the shape. Whether the ids belong to the quiz is
    checked by operations.submit_answers."""
    answers = data.get("answers")
    if not isinstance(answers, dict):
        raise Invalid(_('Send "answers" as an object from question ids to lists of option ids.'), field="answers")
    parsed: dict[int, set[int]] = {}
    for key, values in answers.items():
        question_id = _as_id(key)
        if question_id is None:
            raise Invalid(_("Question ids must be whole numbers."), field="answers")
        if not isinstance(values, list):
            raise Invalid(_("Send the chosen options of each question as a list."), field="answers")
        option_ids = {_as_id(value) for value in values}
        if None in option_ids:
            raise Invalid(_("Option ids must be whole numbers."), field="answers")
        parsed[question_id] = option_ids
    return parsed


@bp.route("/quizzes/<int:quiz_id>/attempts", methods=["POST"])
@token_required
@in_callers_language
def submit_attempt(quiz_id: int):
    """Grade the caller's open attempt (opening one if there is none: 201 then, else 200) and
    return the score with what the quiz's review allows. Unanswered questions: 422 with their
    ids in "unanswered", and the attempt does not count."""
    user = current_api_user()
    quiz = operations.require_quiz(quiz_id)
    answers = parse_answers(json_body())
    attempt = operations.current_attempt(user, quiz)
    opened_now = attempt is None
    if opened_now:
        attempt = operations.open_attempt(user, quiz)
    attempt_id = attempt.id
    # As the quiz page does: the grading key from the cache, a few statements.
    operations.submit_answers(user, operations.submission_state(user, attempt_id), answers)
    db.session.commit()
    # Everything the answer shows, in a few statements instead of a few per question.
    attempt = db.session.get(
        QuizAttempt,
        attempt_id,
        options=[
            joinedload(QuizAttempt.quiz),
            selectinload(QuizAttempt.questions).selectinload(AttemptQuestion.question).selectinload(Question.options),
        ],
        populate_existing=True,
    )
    return jsonify(attempt_result_json(attempt, operations.attempt_review(user, attempt))), (201 if opened_now else 200)


def attempt_result_json(attempt: QuizAttempt, review: str) -> dict:
    """The graded attempt, showing what `review` allows (operations.attempt_review): the right
    options only with "full", which answers were wrong and the explanations unless "score"."""
    feedback = []
    if review != "score":
        for asked in attempt.questions:
            correct = asked.question.correct_option_ids
            correct_ids = [option.id for option in asked.shown_options if option.id in correct]
            feedback.append(
                {
                    "question_id": asked.question_id,
                    "correct": bool(asked.is_correct),
                    "correct_option_ids": correct_ids if review == "full" else None,
                    "explanation": asked.question.explanation,
                }
            )
    return {
        "score": attempt.score,
        "max_score": attempt.max_score,
        "passed": bool(attempt.passed),
        "attempt": attempt.number,
        "review": review,
        "attempts_left": operations.attempts_left(attempt.user, attempt.quiz),
        "feedback": feedback,
    }


# --- progress and certificates ------------------------------------------------------------


@bp.route("/me/progress")
@token_required
@in_callers_language
def my_progress():
    return jsonify(
        [
            {
                "slug": progress.course.slug,
                "status": progress.status,
                "percent": progress.percent,
                "completed_at": _iso(progress.enrollment.completed_at) if progress.enrollment else None,
                "completion_mode": progress.enrollment.completion_mode if progress.enrollment else None,
                "certificate_code": progress.certificate.code if progress.certificate else None,
            }
            for progress in operations.learner_courses(current_api_user())
        ]
    )


@bp.route("/certificates/<code>")
def verify_certificate(code: str):
    """Public: anyone holding a certificate's code may check it (no token)."""
    certificate = operations.find_valid_certificate(code)
    if certificate is None:
        raise NotFound(_("No valid certificate has the code %(code)s.", code=code[:32]))
    return jsonify(
        valid=True,
        name=certificate.user.full_name,
        course=certificate.course.title,
        completed_on=certificate.completed_on.isoformat(),
    )
