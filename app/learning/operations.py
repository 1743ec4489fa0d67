"""What learners do: enrol, read lessons, take quizzes, complete modules and courses.

The pages and the API find a course, lesson or quiz here, so both refuse the same ones (unknown
or retired: NotFound).
"""

from __future__ import annotations

import random
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from flask_babel import gettext as _
from sqlalchemy import JSON, bindparam, func, select, text
from sqlalchemy.exc import IntegrityError

from app import authz
from app.audit.operations import record
from app.auth.models import User
from app.db import LOCAL_TZ, MAX_ID, UTCDateTime, utcnow
from app.exceptions import Conflict, Invalid, NotAllowed, NotFound
from app.extensions import db
from app.learning.models import (
    AttemptChoice,
    AttemptQuestion,
    Certificate,
    Course,
    CourseModule,
    Enrollment,
    Lesson,
    LessonProgress,
    ModuleCompletion,
    Quiz,
    QuizAttempt,
)
from app.learning.outline import CONTENT_ID, QuizKey
from app.learning.outline import quiz_key as outline_quiz_key
from app.reports import summaries


def active_courses(*, audience: str | None = None, language: str | None = None) -> list[Course]:
    query = select(Course).where(Course.retired_at.is_(None)).order_by(Course.audience, Course.id)
    if audience:
        query = query.where(Course.audience == audience)
    courses = list(db.session.scalars(query))
    if language:
        courses = [course for course in courses if language in (course.languages or [])]
    return courses


def get_course(slug: str) -> Course | None:
    """The active course with `slug`. Anything that is not a slug (outline.CONTENT_ID) names
    no course, and is not sent to the database (PostgreSQL refuses a NUL byte in a query)."""
    if not CONTENT_ID.fullmatch(slug):
        return None
    return db.session.scalar(select(Course).where(Course.slug == slug, Course.retired_at.is_(None)))


# --- what learners may open ---------------------------------------------------------------
# A lesson or quiz is open while it, its module and its course are active.


def require_course(slug: str) -> Course:
    """The active course with `slug`. Raises NotFound for an unknown or retired one."""
    course = get_course(slug)
    if course is None:
        raise NotFound(_("No course has the name %(slug)s.", slug=slug[:80]))
    return course


def _open_lesson(lesson: Lesson | None) -> Lesson:
    if lesson is None or lesson.retired_at is not None or lesson.course.retired_at is not None:
        raise NotFound(_("No lesson has this id."))
    return lesson


def require_lesson(lesson_id: int) -> Lesson:
    """The open lesson with this id. Raises NotFound for an unknown or retired one."""
    return _open_lesson(db.session.get(Lesson, lesson_id) if 0 < lesson_id <= MAX_ID else None)


def require_course_lesson(course: Course, key: str) -> Lesson:
    """The open lesson `key` of `course`. Raises NotFound for an unknown or retired one."""
    return _open_lesson(db.session.scalar(select(Lesson).where(Lesson.course_id == course.id, Lesson.key == key)))


def _open_quiz(quiz: Quiz | None) -> Quiz:
    if (
        quiz is None
        or quiz.retired_at is not None
        or quiz.module.retired_at is not None
        or quiz.module.course.retired_at is not None
    ):
        raise NotFound(_("No quiz has this id."))
    return quiz


def require_quiz(quiz_id: int) -> Quiz:
    """The open quiz with this id. Raises NotFound for an unknown or retired one."""
    return _open_quiz(db.session.get(Quiz, quiz_id) if 0 < quiz_id <= MAX_ID else None)


def require_module_quiz(course: Course, module_key: str) -> Quiz:
    """The open quiz of module `module_key` of `course`. Raises NotFound when the module is
    unknown or retired, or has no open quiz."""
    module = next((module for module in course.modules if module.key == module_key), None)
    return _open_quiz(module.quiz if module is not None else None)


