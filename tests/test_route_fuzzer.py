"""Every route, every method, every role and signed out, with hostile input: never a server error.

For each rule of the application's URL map and each method it allows, as each role (and signed
out), the fuzzer sends:

* each path argument in turn replaced by a hostile value for its converter (NUL and other control
  characters, 30-digit and negative numbers, a number just past a 32-bit id, long strings,
  malformed %-encodings, far dates), the others naming real records of a small commune;
* the query arguments the view reads (found in its module's source: request.args, clean_arg,
  page_arg, parsers…) plus a fixed list of common ones, with hostile values;
* for a form, the fields the page's own form has (read from its GET page) and, for the API, the
  JSON fields its module reads, with hostile values.

Any answer of 500 or more fails the test, listing every request that got one. The choice of values
is sampled with a fixed seed per route and role, so a run is repeatable and stays short (about a
minute on SQLite for all roles); FUZZ_SAMPLES=n sends more values per route.
"""

from __future__ import annotations

import inspect
import os
import random
import re
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from sqlalchemy import select

from app.learning.models import Lesson, Quiz
from app.outcomes.models import Resident
from app.visits import group_sessions
from app.visits.models import TeamMember
from tests.conftest import TEST_PASSWORD, in_english
from tests.visits.pages_support import at, book, build_world

ROLES = ("admin", "department_manager", "commune_manager", "tech_team", "cadre", "resident", None)
SAMPLES = int(os.environ.get("FUZZ_SAMPLES", "2"))

#: Hostile path segments, already %-encoded as they would travel; the first of each list is
#: always sent, the others sampled.
HOSTILE_TEXT = [
    "%00",
    "a%0Ab",
    "%09",
    "x" * 3000,
    "%C0%AF",
    "%FF%FE",
    "%E2%80%AE",
    "..%2F..%2Fetc",
    "%25",
    "%F0%9F%98%80",
    "0001-01-01",
    "9999-12-31",
    "-1",
    "1" * 30,
    "%20",
]
HOSTILE_INT = ["1" * 30, "2147483648", "0", "00000000000000000000001", "1" * 400]
#: Hostile query values by kind, already %-encoded. A request gives every argument a value of
#: one kind: NUL always, then kinds sampled.
QUERY_KINDS = {
    "nul": ["%00", "a%00b"],
    "control": ["a%0Ab", "%09", "%1B", "%7F"],
    "huge": ["1" * 30, "2147483648", "-99999999999999999999", "1e309", "-2147483649"],
    "far date": [
        "0001-01-01",
        "9999-12-31",
        "99999-01-01",
        "0001-01-01T00%3A00%3A00%2B14%3A00",
        "9999-12-31T23%3A59%3A59-12%3A00",
        "1999-12-31",
    ],
    "odd": ["x" * 3000, "%C0%AF", "%FF%FE", "%E2%80%AE", "%5B%5D", "NaN", "", "2025-02-30", "%F0%9F%98%80", "%25"],
}
#: Hostile form values by kind (text as a browser sends it).
FORM_KINDS = {
    "nul": ["\x00", "a\x00b"],
    "control": ["a\x01b", "\x1b[31m"],
    "huge": ["1" * 30, "2147483648", "-99999999999999999999", "1e309"],
    "far date": ["0001-01-01", "9999-12-31", "9999-12-31T23:59", "0001-01-01T00:00", "99999-01-01"],
    "odd": ["x" * 5000, "%00", " ", "\u202e", "NaN", "-1"],
}
#: Hostile JSON values by kind.
JSON_KINDS = {
    "nul": ["a\x00b", "\ud800"],
    "control": ["a\x01b", "\x1b"],
    "huge": [10**30, -(10**30), 2**31, -(2**31) - 1, 1e308, float("inf")],
    "far date": ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+14:00", "9999-12-31", "0001-01-01"],
    "odd": [True, None, [], {}, [[[["deep"]]]], "x" * 5000, -1, 1.5, ""],
}
#: Query arguments many views read; fuzzed on every route besides those found in its source.
COMMON_ARGS = [
    "page",
    "q",
    "unit",
    "week",
    "from",
    "to",
    "role",
    "status",
    "skill",
    "course",
    "member_id",
    "format",
    "sort",
    "dir",
    "lang",
    "days",
    "duration",
    "action",
    "milestone",
    "reached",
    "per_page",
    "weeks",
    "code",
    "month",
    "next",
    "parent",
    "audience",
    "language",
    "village",
    "people_role",
    "commune",
]
_CONVERTER = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")
_ARG_NAMES = re.compile(
    r"""(?:args\.get|args\[|clean_arg|page_arg|query_int|unit_arg|_arg|parsers\.\w+)\(\s*["']([a-z_]+)["']"""
    r"""|args\[\s*["']([a-z_]+)["']\s*\]"""
    r"""|\(\s*request\.args\.get\(\s*["']([a-z_]+)["']"""
)
_JSON_NAMES = re.compile(
    r"""(?:data\.get|payload\.get|body\.get)\(\s*["']([a-z_]+)["']|\(\s*(?:data|body|payload),\s*["']([a-z_]+)["']"""
)
_FORM_FIELDS = re.compile(r"""<(?:input|select|textarea)\b[^>]*\bname="([^"]+)\"""")


