"""The household-list template: Vietnamese headers, an example row that imports into the demo as
it is, and lists that still name their columns in English."""

from __future__ import annotations

import io

from app.auth.models import User
from app.demo.operations import DEMO_PASSWORD, seed_demo
from app.outcomes.models import Household, Resident
from app.outcomes.residents import COLUMNS, HEADERS, column_key
from app.units.models import Unit

BASIS = {"legal_basis": "state_task"}


def upload(text: str, name: str = "list.csv") -> tuple:
    return (io.BytesIO(text.encode("utf-8")), name)


def count(db, model, *where) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))


def demo_commune_manager(db, client):
    seed_demo()
    manager = db.session.scalar(db.select(User).where(User.username == "commune_manager"))
    response = client.post("/login", data={"username": manager.username, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    return manager


def test_the_template_has_vietnamese_headers_and_imports_into_the_demo_as_it_is(db, real_courses, client):
    manager = demo_commune_manager(db, client)
    residents_before = count(db, Resident)
    template = client.get("/outcomes/import/template.csv")
    assert template.status_code == 200
    header, example = template.data.decode("utf-8-sig").splitlines()
    assert header == "Mã thôn,Mã hộ,Địa chỉ,Mã người dân,Họ và tên,Năm sinh,Số điện thoại"
    village_code = example.split(",")[0]
    village = db.session.scalar(db.select(Unit).where(Unit.code == village_code))
    assert village is not None and village.parent_id == manager.unit_id

    response = client.post(
        "/outcomes/import",
        data={**BASIS, "file": (io.BytesIO(template.data), "household-list-template.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert count(db, Resident) == residents_before + 1
    sample = db.session.scalar(db.select(Resident).where(Resident.unit_id == village.id, Resident.code == "ND-001"))
    assert sample.full_name == "Nguyễn Văn Mẫu" and sample.birth_year == 1960 and sample.phone == "+84912345678"
    assert count(db, Household, Household.unit_id == village.id, Household.code == "HO-001") == 1

    again = client.post(
        "/outcomes/import",
        data={**BASIS, "file": (io.BytesIO(template.data), "household-list-template.csv")},
        content_type="multipart/form-data",
    )
    assert again.status_code == 302
    assert count(db, Resident) == residents_before + 1


def test_english_column_names_and_unaccented_headers_are_still_accepted(db, real_courses, client):
    manager = demo_commune_manager(db, client)
    villages = db.session.scalars(db.select(Unit).where(Unit.parent_id == manager.unit_id).order_by(Unit.code)).all()
    english = ",".join(COLUMNS) + f"\n{villages[1].code},HO-EN,Số 2,ND-EN,Trần Thị Anh,1975,\n"
    plain = "MA THON,ma ho,Dia chi,ma_nguoi_dan,Ho va ten,nam sinh,so dien thoai\n"
    plain += f"{villages[2].code},HO-KD,Số 3,ND-KD,Lê Văn Dấu,1980,0987 654 321\n"
    for text in (english, plain):
        response = client.post(
            "/outcomes/import", data={**BASIS, "file": upload(text)}, content_type="multipart/form-data"
        )
        assert response.status_code == 302, response.get_data(as_text=True)
    assert db.session.scalar(db.select(Resident.unit_id).where(Resident.code == "ND-EN")) == villages[1].id
    assert db.session.scalar(db.select(Resident.phone).where(Resident.code == "ND-KD")) == "+84987654321"


def test_a_missing_column_is_named_by_its_vietnamese_header(db, real_courses, client):
    demo_commune_manager(db, client)
    text = "Mã thôn,Mã hộ,Địa chỉ,Họ và tên\nD01-01,HO-9,Số 9,Ai Đó\n"
    response = client.post("/outcomes/import", data={**BASIS, "file": upload(text)}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Mã người dân (resident_code)" in response.get_data(as_text=True)
    assert count(db, Resident, Resident.full_name == "Ai Đó") == 0


def test_every_header_and_column_name_maps_to_its_column():
    for name in COLUMNS:
        assert column_key(HEADERS[name]) == name
        assert column_key(f"  {HEADERS[name].upper()} ") == name
        assert column_key(name) == name
    assert column_key("Ghi chú") == "ghi chú"
