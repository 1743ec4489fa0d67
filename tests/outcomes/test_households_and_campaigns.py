"""Household lists (CSV/XLSX), door-to-door campaigns and their walk lists."""

import io
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from app.db import local_today
from app.exceptions import Invalid, NotAllowed
from app.outcomes import campaigns, operations
from app.outcomes.models import Household, Resident, WalkListEntry
from app.outcomes.residents import ResidentImportError, import_households

HEADER = "village_code,household_code,address,resident_code,full_name,birth_year,phone\n"


def count(db, model):
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_a_list_creates_households_and_residents_and_reimport_updates(db, units, make_user):
    manager = make_user("commune_manager", units["c1"])
    text = (
        HEADER
        + "C1A,H1,Số 1 xóm Đông,R1,Nguyễn Văn An,1950,0912345678\n"
        + "C1A,H1,Số 1 xóm Đông,R2,Trần Thị Bình,1955,\n"
        + "C1B,H2,Số 9 xóm Tây,R3,Lê Văn Cường,2001,\n"
    )
    summary = import_households(manager, units["c1"], "list.csv", text.encode(), legal_basis="state_task")
    assert (summary.households_created, summary.residents_created) == (2, 3)
    again = import_households(
        manager,
        units["c1"],
        "list.csv",
        text.replace("Trần Thị Bình", "Trần Thị Bính").encode(),
        legal_basis="state_task",
    )
    assert (again.households_created, again.residents_created, again.residents_updated) == (0, 0, 3)
    assert count(db, Resident) == 3 and count(db, Household) == 2
    assert db.session.scalar(db.select(Resident.full_name).where(Resident.code == "R2")) == "Trần Thị Bính"


def test_broken_rows_are_all_reported_and_nothing_is_imported(db, units, make_user):
    manager = make_user("commune_manager", units["c1"])
    text = (
        HEADER
        + "C1A,H1,Số 1,R1,An,1950,\n"  # 2 fine
        + "C2A,H2,Số 2,R2,Bình,1950,\n"  # 3 another commune's village
        + "C1A,H3,Số 3,R3,,1950,\n"  # 4 no name
        + "C1A,H4,Số 4,R4,Dũng,19x0,\n"  # 5 bad year
        + "C1A,H5,Số 5,R1,Em,1990,\n"  # 6 duplicate resident code
        + "C1A,H1,Số 99,R6,Giang,1990,\n"  # 7 same household, other address
        + "C1A,H7,Số 7,R7,Hà,1990,call me\n"  # 8 bad phone
    )
    with pytest.raises(ResidentImportError) as caught:
        import_households(manager, units["c1"], "list.csv", text.encode(), legal_basis="state_task")
    lines = sorted({p.line for p in caught.value.problems})
    assert lines == [3, 4, 5, 6, 7, 8]
    assert count(db, Resident) == 0 and count(db, Household) == 0