@pytest.fixture
def world(db, units, make_user, make_course):
    """A commune with a team, a visit, a group session, a resident record and a small course;
    one person of each role. `known` names a real record for each path argument."""
    w = build_world(db, units, make_user)
    w.people = {
        "admin": make_user("admin", units["province"]),
        "department_manager": w.department,
        "commune_manager": w.manager,
        "tech_team": w.member,
        "cadre": make_user("cadre", units["c1"]),
        "resident": w.resident,
    }
    visit = book(w, start=at(2, 10))
    session = group_sessions.create_group_session(
        w.manager,
        unit=units["c1"],
        title="Buổi học",
        place="Nhà văn hóa",
        starts_at=at(3, 9),
        duration_minutes=60,
        skills=["eid"],
        capacity=10,
        host=w.colleague,
    )
    resident = Resident(unit_id=units["v1a"].id, full_name="Nguyễn Thị Lan", birth_year=1958)
    db.session.add(resident)
    course, _folder = make_course()
    lesson = db.session.scalar(select(Lesson).order_by(Lesson.id))
    quiz = db.session.scalar(select(Quiz).order_by(Quiz.id))
    membership = db.session.scalar(select(TeamMember).where(TeamMember.user_id == w.colleague.id))
    db.session.flush()
    w.known = {
        "user_id": w.colleague.id,
        "team_id": w.team.id,
        "membership_id": membership.id,
        "visit_id": visit.id,
        "session_id": session.id,
        "resident_id": resident.id,
        "slug": course.slug,
        "key": "l1",
        "module_key": "m1",
        "lesson_id": lesson.id,
        "quiz_id": quiz.id,
        "code": "C1",
        "fmt": "csv",
        "filename": "x.png",
        "token": "x",
    }
    return w


