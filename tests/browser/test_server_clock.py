"""The live server keeps the tests' time, also when a run starts at TEST_NOW."""

from __future__ import annotations

import urllib.request
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest

from app.db import utcnow

pytestmark = pytest.mark.browser


def test_the_server_s_clock_is_the_tests_clock(live_server):
    before = utcnow().replace(microsecond=0)
    with urllib.request.urlopen(live_server + "/healthz", timeout=10) as response:  # noqa: S310 (our own localhost URL)
        served_at = parsedate_to_datetime(response.headers["Date"])
    after = utcnow()
    # The Date header has whole seconds; the two processes start their clocks a moment apart.
    assert before - timedelta(seconds=5) <= served_at <= after + timedelta(seconds=5), (before, served_at, after)
