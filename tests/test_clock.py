"""One clock for the app and its tests: the app reads "now" only through app.db, no test reads the
clock while pytest collects it, and TEST_NOW starts a whole run at a chosen moment (see
tests/conftest.py)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from app.db import LOCAL_TZ, local_today, utcnow
from tests.conftest import _test_now

ROOT = Path(__file__).resolve().parents[1]

#: Reading the machine's clock or the database's: `datetime.now()`, `time.time()`, `func.now()`...
DIRECT_READS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("func", "now"),
    ("func", "current_timestamp"),
    ("func", "current_date"),
}
#: The app's clock and the tests' helpers around it.
HELPER_READS = {"utcnow", "local_today", "today", "now"}
#: SQL that asks the database for the time; TEST_NOW does not move the database's clock.
SQL_CLOCK_WORDS = ("now()", "current_timestamp", "current_date", "localtimestamp", "clock_timestamp")


def _direct_read(node: ast.AST) -> bool:
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return False
    owner = node.func.value
    owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
    return (owner_name, node.func.attr) in DIRECT_READS


def _clock_read(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    function = node.func
    name = function.attr if isinstance(function, ast.Attribute) else getattr(function, "id", None)
    return name in HELPER_READS or _direct_read(node)


def _clock_calls(node: ast.AST):
    """Clock reads that run when `node` is evaluated: not those in a lambda or a function body
    inside it, which run later."""
    if isinstance(node, ast.Lambda | ast.FunctionDef | ast.AsyncFunctionDef):
        return
    if _clock_read(node):
        yield node
    for child in ast.iter_child_nodes(node):
        yield from _clock_calls(child)


def _evaluated_at_import(body):
    """The expressions of a module that run when it is imported: statements outside functions,
    decorators (pytest.mark.parametrize) and default arguments."""
    for statement in body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from statement.decorator_list
            yield from statement.args.defaults
            yield from (default for default in statement.args.kw_defaults if default is not None)
        elif isinstance(statement, ast.ClassDef):
            yield from statement.decorator_list
            yield from _evaluated_at_import(statement.body)
        else:
            yield statement


def clock_reads_at_collection(source: str) -> list[int]:
    tree = ast.parse(source)
    return sorted(call.lineno for node in _evaluated_at_import(tree.body) for call in _clock_calls(node))


def test_no_test_reads_the_clock_when_pytest_collects_it():
    # A date worked out at collection is stale once the run crosses midnight.
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        for line in clock_reads_at_collection(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_collection_check_finds_a_date_in_a_parametrize_and_not_one_in_a_test():
    source = """
@pytest.mark.parametrize("day", [local_today() + timedelta(days=1)])
def test_a(day, at=datetime.now(UTC)):
    assert day > local_today()
TOMORROW = date.today()
CASES = [lambda: utcnow()]
"""
    assert clock_reads_at_collection(source) == [2, 3, 5]


def _python_clock_reads(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if _direct_read(node) or (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and any(word in node.value.lower() for word in SQL_CLOCK_WORDS)
        ):
            lines.append(node.lineno)
    return lines


def test_the_app_reads_the_time_only_through_app_db():
    # One seam: the app asks app.db.utcnow()/local_today(), never the machine's zone (date.today)
    # nor the database's clock, which a test run at TEST_NOW does not move.
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for folder in ("app", "migrations")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path != ROOT / "app" / "db.py"
        for line in _python_clock_reads(path)
    ]
    assert found == []


# --- TEST_NOW -------------------------------------------------------------------------------

MOMENT = "2026-05-31T23:59:30+07:00"  # a Sunday, the last day of a month, 30 seconds to midnight


def test_TEST_NOW_is_a_moment_in_local_time_unless_it_says_otherwise(monkeypatch):
    monkeypatch.setenv("TEST_NOW", MOMENT)
    assert _test_now() == datetime(2026, 5, 31, 16, 59, 30, tzinfo=UTC)
    monkeypatch.setenv("TEST_NOW", "2026-05-31T23:59:30")
    assert _test_now() == datetime(2026, 5, 31, 16, 59, 30, tzinfo=UTC)
    monkeypatch.setenv("TEST_NOW", "2026-05-31T16:59:30Z")
    assert _test_now() == datetime(2026, 5, 31, 16, 59, 30, tzinfo=UTC)
    monkeypatch.setenv("TEST_NOW", "")
    assert _test_now() is None
    monkeypatch.setenv("TEST_NOW", "tomorrow")
    with pytest.raises(pytest.UsageError, match="TEST_NOW"):
        _test_now()


def test_every_clock_reads_the_same_moment(make_user):
    """Python's clocks, the app's and a column default agree, and a run started at TEST_NOW is
    at that moment (and later: time passes)."""
    before = utcnow()
    readings = [datetime.now(UTC), datetime.fromtimestamp(time.time(), UTC), make_user("cadre").created_at]
    local_date, machine_date = local_today(), date.today()
    after = utcnow()
    assert all(before <= reading <= after for reading in readings), (before, readings, after)
    assert local_date in {before.astimezone(LOCAL_TZ).date(), after.astimezone(LOCAL_TZ).date()}
    assert machine_date in {before.astimezone().date(), after.astimezone().date()}
    started = _test_now()
    if started is not None:
        assert started <= before < started + timedelta(days=1)


def test_a_run_started_with_TEST_NOW_is_at_that_moment(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "TEST_DATABASE_URL"}
    env["TEST_NOW"] = MOMENT
    probe = f"{__file__}::{test_every_clock_reads_the_same_moment.__name__}"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "clock: started at Sunday 2026-05-31 23:59:30 Asia/Ho_Chi_Minh" in result.stdout, result.stdout
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
