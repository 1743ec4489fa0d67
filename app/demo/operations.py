"""The fictional demo province (clearly labelled) and its demo accounts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from app.auth.contact import update_contact
from app.auth.models import User
from app.auth.operations import count_users
from app.db import utcnow
from app.demo.activity import seed_learning, seed_visits
from app.demo.messages import seed_messages
from app.demo.province import seed_province
from app.extensions import db
from app.outcomes.models import Resident
from app.outcomes.residents import add_resident
from app.privacy import corrections
from app.privacy import requests as person_requests
from app.privacy.access_log import record_read
from app.privacy.consents import give_consent, withdraw_consent
from app.privacy.subjects import subject_of_user
from app.reports import recount
from app.units.operations import get_unit_by_code, import_units

DEMO_UNITS_FILE = Path(__file__).with_name("units.csv")
DEMO_PASSWORD = "demo12345"
#: (username, role) of the documented demo sign-ins.
DEMO_ACCOUNTS = (
    ("admin", "admin"),
    ("manager", "department_manager"),
    ("commune_manager", "commune_manager"),
    ("techteam", "tech_team"),
    ("cadre", "cadre"),
    ("resident", "resident"),
)
_PEOPLE = (
    # username, full name, role, unit code
    ("admin", "Quản trị viên (demo)", "admin", "DEMO"),
    ("manager", "Trần Văn Minh (demo)", "department_manager", "DEMO"),
    ("commune_manager", "Lê Thị Hoa (demo)", "commune_manager", "D01"),
    ("techteam", "Nguyễn Văn Hùng (demo)", "tech_team", "D01-01"),
    ("cadre", "Phạm Thị Mai (demo)", "cadre", "D01"),
    ("resident", "Hoàng Văn Bình (demo)", "resident", "D01-02"),
    # A second commune, so that scoped views have someone to hide.
    ("commune_manager2", "Vũ Văn Nam (demo)", "commune_manager", "D02"),
    ("techteam2", "Đỗ Thị Lan (demo)", "tech_team", "D02-01"),
    ("cadre2", "Bùi Văn Tâm (demo)", "cadre", "D02"),
    ("resident2", "Đặng Thị Thu (demo)", "resident", "D02-01"),
    # A second member of the An Phú team.
    ("techteam_duc", "Trịnh Văn Đức (demo)", "tech_team", "D01-03"),
)


def seed_demo() -> bool:
    """Load the demo province and accounts if the database has no users yet, with activity in
    every commune (app.demo.province).

    Returns False (and changes nothing) when there is already data.
    """
    if count_users() > 0:
        return False
    import_units(DEMO_UNITS_FILE.read_text(encoding="utf-8"), is_demo=True)
    people = []
    password_hash = None
    for username, full_name, role, unit_code in _PEOPLE:
        user = User(username=username, full_name=full_name, role=role, unit=get_unit_by_code(unit_code))
        if password_hash is None:
            user.set_password(DEMO_PASSWORD)
            password_hash = user.password_hash
        user.password_hash = password_hash  # hashing once keeps the first start quick
        db.session.add(user)
        people.append(user)
    db.session.flush()
    seed_learning()
    seed_visits(people)
    db.session.flush()
    by_name = {user.username: user for user in people}
    # Every commune alive: generated learners, teams, visits, households, then campaigns,
    # assignments, attempts and a closed month through the app's own operations.
    seed_province(by_name, password_hash)
    seed_consents({user.username: user for user in people})
    seed_messages({user.username: user for user in people})
    _seed_reads({person.username: person for person in people})
    db.session.flush()
    seed_person_requests({person.username: person for person in people})
    # The demo resident (whose phone the correction above set) is reached by Zalo, else SMS.
    update_contact(next(p for p in people if p.username == "resident"), channels=["zalo", "sms", "in_app"])
    # The demo rows above were written directly; count them into the dashboards' summaries.
    recount.rebuild()
    return True


def seed_consents(people: dict[str, User]) -> None:
    """Consents of the demo residents, given through each channel, one of them withdrawn, and a
    resident record (no account) held on the state task with the consents ticked for it."""
    techteam = people["techteam"]
    now = utcnow()
    binh = subject_of_user(people["resident"])
    give_consent(binh, "account", recorded_by=None, channel="online", now=now - timedelta(days=30))
    give_consent(binh, "messages", recorded_by=None, channel="online", now=now - timedelta(days=30))
    give_consent(binh, "progress_sharing", recorded_by=techteam, channel="assisted", now=now - timedelta(days=20))
    withdraw_consent(binh, "progress_sharing", by=people["resident"], now=now - timedelta(days=2))
    thu = subject_of_user(people["resident2"])
    for purpose in ("account", "messages"):
        give_consent(
            thu,
            purpose,
            recorded_by=people["techteam2"],
            channel="paper",
            evidence="Phiếu đồng ý số D02-017 (demo)",
            now=now - timedelta(days=12),
        )
    add_resident(
        techteam,
        village=get_unit_by_code("D01-01"),
        full_name="Bà Nguyễn Thị Gấm (demo)",
        birth_year=1952,
        legal_basis="state_task",
        consents=[("messages", "assisted"), ("progress_sharing", "assisted")],
    )


def seed_person_requests(people: dict[str, User]) -> None:
    """Requests about personal data in each state, one of them late, so the officer's list
    (Data requests) and the person's page have something to show."""
    now = utcnow()
    resident, resident2 = people["resident"], people["resident2"]
    person_requests.file_request(
        "access",
        filed_by=resident,
        user=resident,
        details="Tôi muốn xem dữ liệu của mình.",
        now=now - timedelta(days=1),
    )
    correction = person_requests.file_request(
        "correction",
        filed_by=resident,
        user=resident,
        details="Số điện thoại của tôi đã đổi.",
        now=now - timedelta(days=8),
    )
    person_requests.acknowledge(people["commune_manager"], correction, now=now - timedelta(days=7))
    corrections.correct_account(
        resident, resident, {"phone": "0912 345 678"}, person_request=correction, now=now - timedelta(days=7)
    )
    person_requests.close(
        people["commune_manager"], correction, "done", "Đã sửa số điện thoại.", now=now - timedelta(days=6)
    )
    objection = person_requests.file_request(
        "objection",
        filed_by=resident2,
        user=resident2,
        details="Xin đừng gửi tin nhắn nhắc lịch cho tôi.",
        now=now - timedelta(days=4),
    )
    person_requests.acknowledge(people["admin"], objection, now=now - timedelta(days=3))
    # A record without an account, whose erasure request nobody has acknowledged yet: late.
    record = Resident(unit_id=people["techteam"].unit_id, full_name="Lò Thị Sen (demo)", birth_year=1949)
    db.session.add(record)
    db.session.flush()
    person_requests.file_request(
        "erasure",
        filed_by=people["techteam"],
        resident=record,
        details="Bà chuyển đi nơi khác, nhờ xoá hồ sơ.",
        now=now - timedelta(days=6),
    )


def _seed_reads(people: dict[str, User]) -> None:
    """Who read whose record: the demo resident's page, opened by the member and the commune's
    manager, so the resident's "Who read my record" and the officer's log have something to show."""
    resident = people["resident"]
    record_read(people["techteam"], users=[resident], kind="person_page", where="users.show")
    record_read(people["commune_manager"], users=[resident, people["techteam"]], kind="list", where="users.index")
