"""Synthetic data at province scale, for load and benchmark work (`flask demo generate`).

Everything generated is marked: usernames start with ``gen_``, people's and places' names end in
"(gen)", generated villages are flagged ``is_demo``. All generated accounts share one password
(hashed once). What is written, for N learners (V visits, by default N / 5):

- units: the real province file (data/units/bac-ninh-2025.csv) when there are no real units yet,
  and 3–5 generated villages or residential groups under every commune or ward that has none,
  with adult populations that add up to a province of 1.3–1.6 million adults;
- the shipped courses (synced) and the default milestones;
- N learners: ~0.15 % tech-team members (at least 3, spread over communes by population, one
  team per commune with members, skills and weekly hours), ~8 % cadres (at their commune's office,
  a few at the province), the rest residents in villages chosen by population; plus one
  department manager and one commune manager per commune (not counted in N);
- 1–3 enrolments per learner over the past year (more in recent months, bursts of campaigns),
  about half of them completed (self-study, in-person class or with help), with module
  completions and a certificate for every completed course;
- per-lesson progress and quiz attempts (questions, shuffled options, chosen answers — with a
  tempting wrong option per question) only for a sample of learners (10 % and 5 %): per-lesson
  rows for everyone would be ~5 rows per enrolment and would dominate the run;
- help requests (most turned into visits, some still waiting or cancelled, communes without a
  team keep theirs waiting) and V visits by members of the commune's team, never two at once for
  a member, with outcomes, ratings, follow-ups for unresolved ones, and the milestones reached;
- course assignments (cadres province-wide; residents in some communes).

Not generated: group sessions, in-person classes and their attendance (in-person and assisted
completions carry their mode but no class), households, campaigns, ledger months. Running it
again adds more (usernames continue; villages and managers already there are reused).

It writes with COPY on PostgreSQL (executemany on SQLite, slower), never through the ORM per row,
then recounts the dashboards' summary tables (app.reports.recount.rebuild).
"""

from __future__ import annotations

import json
import math
import queue
import random
import threading
import time
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate

from sqlalchemy import JSON, func, select, text
from werkzeug.security import generate_password_hash

from app.auth.models import PASSWORD_METHOD, User
from app.extensions import db
from app.learning.content import sync_courses
from app.learning.models import Course
from app.outcomes.models import Milestone, Resident
from app.outcomes.operations import ensure_default_milestones
from app.reports import recount, summaries
from app.units.models import Unit
from app.units.operations import import_units
from config import BASE_DIR

PROVINCE_FILE = BASE_DIR / "data" / "units" / "bac-ninh-2025.csv"
COURSES_DIR = BASE_DIR / "courses"
MARK = "(gen)"
USERNAME_PREFIX = "gen_"
#: Learners per batch written at once.
BATCH = 25_000
DAY = 86_400
#: Asia/Ho_Chi_Minh has no daylight saving time.
LOCAL_OFFSET = 7 * 3600
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