def get_enrollment(user: User, course: Course) -> Enrollment | None:
    return db.session.scalar(select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == course.id))


def enroll(user: User, course: Course) -> tuple[Enrollment, bool]:
    """Enrol `user` (idempotent). Returns the enrolment and whether it is new."""
    enrollment = get_enrollment(user, course)
    if enrollment is not None:
        return enrollment, False
    enrollment = Enrollment(user_id=user.id, course_id=course.id)
    try:
        with db.session.begin_nested():
            db.session.add(enrollment)
    except IntegrityError:  # enrolled by a parallel request a moment ago
        return get_enrollment(user, course), False
    summaries.on_enrolled(user, enrollment)
    return enrollment, True


def mark_lesson_read(user: User, lesson: Lesson, *, mode: str = "self", at: datetime | None = None) -> bool:
    """Record that `user` read `lesson` (idempotent; an earlier record is kept). Enrols the user,
    and completes the module and course when this was the last step. Returns True if new."""
    if lesson.retired_at is not None:
        raise Invalid(_("This lesson is no longer part of the course."))
    enroll(user, lesson.course)
    existing = db.session.scalar(
        select(LessonProgress).where(LessonProgress.user_id == user.id, LessonProgress.lesson_id == lesson.id)
    )
    if existing is not None:
        return False
    try:
        with db.session.begin_nested():
            db.session.add(LessonProgress(user_id=user.id, lesson_id=lesson.id, mode=mode, read_at=at or utcnow()))
    except IntegrityError:
        return False
    update_completion(user, lesson.module, mode=mode)
    return True


# --- completion ---------------------------------------------------------------------------


def _read_lesson_ids(user: User, course: Course) -> dict[int, str]:
    rows = db.session.execute(
        select(LessonProgress.lesson_id, LessonProgress.mode)
        .join(Lesson, Lesson.id == LessonProgress.lesson_id)
        .where(LessonProgress.user_id == user.id, Lesson.course_id == course.id)
    )
    return dict(rows.all())


def _passed_quiz_ids(user: User) -> set[int]:
    return set(
        db.session.scalars(
            select(QuizAttempt.quiz_id).where(QuizAttempt.user_id == user.id, QuizAttempt.passed.is_(True))
        )
    )


def _combined_mode(modes) -> str:
    modes = set(modes)
    if not modes or modes == {"self"}:
        return "self"
    return "assisted" if "assisted" in modes else "in_person"


def update_completion(user: User, module: CourseModule, *, mode: str = "self", at: datetime | None = None) -> None:
    """Complete `module` for `user` when its lessons are read and its quiz passed, then the course
    when all its modules are complete. Completions are kept once recorded (a later course edit
    does not take them back)."""
    done = db.session.scalar(
        select(ModuleCompletion).where(ModuleCompletion.user_id == user.id, ModuleCompletion.module_id == module.id)
    )
    if done is None:
        read = _read_lesson_ids(user, module.course)
        lessons_done = all(lesson.id in read for lesson in module.active_lessons)
        quiz = module.active_quiz
        quiz_done = quiz is None or quiz.id in _passed_quiz_ids(user)
        if not (lessons_done and quiz_done):
            return
        lesson_modes = [read[lesson.id] for lesson in module.active_lessons]
        db.session.add(
            ModuleCompletion(
                user_id=user.id,
                module_id=module.id,
                mode=_combined_mode([*lesson_modes, mode]),
                completed_at=at or utcnow(),
            )
        )
        db.session.flush()
    _update_course_completion(user, module.course, at=at)


