"""Delivery receipts from the SMS gateway and from Zalo: signed receipts update their message
once; unsigned, wrongly signed, malformed or oversized ones change nothing and never answer 500;
without a secret the webhooks take nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from app.db import utcnow
from app.jobs.models import Message
from app.jobs.receipts import MAX_RECEIPT_BYTES

SMS_SECRET = "sms-receipt-secret-for-tests"
ZALO_SECRET = "zalo-oa-secret-key-for-tests"
ZALO_APP_ID = "1860141329355019864"
SMS_URL = "/hooks/messages/sms"
ZALO_URL = "/hooks/messages/zalo"


@pytest.fixture
def secrets(app):
    saved = {key: app.config[key] for key in ("SMS_RECEIPT_SECRET", "ZALO_RECEIPT_SECRET")}
    app.config.update(SMS_RECEIPT_SECRET=SMS_SECRET, ZALO_RECEIPT_SECRET=ZALO_SECRET)
    yield
    app.config.update(saved)


@pytest.fixture
def sent(db, make_user):
    """`sent(channel, provider_ref)`: a message the sender handed to `channel`, as it leaves it."""
    person = make_user("resident", phone="+84912345678")
    counter = {"n": 0}

    def make(channel="sms", provider_ref=None, status="sent", user=None):
        counter["n"] += 1
        now = utcnow()
        message = Message(
            key=f"test:receipt:{counter['n']}",
            user_id=(user or person).id,
            subject="Lịch hẹn",
            body="Nội dung",
            status=status,
            channel=channel if status == "sent" else None,
            phone="+84912345678",
            provider_ref=provider_ref,
            created_at=now - timedelta(minutes=5),
            next_attempt_at=now - timedelta(minutes=5),
            sent_at=now - timedelta(minutes=4) if status == "sent" else None,
        )
        db.session.add(message)
        db.session.commit()
        return message

    return make


def sms_post(client, payload, *, secret=SMS_SECRET, signature=None, raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(payload).encode()
    if signature is None:
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"X-Signature": signature} if signature else {}
    return client.post(SMS_URL, data=body, headers=headers, content_type="application/json")


def zalo_event(msg_id=None, tracking_id=None, *, event="user_received_message", delivered=None):
    timestamp = str(int(utcnow().timestamp() * 1000))
    message = {"delivery_time": str(int((delivered or utcnow()).timestamp() * 1000))}
    if msg_id is not None:
        message["msg_id"] = msg_id
    if tracking_id is not None:
        message["tracking_id"] = tracking_id
    return {
        "event_name": event,
        "app_id": ZALO_APP_ID,
        "timestamp": timestamp,
        "sender": {"id": "579745863508352884"},
        "recipient": {"id": "84912345678"},
        "message": message,
    }


def zalo_post(client, payload, *, secret=ZALO_SECRET, signature=None, raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(payload).encode()
    if signature is None:
        signed = ZALO_APP_ID.encode() + body + str(payload["timestamp"]).encode() + secret.encode()
        signature = "mac=" + hashlib.sha256(signed).hexdigest()
    headers = {"X-ZEvent-Signature": signature} if signature else {}
    return client.post(ZALO_URL, data=body, headers=headers, content_type="application/json")


def state(db, message):
    db.session.expire_all()
    fresh = db.session.get(Message, message.id)
    return fresh.delivery_status, fresh.delivered_at


# --- SMS ----------------------------------------------------------------------------------


def test_a_signed_sms_receipt_records_the_delivery(app, db, secrets, sent):
    message = sent("sms", "gw-1001")
    at = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    gateway = app.test_client()  # no cookies, as a gateway calls
    response = sms_post(gateway, {"id": "gw-1001", "status": "delivered", "at": "2026-03-02T15:30:00+07:00"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"recorded": True}
    assert state(db, message) == ("delivered", at)
    assert "Set-Cookie" not in response.headers


def test_a_receipt_is_matched_by_our_reference_when_the_gateway_id_is_not_known(db, client, secrets, sent):
    message = sent("sms", None)
    response = sms_post(client, {"ref": str(message.id), "status": "FAILED"})
    assert response.get_json() == {"recorded": True}
    assert state(db, message) == ("failed", None)


def test_repeated_receipts_change_nothing_and_failed_never_replaces_delivered(db, client, secrets, sent):
    message = sent("sms", "gw-2002")
    first = sms_post(client, {"id": "gw-2002", "status": "delivered"})
    assert first.get_json() == {"recorded": True}
    recorded = state(db, message)
    assert recorded[0] == "delivered"

    again = sms_post(client, {"id": "gw-2002", "status": "delivered"})
    assert again.status_code == 200 and again.get_json() == {"recorded": False}
    late_failure = sms_post(client, {"id": "gw-2002", "status": "failed"})
    assert late_failure.status_code == 200 and late_failure.get_json() == {"recorded": False}
    assert state(db, message) == recorded


def test_a_delivery_after_a_failure_report_is_recorded(db, client, secrets, sent):
    message = sent("sms", "gw-3003")
    assert sms_post(client, {"id": "gw-3003", "status": "failed"}).get_json() == {"recorded": True}
    assert sms_post(client, {"id": "gw-3003", "status": "failed"}).get_json() == {"recorded": False}
    assert sms_post(client, {"id": "gw-3003", "status": "delivered"}).get_json() == {"recorded": True}
    assert state(db, message)[0] == "delivered"


@pytest.mark.parametrize(
    "signature",
    [
        "",  # missing
        "sha256=" + "0" * 64,
        "sha256=zz",
        "md5=abc",
        "sha256=" + hmac.new(b"another secret", b"{}", hashlib.sha256).hexdigest(),
        "\u00e9" * 10,
    ],
)
def test_a_missing_or_wrong_sms_signature_is_refused_and_changes_nothing(db, client, secrets, sent, signature):
    message = sent("sms", "gw-4004")
    response = sms_post(client, {"id": "gw-4004", "status": "delivered"}, signature=signature)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "bad_signature"
    assert state(db, message) == (None, None)


def test_a_receipt_signed_with_another_secret_is_refused(db, client, secrets, sent):
    message = sent("sms", "gw-4005")
    response = sms_post(client, {"id": "gw-4005", "status": "delivered"}, secret="guessed")
    assert response.status_code == 401
    assert state(db, message) == (None, None)


def test_unknown_messages_and_other_channels_are_ignored(db, client, secrets, sent):
    zalo_message = sent("zalo", "z-5005")
    pending = sent("sms", None, status="pending")
    email = sent("email", None)
    for payload in (
        {"id": "no-such-id", "status": "delivered"},
        {"id": "z-5005", "status": "delivered"},  # carried by Zalo, not by SMS
        {"ref": str(pending.id), "status": "delivered"},  # not sent yet
        {"ref": str(email.id), "status": "delivered"},
        {"ref": "99999999999999", "status": "delivered"},
    ):
        response = sms_post(client, payload)
        assert response.status_code == 200, payload
        assert response.get_json() == {"ignored": True}
    for message in (zalo_message, pending, email):
        assert state(db, message) == (None, None)


def test_a_reference_that_names_another_gateway_id_is_not_this_message(db, client, secrets, sent):
    message = sent("sms", "gw-6006")
    response = sms_post(client, {"id": "gw-other", "ref": str(message.id), "status": "delivered"})
    assert response.get_json() == {"ignored": True}
    assert state(db, message) == (None, None)


def test_a_time_in_the_future_or_out_of_range_is_replaced_by_the_time_of_arrival(db, client, secrets, sent):
    message = sent("sms", "gw-7007")
    before = utcnow()
    sms_post(client, {"id": "gw-7007", "status": "delivered", "at": "2099-01-01T00:00:00+07:00"})
    status, delivered_at = state(db, message)
    assert status == "delivered" and before - timedelta(seconds=1) <= delivered_at <= utcnow()


MALFORMED = [
    b"",
    b"not json",
    b"[]",
    b'"text"',
    b"\xff\xfe\x00",
    b'{"id": "gw", "status": "delivered"' + b"]" * 10,
    b"[" * 5000 + b"]" * 5000,
    json.dumps({"status": "delivered"}).encode(),
    json.dumps({"id": "gw-1", "status": "read"}).encode(),
    json.dumps({"id": "gw-1", "status": None}).encode(),
    json.dumps({"id": "gw-1", "status": ["delivered"]}).encode(),
    json.dumps({"id": ["gw-1"], "status": "delivered"}).encode(),
    json.dumps({"id": {"x": 1}, "status": "delivered"}).encode(),
    json.dumps({"id": True, "status": "delivered"}).encode(),
    json.dumps({"id": "x" * 5000, "status": "delivered"}).encode(),
    json.dumps({"id": 10**200, "status": "delivered"}).encode(),
    json.dumps({"id": 1.5, "status": "delivered"}).encode(),
    json.dumps({"id": "gw-1", "status": "delivered", "at": "yesterday"}).encode(),
    json.dumps({"id": "gw-1", "status": "delivered", "at": "2026-01-01T10:00:00"}).encode(),
    json.dumps({"id": "gw-1", "status": "delivered", "at": 1700000000}).encode(),
]


@pytest.mark.parametrize("body", MALFORMED)
def test_malformed_signed_receipts_answer_400_and_change_nothing(db, client, secrets, sent, body):
    message = sent("sms", "gw-1")
    response = sms_post(client, None, raw=body)
    assert response.status_code == 400, (body[:60], response.status_code)
    assert response.get_json()["error"]["code"] in ("bad_receipt", "bad_json", "bad_request")
    assert state(db, message) == (None, None)


@pytest.mark.parametrize(
    "payload",
    [
        {"id": "gw-1\x00", "status": "delivered"},
        {"id": "gw-1", "status": "delivered\x00"},
        {"id": "gw-1", "status": "delivered", "at": "\x00"},
    ],
)
def test_nul_bytes_are_refused_without_a_server_error(db, client, secrets, sent, payload):
    message = sent("sms", "gw-1")
    response = sms_post(client, payload)
    assert response.status_code in (400, 422)
    assert state(db, message) == (None, None)


def test_nul_bytes_in_a_body_that_is_not_sent_as_json_are_refused(db, client, secrets, sent):
    message = sent("sms", "gw-1")
    body = json.dumps({"id": "gw-1\x00", "status": "delivered"}).encode()
    signature = "sha256=" + hmac.new(SMS_SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = client.post(SMS_URL, data=body, headers={"X-Signature": signature}, content_type="text/plain")
    assert response.status_code == 400
    assert state(db, message) == (None, None)


def test_a_body_over_the_limit_is_refused_unread(db, client, secrets, sent):
    message = sent("sms", "gw-1")
    payload = {"id": "gw-1", "status": "delivered", "padding": "x" * (MAX_RECEIPT_BYTES + 10)}
    response = sms_post(client, payload)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert state(db, message) == (None, None)


def test_only_post_is_answered(client, secrets):
    response = client.get(SMS_URL)
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"


# --- without secrets ----------------------------------------------------------------------


def test_without_a_secret_the_webhooks_take_nothing(db, client, app, sent):
    assert not app.config["SMS_RECEIPT_SECRET"] and not app.config["ZALO_RECEIPT_SECRET"]
    message = sent("sms", "gw-1")
    # Signed with an empty key, as a caller would who guesses that no key is set.
    body = json.dumps({"id": "gw-1", "status": "delivered"}).encode()
    signature = "sha256=" + hmac.new(b"", body, hashlib.sha256).hexdigest()
    response = client.post(SMS_URL, data=body, headers={"X-Signature": signature}, content_type="application/json")
    assert response.status_code == 404
    event = zalo_event("z-1")
    assert zalo_post(client, event, secret="").status_code == 404
    assert state(db, message) == (None, None)


# --- Zalo ---------------------------------------------------------------------------------


def test_a_signed_zalo_delivery_event_records_the_delivery(db, client, secrets, sent):
    message = sent("zalo", "z-msg-1")
    delivered = datetime(2026, 3, 2, 1, 2, 3, tzinfo=UTC)
    response = zalo_post(client, zalo_event("z-msg-1", str(message.id), delivered=delivered))
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"recorded": True}
    assert state(db, message) == ("delivered", delivered)

    again = zalo_post(client, zalo_event("z-msg-1", str(message.id), delivered=delivered + timedelta(hours=1)))
    assert again.get_json() == {"recorded": False}
    assert state(db, message) == ("delivered", delivered)


def test_a_zalo_receipt_before_the_sender_recorded_the_provider_id_is_matched_by_tracking_id(db, client, secrets, sent):
    message = sent("zalo", None, status="sending")
    response = zalo_post(client, zalo_event("z-new", str(message.id)))
    assert response.get_json() == {"recorded": True}
    assert state(db, message)[0] == "delivered"


def test_zalo_events_other_than_deliveries_and_unknown_messages_are_ignored(db, client, secrets, sent):
    message = sent("zalo", "z-msg-2")
    sms = sent("sms", "z-msg-3")
    for event in (
        zalo_event("z-msg-2", event="user_seen_message"),
        zalo_event("z-msg-2", event="user_send_text"),
        zalo_event("nothing-like-it"),
        zalo_event("z-msg-3"),  # an SMS's id
        zalo_event(None, "99999999999999999999"),
    ):
        response = zalo_post(client, event)
        assert response.status_code == 200
        assert response.get_json() == {"ignored": True}
    assert state(db, message) == (None, None)
    assert state(db, sms) == (None, None)


@pytest.mark.parametrize(
    "signature",
    ["", "mac=" + "0" * 64, "sha256=abc", "mac=" + hashlib.sha256(b"x").hexdigest(), "mac=" + "Z" * 64],
)
def test_a_missing_or_wrong_zalo_signature_is_refused(db, client, secrets, sent, signature):
    message = sent("zalo", "z-msg-4")
    response = zalo_post(client, zalo_event("z-msg-4"), signature=signature)
    assert response.status_code == 401
    assert state(db, message) == (None, None)


def test_a_zalo_event_signed_with_another_key_or_a_changed_body_is_refused(db, client, secrets, sent):
    message = sent("zalo", "z-msg-5")
    assert zalo_post(client, zalo_event("z-msg-5"), secret="someone else's").status_code == 401
    event = zalo_event("z-msg-5")
    signed = ZALO_APP_ID.encode() + json.dumps(event).encode() + event["timestamp"].encode() + ZALO_SECRET.encode()
    signature = "mac=" + hashlib.sha256(signed).hexdigest()
    event["message"]["msg_id"] = "z-msg-other"
    assert zalo_post(client, event, signature=signature).status_code == 401
    assert state(db, message) == (None, None)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"[]",
        json.dumps({"event_name": "user_received_message", "timestamp": "1"}).encode(),
        json.dumps({"event_name": "user_received_message", "app_id": ["x"], "timestamp": "1"}).encode(),
        json.dumps({"event_name": "user_received_message", "app_id": "1", "timestamp": "1" * 300}).encode(),
    ],
)
def test_malformed_zalo_events_answer_400(db, client, secrets, body):
    response = zalo_post(client, None, raw=body, signature="mac=" + "0" * 64)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] in ("bad_receipt", "bad_json")


@pytest.mark.parametrize(
    "message_part",
    [None, "text", {}, {"msg_id": ["x"]}, {"msg_id": "x" * 500}, {"tracking_id": {"a": 1}}],
)
def test_signed_zalo_delivery_events_without_usable_ids_answer_400(db, client, secrets, message_part):
    event = zalo_event("x")
    event["message"] = message_part
    response = zalo_post(client, event)
    assert response.status_code == 400


def test_odd_delivery_times_fall_back_to_the_time_of_arrival(db, client, secrets, sent):
    message = sent("zalo", "z-msg-6")
    event = zalo_event("z-msg-6")
    event["message"]["delivery_time"] = "99999999999999999999999"
    before = utcnow()
    assert zalo_post(client, event).get_json() == {"recorded": True}
    assert state(db, message)[1] >= before - timedelta(seconds=1)


# --- limits -------------------------------------------------------------------------------


def test_refused_receipts_from_one_address_are_limited(db, client, app, secrets, sent):
    saved = app.config["RECEIPT_FAILURE_LIMIT"]
    app.config["RECEIPT_FAILURE_LIMIT"] = "3 per minute"
    try:
        message = sent("sms", "gw-limit")
        statuses = [
            sms_post(client, {"id": "gw-limit", "status": "delivered"}, signature="sha256=" + "1" * 64).status_code
            for _ in range(4)
        ]
        assert statuses == [401, 401, 401, 429]
        # Even a well-signed receipt waits now: the address is refused until the window ends.
        assert sms_post(client, {"id": "gw-limit", "status": "delivered"}).status_code == 429
        assert state(db, message) == (None, None)
    finally:
        app.config["RECEIPT_FAILURE_LIMIT"] = saved


def test_accepted_receipts_do_not_count_as_refusals(db, client, app, secrets, sent):
    saved = app.config["RECEIPT_FAILURE_LIMIT"]
    app.config["RECEIPT_FAILURE_LIMIT"] = "2 per minute"
    try:
        for n in range(5):
            sent("sms", f"gw-ok-{n}")
            assert sms_post(client, {"id": f"gw-ok-{n}", "status": "delivered"}).status_code == 200
    finally:
        app.config["RECEIPT_FAILURE_LIMIT"] = saved


# --- fuzzing ------------------------------------------------------------------------------

ODD_VALUES = [
    None,
    True,
    0,
    -1,
    2**31,
    10**30,
    1.5,
    float("1e308"),
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x" * 101,
    "x" * 5000,
    "9" * 40,
    "2026-02-30T10:00:00+07:00",
    "0001-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59+14:00",
    "delivered",
    "failed",
    "DELIVERED",
    "‮",
    [],
    ["delivered"],
    {},
    {"msg_id": "gw-1"},
]


def test_signed_receipts_with_odd_values_never_answer_a_server_error(db, client, app, secrets, sent, monkeypatch):
    monkeypatch.setitem(app.config, "RECEIPT_FAILURE_LIMIT", "10000 per minute")
    sms = sent("sms", "gw-1")
    zalo = sent("zalo", "gw-1")
    chooser = random.Random(20261207)
    for _ in range(150):
        payload = {key: chooser.choice(ODD_VALUES) for key in ("id", "ref", "status", "at") if chooser.random() < 0.8}
        response = sms_post(client, payload)
        assert response.status_code in (200, 400, 422), (payload, response.status_code)
        event = zalo_event("gw-1", str(zalo.id))
        for key in ("msg_id", "tracking_id", "delivery_time"):
            if chooser.random() < 0.5:
                event["message"][key] = chooser.choice(ODD_VALUES)
        if chooser.random() < 0.2:
            event["message"] = chooser.choice(ODD_VALUES)
        if chooser.random() < 0.2:
            event["event_name"] = chooser.choice(ODD_VALUES)
        response = zalo_post(client, event)
        assert response.status_code in (200, 400, 422), (event, response.status_code)
    for message in (sms, zalo):
        assert state(db, message)[0] in (None, "delivered", "failed")
