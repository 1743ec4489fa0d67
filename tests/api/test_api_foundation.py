import pytest

from app.auth.models import User
from app.extensions import db
from tests.conftest import TEST_PASSWORD


def test_token_then_me(client, make_user, units):
    user = make_user("commune_manager", units["c1"], locale="bn")
    response = client.post("/api/v1/auth/token", json={"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"token", "expires_at"}
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.get_json() == {
        "id": user.id,
        "username": user.username,
        "role": "commune_manager",
        "unit_code": "C1",
        "locale": "bn",
        "phone": None,
        "preferred_channels": [],
    }
    assert me.headers["Cache-Control"] == "no-store"


def test_wrong_credentials_get_401_json(client, make_user):
    user = make_user("cadre")
    for payload in (
        {"username": user.username, "password": "wrong"},
        {"username": "ghost", "password": "wrong"},
    ):
        response = client.post("/api/v1/auth/token", json=payload)
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "invalid_credentials"


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": "username=a&password=b", "content_type": "application/x-www-form-urlencoded"}, 415),
        ({"data": "{not json", "content_type": "application/json"}, 400),
        ({"json": ["a", "list"]}, 400),
        ({"json": {"username": "a"}}, 422),
        ({"json": {"username": 5, "password": ["x"]}}, 422),
    ],
)
def test_malformed_token_requests_get_a_json_4xx(client, kwargs, status):
    response = client.post("/api/v1/auth/token", **kwargs)
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["code"] and error["message"]


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nonsense", "Basic abc", "Bearer a.b.c"])
def test_missing_or_bad_token_gets_401(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_token_stops_working_after_password_change_or_deactivation(client, make_user, api_token, login_as):
    user = make_user("cadre")
    headers = api_token(user)
    login_as(user)
    client.post(
        "/account/password",
        data={
            "current_password": TEST_PASSWORD,
            "new_password": "another pass 1",
            "confirm": "another pass 1",
        },
    )
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    headers = api_token(user, "another pass 1")
    db.session.get(User, user.id).active = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_one_time_password_accounts_get_no_token(client, make_user):
    user = make_user("resident", must_change_password=True)
    response = client.post("/api/v1/auth/token", json={"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "password_change_required"


def test_token_endpoint_is_rate_limited(client, make_user):
    user = make_user("cadre")
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"username": user.username, "password": "wrong"})
    response = client.post("/api/v1/auth/token", json={"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "too_many_requests"


def test_unknown_api_paths_and_methods_answer_in_json(client, make_user, api_token):
    headers = api_token(make_user("cadre"))
    missing = client.get("/api/v1/nothing-here", headers=headers)
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    wrong_method = client.delete("/api/v1/me", headers=headers)
    assert wrong_method.status_code == 405 and wrong_method.get_json()["error"]["code"] == "method_not_allowed"


def test_unknown_parent_unit_is_a_404(client, make_user, api_token):
    headers = api_token(make_user("admin"))
    response = client.get("/api/v1/units?parent=NOPE", headers=headers)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_api_messages_follow_accept_language(client):
    response = client.get("/api/v1/me", headers={"Accept-Language": "vi"})
    assert response.get_json()["error"]["message"] != client.get("/api/v1/me").get_json()["error"]["message"]