CADRE_SHARE = 0.08
TECH_TEAM_SHARE = 0.0015
LESSON_SAMPLE = 0.10
QUIZ_SAMPLE = 0.05
#: Visit slots (local start minute): a visit starts up to 15 minutes into its slot and lasts at most
#: 75 minutes, so a member's visits never overlap.
SLOTS = (8 * 60, 9 * 60 + 30, 14 * 60, 15 * 60 + 30, 18 * 60, 19 * 60 + 30)
SKILL_WEIGHTS = {
    "eid": 30,
    "public_services": 20,
    "cashless": 18,
    "phone_basics": 15,
    "safety": 10,
    "selling_online": 7,
}
SKILL_MILESTONES = {
    "eid": ("eid_installed", "eid_activated"),
    "public_services": ("first_public_service",),
    "cashless": ("cashless_setup",),
    "selling_online": ("online_shop",),
    "safety": ("scam_briefing",),
}
SURNAMES = (
    ("Nguyễn", 38), ("Trần", 11), ("Lê", 9), ("Phạm", 7), ("Hoàng", 5), ("Huỳnh", 4), ("Phan", 4),
    ("Vũ", 4), ("Võ", 3), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 2), ("Hồ", 1), ("Ngô", 1), ("Dương", 1),
    ("Lý", 1), ("Đào", 1), ("Đinh", 1), ("Trịnh", 1),
)  # fmt: skip
MIDDLE = (("Văn", "Đức", "Minh", "Quang", "Hữu", "Công"), ("Thị", "Thu", "Ngọc", "Thanh", "Kim", "Hồng"))
GIVEN = (
    ("An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khánh", "Long", "Nam", "Phong", "Quân", "Sơn",
     "Thắng", "Tuấn", "Việt", "Hiếu", "Trung", "Tâm", "Lâm", "Đạt"),
    ("Anh", "Chi", "Dung", "Giang", "Hà", "Hoa", "Hương", "Lan", "Linh", "Mai", "Nga", "Nhung",
     "Phương", "Quỳnh", "Thảo", "Trang", "Tuyết", "Vân", "Yến", "Hạnh"),
)  # fmt: skip
#: The tables the generator fills (analysed before the summaries are recounted).
ANALYZED = (
    "units", "users", "enrollments", "module_completions", "lesson_progress", "certificates", "quiz_attempts",
    "attempt_questions", "attempt_choices", "teams", "team_members", "help_requests", "visits", "residents",
    "resident_milestones", "milestone_evidence", "follow_ups",
)  # fmt: skip
REQUEST_STATUS_OF_VISIT = {"booked": "scheduled", "done": "done", "cancelled": "cancelled", "no_show": "unreachable"}
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
RESIDENT_COLUMNS = (
    "id", "unit_id", "full_name", "birth_year", "phone", "user_id", "consent_at", "consent_recorded_by_id",
    "created_at",
)  # fmt: skip
REQUEST_COLUMNS = (
    "id", "skill", "unit_id", "place", "note", "preferred_times", "name", "phone", "resident_id", "resident_record_id",
    "created_by_id", "created_at", "status", "consent_at", "consent_recorded_by_id", "closed_at",
)  # fmt: skip
VISIT_COLUMNS = (
    "id", "member_id", "unit_id", "request_id", "resident_id", "resident_record_id", "skill", "place", "starts_at",
    "ends_at", "status", "booked_by_id", "created_at", "cancel_reason", "skills_done", "resolved", "follow_up_needed",
    "minutes_spent", "notes", "rating", "completed_at",
)  # fmt: skip
EVIDENCE_COLUMNS = (
    "resident_id", "milestone_id", "on_date", "confirmation", "helped_by_id", "visit_id", "recorded_by_id",
    "recorded_at",
)  # fmt: skip
FOLLOW_UP_COLUMNS = (
    "resident_id", "visit_id", "unit_id", "assigned_to_id", "due_on", "reason", "status", "created_by_id",
    "created_at", "closed_at",
)  # fmt: skip
PLACES = ("Xóm {n}", "Đầu ngõ {n}", "Nhà văn hóa thôn", "Số {n} đường làng", "Gần chợ, xóm {n}")


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _local_date(ts: float) -> date:
    return date.fromordinal(EPOCH_ORDINAL + int((ts + LOCAL_OFFSET) // DAY))


@dataclass
class GenerateResult:
    learners: int = 0
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    timings: dict[str, float] = field(default_factory=dict)
    password: str = ""


class _Writer:
    """Bulk inserts with explicit ids: COPY on PostgreSQL, executemany on SQLite.

    On PostgreSQL the COPYs run in a background thread on the session's own connection (same
    transaction), so the database works on one batch while Python generates the next. While
    writes are queued the session must not be used: call drain() first (reserve() does).
    """

    #: Ids taken from a table's sequence at a time on PostgreSQL (the rest is given back at close).
    CHUNK = 2_000_000

    def __init__(self, counts: dict[str, int]):
        self.session = db.session
        self.postgresql = self.session.get_bind().dialect.name == "postgresql"
        self.blocks: dict[str, list[int]] = {}  # table -> [next id, last id of the block]
        self.sequences: dict[str, str] = {}
        self.counts = counts
        self.failure: BaseException | None = None
        if self.postgresql:
            self.driver = self.session.connection().connection.driver_connection
            self.queue: queue.Queue = queue.Queue(maxsize=3)
            self.thread = threading.Thread(target=self._copy_queued, name="generate-copy", daemon=True)
            self.thread.start()

    def reserve(self, table: str, n: int) -> int:
        """The first of `n` new consecutive ids for `table`."""
        block = self.blocks.get(table)
        if block is None or block[0] + n - 1 > block[1]:
            self.drain()
            if self.postgresql:
                size = max(n, self.CHUNK)
                first = (
                    self.session.scalar(
                        text("SELECT setval(CAST(:s AS regclass), nextval(CAST(:s AS regclass)) + :n - 1)"),
                        {"s": self._sequence(table), "n": size},
                    )
                    - size
                    + 1
                )
                block = [first, first + size - 1]
            else:
                # One writer: the ids after the highest are free.
                first = (self.session.scalar(text(f"SELECT max(id) FROM {table}")) or 0) + 1  # noqa: S608 (our table names)
                block = [first, 2**62]
            self.blocks[table] = block
        first = block[0]
        block[0] += n
        return first

    def _sequence(self, table: str) -> str:
        if table not in self.sequences:
            self.sequences[table] = self.session.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table})
        return self.sequences[table]

    def write(self, table: str, columns: tuple[str, ...], rows: list) -> None:
        if self.failure is not None:
            raise self.failure
        if not rows:
            return
        self.counts[table] += len(rows)
        if self.postgresql:
            self.queue.put((table, columns, rows))
            return
        model_table = db.metadata.tables[table]
        for start in range(0, len(rows), 5000):
            self.session.execute(
                model_table.insert(), [dict(zip(columns, row, strict=True)) for row in rows[start : start + 5000]]
            )

    def _copy_queued(self) -> None:
        while True:
            item = self.queue.get()
            try:
                if item is None:
                    return
                if self.failure is None:
                    self._copy(*item)
            except BaseException as error:  # handed to the main thread by drain() and write()
                self.failure = error
            finally:
                self.queue.task_done()

    def _copy(self, table: str, columns: tuple[str, ...], rows: list) -> None:
        model_table = db.metadata.tables[table]
        json_positions = [i for i, name in enumerate(columns) if isinstance(model_table.c[name].type, JSON)]
        with self.driver.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            if json_positions:
                for row in rows:
                    row = list(row)
                    for i in json_positions:
                        if row[i] is not None:
                            row[i] = json.dumps(row[i])
                    copy.write_row(row)
            else:
                for row in rows:
                    copy.write_row(row)

    def drain(self) -> None:
        """Wait until every queued write is in the database."""
        if self.postgresql:
            self.queue.join()
        if self.failure is not None:
            raise self.failure

    def close(self, *, give_back: bool = True) -> None:
        """Stop the writer thread and give back the ids reserved but not used (when nobody else
        took ids from the sequence meanwhile)."""
        if not self.postgresql:
            return
        self.queue.put(None)
        self.thread.join()
        if not give_back:
            return
        if self.failure is not None:
            raise self.failure
        for table, (next_id, last_id) in self.blocks.items():
            sequence = self._sequence(table)
            self.session.execute(
                text(
                    f"SELECT setval(CAST(:s AS regclass), :next, false) FROM {sequence} "  # noqa: S608 (from the catalogue)
                    "WHERE last_value = :last"
                ),
                {"s": sequence, "next": next_id, "last": last_id},
            )