def credit_module(user: User, module: CourseModule, *, mode: str, at: datetime | None = None) -> None:
    """Credit a whole module as completed in an in-person class or with help (no quiz needed:
    the trainer saw the learner do it). Lessons not yet read are marked with the same mode."""
    enroll(user, module.course)
    read = _read_lesson_ids(user, module.course)
    for lesson in module.active_lessons:
        if lesson.id not in read:
            db.session.add(LessonProgress(user_id=user.id, lesson_id=lesson.id, mode=mode, read_at=at or utcnow()))
    existing = db.session.scalar(
        select(ModuleCompletion).where(ModuleCompletion.user_id == user.id, ModuleCompletion.module_id == module.id)
    )
    if existing is None:
        db.session.add(ModuleCompletion(user_id=user.id, module_id=module.id, mode=mode, completed_at=at or utcnow()))
    db.session.flush()
    _update_course_completion(user, module.course, at=at)


#: How a course must have been completed to earn the certificate: by the learner's own study, or
#: in a class where the trainer saw them do it. Completion with help (credited from milestones a
#: team member recorded) is shown as such and never earns it: help is not a certificate.
CERTIFICATE_MODES = ("self", "in_person")


def _update_course_completion(user: User, course: Course, *, at: datetime | None = None) -> None:
    enrollment, _new = enroll(user, course)
    if enrollment.completed_at is not None:
        return
    completions = dict(
        db.session.execute(
            select(ModuleCompletion.module_id, ModuleCompletion.mode).where(
                ModuleCompletion.user_id == user.id,
                ModuleCompletion.module_id.in_([m.id for m in course.active_modules]),
            )
        ).all()
    )
    if course.active_modules and all(module.id in completions for module in course.active_modules):
        enrollment.completed_at = at or utcnow()
        enrollment.completion_mode = _combined_mode(completions.values())
        db.session.flush()
        summaries.on_course_completed(user, enrollment)
        if enrollment.completion_mode in CERTIFICATE_MODES:
            issue_certificate(user, course, enrollment)


def issue_certificate(user: User, course: Course, enrollment: Enrollment) -> Certificate:
    existing = db.session.scalar(
        select(Certificate).where(Certificate.user_id == user.id, Certificate.course_id == course.id)
    )
    if existing is not None:
        return existing
    certificate = Certificate(
        code=new_certificate_code(),
        user_id=user.id,
        course_id=course.id,
        completed_on=enrollment.completed_at.astimezone(LOCAL_TZ).date(),
    )
    db.session.add(certificate)
    db.session.flush()
    return certificate


def valid_certificate(user: User, course: Course) -> Certificate | None:
    """`user`'s certificate for `course`, unless it was revoked."""
    return db.session.scalar(
        select(Certificate).where(
            Certificate.user_id == user.id,
            Certificate.course_id == course.id,
            Certificate.revoked_at.is_(None),
        )
    )


#: What a certificate code may look like (see new_certificate_code), checked before any query:
#: PostgreSQL refuses some characters (a NUL byte) in a query, and they cannot name a certificate.
CERTIFICATE_CODE = re.compile(r"[A-Z0-9-]{1,32}")


def find_valid_certificate(code: str) -> Certificate | None:
    """The certificate printed with `code` (as typed: spaces, dashes and letter case do not
    matter), or None when no certificate has it or it was revoked."""
    letters = "".join(ch for ch in code.upper() if ch.isalnum())
    code = f"{letters[:4]}-{letters[4:8]}-{letters[8:]}"
    if not CERTIFICATE_CODE.fullmatch(code):
        return None
    certificate = db.session.scalar(select(Certificate).where(Certificate.code == code))
    if certificate is None or certificate.revoked_at is not None:
        return None
    return certificate


#: What may be typed for a code: letters, digits, spaces and dashes, no more than this many.
_TYPED_CODE = re.compile(r"[A-Za-z0-9\s-]{1,40}")
_CODE_SEPARATORS = re.compile(r"[\s-]")


