"""Households for the synthetic data generator (when asked for, as the demo province is): every
resident record in a village joins a household, and each village gains more records (people
nobody has visited yet) so that door-to-door campaigns have households to walk to. Rows are built
here and written through the bulk writer.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import bindparam, func, select, update

from app.demo.simulation import DAY, Simulation, utc
from app.extensions import db
from app.outcomes.models import Household, Resident

HOUSEHOLD_SIZES = (1, 2, 2, 3, 3, 3, 4)
STREETS = ("Xóm {n}", "Ngõ {n}", "Số {n} đường làng", "Gần chợ, xóm {n}", "Đầu ngõ {n}")
NEW_RECORD_COLUMNS = ("unit_id", "household_id", "full_name", "birth_year", "phone", "created_at")


def add_households(sim: Simulation) -> None:
    """Households in every village of the communes generated into, with the village's records
    (those without a household) and new ones, until Settings.household_share of its adults (at
    least 4 people) are listed."""
    rng = sim.rng
    rnd = rng.random
    writer = sim.writer
    writer.drain()
    village_ids = [village_id for village_id, _commune in sim.villages]
    records: dict[int, list[int | None]] = defaultdict(list)
    for record_id, unit_id in db.session.execute(
        select(Resident.id, Resident.unit_id)
        .where(Resident.unit_id.in_(village_ids), Resident.household_id.is_(None), Resident.erased_at.is_(None))
        .order_by(Resident.id)
    ):
        records[unit_id].append(record_id)
    already = dict(
        db.session.execute(
            select(Household.unit_id, func.count())
            .where(Household.unit_id.in_(village_ids))
            .group_by(Household.unit_id)
        ).all()
    )
    populations = [b - a for a, b in zip([0, *sim.village_weights], sim.village_weights, strict=False)]
    created = utc(sim.year_start - 20 * DAY)
    households, joined, new_records = [], [], []
    first_household = None
    for (village_id, _commune), population in zip(sim.villages, populations, strict=True):
        people: list[int | None] = records.get(village_id, [])
        wanted = max(4, round(population * sim.settings.household_share))
        people += [None] * max(0, wanted - len(people))  # None: a new record
        rng.shuffle(people)
        number = already.get(village_id, 0)
        while people:
            size = min(len(people), rng.choice(HOUSEHOLD_SIZES))
            members, people = people[:size], people[size:]
            number += 1
            address = rng.choice(STREETS).format(n=rng.randint(1, 15)) + f", nhà {number} {sim.mark}"
            households.append((village_id, f"H{village_id}-{number:03d}", address, created))
            index = len(households) - 1
            surname = None
            for member in members:
                if member is not None:
                    joined.append((member, index))
                    continue
                name = sim.name()
                surname = surname or name.split()[0]
                name = " ".join([surname, *name.split()[1:]])  # a household shares a surname, mostly
                birth_year = int(1940 + rnd() * 66)
                phone = f"+8498{int(rnd() * 10_000_000):07d}" if rnd() < 0.5 else None
                new_records.append((village_id, index, name, birth_year, phone, created))
    if households:
        first_household = writer.reserve("households", len(households))
        writer.write(
            "households",
            ("id", "unit_id", "code", "address", "created_at"),
            [(first_household + i, *row) for i, row in enumerate(households)],
        )
        writer.write_with_ids(
            "residents",
            NEW_RECORD_COLUMNS,
            [(unit_id, first_household + index, *rest) for unit_id, index, *rest in new_records],
        )
        writer.drain()
        if joined:
            db.session.execute(
                update(Resident.__table__)
                .where(Resident.__table__.c.id == bindparam("record_id"))
                .values(household_id=bindparam("household")),
                [{"record_id": record, "household": first_household + index} for record, index in joined],
            )
    sim.log(f"{len(households):,} households, {len(new_records):,} more resident records")
