"""People and learning for the synthetic data generator: learners (tech-team members, cadres,
residents) with their enrolments, module completions, certificates, lesson progress and quiz
attempts; then the managers, the communes' tech teams with their weekly hours, and course
assignments. Rows are built here and written through the bulk writer.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select

from app.auth.models import User
from app.demo.bulk_writer import BulkWriter
from app.demo.simulation import (
    BATCH,
    DAY,
    SKILL_WEIGHTS,
    QuizShape,
    Simulation,
    local_date,
    utc,
)
from app.extensions import db
from app.visits.models import Team, TeamMember

CADRE_SHARE = 0.08
USER_COLUMNS = (
    "id", "username", "password_hash", "full_name", "email", "phone", "birth_year", "role", "unit_id", "locale",
    "active", "must_change_password", "session_epoch", "created_at", "last_login_at",
)  # fmt: skip
ENROLLMENT_COLUMNS = ("user_id", "course_id", "enrolled_at", "completed_at", "completion_mode")
CERTIFICATE_COLUMNS = ("code", "user_id", "course_id", "issued_at", "completed_on")
ATTEMPT_COLUMNS = (
    "id", "user_id", "quiz_id", "number", "seed", "started_at", "submitted_at", "score", "max_score", "passed",
)  # fmt: skip
ASSIGNMENT_COLUMNS = ("course_id", "unit_id", "role", "due_on", "created_by_id", "created_at", "note")


@dataclass
class People:
    """Who the learner step placed where, as the later steps need it."""

    #: commune index -> its tech-team members: (user id, skills)
    members_of: dict[int, list[tuple[int, list[str]]]] = field(default_factory=lambda: defaultdict(list))
    #: village id -> the residents' user ids
    residents_in: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    #: commune index -> the id of the team there before this run (its members are in members_of)
    existing_teams: dict[int, int] = field(default_factory=dict)
    #: members of those teams before this run (they keep their hours)
    existing_members: set[int] = field(default_factory=set)


def add_learners(sim: Simulation, n_learners: int) -> People:
    """`n_learners` learners: tech-team members spread over the communes by population, cadres and
    residents, each with their enrolments, completions, certificates and (for a sample) lessons
    and quiz attempts."""
    rng = sim.rng
    n_members = min(n_learners, max(3, round(n_learners * sim.settings.tech_team_share)))
    # Members per commune by population (largest remainder), each living in a village there.
    total = sim.commune_weights[-1]
    populations = [b - a for a, b in zip([0, *sim.commune_weights], sim.commune_weights, strict=False)]
    quotas = [n_members * p / total for p in populations]
    seats = [int(q) for q in quotas]
    by_remainder = sorted(range(len(quotas)), key=lambda i: quotas[i] - seats[i], reverse=True)
    for index in by_remainder[: n_members - sum(seats)]:
        seats[index] += 1
    fixed = []
    for index, count in enumerate(seats):
        villages = sim.villages_of[index]
        for _ in range(count):
            fixed.append(("tech_team", sim.villages[rng.choice(villages)][0], index))
    people = People()
    _existing_teams(sim, people)
    first_number = _first_username_number(sim.settings.username_prefix)
    done = 0
    while done < n_learners:
        count = min(BATCH, n_learners - done)
        _learner_batch(sim, people, count, fixed[done : done + count], first_number + done)
        done += count
        sim.log(f"learners {done:,}/{n_learners:,}")
    return people


def _first_username_number(prefix: str) -> int:
    last = db.session.scalar(
        select(func.max(User.username)).where(User.username.between(f"{prefix}0000000", f"{prefix}9999999"))
    )
    return int(last[len(prefix) :]) + 1 if last else 1


def _existing_teams(sim: Simulation, people: People) -> None:
    """The teams already in the communes (one per commune is reused) and their active members,
    who take visits alongside the generated ones."""
    index_of = {commune.id: index for index, commune in enumerate(sim.communes)}
    rows = db.session.execute(
        select(Team.id, Team.unit_id, TeamMember.user_id, TeamMember.skills)
        .join(TeamMember, TeamMember.team_id == Team.id)
        .join(User, User.id == TeamMember.user_id)
        .where(Team.unit_id.in_(list(index_of)), User.active.is_(True))
        .order_by(Team.id, TeamMember.id)
    ).all()
    for team_id, unit_id, user_id, skills in rows:
        index = index_of[unit_id]
        people.existing_teams.setdefault(index, team_id)
        people.existing_members.add(user_id)
        if all(user_id != member for member, _skills in people.members_of[index]):
            people.members_of[index].append((user_id, list(skills or [])))


def _learner_batch(sim: Simulation, people: People, count: int, fixed: list, first_number: int) -> None:
    """`count` learners and their learning, written together; the first ones take the `fixed`
    (role, village, commune index) places of tech-team members."""
    rng = sim.rng
    rnd = rng.random
    writer = sim.writer
    now = sim.now
    uid0 = writer.reserve("users", count)
    users, enrollments, completions, lessons, certificates = [], [], [], [], []
    attempts: list[list] = []
    asked: list[list] = []
    chosen: list[list] = []
    village_weights, villages = sim.village_weights, sim.villages
    village_total = village_weights[-1]
    commune_weights, communes = sim.commune_weights, sim.communes
    commune_total = commune_weights[-1]
    role_courses, course_modules = sim.role_courses, sim.course_modules
    residents_in = people.residents_in
    password_hash = sim.password_hash
    code_alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
    lesson_sample, quiz_sample = sim.settings.lesson_sample, sim.settings.quiz_sample
    prefix = sim.settings.username_prefix
    for i in range(count):
        uid = uid0 + i
        if i < len(fixed):
            role, unit_id, commune_index = fixed[i]
            people.members_of[commune_index].append((uid, rng.sample(list(SKILL_WEIGHTS), rng.randint(2, 6))))
        elif rnd() < CADRE_SHARE:
            role = "cadre"
            if rnd() < 0.03:
                unit_id = sim.province_id
            else:
                unit_id = communes[bisect_right(commune_weights, rnd() * commune_total)].id
        else:
            role = "resident"
            unit_id = villages[bisect_right(village_weights, rnd() * village_total)][0]
            residents_in[unit_id].append(uid)
        first = sim.random_moment()
        last = first
        # Enrolments: 1–3 courses, the role's own course first.
        required, optional = role_courses[role]
        r = rnd()
        wanted = 1 if r < 0.5 else 2 if r < 0.83 else 3
        picked = list(required[:wanted])
        pool = [c for c in optional if c not in picked]
        while len(picked) < wanted and pool:
            picked.append(pool.pop(int(rnd() * len(pool))))
        finish_chance = 0.75 if role == "cadre" else 0.9 if role == "tech_team" else 0.5
        sample_lessons = rnd() < lesson_sample
        sample_quiz = rnd() < quiz_sample
        for j, course_id in enumerate(picked):
            enrolled = first if j == 0 else first + rnd() * min(90 * DAY, now - first)
            completed = None
            mode = None
            if rnd() < finish_chance:
                completed = enrolled + max(600.0, -math.log(1.0 - rnd()) * 9 * DAY)
                if completed >= now:
                    completed = None
                else:
                    r = rnd()
                    mode = "self" if r < 0.8 or role == "tech_team" else "in_person" if r < 0.92 else "assisted"
            modules = course_modules[course_id]
            if completed is not None:
                moments = sorted(enrolled + rnd() * (completed - enrolled) for _ in range(len(modules) - 1))
                moments.append(completed)
                module_modes = [mode] * len(modules)
                last = max(last, completed)
                code = "".join(rng.choices(code_alphabet, k=12))
                certificates.append(
                    (
                        f"{code[:4]}-{code[4:8]}-{code[8:]}",
                        uid,
                        course_id,
                        utc(completed),
                        local_date(completed),
                    )
                )
            else:
                span = min(now, enrolled + 60 * DAY) - enrolled
                moments = sorted(enrolled + rnd() * span for _ in range(int(rnd() * len(modules))))
                module_modes = ["self"] * len(moments)
                if moments:
                    last = max(last, moments[-1])
            enrollments.append((uid, course_id, utc(enrolled), utc(completed) if completed else None, mode))
            previous = enrolled
            for k, moment in enumerate(moments):
                module = modules[k]
                completions.append((uid, module.id, utc(moment), module_modes[k]))
                mode_k = module_modes[k]
                if sample_lessons:
                    for lesson_id in module.lessons:
                        lessons.append((uid, lesson_id, utc(previous + rnd() * (moment - previous)), mode_k))
                quiz = module.quiz
                if sample_quiz and quiz is not None and mode_k == "self":
                    number = 1
                    if quiz.max_attempts != 1 and quiz.pass_mark > 0 and rnd() < 0.25:
                        failed_at = previous + rnd() * (moment - previous)
                        _attempt(rng, quiz, uid, number, False, failed_at, attempts, asked, chosen)
                        number = 2
                    _attempt(rng, quiz, uid, number, True, moment, attempts, asked, chosen)
                previous = moment
            if completed is None and len(moments) < len(modules):
                # Working on the next module: some lessons read, perhaps a failed quiz.
                module = modules[len(moments)]
                reading_until = min(now, previous + 30 * DAY)
                if sample_lessons and module.lessons:
                    read = int(rnd() * (len(module.lessons) + (1 if module.quiz else 0)))
                    for lesson_id in module.lessons[:read]:
                        lessons.append((uid, lesson_id, utc(previous + rnd() * (reading_until - previous)), "self"))
                quiz = module.quiz
                if sample_quiz and quiz is not None and quiz.pass_mark > 0 and rnd() < 0.4:
                    tries = 1 if quiz.max_attempts == 1 else 1 + int(rnd() * 2)
                    if quiz.max_attempts:
                        tries = min(tries, quiz.max_attempts)
                    for number in range(1, tries + 1):
                        moment = previous + rnd() * (reading_until - previous)
                        _attempt(rng, quiz, uid, number, False, moment, attempts, asked, chosen)
        active = rnd() >= 0.01
        users.append(
            (
                uid,
                f"{prefix}{first_number + i:07d}",
                password_hash,
                sim.name(),
                None,
                f"+8491{int(rnd() * 10_000_000):07d}" if rnd() < 0.6 else None,
                int(1965 + rnd() * 36) if role != "resident" else int(1945 + rnd() * 62),
                role,
                unit_id,
                None,
                active,
                False,
                0,
                utc(first - rnd() * 3 * DAY),
                utc(last) if rnd() < 0.9 else None,
            )
        )
    writer.write("users", USER_COLUMNS, users)
    writer.write_with_ids("enrollments", ENROLLMENT_COLUMNS, enrollments)
    writer.write_with_ids("module_completions", ("user_id", "module_id", "completed_at", "mode"), completions)
    writer.write_with_ids("lesson_progress", ("user_id", "lesson_id", "read_at", "mode"), lessons)
    writer.write_with_ids("certificates", CERTIFICATE_COLUMNS, certificates)
    _write_attempts(writer, attempts, asked, chosen)


def _attempt(
    rng: random.Random, quiz: QuizShape, uid: int, number: int, passed: bool, submitted: float, attempts, asked, chosen
):
    """One submitted attempt, shuffled as open_attempt() does, answered like a person."""
    seed = rng.getrandbits(31)
    shuffle = random.Random(seed)
    questions = list(quiz.questions)
    shuffle.shuffle(questions)
    orders = []
    for question in questions:
        options = list(question[2])
        if question[1] != "true_false":
            shuffle.shuffle(options)
        orders.append(options)
    right = [rng.random() < question[5] for question in questions]
    needed = math.ceil(quiz.pass_mark * len(questions) / 100)
    if passed:
        while sum(right) < needed:
            right[right.index(False)] = True
    else:
        while sum(right) >= needed:
            right[right.index(True)] = False
    attempt_index = len(attempts)
    started = submitted - rng.uniform(120, 900)
    attempts.append([uid, quiz.id, number, seed, utc(started), utc(submitted), sum(right), len(questions), passed])
    for position, question in enumerate(questions):
        question_id, kind, _options, correct, wrong, _chance = question
        asked_index = len(asked)
        asked.append([attempt_index, question_id, position, orders[position], right[position]])
        if right[position]:
            picks = correct
        elif not wrong:
            picks = []
        elif kind == "multiple":
            if len(correct) > 1 and rng.random() < 0.5:
                picks = correct[:-1]
            else:
                picks = sorted([*correct, _tempting(rng, question_id, wrong)])
        else:
            picks = [_tempting(rng, question_id, wrong)]
        for option_id in picks:
            chosen.append([asked_index, option_id])


def _tempting(rng: random.Random, question_id: int, wrong: list[int]) -> int:
    """A wrong option, with one per question chosen far more often than the others."""
    favourite = wrong[question_id % len(wrong)]
    return favourite if rng.random() < 0.6 else rng.choice(wrong)


def _write_attempts(writer: BulkWriter, attempts, asked, chosen) -> None:
    first_attempt = writer.reserve("quiz_attempts", len(attempts))
    first_asked = writer.reserve("attempt_questions", len(asked))
    writer.write(
        "quiz_attempts",
        ATTEMPT_COLUMNS,
        [(first_attempt + i, *row) for i, row in enumerate(attempts)],
    )
    writer.write(
        "attempt_questions",
        ("id", "attempt_id", "question_id", "position", "option_order", "is_correct"),
        [(first_asked + i, first_attempt + row[0], *row[1:]) for i, row in enumerate(asked)],
    )
    writer.write_with_ids(
        "attempt_choices", ("attempt_question_id", "option_id"), [(first_asked + a, o) for a, o in chosen]
    )


def add_staff(sim: Simulation, people: People) -> dict[int, int]:
    """A department manager and a commune manager per commune (where there is none yet), a team
    per commune with tech-team members and their weekly hours (a team already there takes the new
    members), and course assignments; the managers by unit id."""
    rng = sim.rng
    writer = sim.writer
    mark, prefix = sim.mark, sim.settings.username_prefix
    writer.drain()
    unit_ids = [sim.province_id, *(c.id for c in sim.communes)]
    managers: dict[int, int] = {}
    for unit_id, user_id in db.session.execute(
        select(User.unit_id, User.id)
        .where(User.unit_id.in_(unit_ids), User.role.in_(("department_manager", "commune_manager")))
        .order_by(User.id)
    ):
        managers.setdefault(unit_id, user_id)
    staff = [(f"{prefix}manager", "department_manager", sim.province_id)]
    staff += [(f"{prefix}cm_{c.code.lower()}", "commune_manager", c.id) for c in sim.communes]
    staff = [s for s in staff if s[2] not in managers]
    first = writer.reserve("users", len(staff))
    created = utc(sim.year_start - 30 * DAY)
    rows = []
    for i, (username, role, unit_id) in enumerate(staff):
        birth_year = int(1965 + rng.random() * 30)
        person = (first + i, username, sim.password_hash, sim.name(), None, None, birth_year, role, unit_id)
        rows.append((*person, None, True, False, 0, created, None))
        managers[unit_id] = first + i
    writer.write("users", USER_COLUMNS, rows)
    writer.drain()
    manager = managers.get(sim.province_id) or next(iter(managers.values()), None)

    teams, members, hours = [], [], []
    new_teams = [i for i, m in people.members_of.items() if m and i not in people.existing_teams]
    team_id = writer.reserve("teams", len(new_teams)) if new_teams else 0
    joined = 0
    for index, commune in enumerate(sim.communes):
        team = people.members_of.get(index)
        if not team:
            continue
        existing_team = people.existing_teams.get(index)
        if existing_team is None:
            place = commune.name[:1].lower() + commune.name[1:]  # "xã An Phú" inside a sentence
            teams.append((team_id, commune.id, f"Tổ công nghệ số cộng đồng {place} {mark}", created))
            this_team, team_id = team_id, team_id + 1
        else:
            this_team = existing_team
        for k, (uid, skills) in enumerate(team):
            if uid in people.existing_members:
                continue  # there before this run, with their own hours
            members.append((this_team, uid, skills, k == 0 and existing_team is None))
            joined += 1
            for weekday in rng.sample(range(7), rng.randint(2, 4)):
                start = rng.choice((8 * 60, 14 * 60, 18 * 60))
                hours.append((uid, weekday, start, start + rng.choice((120, 150, 180))))
    writer.write("teams", ("id", "unit_id", "name", "created_at"), teams)
    writer.write_with_ids("team_members", ("team_id", "user_id", "skills", "is_leader"), members)
    writer.write_with_ids("weekly_availability", ("user_id", "weekday", "start_minute", "end_minute"), hours)

    if manager is not None and sim.settings.assignments:
        today = local_date(sim.now)
        assignments = []
        cadre_courses = sim.role_courses["cadre"][0]
        for course_id in cadre_courses:
            due = today - timedelta(days=60)
            assignments.append((course_id, sim.province_id, "cadre", due, manager, created, None))
        resident_courses = sim.role_courses["resident"][1]
        for commune in rng.sample(sim.communes, max(1, len(sim.communes) // 5)) if resident_courses else ():
            due = today + timedelta(days=rng.randint(-90, 60))
            author = managers.get(commune.id, manager)
            course_id = rng.choice(resident_courses)
            assignments.append((course_id, commune.id, "resident", due, author, created, f"Giao học {mark}"))
        writer.write_with_ids("assignments", ASSIGNMENT_COLUMNS, assignments)
    sim.log(f"{len(staff)} managers, {len(teams)} new teams, {joined} members joined")
    return managers
