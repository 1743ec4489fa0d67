"""PostgreSQL: the lock-holding scheduler is SIGKILLed five times, twice or so while it sends,
with visits being booked and moved; a standby takes over each time and every reminder due reaches
a local SMTP sink exactly once (bench/scheduler_kill.py's short run; the script runs 100 kills).

A message can be *held* by the outbox's at-most-once rule (claimed, then the sender died before
the server took it: never resent automatically, `flask jobs stuck` lists it); the run counts
those apart and retries them as an operator would, and they then arrive once. Nothing may be lost
otherwise, nor sent twice without a failed attempt to explain it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import is_postgresql

pytestmark = [
    pytest.mark.postgresql,
    pytest.mark.skipif(not is_postgresql(), reason="the scheduler's advisory lock needs PostgreSQL"),
]

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "scheduler_kill.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("scheduler_kill", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_killing_the_scheduler_loses_and_repeats_no_reminder(database_url, tmp_path):
    bench = load_bench()
    url = make_url(database_url)
    kill_db = url.set(database=f"{url.database}_kill").render_as_string(hide_password=False)
    # Six schedulers from the start instead of a new standby after each kill: fewer app starts.
    result = bench.run(
        5,
        database_url=kill_db,
        schedulers=6,
        replace=False,
        min_gap=0.3,
        max_gap=1.5,
        send_wait=4,
        retry_held=True,
        drain_timeout=90,
        log_dir=tmp_path,
    )
    assert result["takeovers"] == 5
    assert sum(n for event, n in result["events"].items() if event.startswith("killed")) == 5
    # A standby takes the lock within its retry interval (0.5 s) and the time to notice the kill.
    assert result["takeover_max_s"] < 5, result
    assert result["reminders"] > 0 and result["messages"] > result["reminders"]
    assert result["lost_count"] == 0, result["lost"]
    assert result["duplicates_not_explained_count"] == 0, result["duplicates_not_explained"]
    assert result["reminders_missing_count"] == 0, result["reminders_missing"]
    assert result["received_unknown"] == 0
    outcomes = result["outcomes"]
    held = outcomes.get("held by the at-most-once rule", 0)
    assert outcomes["delivered once"] + held + outcomes.get("duplicate explained by the rule", 0) == result["messages"]
    if held:
        assert result["retried"] == {"retried": held, "now delivered once": held, "still missing": 0}
    assert result["outbox_status"].get("pending", 0) == 0
