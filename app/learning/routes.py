"""Learner pages: the catalog, a course, its lessons and quizzes, the learner's progress."""

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload

from app.auth.forms import EmptyForm
from app.extensions import db
from app.learning import media, operations, search
from app.learning.blueprint import bp
from app.learning.models import (
    AUDIENCE_TITLES,
    AUDIENCES,
    AttemptQuestion,
    CourseModule,
    Lesson,
    Question,
    Quiz,
    QuizAttempt,
)
from app.learning.outline import CONTENT_ID, lesson_html, reading_state
from app.templating import render_shared_page
from app.views import FORM_ERRORS, get_or_404, refuse

#: A year: a changed picture has a new address.
MEDIA_MAX_AGE = 365 * 24 * 3600
MEDIA_CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

#: Which audience a role sees first in the catalog.
DEFAULT_AUDIENCE = {"resident": "resident", "cadre": "cadre", "tech_team": "tech_team"}


def _ordered_lessons(course) -> list[Lesson]:
    return [lesson for module in course.active_modules for lesson in module.active_lessons]


@bp.route("/")
@login_required
def catalog():
    audience = request.args.get("audience")
    if audience is None:
        audience = DEFAULT_AUDIENCE.get(current_user.role, "")
    if audience and audience not in AUDIENCES:
        audience = ""
    language = request.args.get("language", "")
    if language not in ("vi", "en", "bn"):
        language = ""
    courses = operations.active_courses(audience=audience or None, language=language or None)
    progress = {p.course.id: p for p in operations.learner_courses(current_user)}
    return render_template(
        "learning/catalog.html",
        courses=courses,
        progress=progress,
        audience=audience,
        language=language,
        audiences=AUDIENCE_TITLES,
        query_max_length=search.QUERY_MAX_LENGTH,
    )


@bp.route("/search")
@login_required
def search_courses():
    """Courses and lessons matching ?q= in the reader's language; no query: the catalog."""
    query = search.parse_query(request.args.get("q"))
    if not query:
        return redirect(url_for("learning.catalog"))
    hits = search.search(query, str(get_locale() or "vi"))
    return render_template("learning/search.html", query=query, hits=hits, query_max_length=search.QUERY_MAX_LENGTH)


@bp.route("/me")
@login_required
def my_progress():
    return render_template(
        "learning/my_progress.html",
        courses=operations.learner_courses(current_user),
        attempts=operations.recent_attempts(current_user),
    )


@bp.route("/<slug>/")
@login_required
def course(slug: str):
    course = operations.require_course(slug)
    progress = operations.course_progress(current_user, course)
    attempts_left = {
        m.module.id: operations.attempts_left(current_user, m.module.active_quiz)
        for m in progress.modules
        if m.module.active_quiz
    }
    return render_template(
        "learning/course.html",
        course=course,
        progress=progress,
        attempts_left=attempts_left,
        form=EmptyForm(),
    )


@bp.route("/<slug>/enroll", methods=["POST"])
@login_required
def enroll(slug: str):
    course = operations.require_course(slug)
    if not EmptyForm().validate_on_submit():
        abort(400)
    _enrollment, created = operations.enroll(current_user, course)
    db.session.commit()
    if created:
        flash(_("You are enrolled. Start with the first lesson."), "success")
    lessons = _ordered_lessons(course)
    if lessons:
        return redirect(url_for("learning.lesson", slug=slug, key=lessons[0].key))
    return redirect(url_for("learning.course", slug=slug))


@bp.route("/<slug>/lessons/<key>")
@login_required
def lesson(slug: str, key: str):
    # The hot path: one query here (course content hash and read mark); the rest is cached.
    state = reading_state(slug, key, current_user.id)
    lesson = state[0].lesson(key) if state else None
    if lesson is None:
        abort(404)
    outline, read = state
    previous, _this, following = outline.position(lesson.id)
    module = outline.module(lesson.module_key)
    body, fell_back = lesson_html(outline, lesson.id, str(get_locale() or "vi"))
    # The same for every reader with the same role and language, apart from the read mark.
    return render_shared_page(
        "learning/lesson.html",
        (outline.content_hash, read),
        course=outline,
        lesson=lesson,
        module=module,
        body=body,
        fell_back=fell_back,
        previous=previous,
        next=following,
        read=read,
        quiz_next=module.quiz_id is not None and module.lessons[-1].id == lesson.id,
    )


@bp.route("/<slug>/lessons/<key>/read", methods=["POST"])
@login_required
def mark_read(slug: str, key: str):
    course = operations.require_course(slug)
    lesson = operations.require_course_lesson(course, key)
    if not EmptyForm().validate_on_submit():
        abort(400)
    operations.mark_lesson_read(current_user, lesson)
    db.session.commit()
    module = lesson.module
    lessons = _ordered_lessons(course)
    index = next(i for i, item in enumerate(lessons) if item.id == lesson.id)
    if module.active_quiz and module.active_lessons[-1].id == lesson.id:
        return redirect(url_for("learning.quiz", slug=slug, module_key=module.key))
    if index + 1 < len(lessons):
        return redirect(url_for("learning.lesson", slug=slug, key=lessons[index + 1].key))
    return redirect(url_for("learning.course", slug=slug))


