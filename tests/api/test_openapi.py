"""The API's contract (GET /api/v1/openapi.json, the page at /api/v1/docs): complete, valid
OpenAPI 3.1, and true.

Complete: every route of the api blueprint is documented with its method, and nothing else is.
True: each operation answered once along its success path is checked against the document, and
Schemathesis sends generated requests (valid and invalid) to every operation and checks that no
answer is a server error and each is a status the document lists, in the shape it gives.
"""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from app.api.openapi import PREFIX, build_document
from app.auth import recovery
from app.db import local_today, utcnow
from app.extensions import db
from app.jobs.models import Message
from app.learning import operations as learning
from app.outcomes import campaigns
from app.outcomes import operations as outcomes
from app.outcomes.residents import import_households
from app.privacy import requests as person_requests
from app.visits import group_sessions, help_requests
from app.visits.models import Team, TeamMember, Visit, WeeklyAvailability

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
HOUSEHOLDS = (
    "village_code,household_code,address,resident_code,full_name,birth_year,phone\n"
    "C1A,A1,Số 1 xóm Đông,RA1,Nguyễn Văn An,1960,\n"
    "C1A,A2,Số 2 xóm Đông,RA2,Trần Thị Bình,1971,\n"
)


@pytest.fixture
def document():
    return build_document()


def documented_operations(document) -> set[tuple[str, str]]:
    return {(method.upper(), PREFIX + path) for path, methods in document["paths"].items() for method in methods}