@dataclass
class _Quiz:
    id: int
    pass_mark: int
    max_attempts: int
    #: (question id, kind, option ids in position order, correct ids, wrong ids, chance of a right answer)
    questions: list[tuple]


@dataclass
class _VisitBatch:
    records: list[tuple] = field(default_factory=list)  # resident records, without ids
    accounts: list[int] = field(default_factory=list)  # accounts whose record is in `records`
    requests: list[list] = field(default_factory=list)
    visits: list[list] = field(default_factory=list)


@dataclass
class _Module:
    id: int
    lessons: tuple[int, ...]
    quiz: _Quiz | None


class _Generator:
    def __init__(self, learners: int, visits: int, seed: int, password: str, echo: Callable[[str], None]):
        self.n_learners = learners
        self.n_visits = visits
        self.rng = random.Random(seed)
        self.echo = echo
        self.result = GenerateResult(learners=learners, password=password)
        self.writer = _Writer(self.result.counts)
        self.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)
        self.now = time.time()
        self.year_start = self.now - 365 * DAY
        self.started = time.perf_counter()

    def log(self, message: str) -> None:
        self.echo(f"[{time.perf_counter() - self.started:7.1f} s] {message}")

    # --- places ---------------------------------------------------------------------------

    def prepare_units(self) -> None:
        session = self.writer.session
        units = self._real_units()
        if not units:
            import_units(PROVINCE_FILE.read_text(encoding="utf-8-sig"))
            self.log(f"imported the units of {PROVINCE_FILE.name}")
            units = self._real_units()
        provinces = [u for u in units if u.level == 1]
        communes = [u for u in units if u.level == 2]
        children: dict[int, list[Unit]] = defaultdict(list)
        for unit in units:
            if unit.parent_id is not None:
                children[unit.parent_id].append(unit)
        rng = self.rng
        # Adult populations: lognormal around 14,000 (wards larger), scaled to 1.3–1.6 million.
        missing = [c for c in communes if c.population is None and not children[c.id]]
        if missing:
            raw = {c.id: rng.lognormvariate(math.log(14_000), 0.35) * (1.3 if c.kind == "ward" else 1) for c in missing}
            scale = rng.uniform(1_300_000, 1_600_000) * len(missing) / len(communes) / sum(raw.values())
            for commune in missing:
                commune.population = int(raw[commune.id] * scale)
        codes = {u.code for u in units}
        created = 0
        for commune in communes:
            if children[commune.id]:
                continue
            n = rng.randint(3, 5)
            shares = [rng.uniform(0.6, 1.4) for _ in range(n)]
            total = commune.population or 4000
            populations = [int(total * share / sum(shares)) for share in shares]
            populations[0] += total - sum(populations)
            group = commune.kind == "ward"
            for i in range(n):
                code = f"{commune.code}-G{i + 1}"
                if code in codes:
                    continue
                village = Unit(
                    code=code,
                    kind="residential_group" if group else "village",
                    name=f"{'Tổ dân phố' if group else 'Thôn'} {i + 1} {MARK}",
                    name_en=f"{'Residential group' if group else 'Village'} {i + 1} {MARK}",
                    parent=commune,
                    path=f"{commune.path}{code}/",
                    population=populations[i],
                    is_demo=True,
                )
                session.add(village)
                children[commune.id].append(village)
                created += 1
        session.flush()
        summaries.forget_unit_chains()
        for commune in communes:
            if commune.population is None:
                commune.population = sum(v.population or 0 for v in children[commune.id]) or None
        for province in provinces:
            if province.population is None:
                province.population = sum(c.population or 0 for c in children[province.id]) or None
        session.flush()
        if not communes:
            raise ValueError("There are no communes or wards to place learners in.")
        self.province_id = provinces[0].id if provinces else communes[0].parent_id
        self.communes = communes
        self.commune_weights = list(accumulate(c.population or 1000 for c in communes))
        self.villages: list[tuple[int, int]] = []  # (village id, commune index)
        village_weights = []
        self.villages_of: list[list[int]] = []
        for index, commune in enumerate(communes):
            mine = [v for v in children[commune.id] if v.level == 3] or [commune]
            self.villages_of.append([len(self.villages) + k for k in range(len(mine))])
            for village in mine:
                self.villages.append((village.id, index))
                village_weights.append(village.population or 1000)
        self.village_weights = list(accumulate(village_weights))
        self.result.counts["villages_created"] = created
        adults = sum(c.population or 0 for c in communes)
        self.log(
            f"{len(communes)} communes and wards, {len(self.villages)} villages ({created} generated), "
            f"{adults:,} adults"
        )

    def _real_units(self) -> list[Unit]:
        """Every unit outside the fictional demo province (generated villages included)."""
        units = list(db.session.scalars(select(Unit).order_by(Unit.path)))
        demo_roots = [unit.path for unit in units if unit.is_demo and unit.parent_id is None]
        return [unit for unit in units if not any(unit.path.startswith(root) for root in demo_roots)]

    def pick_village(self) -> int:
        """Index into self.villages, weighted by population."""
        return bisect_right(self.village_weights, self.rng.random() * self.village_weights[-1])

    # --- courses and time -----------------------------------------------------------------

    def prepare_courses(self) -> None:
        sync_courses(COURSES_DIR)
        ensure_default_milestones()
        rng = random.Random(self.rng.random())
        courses = list(db.session.scalars(select(Course).where(Course.retired_at.is_(None)).order_by(Course.id)))
        if not courses:
            raise ValueError("There are no courses to enrol learners in.")
        self.course_modules: dict[int, list[_Module]] = {}
        for course in courses:
            modules = []
            for module in course.active_modules:
                quiz = module.active_quiz
                quiz_info = None
                if quiz is not None and quiz.active_questions:
                    questions = []
                    for question in quiz.active_questions:
                        options = [o.id for o in question.active_options]
                        correct = [o.id for o in question.active_options if o.is_correct]
                        wrong = [o for o in options if o not in correct]
                        chance = rng.uniform(0.55, 0.95)
                        questions.append((question.id, question.kind, options, correct, wrong, chance))
                    quiz_info = _Quiz(quiz.id, quiz.pass_mark, quiz.max_attempts, questions)
                modules.append(_Module(module.id, tuple(lesson.id for lesson in module.active_lessons), quiz_info))
            self.course_modules[course.id] = modules
        by_audience = defaultdict(list)
        for course in courses:
            if self.course_modules[course.id]:
                by_audience[course.audience].append(course.id)
        everything = [c for ids in by_audience.values() for c in ids]
        residents = by_audience.get("resident") or everything
        # role -> (courses taken first, optional courses)
        self.role_courses = {"resident": ([], residents)}
        for role in ("cadre", "tech_team"):
            own = by_audience.get(role, [])[:1]
            self.role_courses[role] = (own, [c for c in everything if c not in own])
        self.milestones = {m.key: m.id for m in db.session.scalars(select(Milestone))}
        self.log(f"{len(courses)} courses, {len(self.milestones)} milestones")

        # Activity per day over the past year: growing, with three three-week campaigns, quieter
        # at weekends.
        campaigns = [rng.randrange(0, 340) for _ in range(3)]
        weights = []
        for day in range(365):
            weight = 0.35 + 0.9 * day / 364
            if any(start <= day < start + 21 for start in campaigns):
                weight *= 2.2
            weekday = _local_date(self.year_start + day * DAY).weekday()
            weight *= 0.6 if weekday == 6 else 0.8 if weekday == 5 else 1.0
            weights.append(weight)
        self.day_weights = list(accumulate(weights))

    def random_moment(self) -> float:
        """A moment in the past year, following the activity curve."""
        rng = self.rng
        day = bisect_right(self.day_weights, rng.random() * self.day_weights[-1])
        return self.year_start + day * DAY + rng.random() * DAY

    def name(self) -> str:
        rnd = self.rng.random
        female = rnd() < 0.5
        surname = SURNAMES_LIST[bisect_right(SURNAME_WEIGHTS, rnd() * SURNAME_WEIGHTS[-1])]
        middle, given = MIDDLE[female], GIVEN[female]
        return f"{surname} {middle[int(rnd() * len(middle))]} {given[int(rnd() * len(given))]} {MARK}"

    # --- people and learning --------------------------------------------------------------

    def generate_learners(self) -> None:
        rng = self.rng
        n_members = min(self.n_learners, max(3, round(self.n_learners * TECH_TEAM_SHARE)))
        # Members per commune by population (largest remainder), each living in a village there.
        total = self.commune_weights[-1]
        populations = [b - a for a, b in zip([0, *self.commune_weights], self.commune_weights, strict=False)]
        quotas = [n_members * p / total for p in populations]
        seats = [int(q) for q in quotas]
        by_remainder = sorted(range(len(quotas)), key=lambda i: quotas[i] - seats[i], reverse=True)
        for index in by_remainder[: n_members - sum(seats)]:
            seats[index] += 1
        fixed = []
        for index, count in enumerate(seats):
            villages = self.villages_of[index]
            for _ in range(count):
                fixed.append(("tech_team", self.villages[rng.choice(villages)][0], index))
        self.members_of: dict[int, list[tuple[int, list[str]]]] = defaultdict(list)  # commune index -> members
        self.residents_in: dict[int, list[int]] = defaultdict(list)  # village id -> resident user ids
        first_number = self._first_username_number()
        done = 0
        while done < self.n_learners:
            count = min(BATCH, self.n_learners - done)
            self._learner_batch(count, fixed[done : done + count], first_number + done)
            done += count
            self.log(f"learners {done:,}/{self.n_learners:,}")

    def _first_username_number(self) -> int:
        last = db.session.scalar(
            select(func.max(User.username)).where(User.username.between("gen_0000000", "gen_9999999"))
        )
        return int(last[len(USERNAME_PREFIX) :]) + 1 if last else 1

    def _learner_batch(self, count: int, fixed: list, first_number: int) -> None:
        rng = self.rng
        rnd = rng.random
        writer = self.writer
        now = self.now
        uid0 = writer.reserve("users", count)
        users, enrollments, completions, lessons, certificates = [], [], [], [], []
        attempts: list[list] = []
        asked: list[list] = []
        chosen: list[list] = []
        village_weights, villages = self.village_weights, self.villages
        village_total = village_weights[-1]
        commune_weights, communes = self.commune_weights, self.communes
        commune_total = commune_weights[-1]
        role_courses, course_modules = self.role_courses, self.course_modules
        residents_in = self.residents_in
        password_hash = self.password_hash
        code_alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
        for i in range(count):
            uid = uid0 + i
            if i < len(fixed):
                role, unit_id, commune_index = fixed[i]
                self.members_of[commune_index].append((uid, rng.sample(list(SKILL_WEIGHTS), rng.randint(2, 6))))
            elif rnd() < CADRE_SHARE:
                role = "cadre"
                if rnd() < 0.03:
                    unit_id = self.province_id
                else:
                    unit_id = communes[bisect_right(commune_weights, rnd() * commune_total)].id
            else:
                role = "resident"
                unit_id = villages[bisect_right(village_weights, rnd() * village_total)][0]
                residents_in[unit_id].append(uid)
            first = self.random_moment()
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
            sample_lessons = rnd() < LESSON_SAMPLE
            sample_quiz = rnd() < QUIZ_SAMPLE
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
                        (f"{code[:4]}-{code[4:8]}-{code[8:]}", uid, course_id, _dt(completed), _local_date(completed))
                    )
                else:
                    span = min(now, enrolled + 60 * DAY) - enrolled
                    moments = sorted(enrolled + rnd() * span for _ in range(int(rnd() * len(modules))))
                    module_modes = ["self"] * len(moments)
                    if moments:
                        last = max(last, moments[-1])
                enrollments.append((uid, course_id, _dt(enrolled), _dt(completed) if completed else None, mode))
                previous = enrolled
                for k, moment in enumerate(moments):
                    module = modules[k]
                    completions.append((uid, module.id, _dt(moment), module_modes[k]))
                    mode_k = module_modes[k]
                    if sample_lessons:
                        for lesson_id in module.lessons:
                            lessons.append((uid, lesson_id, _dt(previous + rnd() * (moment - previous)), mode_k))
                    quiz = module.quiz
                    if sample_quiz and quiz is not None and mode_k == "self":
                        number = 1
                        if quiz.max_attempts != 1 and quiz.pass_mark > 0 and rnd() < 0.25:
                            failed_at = previous + rnd() * (moment - previous)
                            self._attempt(quiz, uid, number, False, failed_at, attempts, asked, chosen)
                            number = 2
                        self._attempt(quiz, uid, number, True, moment, attempts, asked, chosen)
                    previous = moment
                if completed is None and len(moments) < len(modules):
                    # Working on the next module: some lessons read, perhaps a failed quiz.
                    module = modules[len(moments)]
                    reading_until = min(now, previous + 30 * DAY)
                    if sample_lessons and module.lessons:
                        read = int(rnd() * (len(module.lessons) + (1 if module.quiz else 0)))
                        for lesson_id in module.lessons[:read]:
                            lessons.append((uid, lesson_id, _dt(previous + rnd() * (reading_until - previous)), "self"))
                    quiz = module.quiz
                    if sample_quiz and quiz is not None and quiz.pass_mark > 0 and rnd() < 0.4:
                        tries = 1 if quiz.max_attempts == 1 else 1 + int(rnd() * 2)
                        if quiz.max_attempts:
                            tries = min(tries, quiz.max_attempts)
                        for number in range(1, tries + 1):
                            moment = previous + rnd() * (reading_until - previous)
                            self._attempt(quiz, uid, number, False, moment, attempts, asked, chosen)
            active = rnd() >= 0.01
            users.append(
                (
                    uid,
                    f"{USERNAME_PREFIX}{first_number + i:07d}",
                    password_hash,
                    self.name(),
                    None,
                    f"09{int(rnd() * 100_000_000):08d}" if rnd() < 0.6 else None,
                    int(1965 + rnd() * 36) if role != "resident" else int(1945 + rnd() * 62),
                    role,
                    unit_id,
                    None,
                    active,
                    False,
                    0,
                    _dt(first - rnd() * 3 * DAY),
                    _dt(last) if rnd() < 0.9 else None,
                )
            )
        writer.write("users", USER_COLUMNS, users)
        self._write_with_ids("enrollments", ENROLLMENT_COLUMNS, enrollments)
        self._write_with_ids("module_completions", ("user_id", "module_id", "completed_at", "mode"), completions)
        self._write_with_ids("lesson_progress", ("user_id", "lesson_id", "read_at", "mode"), lessons)
        self._write_with_ids("certificates", CERTIFICATE_COLUMNS, certificates)
        self._write_attempts(attempts, asked, chosen)

    def _attempt(self, quiz: _Quiz, uid: int, number: int, passed: bool, submitted: float, attempts, asked, chosen):
        """One submitted attempt, shuffled as open_attempt() does, answered like a person."""
        rng = self.rng
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
        attempts.append([uid, quiz.id, number, seed, _dt(started), _dt(submitted), sum(right), len(questions), passed])
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
                    picks = sorted([*correct, self._tempting(question_id, wrong)])
            else:
                picks = [self._tempting(question_id, wrong)]
            for option_id in picks:
                chosen.append([asked_index, option_id])

    def _tempting(self, question_id: int, wrong: list[int]) -> int:
        """A wrong option, with one per question chosen far more often than the others."""
        favourite = wrong[question_id % len(wrong)]
        return favourite if self.rng.random() < 0.6 else self.rng.choice(wrong)

    def _write_with_ids(self, table: str, columns: tuple[str, ...], rows: list) -> None:
        first = self.writer.reserve(table, len(rows))
        self.writer.write(table, ("id", *columns), [(first + i, *row) for i, row in enumerate(rows)])

    def _write_attempts(self, attempts, asked, chosen) -> None:
        first_attempt = self.writer.reserve("quiz_attempts", len(attempts))
        first_asked = self.writer.reserve("attempt_questions", len(asked))
        self.writer.write(
            "quiz_attempts",
            ATTEMPT_COLUMNS,
            [(first_attempt + i, *row) for i, row in enumerate(attempts)],
        )
        self.writer.write(
            "attempt_questions",
            ("id", "attempt_id", "question_id", "position", "option_order", "is_correct"),
            [(first_asked + i, first_attempt + row[0], *row[1:]) for i, row in enumerate(asked)],
        )
        self._write_with_ids(
            "attempt_choices", ("attempt_question_id", "option_id"), [(first_asked + a, o) for a, o in chosen]
        )

    # --- managers, teams, assignments -----------------------------------------------------

    def generate_staff(self) -> None:
        rng = self.rng
        writer = self.writer
        writer.drain()
        existing = set(db.session.scalars(select(User.username).where(User.username.like("gen\\_%", escape="\\"))))
        staff = [("gen_manager", "department_manager", self.province_id)]
        staff += [(f"gen_cm_{c.code.lower()}", "commune_manager", c.id) for c in self.communes]
        staff = [s for s in staff if s[0] not in existing]
        first = writer.reserve("users", len(staff))
        created = _dt(self.year_start - 30 * DAY)
        rows = []
        for i, (username, role, unit_id) in enumerate(staff):
            birth_year = int(1965 + rng.random() * 30)
            person = (first + i, username, self.password_hash, self.name(), None, None, birth_year, role, unit_id)
            rows.append((*person, None, True, False, 0, created, None))
        writer.write("users", USER_COLUMNS, rows)
        writer.drain()
        self.managers = dict(
            db.session.execute(
                select(User.unit_id, User.id).where(
                    User.username.like("gen\\_%", escape="\\"),
                    User.role.in_(("department_manager", "commune_manager")),
                )
            ).all()
        )
        manager = self.managers.get(self.province_id) or next(iter(self.managers.values()), None)

        teams, members, hours = [], [], []
        team_first = writer.reserve("teams", sum(1 for m in self.members_of.values() if m))
        team_id = team_first
        for index, commune in enumerate(self.communes):
            people = self.members_of.get(index)
            if not people:
                continue
            teams.append((team_id, commune.id, f"Tổ công nghệ số cộng đồng {commune.name} {MARK}", created))
            for k, (uid, skills) in enumerate(people):
                members.append((team_id, uid, skills, k == 0))
                for weekday in rng.sample(range(7), rng.randint(2, 4)):
                    start = rng.choice((8 * 60, 14 * 60, 18 * 60))
                    hours.append((uid, weekday, start, start + rng.choice((120, 150, 180))))
            team_id += 1
        writer.write("teams", ("id", "unit_id", "name", "created_at"), teams)
        self._write_with_ids("team_members", ("team_id", "user_id", "skills", "is_leader"), members)
        self._write_with_ids("weekly_availability", ("user_id", "weekday", "start_minute", "end_minute"), hours)

        if manager is not None:
            today = _local_date(self.now)
            assignments = []
            cadre_courses = self.role_courses["cadre"][0]
            for course_id in cadre_courses:
                due = today - timedelta(days=60)
                assignments.append((course_id, self.province_id, "cadre", due, manager, created, None))
            resident_courses = self.role_courses["resident"][1]
            for commune in rng.sample(self.communes, max(1, len(self.communes) // 5)):
                due = today + timedelta(days=rng.randint(-90, 60))
                author = self.managers.get(commune.id, manager)
                course_id = rng.choice(resident_courses)
                assignments.append((course_id, commune.id, "resident", due, author, created, f"Giao học {MARK}"))
            self._write_with_ids("assignments", ASSIGNMENT_COLUMNS, assignments)
        self.log(f"{len(staff)} managers, {len(teams)} teams with {len(members)} members")

    # --- help requests, visits, outcomes --------------------------------------------------

    def generate_visits(self) -> None:
        """Help requests, visits and what came of them, written in batches while the next batch
        is generated."""
        rng = self.rng
        rnd = rng.random
        now = self.now
        skills = list(SKILL_WEIGHTS)
        skill_weights = list(accumulate(SKILL_WEIGHTS.values()))
        served = [i for i, (_v, commune) in enumerate(self.villages) if self.members_of.get(commune)]
        served_weights = list(accumulate(b - a for a, b in self._village_populations(served)))
        busy: dict[int, set[int]] = defaultdict(set)
        # Accounts' resident records: (reference, name, phone); a reference is an index into this
        # batch's resident records, or minus the id of a record already written.
        self.writer.drain()
        self.record_of_user: dict[int, tuple[int, str, str | None]] = {
            user_id: (-record_id, name, phone)
            for user_id, record_id, name, phone in db.session.execute(
                select(Resident.user_id, Resident.id, Resident.full_name, Resident.phone).where(
                    Resident.user_id.is_not(None)
                )
            )
        }
        self.reached: dict[tuple[int, int], date] = {}
        batch = _VisitBatch()

        def record_for(village_id: int, created: float, recorder: int) -> tuple[int, int | None, str, str | None]:
            """(record reference, account id, name, phone) of the person asking for help."""
            people = self.residents_in.get(village_id)
            user_id = people[int(rnd() * len(people))] if people and rnd() < 0.35 else None
            if user_id in self.record_of_user:
                reference, name, phone = self.record_of_user[user_id]
                return reference, user_id, name, phone
            phone = None if user_id else f"09{int(rnd() * 100_000_000):08d}"
            name = self.name()
            when = _dt(created)
            batch.records.append((village_id, name, int(1940 + rnd() * 66), phone, user_id, when, recorder, when))
            reference = len(batch.records) - 1
            if user_id:
                self.record_of_user[user_id] = (reference, name, phone)
                batch.accounts.append(user_id)
            return reference, user_id, name, phone

        def book(member: int, wanted: float) -> float:
            """The first free slot of `member` at or after `wanted`."""
            local = wanted + LOCAL_OFFSET
            day = int(local // DAY)
            minute = (local - day * DAY) / 60
            slot = next((k for k, start in enumerate(SLOTS) if start >= minute), len(SLOTS))
            index = day * len(SLOTS) + slot
            taken = busy[member]
            while index in taken:
                index += 1
            taken.add(index)
            day, slot = divmod(index, len(SLOTS))
            return day * DAY + SLOTS[slot] * 60 - LOCAL_OFFSET + 60 * rng.choice((0, 0, 5, 10, 15))

        for number in range(self.n_visits if served else 0):
            village = served[bisect_right(served_weights, rnd() * served_weights[-1])]
            village_id, commune_index = self.villages[village]
            skill = skills[bisect_right(skill_weights, rnd() * skill_weights[-1])]
            team = self.members_of[commune_index]
            member = team[int(rnd() * len(team))]
            if skill not in member[1]:
                member = team[int(rnd() * len(team))]
            member_id = member[0]
            with_request = rnd() < 0.9
            if with_request:
                created = self.random_moment()
                wait = min(max(rng.lognormvariate(math.log(30), 1.0), 0.5), 40 * 24) * 3600
                starts = book(member_id, created + wait)
                booked = created + rnd() * min(starts - created, 2 * DAY)
            else:
                starts = book(member_id, self.random_moment())
                created = starts - rnd() * 5 * DAY
                booked = created
            record, account, name, phone = record_for(village_id, created, member_id)
            minutes = rng.choice((20, 30, 30, 45, 45, 60, 60, 75))
            ends = starts + minutes * 60
            place = rng.choice(PLACES).format(n=rng.randint(1, 12)) + " " + MARK
            if starts >= now:
                status = "booked"
            else:
                r = rnd()
                status = "done" if r < 0.92 else "cancelled" if r < 0.97 else "no_show"
            request_index = None
            if with_request:
                request_index = len(batch.requests)
                closed = _dt(ends) if status != "booked" else None
                batch.requests.append(
                    [skill, village_id, place, f"Cần hỗ trợ {MARK}", "Buổi tối" if rnd() < 0.5 else None, name,
                     phone, account, record, account or member_id, _dt(created), REQUEST_STATUS_OF_VISIT[status],
                     _dt(created), member_id, closed]
                )  # fmt: skip
            done = status == "done"
            resolved = done and rnd() < 0.82
            rating = None
            if done and rnd() < 0.75:
                r = rnd()
                rating = 5 if r < 0.55 else 4 if r < 0.85 else 3 if r < 0.95 else 2 if r < 0.98 else 1
            spent = max(10, minutes + rng.randint(-10, 15)) if done else None
            batch.visits.append(
                [member_id, village_id, request_index, account, record, skill, place, _dt(starts), _dt(ends),
                 status, member_id, _dt(booked), "Người dân bận " + MARK if status == "cancelled" else None,
                 [skill] if done else None, resolved if done else None, (not resolved) if done else None,
                 spent, f"Đã hướng dẫn {MARK}" if done else None, rating, _dt(ends) if done else None]
            )  # fmt: skip
            if len(batch.visits) == BATCH:
                self._write_visit_batch(batch)
                batch = _VisitBatch()
                self.log(f"visits {number + 1:,}/{self.n_visits:,}")

        # Requests nobody visited: recent ones wait, old ones were cancelled or could not be
        # reached; communes without a team keep theirs waiting (unmet demand).
        anyone = self._any_recorder()
        for _ in range(round(self.n_visits * 0.2)):
            village = self.pick_village()
            village_id, commune_index = self.villages[village]
            created = self.random_moment()
            team = self.members_of.get(commune_index)
            if not team or created > now - 21 * DAY or rnd() < 0.2:
                status, closed = "new", None
            else:
                status, closed = ("cancelled" if rnd() < 0.6 else "unreachable"), _dt(created + rnd() * 10 * DAY)
            recorder = team[0][0] if team else anyone
            record, account, name, phone = record_for(village_id, created, recorder)
            skill = skills[bisect_right(skill_weights, rnd() * skill_weights[-1])]
            place = rng.choice(PLACES).format(n=rng.randint(1, 12)) + " " + MARK
            batch.requests.append(
                [skill, village_id, place, f"Cần hỗ trợ {MARK}", None, name, phone, account, record,
                 account or recorder, _dt(created), status, _dt(created), recorder, closed]
            )  # fmt: skip
            if len(batch.requests) == BATCH:
                self._write_visit_batch(batch)
                batch = _VisitBatch()
        self._write_visit_batch(batch)
        self._write_with_ids(
            "resident_milestones",
            ("resident_id", "milestone_id", "reached_on", "recorded_at"),
            [(record, milestone_id, day, datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12))
             for (record, milestone_id), day in self.reached.items()],
        )  # fmt: skip
        counts = self.result.counts
        self.log(
            f"{counts['help_requests']:,} help requests, {counts['visits']:,} visits, "
            f"{len(self.reached):,} milestones reached"
        )

    def _write_visit_batch(self, batch: _VisitBatch) -> None:
        """Write a batch's resident records, requests and visits (with their real ids), the
        evidence of the milestones reached and the follow-ups of unresolved visits."""
        writer = self.writer
        first_record = writer.reserve("residents", len(batch.records))
        writer.write("residents", RESIDENT_COLUMNS, [(first_record + i, *row) for i, row in enumerate(batch.records)])
        for user_id in batch.accounts:
            reference, name, phone = self.record_of_user[user_id]
            self.record_of_user[user_id] = (-(first_record + reference), name, phone)
        first_request = writer.reserve("help_requests", len(batch.requests))
        for row in batch.requests:
            row[8] = first_record + row[8] if row[8] >= 0 else -row[8]
        writer.write(
            "help_requests", REQUEST_COLUMNS, [(first_request + i, *row) for i, row in enumerate(batch.requests)]
        )
        first_visit = writer.reserve("visits", len(batch.visits))
        for row in batch.visits:
            row[2] = None if row[2] is None else first_request + row[2]
            row[4] = first_record + row[4] if row[4] >= 0 else -row[4]
        writer.write("visits", VISIT_COLUMNS, [(first_visit + i, *row) for i, row in enumerate(batch.visits)])

        # Milestones reached at resolved visits (the earliest date counts), with the evidence;
        # follow-ups for the unresolved ones.
        rnd = self.rng.random
        reached = self.reached
        evidence, follow_ups = [], []
        today = _local_date(self.now)
        for i, row in enumerate(batch.visits):
            if row[9] != "done":
                continue
            visit_id, member_id, village_id, record = first_visit + i, row[0], row[1], row[4]
            day = _local_date(row[7].timestamp())
            if row[14]:
                for n, key in enumerate(SKILL_MILESTONES.get(row[5], ())):
                    milestone_id = self.milestones.get(key)
                    if milestone_id is None or (n > 0 and rnd() < 0.5):
                        continue
                    if (record, milestone_id) not in reached or reached[(record, milestone_id)] > day:
                        reached[(record, milestone_id)] = day
                    evidence.append(
                        (record, milestone_id, day, "seen_on_phone", member_id, visit_id, member_id, row[8])
                    )
            else:
                due = day + timedelta(days=7)
                closed = due < today - timedelta(days=7) and rnd() < 0.7
                closed_at = _dt(row[8].timestamp() + 7 * DAY) if closed else None
                reason = f"Quay lại hướng dẫn {MARK}"
                status = "done" if closed else "open"
                follow_ups.append(
                    (record, visit_id, village_id, member_id, due, reason, status, member_id, row[8], closed_at)
                )
        self._write_with_ids("milestone_evidence", EVIDENCE_COLUMNS, evidence)
        self._write_with_ids("follow_ups", FOLLOW_UP_COLUMNS, follow_ups)

    def _village_populations(self, indices: list[int]):
        previous = [0, *self.village_weights]
        return [(previous[i], self.village_weights[i]) for i in indices]

    def _any_recorder(self) -> int | None:
        for people in self.members_of.values():
            if people:
                return people[0][0]
        return next(iter(self.managers.values()), None)


SURNAMES_LIST = [name for name, _weight in SURNAMES]
SURNAME_WEIGHTS = list(accumulate(weight for _name, weight in SURNAMES))


def generate(
    learners: int,
    visits: int | None = None,
    *,
    seed: int = 1,
    password: str,
    echo: Callable[[str], None] = print,
) -> GenerateResult:
    """Add `learners` synthetic learners (and `visits` visits, by default learners / 5) with
    their learning, teams, requests, visits and milestones, then rebuild the summaries.

    Runs in the caller's transaction (the caller commits)."""
    if visits is None:
        visits = learners // 5
    generator = _Generator(learners, visits, seed, password, echo)
    timings = generator.result.timings
    postgresql = generator.writer.postgresql
    if postgresql:
        db.session.execute(text("SET LOCAL synchronous_commit = off"))

    def step(name: str, function: Callable[[], None]) -> None:
        start = time.perf_counter()
        function()
        timings[name] = time.perf_counter() - start

    try:
        step("units and courses", lambda: (generator.prepare_units(), generator.prepare_courses()))
        step("learners", lambda: (generator.generate_learners(), generator.writer.drain()))
        step("teams and managers", generator.generate_staff)
        step("visits", lambda: (generator.generate_visits(), generator.writer.drain()))
    except BaseException:
        generator.writer.close(give_back=False)  # the transaction is to be rolled back anyway
        raise
    generator.writer.close()
    db.session.expire_all()
    if postgresql:  # the planner needs to know the new rows before the recount
        step("analyze", lambda: db.session.execute(text(f"ANALYZE {', '.join(ANALYZED)}")))
    step("rebuild summaries", recount.rebuild)
    generator.log("summary tables rebuilt")
    if postgresql:
        db.session.execute(text(f"ANALYZE {', '.join(model.__tablename__ for model in recount.STAT_MODELS)}"))
    timings["total"] = time.perf_counter() - generator.started
    return generator.result


def default_password() -> str:
    import secrets

    return "gen-" + secrets.token_urlsafe(9)


__all__ = ["GenerateResult", "default_password", "generate"]