def read_certificate_code(typed: str) -> str:
    """The code as printed (ABCD-EFGH-JKMN) from what someone typed off a certificate: spaces,
    dashes and letter case do not matter.

    Raises Invalid when the text holds anything else, or not 12 letters and digits.
    """
    typed = typed.strip()
    letters = _CODE_SEPARATORS.sub("", typed).upper() if _TYPED_CODE.fullmatch(typed) else ""
    if len(letters) != 12:
        raise Invalid(
            _("A certificate code has 12 letters and digits in three groups, like ABCD-EFGH-JKMN."), field="code"
        )
    return f"{letters[:4]}-{letters[4:8]}-{letters[8:]}"


def new_certificate_code() -> str:
    """12 characters in three groups of four (e.g. ABCD-EFGH-JKMN), easy to read aloud and type."""
    alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


@dataclass
class ModuleProgress:
    module: CourseModule
    lessons_read: set[int]
    quiz_passed: bool
    completed: ModuleCompletion | None


@dataclass
class CourseProgress:
    course: Course
    enrollment: Enrollment | None
    modules: list[ModuleProgress]
    percent: int
    certificate: Certificate | None

    @property
    def status(self) -> str:
        if self.enrollment is None:
            return "not_started"
        return "completed" if self.enrollment.completed_at else "in_progress"


def course_progress(user: User, course: Course) -> CourseProgress:
    enrollment = get_enrollment(user, course)
    read = _read_lesson_ids(user, course)
    passed = _passed_quiz_ids(user)
    completions = {
        c.module_id: c for c in db.session.scalars(select(ModuleCompletion).where(ModuleCompletion.user_id == user.id))
    }
    modules, steps, done = [], 0, 0
    for module in course.active_modules:
        quiz = module.active_quiz
        lessons_read = {lesson.id for lesson in module.active_lessons if lesson.id in read}
        quiz_passed = quiz is not None and quiz.id in passed
        completion = completions.get(module.id)
        steps += len(module.active_lessons) + (1 if quiz else 0)
        if completion is not None:
            done += len(module.active_lessons) + (1 if quiz else 0)
        else:
            done += len(lessons_read) + (1 if quiz_passed else 0)
        modules.append(ModuleProgress(module, lessons_read, quiz_passed, completion))
    if enrollment is not None and enrollment.completed_at is not None:
        percent = 100
    else:
        percent = int(100 * done / steps) if steps else 0
    return CourseProgress(course, enrollment, modules, percent, valid_certificate(user, course))


def learner_courses(user: User) -> list[CourseProgress]:
    """The courses `user` is enrolled in, with progress (for the progress page and the API)."""
    enrollments = db.session.scalars(
        select(Enrollment).join(Course).where(Enrollment.user_id == user.id).order_by(Enrollment.enrolled_at.desc())
    )
    return [course_progress(user, enrollment.course) for enrollment in enrollments]


# --- quizzes ------------------------------------------------------------------------------


def submitted_attempts(user: User, quiz: Quiz) -> list[QuizAttempt]:
    return list(
        db.session.scalars(
            select(QuizAttempt)
            .where(
                QuizAttempt.user_id == user.id,
                QuizAttempt.quiz_id == quiz.id,
                QuizAttempt.submitted_at.is_not(None),
            )
            .order_by(QuizAttempt.number)
        )
    )


def attempts_left(user: User, quiz: Quiz) -> int | None:
    """None when unlimited. Attempts a manager reset (reset_attempts) no longer count."""
    if not quiz.max_attempts:
        return None
    counted = [attempt for attempt in submitted_attempts(user, quiz) if attempt.reset_at is None]
    return max(quiz.max_attempts - len(counted), 0)


def out_of_attempts(user: User, quiz: Quiz) -> bool:
    """Has `user` used every attempt at `quiz` without passing it? (Then they need help, or a
    manager who gives the attempts back.)"""
    return attempts_left(user, quiz) == 0 and quiz.id not in _passed_quiz_ids(user)


