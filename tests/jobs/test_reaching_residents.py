"""Reaching a resident where they are, end to end: a visit booked for a resident who chose Zalo
goes to Zalo once (and waits out the quiet hours), a Zalo refusal sends one SMS instead, the
providers' receipts update what the resident sees, and a forgotten password is recovered with a
code that arrives by SMS — against real HTTP servers standing in for Zalo and the SMS gateway."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.db import LOCAL_TZ, utcnow
from app.jobs.models import Message
from app.jobs.outbox import send_due
from tests.conftest import TEST_PASSWORD
from tests.jobs.providers import SMS, ZNS
from tests.jobs.test_receipts import SMS_SECRET, ZALO_SECRET, sms_post, zalo_event, zalo_post

PHONE = "+84912345678"
CODE = re.compile(r"\b(\d{6})\b")
NEW_PASSWORD = "the old buffalo grazes beside the dike"


@pytest.fixture
def resident(db, world):
    world.resident.phone = PHONE
    world.resident.preferred_channels = "zalo,sms,in_app"
    db.session.commit()
    return world.resident


@pytest.fixture
def receipts(app):
    saved = {key: app.config[key] for key in ("SMS_RECEIPT_SECRET", "ZALO_RECEIPT_SECRET")}
    app.config.update(SMS_RECEIPT_SECRET=SMS_SECRET, ZALO_RECEIPT_SECRET=ZALO_SECRET)
    yield
    app.config.update(saved)


def local(moment, days: int, hour: int):
    """`days` after the local date of `moment`, at `hour`:00 local time."""
    day = moment.astimezone(LOCAL_TZ) + timedelta(days=days)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def booked_notice(db, visit_id: int, user) -> Message:
    db.session.expire_all()
    return db.session.scalars(select(Message).where(Message.key == f"booked-visit:{visit_id}:{user.id}")).one()


def book_through_the_api(client, api_token, world, starts_at):
    response = client.post(
        "/api/v1/visits",
        headers=api_token(world.manager),
        json={
            "member_id": world.member.id,
            "resident_id": world.resident.id,
            "start": starts_at.isoformat(),
            "duration_minutes": 60,
            "skill": "eid",
            "place": "Nhà văn hoá thôn 1A",
        },
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_a_visit_booked_through_the_api_reaches_the_resident_by_zalo_once_after_the_quiet_hours(
    app, db, client, api_token, world, resident, providers, receipts
):
    app.config["QUIET_HOURS"] = "21:00-07:00"
    now = utcnow()
    starts_at = local(now, 3, 9)
    visit_id = book_through_the_api(client, api_token, world, starts_at)

    # The resident is told; the manager who booked is not; the member is (someone else booked).
    db.session.expire_all()
    keys = set(db.session.scalars(select(Message.key).where(Message.key.startswith(f"booked-visit:{visit_id}:"))))
    assert keys == {f"booked-visit:{visit_id}:{resident.id}", f"booked-visit:{visit_id}:{world.member.id}"}

    notice = booked_notice(db, visit_id, resident)
    assert (notice.kind, notice.phone, notice.status) == ("visit_booked", PHONE, "pending")
    assert notice.link == f"/visits/visits/{visit_id}"  # booked without a request: the visit's page

    # At 22:00 local nothing goes to a phone; at 07:00 the next morning it goes, once, by Zalo.
    night = local(now, 1, 22)
    send_due(now=night)
    assert providers.to(ZNS) == []
    morning = local(now, 2, 7) + timedelta(minutes=1)
    send_due(now=morning)
    send_due(now=morning + timedelta(hours=1))
    [zns] = [r for r in providers.to(ZNS) if r.body["tracking_id"] == str(notice.id)]
    assert len(providers.to(ZNS)) == 1  # the member has no phone: e-mail, not Zalo
    assert zns.body["template_id"] == "tpl-booked"
    assert zns.body["phone"] == "84912345678"
    data = zns.body["template_data"]
    assert (data["name"], data["member"], data["place"]) == ("Resident Vi", "Member En", "Nhà văn hoá thôn 1A")
    assert data["time"] == starts_at.astimezone(LOCAL_TZ).strftime("%H:%M %d/%m/%Y")
    assert providers.to(SMS) == []

    # Zalo's receipt marks it delivered, and the resident sees that on their notifications page.
    notice = booked_notice(db, visit_id, resident)
    assert (notice.status, notice.channel) == ("sent", "zalo")
    response = zalo_post(client, zalo_event(msg_id=notice.provider_ref, tracking_id=str(notice.id)))
    assert response.get_json() == {"recorded": True}
    assert booked_notice(db, visit_id, resident).delivery_status == "delivered"
    client.post("/logout")
    client.post("/login", data={"username": resident.username, "password": TEST_PASSWORD})
    mine = client.get("/api/v1/me/messages", headers=api_token(resident)).get_json()["items"]
    booked = next(item for item in mine if item["id"] == notice.id)
    assert (booked["channel"], booked["status"], booked["delivery_status"]) == ("zalo", "delivered", "delivered")


def test_a_zalo_refusal_sends_one_sms_instead_and_its_receipt_is_recorded(
    db, client, world, resident, providers, receipts
):
    providers.answers[ZNS].append((200, {"error": -118, "message": "Zalo account not existed"}))
    visit = world.book(timedelta(days=2), keep_booking_notices=True)
    db.session.commit()
    notice = booked_notice(db, visit.id, resident)

    send_due(now=utcnow())
    send_due(now=utcnow() + timedelta(hours=2))

    assert [r.path for r in providers.requests if r.body.get("tracking_id", r.body.get("ref")) == str(notice.id)] == [
        ZNS,
        SMS,
    ]
    [sms] = providers.to(SMS)
    assert sms.body["to"] == PHONE and sms.body["ref"] == str(notice.id)
    notice = booked_notice(db, visit.id, resident)
    assert (notice.status, notice.channel) == ("sent", "sms")

    assert sms_post(client, {"id": notice.provider_ref, "status": "failed"}).get_json() == {"recorded": True}
    assert booked_notice(db, visit.id, resident).delivery_status == "failed"


def test_a_forgotten_password_is_recovered_with_a_code_that_arrives_by_sms(app, db, client, world, resident, providers):
    resident.preferred_channels = "sms,in_app"
    db.session.commit()
    old_browser = app.test_client()
    assert (
        old_browser.post("/login", data={"username": resident.username, "password": TEST_PASSWORD}).status_code == 302
    )

    # The person types the phone number as they know it.
    response = client.post("/auth/recover", data={"login": "0912 345 678"})
    assert response.status_code == 302
    response.close()  # the answer went out: the code is handed to the sender at once

    [sms] = providers.to(SMS)
    assert sms.body["to"] == PHONE
    code = CODE.search(sms.body["text"]).group(1)
    assert providers.to(ZNS) == []

    response = client.post(
        "/auth/recover/code",
        data={"login": "0912 345 678", "code": code, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert old_browser.get("/account").status_code == 302  # every earlier session ended
    fresh = app.test_client()
    assert fresh.post("/login", data={"username": resident.username, "password": NEW_PASSWORD}).status_code == 302


def test_an_unknown_phone_gets_the_same_answer_and_nothing_is_sent(client, world, resident, providers):
    known = client.post("/auth/recover", data={"login": "0912 345 678"})
    known.close()
    unknown = client.post("/auth/recover", data={"login": "0987 654 321"})
    unknown.close()
    assert (known.status_code, known.headers["Location"]) == (unknown.status_code, unknown.headers["Location"])
    assert [r.body.get("to") or r.body.get("phone") for r in providers.requests] == ["84912345678"]
