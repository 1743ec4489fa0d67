"""Unit codes hold only letters, digits, '-' and '_', and no two units ever share a path — a
path is what every area check compares, so a shared one would open another commune's data.
`flask units check` reports rows that break these rules and accounts placed at a level their
role does not fit."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from app.extensions import db
from app.units.models import Unit
from app.units.operations import UnitImportError, import_units, unit_path

HEADER = "code,name,kind,parent_code,population\n"


@pytest.mark.parametrize("code", ["C2/C2A", "C 3", "C3.1", "Xã-Đông", "C3%", "C3\\1", "C3'"])
def test_a_code_with_other_characters_is_refused_with_its_line(units, code):
    with force_locale("en"), pytest.raises(UnitImportError) as caught:
        import_units(HEADER + "C3,Xã Ba,xa,P,\n" + f'"{code}",Thôn lạ,thon,C3,\n')
    [problem] = caught.value.problems
    assert problem.line == 3
    assert "letters A–Z, digits, - and _" in problem.message
    assert db.session.scalar(db.select(Unit).where(Unit.code == "C3")) is None


def test_the_page_explains_a_refused_code(client, login_as, make_user, units):
    from tests.units.test_import import upload

    login_as(make_user("admin", units["province"]))
    response = upload(client, HEADER + "C2/C2A,Xã giả,xa,P,\n")
    assert response.status_code == 400
    assert "line 2" in response.get_data(as_text=True)


def existing_unit_with_a_slash(units) -> Unit:
    """A commune whose code holds '/', stored before codes were checked; an import (of anything)
    then builds its path from its code."""
    unit = Unit(code="C2/C2A", kind="commune", name="Xã Trùng", parent=units["province"], path="")
    db.session.add(unit)
    db.session.flush()
    import_units(HEADER + "P,Tỉnh Thử,tinh,,\n")
    return unit


def test_a_code_with_a_slash_never_gets_another_units_path(client, login_as, make_user, units):
    unit = existing_unit_with_a_slash(units)
    assert unit.path != units["v2a"].path
    manager = make_user("commune_manager", unit, full_name="Quản lý xã trùng")
    resident = make_user("resident", units["v2a"], full_name="Chú Tám")
    login_as(manager)
    assert client.get(f"/users/{resident.id}").status_code == 403
    assert "Chú Tám" not in client.get("/users/").get_data(as_text=True)


def test_paths_are_built_from_codes_that_cannot_break_out_of_their_segment(units):
    assert unit_path(units["c1"], "C1C") == "/P/C1/C1C/"
    assert unit_path(None, "P") == "/P/"
    assert unit_path(units["province"], "C2/C2A") != units["v2a"].path
    assert unit_path(units["province"], "C2%2FC2A") != unit_path(units["province"], "C2/C2A")


def run_check(app):
    return app.test_cli_runner().invoke(args=["units", "check"])


def test_the_check_command_passes_a_clean_tree(app, make_user, units):
    make_user("admin", units["province"])
    make_user("commune_manager", units["c1"])
    make_user("tech_team", units["v1a"])
    result = run_check(app)
    assert result.exit_code == 0, result.output
    assert "Không có vấn đề nào." in result.output  # the default language


def test_the_check_command_reports_bad_codes_paths_and_misplaced_accounts(app, make_user, units):
    odd = Unit(code="C2/C2A", kind="commune", name="Xã Trùng", parent=units["province"], path="/P/C2/C2A/")
    db.session.add(odd)
    db.session.flush()
    manager = make_user("commune_manager", units["province"], username="cm.tinh")
    make_user("admin", units["c1"], username="admin.xa")
    make_user("tech_team", units["province"], username="tt.tinh")
    make_user("cadre", units["province"], username="cb.tinh")
    make_user("commune_manager", units["c2"], username="cm.dung")

    result = run_check(app)

    assert result.exit_code == 1
    output = result.output
    assert "C2/C2A" in output
    assert "/P/C2/C2A/" in output and "C2A" in output  # the shared path and who else has it
    for username in ("cm.tinh", "admin.xa", "tt.tinh"):
        assert username in output
    assert "cm.dung" not in output and "cb.tinh" not in output
    assert manager.role == "commune_manager"  # reported, not changed


def test_an_area_is_its_own_path_and_below_with_the_path_written_into_the_statement(db, units, make_unit):
    """path_within(): the subtree, nothing beside it even when a code holds LIKE's wildcards,
    and the path inline in the SQL, so each area is planned for itself (a province matches every
    unit, a village one)."""
    from sqlalchemy import event, select

    from app.units.models import path_within

    odd = make_unit("commune", units["province"], code="A_1")
    make_unit("village", odd, code="A_1V")
    make_unit("commune", units["province"], code="AX1")
    make_unit("commune", units["province"], code="A%1")
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        found = db.session.scalars(select(Unit.code).where(path_within(Unit.path, odd.path))).all()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert sorted(found) == ["A_1", "A_1V"]
    assert "A/_1" in statements[-1]  # the escaped path itself, not a placeholder
    province = db.session.scalars(select(Unit.code).where(path_within(Unit.path, units["province"].path))).all()
    assert {"A_1", "A_1V", "AX1", "A%1", units["c1"].code, units["v1a"].code} <= set(province)