@bp.route("/<slug>/<any(images, audio):folder>/<name>")
def course_media(slug: str, folder: str, name: str):
    """A picture or recording of a course. Course content, not personal data: public, and cached
    for a year when asked for at its current version (?v=, the start of its SHA-256), which the
    lesson pages always do."""
    if not CONTENT_ID.fullmatch(slug):
        abort(404)
    path = media.media_path(current_app.config["COURSES_DIR"] / slug, folder, name)
    if path is None:
        abort(404)
    current = request.args.get("v") == media.file_digest(path)
    response = send_file(
        path,
        mimetype=media.FOLDERS[folder][path.suffix.lower()],
        max_age=MEDIA_MAX_AGE if current else 300,
        conditional=True,
    )
    response.cache_control.public = True
    if current:
        response.cache_control.immutable = True
    # Shown only as an <img> or <audio>; opened on its own, an SVG may still run nothing.
    response.headers["Content-Security-Policy"] = MEDIA_CONTENT_SECURITY_POLICY
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@bp.route("/<slug>/modules/<module_key>/quiz")
@login_required
def quiz(slug: str, module_key: str):
    course = operations.require_course(slug)
    quiz = operations.require_module_quiz(course, module_key)
    try:
        attempt = operations.open_attempt(current_user, quiz)
    except FORM_ERRORS as error:  # no attempts left: say so on the course page
        refuse(None, error)
        return redirect(url_for("learning.course", slug=slug))
    db.session.commit()
    return _render_quiz(course, quiz, attempt)


def _render_quiz(course, quiz: Quiz, attempt: QuizAttempt, *, chosen=None, unanswered=(), message=None, status=200):
    """The quiz page; after a submission with unanswered questions, again with the answers given
    so far, each unanswered question marked and `message` at the top."""
    return render_template(
        "learning/quiz.html",
        course=course,
        quiz=quiz,
        attempt=attempt,
        options=_options_in_order(attempt),
        attempts_left=operations.attempts_left(current_user, quiz),
        chosen=chosen or {},
        unanswered=set(unanswered),
        message=message,
        form=EmptyForm(),
    ), status


def _options_in_order(attempt: QuizAttempt) -> dict[int, list]:
    return {asked.question_id: asked.shown_options for asked in attempt.questions}


@bp.route("/attempts/<int:attempt_id>", methods=["POST"])
@login_required
def submit(attempt_id: int):
    # The hot path: one statement reads the attempt, three grade it (operations.submit_answers).
    state = operations.submission_state(current_user, attempt_id)
    if state is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    answers = {}
    for question_id in state.question_ids:
        values = request.form.getlist(f"q-{question_id}")
        try:
            answers[question_id] = {int(value) for value in values}
        except ValueError:
            abort(400)
    try:
        operations.submit_answers(current_user, state, answers)
    except FORM_ERRORS as error:
        if "unanswered" in error.details:  # not counted: the same attempt again, answers kept
            attempt = db.session.get(QuizAttempt, attempt_id)
            return _render_quiz(
                attempt.quiz.module.course,
                attempt.quiz,
                attempt,
                chosen=answers,
                unanswered=error.details["unanswered"],
                message=error.message,
                status=400,
            )
        refuse(None, error)  # submitted already, or answers not in this attempt
        return redirect(url_for("learning.course", slug=state.course_slug))
    db.session.commit()
    return redirect(url_for("learning.attempt", attempt_id=attempt_id))


@bp.route("/attempts/<int:attempt_id>")
@login_required
def attempt(attempt_id: int):
    # Everything the result page touches, in five queries instead of a few per question.
    attempt = get_or_404(
        QuizAttempt,
        attempt_id,
        options=[
            joinedload(QuizAttempt.quiz).joinedload(Quiz.module).joinedload(CourseModule.course),
            selectinload(QuizAttempt.questions).selectinload(AttemptQuestion.question).selectinload(Question.options),
            selectinload(QuizAttempt.questions).selectinload(AttemptQuestion.choices),
        ],
    )
    operations.check_own_attempt(current_user, attempt)
    course = attempt.quiz.module.course
    if attempt.submitted_at is None:
        return redirect(url_for("learning.quiz", slug=course.slug, module_key=attempt.quiz.module.key))
    chosen = {asked.question_id: {choice.option_id for choice in asked.choices} for asked in attempt.questions}
    return render_template(
        "learning/result.html",
        course=course,
        attempt=attempt,
        options=_options_in_order(attempt),
        chosen=chosen,
        review=operations.attempt_review(current_user, attempt),
        attempts_left=operations.attempts_left(current_user, attempt.quiz),
        out_of_attempts=operations.out_of_attempts(current_user, attempt.quiz),
    )