def reset_attempts(actor: User, learner: User, quiz: Quiz) -> int:
    """Give `learner` their attempts at `quiz` back (their attempts are kept, marked reset, and
    no longer count against the limit). Audited. Returns the number of attempts reset.

    Raises NotAllowed unless `actor` may reset the learner's attempts (authz.may_reset_attempts),
    Conflict when the learner passed the quiz or still has attempts left.
    """
    if not authz.may_reset_attempts(actor, learner):
        raise NotAllowed(_("You may not give this person new quiz attempts."))
    if quiz.id in _passed_quiz_ids(learner):
        raise Conflict(_("%(name)s has already passed this quiz.", name=learner.full_name))
    if attempts_left(learner, quiz) != 0:
        raise Conflict(_("%(name)s still has attempts left at this quiz.", name=learner.full_name))
    now = utcnow()
    attempts = [attempt for attempt in submitted_attempts(learner, quiz) if attempt.reset_at is None]
    for attempt in attempts:
        attempt.reset_at = now
    db.session.flush()
    record(
        "quiz_attempts_reset",
        actor=actor,
        target=learner,
        details={"course": quiz.module.course.slug, "module": quiz.module.key, "attempts": len(attempts)},
    )
    return len(attempts)


def current_attempt(user: User, quiz: Quiz) -> QuizAttempt | None:
    """The learner's opened but not yet submitted attempt at `quiz`, if any."""
    return db.session.scalar(
        select(QuizAttempt).where(
            QuizAttempt.user_id == user.id, QuizAttempt.quiz_id == quiz.id, QuizAttempt.submitted_at.is_(None)
        )
    )


def open_attempt(user: User, quiz: Quiz) -> QuizAttempt:
    """The learner's unsubmitted attempt, or a new one with its own shuffled order.

    Raises Conflict when no attempts are left.
    """
    if quiz.retired_at is not None:
        raise Invalid(_("This quiz is no longer part of the course."))
    current = current_attempt(user, quiz)
    if current is not None:
        return current
    if attempts_left(user, quiz) == 0:
        raise Conflict(_("You have used all your attempts at this quiz."))
    enroll(user, quiz.module.course)
    number = (
        db.session.scalar(
            select(func.max(QuizAttempt.number)).where(QuizAttempt.user_id == user.id, QuizAttempt.quiz_id == quiz.id)
        )
        or 0
    ) + 1
    seed = secrets.randbits(31)
    shuffle = random.Random(seed)
    questions = list(quiz.active_questions)
    shuffle.shuffle(questions)
    attempt = QuizAttempt(user_id=user.id, quiz_id=quiz.id, number=number, seed=seed, max_score=len(questions))
    for position, question in enumerate(questions):
        option_ids = [option.id for option in question.active_options]
        if question.kind != "true_false":
            shuffle.shuffle(option_ids)
        attempt.questions.append(AttemptQuestion(question_id=question.id, position=position, option_order=option_ids))
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except IntegrityError:  # a parallel request opened one first
        return open_attempt(user, quiz)
    return attempt


def check_own_attempt(user: User, attempt: QuizAttempt) -> None:
    """Raises NotAllowed unless `attempt` is `user`'s: nobody sees or answers another's quiz."""
    if attempt.user_id != user.id:
        raise NotAllowed(_("This is not your quiz attempt."))


def recent_attempts(user: User, limit: int = 50) -> list[QuizAttempt]:
    """The learner's submitted attempts, latest first."""
    return list(
        db.session.scalars(
            select(QuizAttempt)
            .where(QuizAttempt.user_id == user.id, QuizAttempt.submitted_at.is_not(None))
            .order_by(QuizAttempt.submitted_at.desc())
            .limit(limit)
        )
    )


def grade_answer(correct_ids: set[int], chosen_ids: set[int]) -> bool:
    """A question counts when exactly the correct options are chosen (all of them for multiple
    choice, none of the wrong ones)."""
    return bool(correct_ids) and chosen_ids == correct_ids


