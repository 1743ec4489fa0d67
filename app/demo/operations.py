"""The fictional demo province (clearly labelled) and its demo accounts."""

from __future__ import annotations

from pathlib import Path

from app.auth.models import User
from app.auth.operations import count_users
from app.demo.activity import seed_learning, seed_visits
from app.extensions import db
from app.privacy.access_log import record_read
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
    """Load the demo province and accounts if the database has no users yet.

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
    _seed_reads({person.username: person for person in people})
    db.session.flush()
    # The demo rows above were written directly; count them into the dashboards' summaries.
    recount.rebuild()
    return True


def _seed_reads(people: dict[str, User]) -> None:
    """Who read whose record: the demo resident's page, opened by the member and the commune's
    manager, so the resident's "Who read my record" and the officer's log have something to show."""
    resident = people["resident"]
    record_read(people["techteam"], users=[resident], kind="person_page", where="users.show")
    record_read(people["commune_manager"], users=[resident, people["techteam"]], kind="list", where="users.index")