def api_routes(app) -> set[tuple[str, str]]:
    """(method, path) of every rule of the api blueprint, `<int:x>` written `{x}`."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
            routes.update((method, path) for method in rule.methods & METHODS)
    return routes


# --- complete and well formed --------------------------------------------------------------


def test_every_api_route_is_documented_and_nothing_else(app, document):
    routes, documented = api_routes(app), documented_operations(document)
    assert len(routes) > 25
    assert routes - documented == set(), "routes missing from the document"
    assert documented - routes == set(), "documented operations with no route"


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1.")
    schemathesis.openapi.from_dict(document).validate()  # the OpenAPI 3.1 meta-schema


def test_every_reference_points_at_something(document):
    references = set(re.findall(r'"\$ref": "#/components/(\w+)/(\w+)"', repr(document).replace("'", '"')))
    assert references
    for section, name in references:
        assert name in document["components"][section], f"{section}/{name}"


def test_operations_that_need_a_token_list_401_and_public_ones_do_not_need_it(document):
    public = set()
    for path, methods in document["paths"].items():
        for method, entry in methods.items():
            needs_token = entry.get("security", document["security"]) != []
            if needs_token:
                assert "401" in entry["responses"], f"{method} {path}"
            else:
                public.add((method, path))
            assert entry["operationId"] and entry["summary"] and entry["tags"]
    assert public == {
        ("post", "/auth/token"),
        ("post", "/auth/recovery"),
        ("post", "/auth/recovery/confirm"),
        ("get", "/certificates/{code}"),
        ("get", "/openapi.json"),
        ("get", "/docs"),
    }


def test_every_error_answer_is_the_one_error_shape(document):
    for path, methods in document["paths"].items():
        for method, entry in methods.items():
            statuses = {int(status) for status in entry["responses"]}
            assert any(200 <= status < 300 for status in statuses), f"{method} {path}"
            assert 400 in statuses, f"{method} {path}"
            for status, answer in entry["responses"].items():
                if int(status) >= 400:
                    assert answer == {"$ref": f"#/components/responses/{status}"}, f"{method} {path} {status}"
            if "requestBody" in entry:
                assert {400, 413, 415} <= statuses, f"{method} {path}"
            for parameter in entry.get("parameters", []):
                if parameter["in"] == "path":
                    assert parameter["required"] and "404" in entry["responses"], f"{method} {path}"
                elif parameter["in"] == "query" and "enum" in parameter["schema"]:
                    assert "422" in entry["responses"], f"{method} {path} {parameter['name']}"
    for status, answer in document["components"]["responses"].items():
        assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, status


def test_the_document_is_served_without_a_token(client, document):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == document


def test_the_page_lists_every_operation_its_parameters_and_answers(client, document):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<script" not in page
    for method, path in documented_operations(document):
        assert f"<code>{method} {path}</code>" in page
    for name in ("override_reason", "follow_up_due", "milestones", "per_page", "member_id"):
        assert f"<code>{name}</code>" in page
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in page
    assert 'href="/api/v1/openapi.json"' in page


# --- a small world to call the API in ------------------------------------------------------


@pytest.fixture
def world(db, units, make_user, api_token, real_courses):
    """Commune C1: its manager (the caller), a team member free on Monday evenings, a resident
    with a help request, a visit, a completed course with its certificate, a group session, two
    households and a campaign; commune C2 with its own manager."""
    w = SimpleNamespace(units=units)
    w.manager = make_user("commune_manager", units["c1"], username="manager1")
    w.manager_c2 = make_user("commune_manager", units["c2"], username="manager2")
    w.member = make_user("tech_team", units["c1"], full_name="Lê Văn Tâm")
    w.resident = make_user("resident", units["v1a"], full_name="Phạm Thị Hoa")
    db.session.add(
        Team(
            unit_id=units["c1"].id,
            name="Tổ Xã Một",
            members=[TeamMember(user_id=w.member.id, skills=["eid", "cashless"], is_leader=True)],
        )
    )
    db.session.add_all(
        WeeklyAvailability(user_id=w.member.id, weekday=day, start_minute=8 * 60, end_minute=20 * 60)
        for day in range(7)
    )
    w.course = real_courses["vneid-basics"]
    enrollment, _created = learning.enroll(w.resident, w.course)
    enrollment.completed_at = utcnow()
    w.certificate = learning.issue_certificate(w.resident, w.course, enrollment)
    w.lesson = w.course.active_modules[0].active_lessons[0]
    w.quiz = next(module.active_quiz for module in w.course.active_modules if module.active_quiz)
    w.request = help_requests.create_help_request(
        w.manager, skill="eid", unit=units["v1a"], place="Nhà văn hoá thôn 1A", name="Phạm Thị Hoa", consent=True
    )
    monday = local_today() + timedelta(days=7 + (7 - local_today().weekday()) % 7)
    w.session_start = f"{monday.isoformat()}T09:00:00+07:00"
    w.session = group_sessions.create_group_session(
        w.manager,
        unit=units["c1"],
        title="Cài VNeID",
        place="Nhà văn hoá xã",
        starts_at=utcnow().replace(microsecond=0) + timedelta(days=10),
        duration_minutes=90,
        skills=["eid"],
        capacity=20,
        host=w.member,
    )
    w.visit_start = f"{monday.isoformat()}T18:00:00+07:00"
    w.past_visit = Visit(
        member_id=w.member.id,
        unit_id=units["v1a"].id,
        resident_id=w.resident.id,
        skill="eid",
        place="Nhà chị Hoa",
        starts_at=utcnow() - timedelta(hours=3),
        ends_at=utcnow() - timedelta(hours=2),
        booked_by_id=w.manager.id,
    )
    db.session.add(w.past_visit)
    import_households(w.manager, units["c1"], "c1.csv", HOUSEHOLDS.encode(), legal_basis="state_task")
    outcomes.ensure_default_milestones()
    w.milestone = outcomes.active_milestones()[0]
    w.resident_record = outcomes.resident_for_user(w.resident, recorded_by=w.manager)
    w.campaign = campaigns.create_campaign(
        w.manager,
        name="Kích hoạt VNeID",
        milestone=w.milestone,
        commune=units["c1"],
        village_codes=["C1A"],
        starts_on=local_today(),
        ends_on=local_today() + timedelta(days=30),
    )
    w.person_request = person_requests.file_request("access", filed_by=w.manager, resident=w.resident_record)
    db.session.commit()
    w.headers = api_token(w.manager)
    return w


def recovery_code_for(user) -> str:
    """Ask for a code for `user` as the first step does; the code, from the message queued."""
    recovery.start_recovery(user.username, "192.0.2.9", utcnow())
    newest = select(Message.body).where(Message.user_id == user.id).order_by(Message.id.desc())
    body = db.session.scalars(newest).first()
    return re.search(r"\b\d{6}\b", body).group(0)


def success_path(w) -> list[tuple[str, str, dict | None, int]]:
    """One call along each operation's success path: (method, url, JSON body, status)."""
    code = recovery_code_for(w.resident)
    # Every question answered (wrongly): a quiz with unanswered questions is refused.
    wrong = {
        str(question.id): [str(next(option.id for option in question.active_options if not option.is_correct))]
        for question in w.quiz.active_questions
    }
    return [
        ("POST", "/auth/token", {"username": "manager1", "password": "correct horse battery"}, 200),
        ("POST", "/auth/recovery", {"login": "nobody.here"}, 202),
        (
            "POST",
            "/auth/recovery/confirm",
            {"login": w.resident.username, "code": code, "new_password": "the old buffalo grazes beside the dike"},
            200,
        ),
        ("GET", "/me", None, 200),
        ("PATCH", "/me", {"phone": "0912 345 678", "preferred_channels": ["sms", "in_app"]}, 200),
        ("GET", "/units", None, 200),
        ("GET", "/units?parent=C1", None, 200),
        ("GET", "/courses?audience=resident", None, 200),
        ("GET", f"/courses/{w.course.slug}", None, 200),
        ("POST", f"/courses/{w.course.slug}/enrollments", None, 201),
        ("POST", f"/courses/{w.course.slug}/enrollments", None, 200),
        ("POST", f"/lessons/{w.lesson.id}/read", None, 200),
        ("GET", f"/quizzes/{w.quiz.id}", None, 200),
        ("POST", f"/quizzes/{w.quiz.id}/attempts", {"answers": wrong}, 200),
        ("POST", f"/quizzes/{w.quiz.id}/attempts", {"answers": wrong}, 201),
        ("GET", "/me/progress", None, 200),
        ("GET", f"/certificates/{w.certificate.code}", None, 200),
        ("GET", "/skills", None, 200),
        ("GET", "/teams?unit=C1", None, 200),
        (
            "GET",
            f"/slots?unit=C1&skill=eid&from={w.visit_start.replace('+', '%2B')}"
            f"&to={w.visit_start.replace('T18', 'T20').replace('+', '%2B')}&duration=60",
            None,
            200,
        ),
        (
            "POST",
            "/help-requests",
            {"skill": "cashless", "unit_code": "C1A", "place": "Xóm Đông", "name": "Bà Tư", "consent": True},
            201,
        ),
        ("GET", f"/help-requests/{w.request.id}", None, 200),
        ("PATCH", f"/help-requests/{w.request.id}", {"action": "ask_another_time", "wish": "Sáng thứ Bảy"}, 200),
        ("GET", "/visits?unit=C1", None, 200),
        (
            "POST",
            "/visits",
            {
                "member_id": w.member.id,
                "start": w.visit_start,
                "duration_minutes": 60,
                "skill": "eid",
                "request_id": w.request.id,
            },
            201,
        ),
        (
            "PATCH",
            f"/visits/{w.past_visit.id}",
            {
                "action": "complete",
                "skills_done": ["eid"],
                "resolved": False,
                "minutes_spent": 45,
                "rating": 5,
                "follow_up_reason": "Chưa nhận được mã kích hoạt",
                "follow_up_due": (local_today() + timedelta(days=3)).isoformat(),
                "milestones": [{"milestone": w.milestone.key, "confirmed_by": "seen_on_phone"}],
            },
            200,
        ),
        ("GET", "/sessions", None, 200),
        ("POST", f"/sessions/{w.session.id}/signups", {"user_id": w.resident.id}, 201),
        ("GET", "/milestones", None, 200),
        ("GET", f"/residents?unit=C1&milestone={w.milestone.key}&reached=false", None, 200),
        (
            "POST",
            f"/residents/{w.resident_record.id}/milestones",
            {"milestone": w.milestone.key, "date": local_today().isoformat(), "confirmed_by": "seen_on_phone"},
            200,
        ),
        (
            "POST",
            "/residents",
            {
                "unit_code": "C1A",
                "full_name": "Đỗ Văn Bảy",
                "birth_year": 1955,
                "phone": "0912 345 678",
                "legal_basis": "state_task",
                "consents": [{"purpose": "messages", "channel": "paper"}],
            },
            201,
        ),
        (
            "POST",
            f"/residents/{w.resident_record.id}/consents",
            {"purpose": "progress_sharing", "basis": "consent", "channel": "assisted"},
            201,
        ),
        (
            "POST",
            f"/residents/{w.resident_record.id}/consents",
            {"purpose": "progress_sharing", "basis": "consent", "channel": "assisted"},
            200,
        ),
        ("DELETE", f"/residents/{w.resident_record.id}/consents/progress_sharing", None, 200),
        ("GET", "/indicators?unit=C1", None, 200),
        ("GET", f"/campaigns/{w.campaign.id}/walk-list", None, 200),
        ("GET", f"/residents/{w.resident_record.id}/access-log", None, 200),
        ("GET", "/reports/completion?unit=C1", None, 200),
        ("GET", "/reports/completion?unit=C1&format=csv", None, 200),
        ("GET", "/reports/visits", None, 200),
        ("GET", "/reports/visits?format=csv", None, 200),
        ("GET", "/me/personal-data", None, 200),
        ("GET", "/me/messages?per_page=5", None, 200),
        ("GET", f"/residents/{w.resident_record.id}/personal-data", None, 200),
        (
            "POST",
            "/households/import",
            {
                "commune_code": "C1",
                "legal_basis": "state_task",
                "rows": [
                    {
                        "village_code": "C1A",
                        "household_code": "API-1",
                        "address": "Số 9 xóm Bắc",
                        "resident_code": "API-R1",
                        "full_name": "Đinh Văn Lực",
                    }
                ],
            },
            200,
        ),
        # ---- privacy: a person's requests, correction and restriction ----
        ("GET", f"/residents/{w.resident_record.id}/requests", None, 200),
        (
            "POST",
            f"/residents/{w.resident_record.id}/requests",
            {"kind": "correction", "details": "Số điện thoại đã đổi."},
            201,
        ),
        ("PATCH", f"/residents/{w.resident_record.id}", {"phone": "0912 000 111", "birth_year": 1961}, 200),
        ("GET", f"/residents/{w.resident_record.id}/corrections", None, 200),
        ("POST", f"/requests/{w.person_request.id}/acknowledge", None, 200),
        ("POST", f"/requests/{w.person_request.id}/close", {"outcome": "done", "note": "Đã gửi bản sao."}, 200),
        ("PUT", f"/residents/{w.resident_record.id}/restriction", None, 200),
        ("DELETE", f"/residents/{w.resident_record.id}/restriction", None, 200),
        # ---- privacy: erasure ----
        ("POST", f"/residents/{w.resident_record.id}/erasure", {"reason": "The person asked."}, 200),
        ("GET", "/openapi.json", None, 200),
        ("GET", "/docs", None, 200),
    ]


