"""The reports API: completion and visits per child unit (JSON and CSV) equal the dashboards'
figures and a direct count; scope refusals (403), unknown units (404), bad filters (422)."""

from __future__ import annotations

import csv
import io

import pytest
from flask_babel import force_locale

from app.extensions import db
from app.reports import queries
from app.reports.exports import _cell
from app.reports.summaries import week_of
from app.units.models import Unit
from tests.reports.test_figures import build_world, complete_self, direct_completion, direct_visits


@pytest.fixture
def world(db, units, make_user, make_unit, make_course):
    return build_world(db, units, make_user, make_unit, make_course)


def assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] and error["message"]
    if field is not None:
        assert error.get("field") == field, error
    return error


def test_completion_per_commune_equals_a_direct_count(client, api_token, world):
    headers = api_token(world.department)
    body = client.get("/api/v1/reports/completion?unit=P", headers=headers).get_json()
    assert body["unit"] == {"code": "P", "name": "Tỉnh Thử", "kind": "province", "population": None}
    assert [row["unit_code"] for row in body["rows"]] == ["C3", "C2", "C1"]  # by name, as units are listed
    for row in body["rows"]:
        assert set(row) == {"unit_code", "unit_name", "population", "enrolled", "completed", "completion_rate"}
        unit = db.session.scalar(db.select(Unit).where(Unit.code == row["unit_code"]))
        expected = direct_completion(unit)
        assert (row["population"], row["enrolled"], row["completed"]) == (
            expected["population"],
            expected["enrolled"],
            expected["completed"],
        )
        if expected["completion_rate"] is None:
            assert row["completion_rate"] is None
        else:
            assert row["completion_rate"] == pytest.approx(expected["completion_rate"], abs=1e-4)
    c1 = next(row for row in body["rows"] if row["unit_code"] == "C1")
    assert (c1["enrolled"], c1["completed"], c1["completion_rate"]) == (7, 5, round(5 / 7, 4))
    assert body["totals"]["completed"] == 8  # the communes' 6 and 2 people registered at the province
    assert body["totals"]["population"] == 9500


def test_completion_filters_by_course_and_role(client, api_token, world):
    headers = api_token(world.department)
    body = client.get("/api/v1/reports/completion?unit=C1&course=smartphone-basics&role=resident", headers=headers)
    rows = {row["unit_code"]: row for row in body.get_json()["rows"]}
    assert set(rows) == {"C1A", "C1B"}
    for code, unit in (("C1A", world.units["v1a"]), ("C1B", world.units["v1b"])):
        expected = direct_completion(unit, course=world.core, role="resident")
        assert (rows[code]["enrolled"], rows[code]["completed"]) == (expected["enrolled"], expected["completed"])
    assert (rows["C1A"]["enrolled"], rows["C1A"]["completed"]) == (2, 2)
    cadres = client.get("/api/v1/reports/completion?unit=P&role=cadre&course=cadre-course", headers=headers).get_json()
    assert cadres["totals"]["completed"] == 3  # k1, k3 and kp at the province


def test_a_completion_shows_in_the_api_at_once(client, api_token, world):
    headers = api_token(world.department)
    before = client.get("/api/v1/reports/completion?unit=C1", headers=headers).get_json()
    complete_self(world.r3, world.core)
    db.session.commit()
    after = client.get("/api/v1/reports/completion?unit=C1", headers=headers).get_json()
    v1b = [next(r for r in body["rows"] if r["unit_code"] == "C1B") for body in (before, after)]
    assert v1b[1]["completed"] == v1b[0]["completed"] + 1


