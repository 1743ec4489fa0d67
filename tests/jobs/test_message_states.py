"""The person sees each of their messages' channel and state: on the notifications page (in their
language) and through GET /api/v1/me/messages; never anyone else's messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.db import utcnow
from app.jobs.message_states import shown_channel, shown_state
from app.jobs.models import Message


@pytest.fixture
def inbox(db, make_user):
    """A resident with one message in each state, and a neighbour with a message of their own."""
    me = make_user("resident", phone="+84912345678")
    neighbour = make_user("resident")
    now = utcnow()
    rows = {
        "zalo delivered": {
            "status": "sent",
            "channel": "zalo",
            "provider_ref": "z-1",
            "delivery_status": "delivered",
            "delivered_at": datetime(2026, 3, 2, 1, 0, tzinfo=UTC),
        },
        "sms failed": {"status": "sent", "channel": "sms", "provider_ref": "s-1", "delivery_status": "failed"},
        "sms sent": {"status": "sent", "channel": "sms", "provider_ref": "s-2"},
        "email sent": {"status": "sent", "email": "a@example.test"},
        "in-app only": {"status": "no_email"},
        "waiting": {"status": "pending", "email": "a@example.test"},
        "gave up": {"status": "failed", "email": "a@example.test"},
    }
    messages = {}
    for n, (subject, fields) in enumerate(rows.items()):
        message = Message(
            key=f"test:state:{n}",
            user_id=me.id,
            subject=subject,
            body="Nội dung",
            created_at=now - timedelta(minutes=n),
            next_attempt_at=now,
            **fields,
        )
        db.session.add(message)
        messages[subject] = message
    db.session.add(
        Message(
            key="test:state:neighbour",
            user_id=neighbour.id,
            subject="for the neighbour only",
            body="x",
            status="sent",
            channel="sms",
            created_at=now,
            next_attempt_at=now,
        )
    )
    db.session.commit()
    return me, neighbour, messages


def test_each_message_has_a_channel_and_a_state(inbox):
    _me, _neighbour, messages = inbox
    seen = {subject: (shown_channel(m), shown_state(m)) for subject, m in messages.items()}
    assert seen == {
        "zalo delivered": ("zalo", "delivered"),
        "sms failed": ("sms", "failed"),
        "sms sent": ("sms", "sent"),
        "email sent": ("email", "sent"),
        "in-app only": ("in_app", "delivered"),
        "waiting": (None, "waiting"),
        "gave up": ("email", "failed"),
    }


def _card(page: str, subject: str) -> str:
    start = page.index(f">{subject}<") if f">{subject}<" in page else page.index(subject)
    end = page.find("</li>", start)
    return page[start:end]


def test_the_notifications_page_shows_channel_and_state(inbox, client, login_as):
    me, _neighbour, _messages = inbox
    login_as(me)
    page = client.get("/notifications").get_data(as_text=True)
    assert "Channel: Zalo" in _card(page, "zalo delivered") and "Delivered" in _card(page, "zalo delivered")
    assert "Channel: SMS" in _card(page, "sms failed") and "Failed" in _card(page, "sms failed")
    assert "Channel: SMS" in _card(page, "sms sent") and "Sent" in _card(page, "sms sent")
    assert "Channel: E-mail" in _card(page, "email sent")
    assert "Channel: In the app" in _card(page, "in-app only")
    assert "Waiting" in _card(page, "waiting") and "Channel:" not in _card(page, "waiting")
    assert "for the neighbour only" not in page


def test_the_notifications_page_speaks_the_persons_language(inbox, client, login_as):
    me, _neighbour, _messages = inbox
    login_as(me)
    page = client.get("/notifications?lang=vi").get_data(as_text=True)
    assert "Đã nhận" in _card(page, "zalo delivered")
    assert "Không gửi được" in _card(page, "sms failed")
    assert "Đang chờ" in _card(page, "waiting")


def test_the_api_lists_my_messages_with_channel_and_state(inbox, client, api_token):
    me, neighbour, messages = inbox
    response = client.get("/api/v1/me/messages", headers=api_token(me))
    assert response.status_code == 200
    data = response.get_json()
    assert data["total"] == len(messages) and data["page"] == 1 and data["per_page"] == 50
    by_subject = {item["subject"]: item for item in data["items"]}
    assert set(by_subject) == set(messages)
    delivered = by_subject["zalo delivered"]
    assert delivered["channel"] == "zalo" and delivered["status"] == "delivered"
    assert delivered["delivery_status"] == "delivered"
    assert datetime.fromisoformat(delivered["delivered_at"]) == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    assert delivered["read"] is False and delivered["id"] == messages["zalo delivered"].id
    assert by_subject["sms failed"]["status"] == "failed"
    assert by_subject["waiting"]["channel"] is None and by_subject["waiting"]["status"] == "waiting"
    assert by_subject["waiting"]["delivered_at"] is None
    # Newest first.
    assert data["items"][0]["subject"] == "zalo delivered"

    theirs = client.get("/api/v1/me/messages", headers=api_token(neighbour)).get_json()
    assert [item["subject"] for item in theirs["items"]] == ["for the neighbour only"]


def test_the_api_pages_and_refuses_bad_pages(inbox, client, api_token):
    me, _neighbour, _messages = inbox
    headers = api_token(me)
    second = client.get("/api/v1/me/messages?per_page=3&page=2", headers=headers).get_json()
    assert second["page"] == 2 and len(second["items"]) == 3 and second["total"] == 7
    assert client.get("/api/v1/me/messages?page=99", headers=headers).get_json()["items"] == []
    for query in ("page=0", "per_page=201", "page=x", "per_page=-1"):
        response = client.get(f"/api/v1/me/messages?{query}", headers=headers)
        assert response.status_code == 422, query
        assert response.get_json()["error"]["field"] in ("page", "per_page")


def test_the_api_needs_a_token(client):
    assert client.get("/api/v1/me/messages").status_code == 401
    assert client.get("/api/v1/me/messages", headers={"Authorization": "Bearer nonsense"}).status_code == 401
