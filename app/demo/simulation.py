"""The simulation's shared world for the synthetic data generator: its random generator and
clock, the places people live in (units, generated villages, adult populations), the courses they
take, the activity curve over the past year and Vietnamese names. The steps that decide who
exists and what happens use it: simulation_people.py (learners, managers, teams, learning) and
simulation_visits.py (help requests, visits, outcomes).

Everything is drawn from one seeded generator, in a fixed order, so the same seed at the same
clock gives the same rows.
"""

from __future__ import annotations

import math
import random
import time
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import accumulate

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.security import generate_password_hash

from app.auth.models import PASSWORD_METHOD
from app.db import LOCAL_TZ, utcnow
from app.demo.bulk_writer import BulkWriter
from app.extensions import db
from app.learning.content import sync_courses
from app.learning.models import Course, CourseModule, Question, Quiz
from app.outcomes.models import Milestone
from app.outcomes.operations import ensure_default_milestones
from app.reports import summaries
from app.units.models import Unit
from app.units.operations import import_units
from config import BASE_DIR

PROVINCE_FILE = BASE_DIR / "data" / "units" / "bac-ninh-2025.csv"
COURSES_DIR = BASE_DIR / "courses"
MARK = "(gen)"
USERNAME_PREFIX = "gen_"
#: Learners (and visits) generated and written at once.
BATCH = 25_000
DAY = 86_400
#: The local zone's offset from UTC in seconds: fixed, Asia/Ho_Chi_Minh has no daylight saving time.
LOCAL_OFFSET = int(LOCAL_TZ.utcoffset(datetime(2025, 1, 1)).total_seconds())
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