def test_completion_as_csv_is_the_same_table(client, api_token, world):
    headers = api_token(world.department)
    response = client.get("/api/v1/reports/completion?unit=P&role=resident&format=csv", headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    with force_locale("en"):
        table = queries.completion_table(world.units["province"], role="resident")
    keys = ["unit_code", "unit_name", "population", "enrolled", "completed", "completion_rate"]
    kinds = {column.key: column.kind for column in table.columns}
    titles = {column.key: column.title for column in table.columns}
    expected = [[titles[key] for key in keys]]
    expected += [[_cell(row[key], kinds[key]) for key in keys] for row in [*table.rows, table.totals]]
    assert rows == [["" if value is None else str(value) for value in row] for row in expected]
    json_body = client.get("/api/v1/reports/completion?unit=P&role=resident", headers=headers).get_json()
    assert [row[0] for row in rows[1:-1]] == [row["unit_code"] for row in json_body["rows"]]


def test_visits_per_commune_equal_a_direct_count_and_leave_cancelled_visits_out(client, api_token, world):
    headers = api_token(world.department)
    body = client.get("/api/v1/reports/visits?unit=P", headers=headers).get_json()
    for row in [*body["rows"], body["totals"]]:
        unit = db.session.scalar(db.select(Unit).where(Unit.code == row["unit_code"]))
        expected = direct_visits(unit)
        for key, value in expected.items():
            assert row[key] == (pytest.approx(value, abs=1e-4) if isinstance(value, float) else value), (unit, key)
    c1 = next(row for row in body["rows"] if row["unit_code"] == "C1")
    assert (c1["requests"], c1["visits_done"], c1["resolved_share"], c1["average_rating"]) == (4, 4, 0.75, 4.0)
    assert set(c1) == {
        "unit_code",
        "unit_name",
        "requests",
        "visits_done",
        "median_wait_hours",
        "resolved_share",
        "average_rating",
        "called_in_time_share",
    }
    empty = next(row for row in body["rows"] if row["unit_code"] == "C3")
    assert (empty["requests"], empty["visits_done"], empty["median_wait_hours"]) == (0, 0, None)
    # A period: only the weeks asked for.
    recent = client.get(f"/api/v1/reports/visits?unit=C1&from={world.today.isoformat()}", headers=headers).get_json()
    week_from = week_of(world.today)
    for row in recent["rows"]:
        unit = db.session.scalar(db.select(Unit).where(Unit.code == row["unit_code"]))
        assert row["requests"] == direct_visits(unit, week_from)["requests"]
    csv_rows = list(
        csv.reader(
            io.StringIO(
                client.get("/api/v1/reports/visits?unit=P&format=csv", headers=headers).data.decode("utf-8-sig")
            )
        )
    )
    assert [row[0] for row in csv_rows[1:]] == ["C3", "C2", "C1", "P"]


def test_a_commune_manager_reaches_only_their_commune(client, api_token, world):
    headers = api_token(world.manager)
    assert client.get("/api/v1/reports/completion?unit=C1", headers=headers).status_code == 200
    assert client.get("/api/v1/reports/visits?unit=C1A", headers=headers).status_code == 200
    own = client.get("/api/v1/reports/completion", headers=headers).get_json()  # defaults to their commune
    assert own["unit"]["code"] == "C1"
    for url in (
        "/api/v1/reports/completion?unit=P",
        "/api/v1/reports/completion?unit=C2",
        "/api/v1/reports/completion?unit=C2A&format=csv",
        "/api/v1/reports/visits?unit=P",
        "/api/v1/reports/visits?unit=C2",
    ):
        assert_error(client.get(url, headers=headers), 403)


@pytest.mark.parametrize("role", ["cadre", "resident", "tech_team"])
def test_people_without_reports_are_refused(client, api_token, world, make_user, role):
    headers = api_token(make_user(role, world.units["v1a"], username=f"someone-{role}".replace("_", "-")))
    assert_error(client.get("/api/v1/reports/completion?unit=C1A", headers=headers), 403)
    assert_error(client.get("/api/v1/reports/visits", headers=headers), 403)


def test_unknown_units_bad_filters_and_missing_tokens(client, api_token, world):
    headers = api_token(world.department)
    assert_error(client.get("/api/v1/reports/completion?unit=NOPE", headers=headers), 404)
    assert_error(client.get("/api/v1/reports/visits?unit=NOPE", headers=headers), 404)
    assert_error(client.get("/api/v1/reports/completion?unit=P&role=mayor", headers=headers), 422, "role")
    assert_error(client.get("/api/v1/reports/completion?unit=P&course=nope", headers=headers), 422, "course")
    assert_error(client.get("/api/v1/reports/completion?unit=P&course=%00x", headers=headers), 422, "course")
    assert_error(client.get("/api/v1/reports/completion?unit=P&format=pdf", headers=headers), 422, "format")
    assert_error(client.get("/api/v1/reports/visits?unit=P&from=yesterday", headers=headers), 422, "from")
    assert_error(client.get("/api/v1/reports/visits?unit=P&from=2025-03-10&to=2025-03-01", headers=headers), 422, "to")
    assert_error(client.get("/api/v1/reports/visits?unit=%00", headers=headers), 422, "unit")
    assert_error(client.get("/api/v1/reports/completion?unit=P"), 401)