def _grade(
    questions: dict[int, tuple[str, frozenset[int] | set[int]]],
    asked: list[tuple[int, list[int]]],
    answers: dict[int, set[int]],
) -> tuple[int, set[int]]:
    """Check `answers` (question id -> chosen option ids) against the questions `asked` (question
    id and option ids shown, in the order asked) and grade them with `questions` (question id ->
    kind and right options). Returns the score and the ids of the questions answered right.

    Raises Invalid for answers that name questions or options not asked, or more than one option
    of a single-choice question, and Invalid (field "answers", details {"unanswered": [question
    ids]}) when a question is left unanswered.
    """
    asked_ids = {question_id for question_id, _order in asked}
    if set(answers) - asked_ids:
        raise Invalid(_("The answers name questions that are not in this quiz."), field="answers")
    for question_id, option_order in asked:
        chosen = answers.get(question_id, set())
        if not set(chosen) <= set(option_order):
            raise Invalid(_("The answers name options that are not in this question."), field="answers")
        if questions[question_id][0] in ("single", "true_false") and len(chosen) > 1:
            raise Invalid(_("Choose only one answer for a single-choice question."), field="answers")
    unanswered = [question_id for question_id, _order in asked if not answers.get(question_id)]
    if unanswered:
        if len(unanswered) == len(asked):
            message = _("You have not answered any question yet. An empty quiz does not count as an attempt.")
        else:
            message = _(
                "%(n)d of %(total)d questions are not answered yet. Answer them and submit again: "
                "this did not count as an attempt.",
                n=len(unanswered),
                total=len(asked),
            )
        raise Invalid(message, field="answers", details={"unanswered": unanswered})
    right = {
        question_id
        for question_id, _order in asked
        if grade_answer(set(questions[question_id][1]), set(answers[question_id]))
    }
    return len(right), right


def _is_pass(score: int, max_score: int, pass_mark: int) -> bool:
    return score * 100 >= pass_mark * max_score


def submit_attempt(user: User, attempt: QuizAttempt, answers: dict[int, set[int]]) -> QuizAttempt:
    """Grade `answers` (question id -> chosen option ids) on the server and store them.

    Raises NotAllowed for someone else's attempt, Conflict if already submitted, Invalid for
    answers that name questions or options not in this attempt, and Invalid (field "answers",
    details {"unanswered": [question ids]}) when a question is left unanswered: the attempt
    stays open and does not count. (The quiz page and the API submit with submit_answers, the
    same rules in fewer statements.)
    """
    check_own_attempt(user, attempt)
    if attempt.submitted_at is not None:
        raise Conflict(_("This attempt has already been submitted."))
    questions = {aq.question_id: (aq.question.kind, aq.question.correct_option_ids) for aq in attempt.questions}
    score, right = _grade(questions, [(aq.question_id, aq.option_order) for aq in attempt.questions], answers)
    for asked_question in attempt.questions:
        asked_question.is_correct = asked_question.question_id in right
        for option_id in sorted(answers[asked_question.question_id]):
            asked_question.choices.append(AttemptChoice(option_id=option_id))
    attempt.score = score
    attempt.passed = _is_pass(score, attempt.max_score, attempt.quiz.pass_mark)
    attempt.submitted_at = utcnow()
    db.session.flush()
    if attempt.passed:
        update_completion(user, attempt.quiz.module)
    return attempt


# --- the quiz page's and the API's submission: the hot path -------------------------------
# On the day a province tells every cadre to finish a course, submissions are what the servers
# do most. A submission reads the attempt and the questions asked in one
# statement, takes the right options from a per-process cache (outline.quiz_key, loaded again
# after a course sync), and writes the grade in three statements; a pass adds one to see whether
# the module is complete, and the usual completion path when it is.