def rules(app):
    """(rule, method) for every route but static files; signing out comes last."""
    pairs = [
        (rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]
    return sorted(pairs, key=lambda pair: (pair[0].endpoint.startswith("auth."), pair[0].rule, pair[1]))


def build_path(rule, values: dict[str, str]) -> str:
    return _CONVERTER.sub(lambda match: values[match.group("name")], rule.rule)


def path_arguments(rule) -> list[tuple[str, str]]:
    """(name, converter) of each argument in the rule's path."""
    return [(m.group("name"), m.group("converter") or "default") for m in _CONVERTER.finditer(rule.rule)]


def benign_value(name: str, converter: str, world, rule) -> str:
    if converter == "any":
        return re.search(r"any\(([^,)]+)", rule.rule).group(1).strip()
    return quote(str(world.known.get(name, "1")), safe="")


def names_read_by(app, rule, pattern) -> list[str]:
    """Names the view's module reads (query arguments or JSON fields), found in its source."""
    view = app.view_functions[rule.endpoint]
    try:
        source = inspect.getsource(inspect.getmodule(inspect.unwrap(view)))
    except (OSError, TypeError):
        return []
    return sorted({name for match in pattern.finditer(source) for name in match.groups() if name})


def form_fields(client, path: str) -> list[str]:
    """The fields of the forms on the GET page at `path` (none when it is not a page)."""
    response = client.get(path)
    if response.status_code != 200 or not response.content_type.startswith("text/html"):
        return []
    return sorted(set(_FORM_FIELDS.findall(response.get_data(as_text=True))) - {"csrf_token"})


def kinds_to_send(rng) -> list[str]:
    """NUL, then SAMPLES - 1 other kinds of hostile value."""
    others = [kind for kind in QUERY_KINDS if kind != "nul"]
    return ["nul", *rng.sample(others, min(SAMPLES - 1, len(others)))]


def requests_for(app, client, rule, method, world, rng):
    """The hostile requests to send to one route with one method: (path, query, body kind, body)."""
    arguments = path_arguments(rule)
    benign = {name: benign_value(name, converter, world, rule) for name, converter in arguments}
    for name, converter in arguments:
        if converter == "any":
            continue
        pool = HOSTILE_INT if converter == "int" else HOSTILE_TEXT
        for value in [pool[0], *rng.sample(pool[1:], SAMPLES - 1)]:
            yield build_path(rule, {**benign, name: value}), "", None, None
    path = build_path(rule, benign)
    names = sorted(set(names_read_by(app, rule, _ARG_NAMES)) | set(COMMON_ARGS))
    for kind in kinds_to_send(rng):
        query = "&".join(f"{quote(name)}={rng.choice(QUERY_KINDS[kind])}" for name in names)
        yield path, query, None, None
    if method == "GET":
        return
    if path.startswith("/api/"):
        fields = names_read_by(app, rule, _JSON_NAMES) or ["name"]
        for kind in kinds_to_send(rng):
            yield path, "", "json", {field: rng.choice(JSON_KINDS[kind]) for field in fields}
        return
    fields = form_fields(client, path) if "GET" in rule.methods else []
    fields = fields or ["name", "note", "date", "starts_at", "unit", "id"]
    for kind in kinds_to_send(rng):
        yield path, "", "form", {field: rng.choice(FORM_KINDS[kind]) for field in fields}


def sign_in(app, world, role):
    client = app.test_client()
    in_english(client)
    headers = {}
    if role is not None:
        person = world.people[role]
        response = client.post("/login", data={"username": person.username, "password": TEST_PASSWORD})
        assert response.status_code == 302
        response = client.post("/api/v1/auth/token", json={"username": person.username, "password": TEST_PASSWORD})
        assert response.status_code == 200
        headers = {"Authorization": f"Bearer {response.get_json()['token']}"}
    return client, headers


@pytest.mark.parametrize("role", ROLES, ids=lambda role: role or "signed_out")
def test_no_route_answers_hostile_input_with_a_server_error(app, world, role):
    client, headers = sign_in(app, world, role)
    failures = []
    sent = 0
    for rule, method in rules(app):
        rng = random.Random(f"{role}|{rule.rule}|{method}")
        for path, query, kind, body in requests_for(app, client, rule, method, world, rng):
            address = f"{path}?{query}" if query else path
            options = {"headers": headers if path.startswith("/api/") else {}}
            if kind == "json":
                options["json"] = body
            elif kind == "form":
                options["data"] = body
            response = client.open(address, method=method, **options)
            sent += 1
            if response.status_code >= 500:
                failures.append(f"{method} {address[:200]} {str(body)[:200] if body else ''} -> {response.status_code}")
    assert not failures, f"{len(failures)} of {sent} requests got a server error:\n" + "\n".join(failures)


def test_the_fuzzer_reads_the_query_arguments_of_a_view(app):
    """The source scan finds what a view reads (so a new argument is fuzzed without a list to keep)."""
    calendar = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == "visits.team_calendar")
    slots = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == "api.list_slots")
    assert {"week", "unit"} <= set(names_read_by(app, calendar, _ARG_NAMES))
    assert {"skill", "duration"} <= set(names_read_by(app, slots, _ARG_NAMES))
    book = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == "api.book_visit")
    assert "place" in names_read_by(app, book, _JSON_NAMES)


def test_every_rule_is_fuzzed(app, world):
    """Every route of the map gives the fuzzer something to send, so none is left out silently."""
    client, _headers = sign_in(app, world, None)
    for rule, method in rules(app):
        assert list(requests_for(app, client, rule, method, world, random.Random(0))), (rule.rule, method)


def test_a_hostile_path_is_built_for_every_converter(app):
    known = SimpleNamespace(known={})
    for rule in app.url_map.iter_rules():
        for name, converter in path_arguments(rule):
            assert converter in ("default", "int", "path", "any"), (rule.rule, converter)
            assert benign_value(name, converter, known, rule)
