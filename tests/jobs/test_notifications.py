"""In-app notifications: each person sees their own messages, newest first, and the count of
unread ones in the main menu."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.db import utcnow
from app.jobs.models import Message
from app.jobs.outbox import enqueue
from tests.conftest import csrf_token_from


def _notify(world, user, key, *, now, link=None):
    if not hasattr(world, "visit"):
        world.visit = world.book(timedelta(days=2))
    return enqueue(key, user, "outcome_nudge", link=link, now=now, visit=world.visit, skill="eID")


def test_the_notifications_page_shows_only_my_messages_newest_first(db, world, client, login_as):
    now = utcnow()
    older = _notify(world, world.member, "test:older", now=now - timedelta(hours=2), link="/visits/1")
    newer = _notify(world, world.member, "test:newer", now=now)
    other = _notify(world, world.other_member, "test:someone-else", now=now)
    older.subject, newer.subject, other.subject = "Older notice", "Newer notice", "Not for you"
    db.session.commit()

    login_as(world.member)
    page = client.get("/notifications").get_data(as_text=True)
    assert "Newer notice" in page
    assert "Older notice" in page
    assert page.index("Newer notice") < page.index("Older notice")
    assert 'href="/visits/1"' in page
    assert "Not for you" not in page
    assert "Notifications (2 new)" in page


def test_mark_all_read_needs_the_csrf_token_and_clears_the_count(db, world, client, login_as, csrf_enabled):
    _notify(world, world.member, "test:one", now=utcnow())
    other = _notify(world, world.other_member, "test:other", now=utcnow())
    db.session.commit()
    login_as_with_csrf(client, world.member)

    assert client.post("/notifications/read").status_code == 400
    page = client.get("/notifications").get_data(as_text=True)
    assert "Notifications (1 new)" in page
    response = client.post("/notifications/read", data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 302

    page = client.get("/notifications").get_data(as_text=True)
    assert "Notifications (1 new)" not in page
    assert "Mark all as read" not in page
    db.session.expire_all()
    assert db.session.scalar(select(Message.read_at).where(Message.key == "test:one")) is not None
    # Someone else's stay unread.
    assert db.session.get(Message, other.id).read_at is None


def login_as_with_csrf(client, user):
    from tests.conftest import TEST_PASSWORD

    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={"username": user.username, "password": TEST_PASSWORD, "csrf_token": csrf_token_from(page)},
    )
    assert response.status_code == 302


def test_the_notifications_page_needs_sign_in(client):
    response = client.get("/notifications")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert client.post("/notifications/read").status_code == 302


def test_the_menu_shows_no_count_without_unread_messages(world, client, login_as):
    login_as(world.member)
    page = client.get("/").get_data(as_text=True)
    assert ">Notifications</a>" in page
    assert "new)" not in page