@dataclass(frozen=True)
class SubmissionState:
    """An attempt as a submission needs it (see submission_state)."""

    attempt_id: int
    user_id: int
    quiz_id: int
    submitted: bool
    max_score: int
    course_slug: str
    content_version: tuple
    #: (attempt question id, question id, option ids shown), in the order asked.
    asked: tuple[tuple[int, int, list[int]], ...]

    @property
    def question_ids(self) -> list[int]:
        return [question_id for _asked_id, question_id, _order in self.asked]


_SUBMISSION_STATE = text(
    """
    SELECT quiz_attempts.user_id, quiz_attempts.quiz_id, quiz_attempts.submitted_at IS NOT NULL AS submitted,
           quiz_attempts.max_score, courses.slug, courses.content_hash, courses.synced_at,
           attempt_questions.id AS asked_id, attempt_questions.question_id, attempt_questions.option_order
    FROM quiz_attempts
    JOIN quizzes ON quizzes.id = quiz_attempts.quiz_id
    JOIN course_modules ON course_modules.id = quizzes.module_id
    JOIN courses ON courses.id = course_modules.course_id
    LEFT OUTER JOIN attempt_questions ON attempt_questions.attempt_id = quiz_attempts.id
    WHERE quiz_attempts.id = :attempt_id
    ORDER BY attempt_questions.position
    """
).columns(option_order=JSON)

_MARK_SUBMITTED = text(
    "UPDATE quiz_attempts SET score = :score, passed = :passed, submitted_at = :now "
    "WHERE id = :attempt_id AND submitted_at IS NULL"
).bindparams(bindparam("now", type_=UTCDateTime()))

_MARK_ANSWERS = text(
    "UPDATE attempt_questions SET is_correct = (question_id IN :right) WHERE attempt_id = :attempt_id"
).bindparams(bindparam("right", expanding=True))

_MODULE_STATE = text(
    """
    SELECT EXISTS (SELECT 1 FROM module_completions WHERE user_id = :user_id AND module_id = :module_id),
           (SELECT count(*) FROM lesson_progress WHERE user_id = :user_id AND lesson_id IN :lesson_ids)
    """
).bindparams(bindparam("lesson_ids", expanding=True))


@lru_cache(maxsize=64)
def _insert_choices(rows: int):
    """One INSERT of `rows` chosen options."""
    values = ", ".join(f"(:a{n}, :o{n})" for n in range(rows))
    return text(f"INSERT INTO attempt_choices (attempt_question_id, option_id) VALUES {values}")  # noqa: S608


@lru_cache(maxsize=64)
def _grade_in_one_statement(rows: int):
    """PostgreSQL: _MARK_SUBMITTED, _MARK_ANSWERS and the INSERT of `rows` chosen options in one
    statement, the last two only when the first marked the attempt. Returns how many attempts it
    marked (0 or 1)."""
    values = ", ".join(f"(:a{n}, :o{n})" for n in range(rows))
    return text(
        f"""
        WITH marked AS (
            UPDATE quiz_attempts SET score = :score, passed = :passed, submitted_at = :now
            WHERE id = :attempt_id AND submitted_at IS NULL
            RETURNING id
        ), answered AS (
            UPDATE attempt_questions SET is_correct = (question_id = ANY(:right))
            WHERE attempt_id IN (SELECT id FROM marked)
        ), chosen AS (
            INSERT INTO attempt_choices (attempt_question_id, option_id)
            SELECT chosen.asked, chosen.option FROM (VALUES {values}) AS chosen (asked, option)
            WHERE EXISTS (SELECT 1 FROM marked)
        )
        SELECT count(*) FROM marked
        """  # noqa: S608 -- only placeholders are put in
    ).bindparams(bindparam("now", type_=UTCDateTime()))


