"""The deadline-day mix for Locust: the day a province tells every cadre to finish a course by
Friday. Run by bench/deadline_day.py (which prepares the database and the cluster and reads the
figures); each simulated person signs in through the real form and then, with a few seconds of
reading between clicks:

- learners (residents and cadres, most of the load): open their home page and the catalog, read
  lessons, take the quiz of the bench course (open it, answer, submit: a graded attempt), now and
  then sign out and in again;
- tech-team members: check their agenda, the team calendar and the triage list, open a visit and
  with its outcome form, and record the outcome of a visit booked for the run;
- managers: open the home overview, the province dashboard, a commune view, the indicators, and
  export the dashboard as CSV.

Requests are named by kind ("lesson page", "quiz submission" …) so the figures come per kind.
Accounts and paths come from the environment (DEADLINE_DAY_PLAN, a JSON file written by the
runner). Any answer other than the expected status counts as an error.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading
from pathlib import Path

from locust import HttpUser, between, task

_PLAN_FILE = os.environ.get("DEADLINE_DAY_PLAN")
PLAN = json.loads(Path(_PLAN_FILE).read_text(encoding="utf-8")) if _PLAN_FILE else None
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
OPTION = re.compile(r'<input[^>]*type="radio"[^>]*name="(q-\d+)"[^>]*value="(\d+)"|'
                    r'<input[^>]*type="checkbox"[^>]*name="(q-\d+)"[^>]*value="(\d+)"')
FORM_ACTION = re.compile(r'<form[^>]*action="(/learning/attempts/\d+)"')
_lock = threading.Lock()
_pools: dict[str, itertools.cycle] = {}


def next_account(kind: str) -> str:
    """The next account of `kind` from the plan, in turn, so the simulated people spread over them."""
    with _lock:
        if kind not in _pools:
            _pools[kind] = itertools.cycle(PLAN["accounts"][kind])
        return next(_pools[kind])


def csrf_from(html: str) -> str | None:
    match = CSRF.search(html)
    return (match.group(1) or match.group(2)) if match else None


class Person(HttpUser):
    abstract = True
    wait_time = between(1, 4)
    kind = ""
    password = ""

    def on_start(self) -> None:
        # The run's site has a certificate of its own (the runner passes its path).
        self.client.verify = os.environ.get("DEADLINE_DAY_CA_BUNDLE") or True
        # A browser sends the page it is on; over HTTPS the CSRF check wants it from this site.
        self.client.headers["Referer"] = f"{self.host}/"
        self.username = next_account(self.kind)
        self.token = None
        self.sign_in()

    def sign_in(self) -> None:
        self.token = None  # a form token belongs to the session it came with
        with self.client.get("/login", name="sign-in page", catch_response=True) as response:
            token = csrf_from(response.text)
            if response.status_code != 200 or not token:
                response.failure(f"sign-in page answered {response.status_code} {response.error or ''}".strip())
                return
        form = {"csrf_token": token, "username": self.username, "password": PLAN["passwords"][self.kind], "next": ""}
        with self.client.post(
            "/login", data=form, name="sign in", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 302:
                response.failure(f"sign in answered {response.status_code}")

    def page(self, path: str, name: str, status: int = 200) -> str:
        with self.client.get(path, name=name, catch_response=True, allow_redirects=False) as response:
            if response.status_code != status:
                response.failure(f"{path} answered {response.status_code} {response.error or ''}".strip())
                return ""
            token = csrf_from(response.text) if "html" in response.headers.get("Content-Type", "") else None
            if token:
                self.token = token
            return response.text

    def sign_out_and_in(self) -> None:
        if self.token:
            self.client.post("/logout", data={"csrf_token": self.token}, name="sign out", allow_redirects=False)
        self.client.cookies.clear()
        self.sign_in()


class LearnerUser(Person):
    weight = 12
    kind = "learner"

    @task(2)
    def home(self) -> None:
        self.page("/", "home (learner)")

    @task(1)
    def catalog(self) -> None:
        self.page("/learning/", "course catalog")

    @task(8)
    def lesson(self) -> None:
        self.page(random.choice(PLAN["lesson_paths"]), "lesson page")

    @task(3)
    def quiz(self) -> None:
        html = self.page(PLAN["quiz_path"], "quiz page")
        action = FORM_ACTION.search(html)
        token = csrf_from(html)
        if not action or not token:
            return
        questions: dict[str, list[str]] = {}
        for match in OPTION.finditer(html):
            name, value = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
            questions.setdefault(name, []).append(value)
        form = [("csrf_token", token)] + [(name, random.choice(values)) for name, values in questions.items()]
        with self.client.post(
            action.group(1), data=form, name="quiz submission", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 302 or "/learning/attempts/" not in response.headers.get("Location", ""):
                response.failure(f"submission answered {response.status_code} {response.headers.get('Location')}")
                return
        self.page(action.group(1), "quiz result")

    @task(1)
    def again(self) -> None:
        self.sign_out_and_in()


class MemberUser(Person):
    weight = 2
    kind = "member"

    @task(4)
    def agenda(self) -> None:
        self.page("/visits/agenda", "agenda")

    @task(1)
    def calendar(self) -> None:
        self.page("/visits/calendar", "team calendar")

    @task(2)
    def triage(self) -> None:
        self.page("/visits/triage", "triage list")

    @task(2)
    def outcome(self) -> None:
        """Open a visit booked for the run and record what came of it (once per visit)."""
        with _lock:
            pending = PLAN["visits"].get(self.username) or []
            visit_id = pending.pop() if pending else None
        if visit_id is None:
            self.page(random.choice(PLAN["visit_paths"]), "visit page")
            return
        html = self.page(f"/visits/visits/{visit_id}", "visit page with the outcome form")
        token = csrf_from(html)
        if not token:
            return
        form = {"csrf_token": token, **PLAN["outcome_form"]}
        with self.client.post(
            f"/visits/visits/{visit_id}/complete",
            data=form,
            name="record outcome",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"outcome answered {response.status_code}")


class ManagerUser(Person):
    """A department manager (the province's reports) or a commune manager (their commune's):
    each opens only the pages of their own area, as the menu offers them."""

    weight = 1
    kind = "manager"

    @property
    def area(self) -> dict:
        return PLAN["manager_areas"][self.username]

    @task(3)
    def overview(self) -> None:
        self.page("/", "home (manager overview)")

    @task(3)
    def dashboard(self) -> None:
        self.page(self.area["dashboard"], "dashboard (province or commune)")

    @task(2)
    def commune(self) -> None:
        self.page(random.choice(self.area["communes"]), "commune view")

    @task(1)
    def indicators(self) -> None:
        self.page(self.area["indicators"], "indicators")

    @task(1)
    def export(self) -> None:
        self.page(self.area["export"], "dashboard CSV export")