def test_an_xlsx_list_is_read_like_a_csv(db, units, make_user):
    manager = make_user("commune_manager", units["c1"])
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER.strip().split(","))
    sheet.append(["C1A", "H1", "Số 1", "R1", "Nguyễn Văn An", 1950, "0912345678"])
    sheet.append(["C1B", 12, "Số 2", 7, "Lê Thị Hoa", None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    summary = import_households(manager, units["c1"], "list.xlsx", buffer.getvalue(), legal_basis="state_task")
    assert summary.residents_created == 2
    # Numbers typed into Excel cells come back as the codes written, not "12.0".
    assert db.session.scalar(db.select(Household.code).where(Household.unit_id == units["v1b"].id)) == "12"
    assert db.session.scalar(db.select(Resident.code).where(Resident.full_name == "Lê Thị Hoa")) == "7"


def test_import_is_refused_outside_the_managers_commune(db, units, make_user):
    manager = make_user("commune_manager", units["c2"])
    with pytest.raises(NotAllowed):
        import_households(
            manager, units["c1"], "list.csv", (HEADER + "C1A,H1,Số 1,R1,An,1950,\n").encode(), legal_basis="state_task"
        )


def test_unreadable_files_are_refused_clearly(db, units, make_user):
    manager = make_user("commune_manager", units["c1"])
    for name, content in [("list.txt", b"x"), ("list.csv", "é".encode("latin-1")), ("list.xlsx", b"not a zip")]:
        with pytest.raises(ResidentImportError):
            import_households(manager, units["c1"], name, content, legal_basis="state_task")


@given(
    sizes=st.lists(st.integers(0, 40), min_size=1, max_size=6),
    members=st.integers(1, 7),
)
def test_split_assigns_every_household_once_and_balances_load(sizes, members):
    class FakeHousehold:
        def __init__(self, identifier, unit_id):
            self.id, self.unit_id = identifier, unit_id

    households = [FakeHousehold(f"{v}-{i}", v) for v, size in enumerate(sizes) for i in range(size)]
    member_ids = list(range(100, 100 + members))
    split = campaigns.split_walk_list(households, member_ids)
    assigned = [h.id for items in split.values() for h in items]
    assert sorted(assigned) == sorted(h.id for h in households)
    loads = [len(items) for items in split.values()]
    assert max(loads) - min(loads) <= 1


@pytest.fixture
def village_lists(db, units, make_user):
    manager = make_user("commune_manager", units["c1"])
    rows = [f"C1A,A{i},Số {i} thôn 1A,RA{i},Người A{i},1960," for i in range(7)]
    rows += [f"C1B,B{i},Số {i} thôn 1B,RB{i},Người B{i},1970," for i in range(4)]
    rows += ["C1B,B9,Số 9 thôn 1B,RB9,Cháu nhỏ,2020,"]  # a child only: not targeted
    import_households(
        manager, units["c1"], "list.csv", (HEADER + "\n".join(rows) + "\n").encode(), legal_basis="state_task"
    )
    return manager


def test_a_campaign_targets_households_not_yet_reached_and_splits_them(db, units, team, milestones, village_lists):
    manager = village_lists
    reached = db.session.scalar(db.select(Resident).where(Resident.code == "RA0"))
    operations.record_milestone(
        team[0], reached, milestones["eid_activated"], on_date=local_today(), confirmation="document"
    )
    today = local_today()
    campaign = campaigns.create_campaign(
        manager,
        name="Kích hoạt VNeID tháng này",
        milestone=milestones["eid_activated"],
        commune=units["c1"],
        village_codes=["C1A", "C1B"],
        starts_on=today,
        ends_on=today + timedelta(days=30),
    )
    entries = db.session.scalars(db.select(WalkListEntry).where(WalkListEntry.campaign_id == campaign.id)).all()
    codes = sorted(e.household.code for e in entries)
    assert codes == sorted([f"A{i}" for i in range(1, 7)] + [f"B{i}" for i in range(4)])
    loads = {}
    for entry in entries:
        loads[entry.member_id] = loads.get(entry.member_id, 0) + 1
    assert sorted(loads.values()) == [5, 5]
    entry = entries[0]
    campaigns.update_walk_status(db.session.get(type(team[0]), entry.member_id), entry, "not_home")
    assert campaigns.campaign_progress(campaign)["not_home"] == 1
    other_member = next(m for m in team if m.id != entry.member_id)
    with pytest.raises(NotAllowed):
        campaigns.update_walk_status(other_member, entry, "reached")


def test_campaign_input_is_checked(db, units, team, milestones, village_lists, make_user):
    manager = village_lists
    today = local_today()
    base = {
        "name": "X",
        "milestone": milestones["eid_activated"],
        "commune": units["c1"],
        "village_codes": ["C1A"],
        "starts_on": today,
        "ends_on": today,
    }
    for change in (
        {"name": " "},
        {"village_codes": ["C2A"]},
        {"ends_on": today - timedelta(days=1)},
        {"milestone": None},
    ):
        with pytest.raises(Invalid):
            campaigns.create_campaign(manager, **{**base, **change})
    with pytest.raises(NotAllowed):
        campaigns.create_campaign(make_user("commune_manager", units["c2"]), **base)