#: How often each skill is asked for (and spread among tech-team members).
SKILL_WEIGHTS = {
    "eid": 30,
    "public_services": 20,
    "cashless": 18,
    "phone_basics": 15,
    "safety": 10,
    "selling_online": 7,
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

SURNAMES_LIST = [name for name, _weight in SURNAMES]
SURNAME_WEIGHTS = list(accumulate(weight for _name, weight in SURNAMES))


@dataclass(frozen=True)
class Settings:
    """What to generate and how densely. The defaults are `flask demo generate` at province scale;
    the demo province (app.demo.operations) uses a small, denser, more recent shape of it."""

    #: How far back the activity goes.
    days: int = 365
    #: Added to generated names and places, so nobody takes them for real people.
    mark: str = MARK
    username_prefix: str = USERNAME_PREFIX
    #: The code of the unit whose communes to fill; None: every unit outside the demo province
    #: (the province file is imported when there are none).
    within: str | None = None
    #: Sync the shipped courses first (else the courses already in the database, perhaps none).
    sync_courses: bool = True
    #: Shares of learners whose lessons and quiz attempts are written row by row.
    lesson_sample: float = 0.10
    quiz_sample: float = 0.05
    #: Share of learners in the communes' tech teams (at least 3).
    tech_team_share: float = 0.0015
    #: Course assignments (cadres province-wide; residents in some communes).
    assignments: bool = True
    #: Households (when above 0): every resident record of a village in one, and more records
    #: until about this share of the village's adults is on the commune's list.
    household_share: float = 0.0
    #: Recount the dashboards' summaries at the end (off when the caller adds rows and recounts).
    recount: bool = True
    #: A precomputed password hash for everyone generated (saves hashing again).
    password_hash: str | None = field(default=None, repr=False)


def utc(ts: float) -> datetime:
    """The moment `ts` (seconds since the epoch) as an aware UTC datetime."""
    return datetime.fromtimestamp(ts, UTC)


def local_date(ts: float) -> date:
    """The local calendar date at the moment `ts` (faster than going through a time zone)."""
    return date.fromordinal(EPOCH_ORDINAL + int((ts + LOCAL_OFFSET) // DAY))


@dataclass
class QuizShape:
    """What the simulation needs of a quiz to answer it like a person."""

    id: int
    pass_mark: int
    max_attempts: int
    #: (question id, kind, option ids in position order, correct ids, wrong ids, chance of a right answer)
    questions: list[tuple]


@dataclass
class ModuleShape:
    """A course module: its lessons in order and its quiz."""

    id: int
    lessons: tuple[int, ...]
    quiz: QuizShape | None


class Simulation:
    """The world the generator's steps share, and the writer they write through.

    prepare_units() and prepare_courses() lay out the places and the courses first; the steps in
    simulation_people.py and simulation_visits.py then read them and draw from `rng`."""

    def __init__(
        self,
        seed: int,
        password: str,
        counts: dict[str, int],
        echo: Callable[[str], None],
        settings: Settings | None = None,
    ):
        self.settings = settings = settings or Settings()
        self.mark = settings.mark
        self.rng = random.Random(seed)
        self.echo = echo
        self.counts = counts
        self.writer = BulkWriter(counts)
        self.password_hash = settings.password_hash or generate_password_hash(password, method=PASSWORD_METHOD)
        self.now = utcnow().timestamp()
        self.days = settings.days
        self.year_start = self.now - self.days * DAY
        self.started = time.perf_counter()

    def log(self, message: str) -> None:
        self.echo(f"[{time.perf_counter() - self.started:7.1f} s] {message}")

    # --- places ---------------------------------------------------------------------------

    def prepare_units(self) -> None:
        """The province's communes and wards (imported from the province file if there are none),
        generated villages where a commune has none, adult populations, and the weights that place
        people by population."""
        session = self.writer.session
        units = self._real_units()
        if not units and self.settings.within is not None:
            raise ValueError(f"There is no unit {self.settings.within}.")
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
                    name=f"{'Tổ dân phố' if group else 'Thôn'} {i + 1} {self.mark}",
                    name_en=f"{'Residential group' if group else 'Village'} {i + 1} {self.mark}",
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
        self.counts["villages_created"] = created
        adults = sum(c.population or 0 for c in communes)
        self.log(
            f"{len(communes)} communes and wards, {len(self.villages)} villages ({created} generated), "
            f"{adults:,} adults"
        )

    def _real_units(self) -> list[Unit]:
        """Every unit outside the fictional demo province (generated villages included), or with
        `within`, that unit and the units under it."""
        units = list(db.session.scalars(select(Unit).order_by(Unit.path)))
        if self.settings.within is not None:
            root = next((unit for unit in units if unit.code == self.settings.within), None)
            return [unit for unit in units if root is not None and unit.path.startswith(root.path)]
        demo_roots = [unit.path for unit in units if unit.is_demo and unit.parent_id is None]
        return [unit for unit in units if not any(unit.path.startswith(root) for root in demo_roots)]

    def pick_village(self) -> int:
        """Index into self.villages, weighted by population."""
        return bisect_right(self.village_weights, self.rng.random() * self.village_weights[-1])

    # --- courses and time -----------------------------------------------------------------

    def prepare_courses(self) -> None:
        """The shipped courses (synced) and default milestones, which courses each role takes, and
        the activity curve over the past year."""
        if self.settings.sync_courses:
            sync_courses(COURSES_DIR)
        ensure_default_milestones()
        rng = random.Random(self.rng.random())
        modules = selectinload(Course.modules)
        courses = list(
            db.session.scalars(
                select(Course)
                .where(Course.retired_at.is_(None))
                .order_by(Course.id)
                .options(
                    modules.selectinload(CourseModule.lessons),
                    modules.selectinload(CourseModule.quiz).selectinload(Quiz.questions).selectinload(Question.options),
                )
            )
        )
        if not courses and self.settings.sync_courses:
            raise ValueError("There are no courses to enrol learners in.")
        self.course_modules: dict[int, list[ModuleShape]] = {}
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
                    quiz_info = QuizShape(quiz.id, quiz.pass_mark, quiz.max_attempts, questions)
                modules.append(ModuleShape(module.id, tuple(lesson.id for lesson in module.active_lessons), quiz_info))
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

        # Activity per day over the past year (or `days`): growing, with three three-week
        # campaigns, quieter at weekends.
        days = self.days
        campaigns = [rng.randrange(0, max(1, days - 25)) for _ in range(3)]
        weights = []
        for day in range(days):
            weight = 0.35 + 0.9 * day / max(1, days - 1)
            if any(start <= day < start + 21 for start in campaigns):
                weight *= 2.2
            weekday = local_date(self.year_start + day * DAY).weekday()
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
        return f"{surname} {middle[int(rnd() * len(middle))]} {given[int(rnd() * len(given))]} {self.mark}"
