"""Help requests, visits and outcomes for the synthetic data generator: who asks for help and
where, which member of the commune's team visits and when (never two visits at once), how visits
end (done, cancelled, no-show; resolved or not, rated), the milestones reached with their
evidence, follow-ups for unresolved visits, and requests nobody visited. Rows are built here and
written through the bulk writer.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate

from sqlalchemy import select

from app.demo.simulation import BATCH, DAY, LOCAL_OFFSET, SKILL_WEIGHTS, Simulation, local_date, utc
from app.demo.simulation_people import People
from app.extensions import db
from app.outcomes.models import Resident
from app.visits.help_requests import contact_deadline
from app.visits.models import DEFAULT_CONTACT_PROMISE_DAYS, Visit

#: Visit slots (local start minute): a visit starts up to 15 minutes into its slot and lasts at most
#: 75 minutes, so a member's visits never overlap.
SLOTS = (8 * 60, 9 * 60 + 30, 14 * 60, 15 * 60 + 30, 18 * 60, 19 * 60 + 30)
#: The milestones a resolved visit about a skill reaches (after the first, each only half the time).
SKILL_MILESTONES = {
    "eid": ("eid_installed", "eid_activated"),
    "public_services": ("first_public_service",),
    "cashless": ("cashless_setup",),
    "selling_online": ("online_shop",),
    "safety": ("scam_briefing",),
}
REQUEST_STATUS_OF_VISIT = {"booked": "scheduled", "done": "done", "cancelled": "cancelled", "no_show": "unreachable"}
RESIDENT_COLUMNS = (
    "id", "unit_id", "full_name", "birth_year", "phone", "user_id", "consent_at", "consent_recorded_by_id",
    "created_at",
)  # fmt: skip
REQUEST_COLUMNS = (
    "id", "skill", "unit_id", "place", "note", "preferred_times", "name", "phone", "resident_id", "resident_record_id",
    "created_by_id", "created_at", "status", "consent_at", "consent_recorded_by_id", "closed_at",
    "contact_promise_days", "contact_due_at", "first_contacted_at",
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


@dataclass
class _VisitBatch:
    records: list[tuple] = field(default_factory=list)  # resident records, without ids
    accounts: list[int] = field(default_factory=list)  # accounts whose record is in `records`
    requests: list[list] = field(default_factory=list)
    visits: list[list] = field(default_factory=list)


def add_visits(sim: Simulation, n_visits: int, people: People, managers: dict[int, int]) -> None:
    """`n_visits` visits by members of the communes' teams (most asked for in a help request) and
    what came of them, plus help requests nobody visited; written in batches while the next batch
    is generated."""
    rng = sim.rng
    rnd = rng.random
    now = sim.now
    skills = list(SKILL_WEIGHTS)
    skill_weights = list(accumulate(SKILL_WEIGHTS.values()))
    served = [i for i, (_v, commune) in enumerate(sim.villages) if people.members_of.get(commune)]
    served_weights = list(accumulate(b - a for a, b in _village_populations(sim, served)))
    mark = sim.mark
    busy = _busy_slots(people)
    # Accounts' resident records: (reference, name, phone); a reference is an index into this
    # batch's resident records, or minus the id of a record already written.
    sim.writer.drain()
    record_of_user: dict[int, tuple[int, str, str | None]] = {
        user_id: (-record_id, name, phone)
        for user_id, record_id, name, phone in db.session.execute(
            select(Resident.user_id, Resident.id, Resident.full_name, Resident.phone).where(
                Resident.user_id.is_not(None)
            )
        )
    }
    reached: dict[tuple[int, int], date] = {}
    batch = _VisitBatch()

    def record_for(village_id: int, created: float, recorder: int) -> tuple[int, int | None, str, str | None]:
        """(record reference, account id, name, phone) of the person asking for help."""
        residents = people.residents_in.get(village_id)
        user_id = residents[int(rnd() * len(residents))] if residents and rnd() < 0.35 else None
        if user_id in record_of_user:
            reference, name, phone = record_of_user[user_id]
            return reference, user_id, name, phone
        phone = None if user_id else f"+8491{int(rnd() * 10_000_000):07d}"
        name = sim.name()
        when = utc(created)
        batch.records.append((village_id, name, int(1940 + rnd() * 66), phone, user_id, when, recorder, when))
        reference = len(batch.records) - 1
        if user_id:
            record_of_user[user_id] = (reference, name, phone)
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

    for number in range(n_visits if served else 0):
        village = served[bisect_right(served_weights, rnd() * served_weights[-1])]
        village_id, commune_index = sim.villages[village]
        skill = skills[bisect_right(skill_weights, rnd() * skill_weights[-1])]
        team = people.members_of[commune_index]
        member = team[int(rnd() * len(team))]
        if skill not in member[1]:
            member = team[int(rnd() * len(team))]
        member_id = member[0]
        with_request = rnd() < 0.9
        if with_request:
            created = sim.random_moment()
            wait = min(max(rng.lognormvariate(math.log(30), 1.0), 0.5), 40 * 24) * 3600
            starts = book(member_id, created + wait)
            booked = created + rnd() * min(starts - created, 2 * DAY)
        else:
            starts = book(member_id, sim.random_moment())
            created = starts - rnd() * 5 * DAY
            booked = created
        record, account, name, phone = record_for(village_id, created, member_id)
        minutes = rng.choice((20, 30, 30, 45, 45, 60, 60, 75))
        ends = starts + minutes * 60
        place = rng.choice(PLACES).format(n=rng.randint(1, 12)) + " " + mark
        if starts >= now:
            status = "booked"
        else:
            r = rnd()
            status = "done" if r < 0.92 else "cancelled" if r < 0.97 else "no_show"
        request_index = None
        if with_request:
            request_index = len(batch.requests)
            closed = utc(ends) if status != "booked" else None
            batch.requests.append(
                [skill, village_id, place, f"Cần hỗ trợ {mark}", "Buổi tối" if rnd() < 0.5 else None, name,
                 phone, account, record, account or member_id, utc(created), REQUEST_STATUS_OF_VISIT[status],
                 utc(created), member_id, closed, *_promise(created, utc(booked))]
            )  # fmt: skip
        done = status == "done"
        resolved = done and rnd() < 0.82
        rating = None
        if done and rnd() < 0.75:
            r = rnd()
            rating = 5 if r < 0.55 else 4 if r < 0.85 else 3 if r < 0.95 else 2 if r < 0.98 else 1
        spent = max(10, minutes + rng.randint(-10, 15)) if done else None
        batch.visits.append(
            [member_id, village_id, request_index, account, record, skill, place, utc(starts), utc(ends),
             status, member_id, utc(booked), "Người dân bận " + mark if status == "cancelled" else None,
             [skill] if done else None, resolved if done else None, (not resolved) if done else None,
             spent, f"Đã hướng dẫn {mark}" if done else None, rating, utc(ends) if done else None]
        )  # fmt: skip
        if len(batch.visits) == BATCH:
            _write_visit_batch(sim, batch, record_of_user, reached)
            batch = _VisitBatch()
            sim.log(f"visits {number + 1:,}/{n_visits:,}")

    # Requests nobody visited: recent ones wait, old ones were cancelled or could not be
    # reached; communes without a team keep theirs waiting (unmet demand).
    anyone = _any_recorder(people, managers)
    for _ in range(round(n_visits * 0.2)):
        village = sim.pick_village()
        village_id, commune_index = sim.villages[village]
        created = sim.random_moment()
        team = people.members_of.get(commune_index)
        if not team or created > now - 21 * DAY or rnd() < 0.2:
            status, closed = "new", None
        else:
            status, closed = ("cancelled" if rnd() < 0.6 else "unreachable"), utc(created + rnd() * 10 * DAY)
        recorder = team[0][0] if team else anyone
        record, account, name, phone = record_for(village_id, created, recorder)
        skill = skills[bisect_right(skill_weights, rnd() * skill_weights[-1])]
        place = rng.choice(PLACES).format(n=rng.randint(1, 12)) + " " + mark
        batch.requests.append(
            [skill, village_id, place, f"Cần hỗ trợ {mark}", None, name, phone, account, record,
             account or recorder, utc(created), status, utc(created), recorder, closed,
             *_promise(created, closed if status == "unreachable" else None)]
        )  # fmt: skip
        if len(batch.requests) == BATCH:
            _write_visit_batch(sim, batch, record_of_user, reached)
            batch = _VisitBatch()
    _write_visit_batch(sim, batch, record_of_user, reached)
    sim.writer.write_with_ids(
        "resident_milestones",
        ("resident_id", "milestone_id", "reached_on", "recorded_at"),
        [(record, milestone_id, day, datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12))
         for (record, milestone_id), day in reached.items()],
    )  # fmt: skip
    counts = sim.counts
    sim.log(
        f"{counts['help_requests']:,} help requests, {counts['visits']:,} visits, {len(reached):,} milestones reached"
    )


def _promise(created: float, contacted: datetime | None) -> tuple:
    """The team's promise to call (the default number of working days) and the first contact:
    the booking of the visit, or the call that could not reach the person."""
    days = DEFAULT_CONTACT_PROMISE_DAYS
    return days, contact_deadline(utc(created), days), contacted


def _write_visit_batch(
    sim: Simulation,
    batch: _VisitBatch,
    record_of_user: dict[int, tuple[int, str, str | None]],
    reached: dict[tuple[int, int], date],
) -> None:
    """Write a batch's resident records, requests and visits (with their real ids), the
    evidence of the milestones reached and the follow-ups of unresolved visits."""
    writer = sim.writer
    first_record = writer.reserve("residents", len(batch.records))
    writer.write("residents", RESIDENT_COLUMNS, [(first_record + i, *row) for i, row in enumerate(batch.records)])
    for user_id in batch.accounts:
        reference, name, phone = record_of_user[user_id]
        record_of_user[user_id] = (-(first_record + reference), name, phone)
    first_request = writer.reserve("help_requests", len(batch.requests))
    for row in batch.requests:
        row[8] = first_record + row[8] if row[8] >= 0 else -row[8]
    writer.write("help_requests", REQUEST_COLUMNS, [(first_request + i, *row) for i, row in enumerate(batch.requests)])
    first_visit = writer.reserve("visits", len(batch.visits))
    for row in batch.visits:
        row[2] = None if row[2] is None else first_request + row[2]
        row[4] = first_record + row[4] if row[4] >= 0 else -row[4]
    writer.write("visits", VISIT_COLUMNS, [(first_visit + i, *row) for i, row in enumerate(batch.visits)])

    # Milestones reached at resolved visits (the earliest date counts), with the evidence;
    # follow-ups for the unresolved ones.
    rnd = sim.rng.random
    evidence, follow_ups = [], []
    today = local_date(sim.now)
    for i, row in enumerate(batch.visits):
        if row[9] != "done":
            continue
        visit_id, member_id, village_id, record = first_visit + i, row[0], row[1], row[4]
        day = local_date(row[7].timestamp())
        if row[14]:
            for n, key in enumerate(SKILL_MILESTONES.get(row[5], ())):
                milestone_id = sim.milestones.get(key)
                if milestone_id is None or (n > 0 and rnd() < 0.5):
                    continue
                if (record, milestone_id) not in reached or reached[(record, milestone_id)] > day:
                    reached[(record, milestone_id)] = day
                evidence.append((record, milestone_id, day, "seen_on_phone", member_id, visit_id, member_id, row[8]))
        else:
            due = day + timedelta(days=7)
            closed = due < today - timedelta(days=7) and rnd() < 0.7
            closed_at = utc(row[8].timestamp() + 7 * DAY) if closed else None
            reason = f"Quay lại hướng dẫn {sim.mark}"
            status = "done" if closed else "open"
            follow_ups.append(
                (record, visit_id, village_id, member_id, due, reason, status, member_id, row[8], closed_at)
            )
    writer.write_with_ids("milestone_evidence", EVIDENCE_COLUMNS, evidence)
    writer.write_with_ids("follow_ups", FOLLOW_UP_COLUMNS, follow_ups)


def _busy_slots(people: People) -> dict[int, set[int]]:
    """member id -> the slots (day * len(SLOTS) + slot) their visits already booked or done take:
    every slot whose span (up to 90 minutes from its start) meets the visit."""
    busy: dict[int, set[int]] = defaultdict(set)
    members = [member for team in people.members_of.values() for member, _skills in team]
    if not members:
        return busy
    rows = db.session.execute(
        select(Visit.member_id, Visit.starts_at, Visit.ends_at).where(
            Visit.member_id.in_(members), Visit.status.in_(("booked", "done"))
        )
    )
    for member_id, starts_at, ends_at in rows:
        start, end = starts_at.timestamp() + LOCAL_OFFSET, ends_at.timestamp() + LOCAL_OFFSET
        day = int(start // DAY)
        for d in (day - 1, day, day + 1):
            for k, minute in enumerate(SLOTS):
                slot_start = d * DAY + minute * 60
                if slot_start < end and start < slot_start + 90 * 60:
                    busy[member_id].add(d * len(SLOTS) + k)
    return busy


def _village_populations(sim: Simulation, indices: list[int]):
    previous = [0, *sim.village_weights]
    return [(previous[i], sim.village_weights[i]) for i in indices]


def _any_recorder(people: People, managers: dict[int, int]) -> int | None:
    for team in people.members_of.values():
        if team:
            return team[0][0]
    return next(iter(managers.values()), None)
