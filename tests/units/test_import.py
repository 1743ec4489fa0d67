import io
from pathlib import Path

import pytest

from app.extensions import db
from app.units.models import Unit
from app.units.operations import UnitImportError, import_units

ROOT = Path(__file__).resolve().parents[2]
HEADER = "code,name,kind,parent_code,population\n"


def count_units() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Unit))


def test_a_valid_file_builds_the_tree_with_paths():
    result = import_units(
        HEADER
        + "90,Tỉnh Mẫu,tinh,,\n"
        + '90001,Xã Một,xa,90,"12.500"\n'
        + "90001-1,Thôn A,thon,90001,800\n"
        + "90002,Phường Hai,phuong,90,\n"
    )
    assert (result.created, result.updated) == (4, 0)
    village = db.session.scalar(db.select(Unit).where(Unit.code == "90001-1"))
    assert village.kind == "village"
    assert village.path == "/90/90001/90001-1/"
    assert village.parent.population == 12500
    assert village.commune().code == "90001"


def test_importing_the_same_file_again_updates_instead_of_duplicating():
    text = HEADER + "90,Tỉnh Mẫu,tinh,,\n90001,Xã Một,xa,90,100\n"
    import_units(text)
    result = import_units(text.replace(",100", ",150"))
    assert (result.created, result.updated) == (0, 2)
    assert count_units() == 2
    assert db.session.scalar(db.select(Unit.population).where(Unit.code == "90001")) == 150


def test_a_parent_may_come_later_in_the_file():
    import_units(HEADER + "90001-1,Thôn A,village,90001,\n90001,Xã Một,commune,90,\n90,Tỉnh,province,,\n")
    assert count_units() == 3


def test_a_broken_file_reports_every_line_and_imports_nothing():
    text = (
        HEADER
        + "90,Tỉnh Mẫu,tinh,,\n"  # line 2: fine
        + "90001,Xã Một,xa,90,12x\n"  # line 3: bad number
        + "90002,Xã Hai,xa,99,\n"  # line 4: unknown parent
        + "90001,Xã Một lần nữa,xa,90,\n"  # line 5: duplicate code
        + "90003,Xã Ba,castle,90,\n"  # line 6: unknown kind
        + "90004-1,Thôn,thon,90,\n"  # line 7: a village directly under the province
        + ",Không mã,xa,90,\n"  # line 8: no code
        + "90005,Xã Năm,xa,90,-5\n"  # line 9: negative
    )
    with pytest.raises(UnitImportError) as caught:
        import_units(text)
    problems = {problem.line: problem.message for problem in caught.value.problems}
    assert set(problems) == {3, 4, 5, 6, 7, 8, 9}
    assert "12x" in problems[3]
    assert "99" in problems[4]
    assert "3" in problems[5]
    assert "castle" in problems[6]
    assert count_units() == 0


def test_a_file_without_the_required_columns_is_refused():
    with pytest.raises(UnitImportError) as caught:
        import_units("code,name\n1,x\n")
    assert "parent_code" in caught.value.problems[0].message


def test_cli_imports_the_shipped_bac_ninh_list(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["units", "import", str(ROOT / "data" / "units" / "bac-ninh-2025.csv")])
    assert result.exit_code == 0, result.output
    assert "tạo mới 100, cập nhật 0" in result.output  # the default language
    assert (
        db.session.scalar(db.select(db.func.count()).select_from(Unit).where(Unit.kind.in_(["commune", "ward"]))) == 99
    )
    # A second run changes nothing.
    again = runner.invoke(args=["units", "import", str(ROOT / "data" / "units" / "bac-ninh-2025.csv")])
    assert "tạo mới 0, cập nhật 100" in again.output


def test_cli_prints_file_and_line_for_each_problem(app, tmp_path):
    broken = tmp_path / "units.csv"
    broken.write_text(HEADER + "90,Tỉnh,tinh,,\n90001,Xã,xa,404,\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["units", "import", str(broken)])
    assert result.exit_code == 1
    assert f"{broken}:3:" in result.output
    assert "404" in result.output
    assert count_units() == 0


def upload(client, text: str, name: str = "units.csv"):
    return client.post(
        "/units/import",
        data={"file": (io.BytesIO(text.encode("utf-8")), name)},
        content_type="multipart/form-data",
    )


def test_admin_imports_a_file_through_the_page(client, login_as, make_user, units):
    login_as(make_user("admin", units["province"]))
    response = upload(client, "\ufeff" + HEADER + "C1C,Thôn 1C,thon,C1,700\n")
    assert response.status_code == 302
    assert db.session.scalar(db.select(Unit.path).where(Unit.code == "C1C")) == "/P/C1/C1C/"


def test_the_page_lists_every_problem_and_imports_nothing(client, login_as, make_user, units):
    login_as(make_user("admin", units["province"]))
    response = upload(client, HEADER + "C1C,Thôn 1C,thon,C9,700\nC1D,Thôn 1D,thon,C1,many\n")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "line 2" in html and "C9" in html
    assert "line 3" in html and "many" in html
    assert db.session.scalar(db.select(Unit).where(Unit.code.in_(["C1C", "C1D"]))) is None


def test_the_page_refuses_other_files_and_other_roles(client, login_as, make_user, units):
    login_as(make_user("admin", units["province"]))
    assert "must be a .csv file" in upload(client, "x", "units.xlsx").get_data(as_text=True)
    assert "not UTF-8" in upload_bytes(client, "é".encode("latin-1")).get_data(as_text=True)
    client.post("/logout")
    login_as(make_user("commune_manager", units["c1"]))
    assert upload(client, HEADER).status_code == 403
    assert client.get("/units/import").status_code == 403


def upload_bytes(client, raw: bytes):
    return client.post(
        "/units/import", data={"file": (io.BytesIO(raw), "units.csv")}, content_type="multipart/form-data"
    )