def submission_state(user: User, attempt_id: int) -> SubmissionState | None:
    """The attempt `attempt_id` with the questions it asks, in one statement; None when there is
    no such attempt.

    Raises NotAllowed for someone else's attempt.
    """
    if not 0 < attempt_id <= MAX_ID:
        return None
    # The session's connection, in its transaction: plain SQL needs none of the ORM's work.
    rows = db.session.connection().execute(_SUBMISSION_STATE, {"attempt_id": attempt_id}).all()
    if not rows:
        return None
    first = rows[0]
    if first.user_id != user.id:
        raise NotAllowed(_("This is not your quiz attempt."))
    return SubmissionState(
        attempt_id=attempt_id,
        user_id=first.user_id,
        quiz_id=first.quiz_id,
        submitted=bool(first.submitted),
        max_score=first.max_score,
        course_slug=first.slug,
        content_version=(first.content_hash, first.synced_at),
        asked=tuple((row.asked_id, row.question_id, row.option_order) for row in rows if row.asked_id is not None),
    )


def submit_answers(user: User, state: SubmissionState, answers: dict[int, set[int]]) -> bool:
    """Grade `answers` to the attempt in `state` (see submission_state) and store them: the same
    rules and errors as submit_attempt. Returns whether the attempt passed.

    The attempt is marked submitted only if it still is not (one UPDATE: of two submissions at
    the same moment, the second waits for the first and finds it submitted: Conflict)."""
    if state.user_id != user.id:
        raise NotAllowed(_("This is not your quiz attempt."))
    if state.submitted:
        raise Conflict(_("This attempt has already been submitted."))
    key = outline_quiz_key(state.quiz_id, state.content_version)
    score, right = _grade(key.questions, [(question_id, order) for _id, question_id, order in state.asked], answers)
    passed = _is_pass(score, state.max_score, key.pass_mark)
    connection = db.session.connection()
    choices = [
        (asked_id, option_id)
        for asked_id, question_id, _order in state.asked
        for option_id in sorted(answers[question_id])
    ]
    parameters = {"score": score, "passed": passed, "now": utcnow(), "attempt_id": state.attempt_id}
    for n, (asked_id, option_id) in enumerate(choices):
        parameters[f"a{n}"], parameters[f"o{n}"] = asked_id, option_id
    if choices and connection.dialect.name == "postgresql":
        # One round trip instead of three (PostgreSQL writes in a WITH; SQLite does not).
        parameters["right"] = sorted(right)
        marked = connection.execute(_grade_in_one_statement(len(choices)), parameters).scalar_one()
    else:
        marked = connection.execute(_MARK_SUBMITTED, parameters).rowcount
        if marked == 1 and choices:
            # 0 is no question's id: the list is never empty.
            connection.execute(_MARK_ANSWERS, {"right": [0, *sorted(right)], "attempt_id": state.attempt_id})
            connection.execute(_insert_choices(len(choices)), parameters)
    if marked != 1:
        raise Conflict(_("This attempt has already been submitted."))
    if passed:
        _complete_after_pass(user, key)
    return passed


def _complete_after_pass(user: User, key: QuizKey) -> None:
    """update_completion after a pass, asked first in one statement whether there is anything to
    do: nothing while the module is not complete and some of its lessons are still unread."""
    if key.lesson_ids:
        done, read = (
            db.session.connection()
            .execute(
                _MODULE_STATE, {"user_id": user.id, "module_id": key.module_id, "lesson_ids": list(key.lesson_ids)}
            )
            .one()
        )
        if not done and read < len(key.lesson_ids):
            return
    update_completion(user, db.session.get(CourseModule, key.module_id))


def attempt_review(user: User, attempt: QuizAttempt) -> str:
    """What `user` may see of their graded `attempt` (one of QUIZ_REVIEWS): everything once the
    quiz is passed or no attempts are left; before that, what the quiz's review setting allows
    ("mistakes": which answers were wrong and the explanations, never the right options)."""
    quiz = attempt.quiz
    if quiz.review == "full" or out_of_attempts(user, quiz) or quiz.id in _passed_quiz_ids(user):
        return "full"
    return quiz.review