def test_each_operation_answers_its_success_as_documented(world, client, document):
    schema = schemathesis.openapi.from_dict(document)
    called = set()
    for method, url, body, status in success_path(world):
        response = client.open(PREFIX + url, method=method, json=body, headers=world.headers)
        assert response.status_code == status, (method, url, response.get_data(as_text=True))
        path = url.split("?")[0]
        template = next(
            template
            for template, methods in document["paths"].items()
            if method.lower() in methods and re.fullmatch(re.sub(r"\{[a-z_]+\}", "[^/]+", template), path)
        )
        called.add((method, PREFIX + template))
        schema[template][method].validate_response(response)
        answer = document["paths"][template][method.lower()]["responses"][str(status)]
        assert response.mimetype in answer["content"], (method, url, response.mimetype)
    assert called == documented_operations(document)


def test_a_broken_time_rule_answers_the_documented_conflict(world, client, document):
    schema = schemathesis.openapi.from_dict(document)
    body = {
        "member_id": world.member.id,
        "start": world.visit_start.replace("T18", "T21"),
        "duration_minutes": 60,
        "skill": "eid",
        "resident_id": world.resident.id,
        "place": "Nhà chị Hoa",
    }
    response = client.post(f"{PREFIX}/visits", json=body, headers=world.headers)
    assert response.status_code == 409, response.get_data(as_text=True)
    assert response.get_json()["error"]["rule"] == "hours"
    schema["/visits"]["POST"].validate_response(response)


