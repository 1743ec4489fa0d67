import pytest
from sqlalchemy import select

from app.outcomes.models import Resident
from app.privacy.models import PersonalDataRead


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
