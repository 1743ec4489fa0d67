"""Fixtures of the privacy tests: the people of two communes and their records, residents made
on demand, and the read log."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.outcomes.models import Resident
from app.privacy.models import PersonalDataRead


@pytest.fixture
def people(db, units, make_user):
    """Commune C1: its manager `cm`, a tech-team member `tech`, a resident `r` with an account
    and a linked record `r_record`, and `rec`, a record without an account. Commune C2: `cm2`,
    `tech2` and the record `rec2`. `officer` is the administrator (the data-protection officer)."""
    p = SimpleNamespace(units=units)
    p.officer = make_user("admin", units["province"], full_name="Cán bộ bảo vệ dữ liệu")
    p.cm = make_user("commune_manager", units["c1"], full_name="Chủ tịch Một")
    p.cm2 = make_user("commune_manager", units["c2"], full_name="Chủ tịch Hai")
    p.tech = make_user("tech_team", units["c1"], full_name="Tổ viên Một")
    p.tech2 = make_user("tech_team", units["c2"], full_name="Tổ viên Hai")
    p.r = make_user("resident", units["v1a"], full_name="Bà Năm", phone="0912 345 678")
    p.r_record = Resident(unit_id=units["v1a"].id, full_name="Bà Năm", birth_year=1960, user_id=p.r.id)
    p.rec = Resident(unit_id=units["v1b"].id, full_name="Ông Sáu", birth_year=1955, phone="0987 654 321")
    p.rec2 = Resident(unit_id=units["v2a"].id, full_name="Chú Tám", birth_year=1950)
    db.session.add_all([p.r_record, p.rec, p.rec2])
    db.session.flush()
    return p


@pytest.fixture
def make_resident(db, units):
    counter = {"n": 0}

    def make(unit=None, **fields):
        counter["n"] += 1
        resident = Resident(
            unit_id=(unit or units["v1a"]).id,
            full_name=fields.pop("full_name", f"Cư dân {counter['n']}"),
            phone=fields.pop("phone", f"0912 345 {counter['n']:03d}"),
            **fields,
        )
        db.session.add(resident)
        db.session.flush()
        return resident

    return make


@pytest.fixture
def reads(db):
    """`reads(**where)`: the logged reads matching these column values, oldest first."""

    def find(**where) -> list[PersonalDataRead]:
        db.session.expire_all()
        query = select(PersonalDataRead).order_by(PersonalDataRead.id)
        for column, value in where.items():
            query = query.where(getattr(PersonalDataRead, column) == value)
        return list(db.session.scalars(query))

    return find