# --- Schemathesis: generated requests against every operation ------------------------------

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
#: Generated requests per operation; with the world built once, the run takes about a minute.
EXAMPLES = 60


def known_values(w) -> tuple[dict, dict]:
    """Path and query values that name real records, so that generated requests also reach the
    code behind a found record (a random id or code mostly meets 404)."""
    visit = Visit(
        member_id=w.member.id,
        unit_id=w.units["v1a"].id,
        resident_id=w.resident.id,
        skill="eid",
        place="Nhà chị Hoa",
        starts_at=utcnow() - timedelta(hours=1),
        ends_at=utcnow() + timedelta(hours=1),
        booked_by_id=w.manager.id,
    )
    db.session.add(visit)
    db.session.commit()
    path = {
        "slug": w.course.slug,
        "lesson_id": w.lesson.id,
        "quiz_id": w.quiz.id,
        "code": w.certificate.code,
        "visit_id": visit.id,
        "session_id": w.session.id,
        "resident_id": w.resident_record.id,
        "campaign_id": w.campaign.id,
        "purpose": "messages",
        "request_id": w.person_request.id,
    }
    query = {"unit": "C1", "parent": "C1", "milestone": w.milestone.key, "member_id": w.member.id}
    return path, query


@pytest.mark.schemathesis
def test_every_operation_answers_as_documented(app, world, client):
    """Valid and invalid requests generated from the document, to every operation, as the
    commune manager: never a server error; every answer's status, type and body as documented."""
    schema = schemathesis.openapi.from_wsgi(f"{PREFIX}/openapi.json", app)
    known_path, known_query = known_values(world)
    operations = [result.ok() for result in schema.get_all_operations()]
    # Schemathesis leaves out the operation that serves the document it was loaded from.
    tested = {(operation.method.upper(), operation.full_path) for operation in operations}
    assert tested == api_routes(app) - {("GET", f"{PREFIX}/openapi.json")}
    failures = []
    for operation in operations:
        path = {parameter.name: known_path[parameter.name] for parameter in operation.path_parameters}
        query = {p.name: known_query[p.name] for p in operation.query if p.name in known_query}
        strategies = [operation.as_strategy(mode) for mode in GenerationMode]
        if path or query:
            strategies += [
                operation.as_strategy(mode, path_parameters=path or None, query=query or None)
                for mode in GenerationMode
            ]

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(strategies))
        def answers_as_documented(case):
            case.call_and_validate(session=client, headers=world.headers, checks=CHECKS)

        try:
            answers_as_documented()
        except (Exception, BaseExceptionGroup) as error:  # every operation is tried, all failures reported
            failures.append(f"{operation.label}: {error}")
    assert not failures, "\n\n".join(failures)
