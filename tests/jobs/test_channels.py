"""Messages by Zalo (ZNS) and SMS: the person's channel order, fallback to the next channel,
retries with backoff, the shared Zalo token and its renewal, quiet hours and the daily cap —
against a real HTTP server standing in for Zalo and the SMS gateway."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from app.auth.models import User
from app.db import LOCAL_TZ, utcnow
from app.extensions import db as _db
from app.jobs.channels import plain_ascii, renew_zalo_token
from app.jobs.models import ChannelToken, Message
from app.jobs.outbox import enqueue, send_due
from app.jobs.scheduler import run_job
from app.units.models import Unit
from config import ConfigError, load_config
from tests.jobs import providers as fake
from tests.jobs.providers import OAUTH, SMS, ZNS

PHONE = "+84912345678"


@pytest.fixture
def resident(world):
    """The world's resident, with a phone, reached by Zalo, else SMS."""
    world.resident.phone = PHONE
    world.resident.preferred_channels = "zalo,sms,in_app"
    return world.resident


def local(now, hour, minute=0):
    """Today (local date of `now`) at this local time."""
    return now.astimezone(LOCAL_TZ).replace(hour=hour, minute=minute, second=0, microsecond=0)


def fresh(db, message):
    db.session.expire_all()
    return db.session.get(Message, message.id)


def test_a_booked_visit_reaches_the_resident_by_zalo_once(app, db, world, resident, providers):
    visit = world.book(timedelta(hours=20))
    now = utcnow()
    run_job(app, "visit_reminders", now=now)
    message = db.session.scalars(select(Message).where(Message.user_id == resident.id)).one()
    assert (message.status, message.kind, message.phone, message.channel) == (
        "pending",
        "visit_reminder_resident",
        PHONE,
        None,
    )

    assert send_due(now=now) == {"sent": 1, "retry": 0, "failed": 0}
    assert send_due(now=now + timedelta(hours=1)) == {"sent": 0, "retry": 0, "failed": 0}

    [request] = providers.requests
    assert request.path == ZNS
    assert request.headers["access_token"] == "access-1"
    assert request.body["phone"] == "84912345678"
    assert request.body["template_id"] == "tpl-visit"
    assert request.body["tracking_id"] == str(message.id)
    data = request.body["template_data"]
    assert data["name"] == "Resident Vi"
    assert data["member"] == "Member En"
    assert data["place"] == "Nhà văn hoá thôn 1A"
    assert data["time"] == visit.starts_at.astimezone(LOCAL_TZ).strftime("%H:%M %d/%m/%Y")
    message = fresh(db, message)
    assert (message.status, message.channel, message.provider_ref) == ("sent", "zalo", "zns-1")


@pytest.mark.parametrize("error", [-118, -112], ids=["not-a-zalo-user", "refused"])
def test_a_zalo_refusal_sends_one_sms_instead_in_the_same_run(db, resident, providers, error):
    providers.answers[ZNS].append((200, {"error": error, "message": "Zalo account not existed"}))
    now = utcnow()
    message = enqueue("attack:1", resident, "sign_in_attack", link="/account/password", now=now)

    assert send_due(now=now) == {"sent": 1, "retry": 0, "failed": 0}

    assert [r.path for r in providers.requests] == [ZNS, SMS]
    sms = providers.to(SMS)[0]
    assert sms.headers["authorization"] == "Bearer sms-key"
    assert sms.body["to"] == PHONE
    assert sms.body["ref"] == str(message.id)
    assert sms.body["sender"] == "KYNANGSO"
    assert sms.body["text"].isascii()
    assert plain_ascii(message.subject) in sms.body["text"]
    message = fresh(db, message)
    assert (message.status, message.channel, message.provider_ref) == ("sent", "sms", "sms-1")


def test_a_kind_without_a_zalo_template_goes_by_sms(db, resident, providers, world):
    now = utcnow()
    visit = world.book(timedelta(hours=30))
    message = enqueue("nudge:x", resident, "outcome_nudge", now=now, visit=visit, skill="e-ID", person_name="X")
    assert message.template_data["place"] == "Nhà văn hoá thôn 1A"
    send_due(now=now)
    assert [r.path for r in providers.requests] == [SMS]
    assert fresh(db, message).channel == "sms"


def test_a_gateway_that_is_down_is_tried_again_with_backoff_and_sends_once(db, resident, providers):
    resident.preferred_channels = "sms"
    providers.answers[SMS] += [(503, {"error": "down"}), (502, {})]
    now = utcnow()
    message = enqueue("attack:2", resident, "sign_in_attack", now=now)

    assert send_due(now=now) == {"sent": 0, "retry": 1, "failed": 0}
    message = fresh(db, message)
    assert (message.status, message.attempts, message.channel) == ("pending", 1, "sms")
    assert message.next_attempt_at == now + timedelta(minutes=1)

    assert send_due(now=now + timedelta(seconds=30)) == {"sent": 0, "retry": 0, "failed": 0}
    assert send_due(now=now + timedelta(minutes=1)) == {"sent": 0, "retry": 1, "failed": 0}
    assert fresh(db, message).next_attempt_at == now + timedelta(minutes=1) + timedelta(minutes=2)
    assert send_due(now=now + timedelta(minutes=3)) == {"sent": 1, "retry": 0, "failed": 0}
    assert send_due(now=now + timedelta(hours=3)) == {"sent": 0, "retry": 0, "failed": 0}

    assert len(providers.to(SMS)) == 3  # two refused by the gateway, one taken
    message = fresh(db, message)
    assert (message.status, message.attempts, message.provider_ref) == ("sent", 3, "sms-3")


def test_a_gateway_nobody_answers_at_is_a_temporary_failure(app, db, resident, providers):
    resident.preferred_channels = "sms"
    app.config["SMS_API_URL"] = "http://127.0.0.1:9/sms"  # discard port: nothing listens
    now = utcnow()
    message = enqueue("attack:3", resident, "sign_in_attack", now=now)
    assert send_due(now=now) == {"sent": 0, "retry": 1, "failed": 0}
    assert fresh(db, message).status == "pending"


def test_an_expired_token_is_renewed_once_stored_and_used(db, resident, providers):
    providers.answers[ZNS].append((200, {"error": -124, "message": "Access token invalid"}))
    now = utcnow()
    first = enqueue("attack:4", resident, "sign_in_attack", now=now)
    second = enqueue("attack:5", resident, "sign_in_attack", now=now)

    assert send_due(now=now) == {"sent": 2, "retry": 0, "failed": 0}

    [renewal] = providers.to(OAUTH)
    assert renewal.headers["secret_key"] == "secret-1"
    assert renewal.body == {"app_id": "app-1", "refresh_token": "refresh-1", "grant_type": "refresh_token"}
    assert [r.headers["access_token"] for r in providers.to(ZNS)] == ["access-1", "new-access-1", "new-access-1"]
    token = db.session.get(ChannelToken, "zalo")
    assert (token.access_token, token.refresh_token) == ("new-access-1", "new-refresh-1")
    assert token.expires_at == now + timedelta(seconds=90000)
    assert {fresh(db, m).status for m in (first, second)} == {"sent"}


def test_a_token_renewed_by_another_node_is_used_without_spending_the_refresh_token(db, providers):
    now = utcnow()
    db.session.add(ChannelToken(channel="zalo", access_token="other-node", refresh_token="r-2", updated_at=now))
    db.session.flush()
    assert renew_zalo_token("access-1", now) == "other-node"
    assert providers.to(OAUTH) == []


def test_a_refused_refresh_token_passes_the_message_to_sms(db, resident, providers):
    providers.answers[ZNS].append((200, {"error": -124, "message": "Access token invalid"}))
    providers.answers[OAUTH].append((200, {"error": -14014, "error_description": "Invalid refresh token"}))
    now = utcnow()
    message = enqueue("attack:6", resident, "sign_in_attack", now=now)
    assert send_due(now=now) == {"sent": 1, "retry": 0, "failed": 0}
    assert fresh(db, message).channel == "sms"
    assert db.session.get(ChannelToken, "zalo").refresh_token == "refresh-1"


def test_every_channel_refusing_fails_the_message_which_stays_in_app(db, resident, providers):
    providers.answers[ZNS].append((200, {"error": -118, "message": "Zalo account not existed"}))
    providers.answers[SMS].append((400, {"error": "blocked number"}))
    now = utcnow()
    message = enqueue("attack:7", resident, "sign_in_attack", now=now)
    assert send_due(now=now) == {"sent": 0, "retry": 0, "failed": 1}
    message = fresh(db, message)
    assert (message.status, message.channel) == ("failed", "in_app")
    assert "400" in message.last_error


def test_people_who_chose_in_app_or_gave_no_phone_get_nothing_outside(db, world, make_user, providers):
    in_app = make_user("resident", world.units["v1a"], phone=PHONE, preferred_channels="in_app,zalo")
    no_phone = make_user("resident", world.units["v1a"], preferred_channels="zalo,sms")
    now = utcnow()
    for person in (in_app, no_phone):
        message = enqueue(f"attack:{person.id}", person, "sign_in_attack", now=now)
        assert (message.status, message.channel) == ("no_email", "in_app")
    assert send_due(now=now) == {"sent": 0, "retry": 0, "failed": 0}
    assert providers.requests == []


# --- quiet hours and the daily cap ------------------------------------------------------------


def recovery_code(user, now, key="recovery:1"):
    """A recovery code message as the recovery flow queues it."""
    message = Message(
        key=key,
        user_id=user.id,
        phone=user.phone,
        kind="recovery_code",
        template_data={"name": user.full_name, "otp": "482913"},
        subject="Mã khôi phục",
        body="482913\n",
        status="pending",
        created_at=now,
        next_attempt_at=now,
    )
    _db.session.add(message)
    _db.session.flush()
    return message


def test_a_message_in_quiet_hours_waits_for_their_end_but_a_recovery_code_does_not(app, db, resident, providers):
    app.config["QUIET_HOURS"] = "21:00-07:00"
    night = local(utcnow(), 22)
    message = enqueue("attack:8", resident, "sign_in_attack", now=night)
    code = recovery_code(resident, night)

    assert send_due(now=night) == {"sent": 1, "retry": 0, "failed": 0}
    assert [r.body["template_id"] for r in providers.to(ZNS)] == ["tpl-otp"]
    assert providers.to(ZNS)[0].body["template_data"]["otp"] == "482913"
    assert fresh(db, code).status == "sent"
    morning = night + timedelta(hours=9)
    message = fresh(db, message)
    assert (message.status, message.attempts, message.next_attempt_at) == ("pending", 0, morning)

    assert send_due(now=morning - timedelta(minutes=1)) == {"sent": 0, "retry": 0, "failed": 0}
    assert send_due(now=morning) == {"sent": 1, "retry": 0, "failed": 0}
    assert len(providers.to(ZNS)) == 2


def test_an_sms_code_carries_the_code_and_goes_at_night(app, db, resident, providers):
    app.config["QUIET_HOURS"] = "21:00-07:00"
    resident.preferred_channels = "sms"
    code = recovery_code(resident, local(utcnow(), 23))
    assert send_due(now=code.created_at) == {"sent": 1, "retry": 0, "failed": 0}
    assert providers.to(SMS)[0].body["text"].startswith("Ma khoi phuc: 482913")


def test_the_daily_cap_holds_the_rest_until_the_next_day_but_not_codes(app, db, resident, providers):
    app.config["MESSAGE_DAILY_CAP"] = 2
    morning = local(utcnow(), 9)
    messages = [enqueue(f"attack:cap:{n}", resident, "sign_in_attack", now=morning) for n in range(3)]
    code = recovery_code(resident, morning)

    assert send_due(now=morning) == {"sent": 3, "retry": 0, "failed": 0}
    statuses = [fresh(db, m).status for m in messages]
    assert statuses == ["sent", "sent", "pending"]
    assert fresh(db, code).status == "sent"
    midnight = local(morning, 0) + timedelta(days=1)
    assert fresh(db, messages[2]).next_attempt_at == midnight

    assert send_due(now=morning + timedelta(hours=10)) == {"sent": 0, "retry": 0, "failed": 0}
    assert send_due(now=midnight) == {"sent": 1, "retry": 0, "failed": 0}


def test_a_message_refused_by_email_and_held_by_quiet_hours_goes_on_by_sms_later(app, db, resident, providers, smtp):
    app.config["QUIET_HOURS"] = "21:00-07:00"
    resident.preferred_channels = "email,sms"
    smtp.refuse_next = ["550 No such mailbox"]
    night = local(utcnow(), 22)
    message = enqueue("attack:held", resident, "sign_in_attack", now=night)

    assert send_due(now=night) == {"sent": 0, "retry": 0, "failed": 0}
    message = fresh(db, message)
    assert (message.status, message.channel) == ("pending", "sms")
    assert providers.requests == []

    assert send_due(now=night + timedelta(hours=9)) == {"sent": 1, "retry": 0, "failed": 0}
    assert smtp.messages == []  # the address was not tried again
    assert [r.path for r in providers.requests] == [SMS]
    assert fresh(db, message).channel == "sms"


# --- two senders at once ------------------------------------------------------------------------

SENDERS, MESSAGES = 2, 12


@pytest.fixture
def sender_app(empty_database_url, providers, app):
    """An app of its own on an empty database (its commits are real), sending by Zalo."""
    options = {"pool_size": SENDERS + 2}
    if empty_database_url.startswith("sqlite"):
        options["connect_args"] = {"check_same_thread": False}
    settings = {key: app.config[key] for key in fake.settings(providers)}
    sender_app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": empty_database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": options,
            "SEED_DEMO": False,
            "SCHEDULER_IN_PROCESS": False,
            **settings,
        }
    )
    with sender_app.app_context():
        _db.create_all()
        unit = Unit(code="P", kind="province", name="Tỉnh", path="/P/")
        user = User(
            username="r",
            full_name="Resident",
            role="resident",
            unit=unit,
            password_hash="!",
            phone=PHONE,
            preferred_channels="zalo",
        )
        _db.session.add_all([unit, user])
        _db.session.commit()
        now = utcnow()
        _db.session.add_all(
            Message(
                key=f"race:{n}",
                user_id=user.id,
                phone=PHONE,
                kind="sign_in_attack",
                template_data={"name": "Resident"},
                subject=f"Message {n}",
                body="Hello\n",
                created_at=now,
                next_attempt_at=now,
            )
            for n in range(MESSAGES)
        )
        _db.session.commit()
    yield sender_app
    with sender_app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def test_two_senders_at_once_deliver_each_message_once(sender_app, providers):
    providers.delay = 0.02
    start = threading.Barrier(SENDERS)
    reports, errors = [], []

    def sender():
        with sender_app.app_context():
            try:
                start.wait()
                reports.append(send_due(batch=MESSAGES))
            except BaseException as error:  # collected and asserted below
                errors.append(error)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sum(report["sent"] for report in reports) == MESSAGES
    deliveries = Counter(r.body["tracking_id"] for r in providers.to(ZNS))
    assert len(deliveries) == MESSAGES and set(deliveries.values()) == {1}
    with sender_app.app_context():
        assert set(_db.session.scalars(select(Message.status))) == {"sent"}
        assert _db.session.scalar(select(ChannelToken.access_token)) == "access-1"


def test_message_settings_that_cannot_be_read_are_refused_at_start():
    env = {"APP_ENV": "testing"}
    assert load_config(env)["QUIET_HOURS"] == "21:00-07:00"
    assert load_config(env)["MESSAGE_DAILY_CAP"] == 5
    assert load_config({**env, "QUIET_HOURS": ""})["QUIET_HOURS"] == ""
    for name, value in [
        ("QUIET_HOURS", "9pm-7am"),
        ("QUIET_HOURS", "25:00-07:00"),
        ("ZNS_TEMPLATES", "visit_reminder_resident=1"),
        ("ZNS_TEMPLATES", '["1"]'),
        ("MESSAGE_DAILY_CAP", "-1"),
    ]:
        with pytest.raises(ConfigError, match=name):
            load_config({**env, name: value})


def test_a_province_plugs_in_its_own_sms_adapter(app, db, resident, providers, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_ADAPTER", "tests.jobs.providers.TelecomGateway")
    monkeypatch.setattr(fake.TelecomGateway, "sent", [])
    resident.preferred_channels = "sms"
    now = utcnow()
    message = enqueue("attack:telecom", resident, "sign_in_attack", now=now)
    assert send_due(now=now) == {"sent": 1, "retry": 0, "failed": 0}
    [(to, text, ref)] = fake.TelecomGateway.sent
    assert (to, ref) == (PHONE, str(message.id))
    assert text.isascii()
    assert fresh(db, message).provider_ref == f"telecom-{message.id}"
    assert providers.requests == []

    resident.phone = "+84912345670"
    refused = enqueue("attack:telecom:2", resident, "sign_in_attack", now=now)
    assert send_due(now=now) == {"sent": 0, "retry": 0, "failed": 1}
    assert fresh(db, refused).last_error == "Refused: number blocked"

    monkeypatch.setitem(app.config, "SMS_ADAPTER", "tests.jobs.providers.NoSuchGateway")
    resident.phone = PHONE
    broken = enqueue("attack:telecom:3", resident, "sign_in_attack", now=now)
    assert send_due(now=now) == {"sent": 0, "retry": 0, "failed": 1}
    assert fresh(db, broken).status == "failed"


def test_without_a_mail_server_e_mail_is_skipped_and_an_e_mail_only_message_waits(app, db, world, providers):
    assert not app.config["MAIL_SERVER"]
    resident = world.resident  # has an address
    resident.phone = PHONE
    resident.preferred_channels = "email,sms"
    by_sms = enqueue("attack:nomail:1", resident, "sign_in_attack", now=utcnow())
    member = world.member  # an address and a phone, the default order: e-mail only
    member.phone = "+84987654321"
    waits = enqueue("attack:nomail:2", member, "sign_in_attack", now=utcnow())
    now = utcnow()
    assert send_due(now=now) == {"sent": 1, "retry": 0, "failed": 0}
    assert fresh(db, by_sms).channel == "sms"
    waits = fresh(db, waits)
    assert (waits.status, waits.attempts, waits.next_attempt_at) == ("pending", 0, now + timedelta(hours=1))
    assert [r.body["to"] for r in providers.to(SMS)] == [PHONE]


def test_a_gateway_that_did_not_answer_is_not_waited_on_again_in_the_same_run(db, world, resident, providers):
    resident.preferred_channels = "sms"
    providers.answers[SMS].append((503, {}))
    now = utcnow()
    messages = [enqueue(f"attack:down:{n}", resident, "sign_in_attack", now=now) for n in range(3)]
    assert send_due(now=now) == {"sent": 0, "retry": 3, "failed": 0}
    assert len(providers.to(SMS)) == 1
    assert {fresh(db, m).attempts for m in messages} == {1}
    assert send_due(now=now + timedelta(minutes=1)) == {"sent": 3, "retry": 0, "failed": 0}


def test_an_sms_is_one_unaccented_line_with_the_link(app, db, resident, providers, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://kynangso.example.gov.vn")
    resident.preferred_channels = "sms"
    now = utcnow()
    message = enqueue("attack:link", resident, "sign_in_attack", link="/account/password", now=now)
    message.subject = "Đã có nhiều lần nhập sai mật khẩu vào tài khoản của bạn " * 4
    send_due(now=now)
    text = providers.to(SMS)[0].body["text"]
    assert text.isascii() and len(text) <= 160
    assert text.startswith("Da co nhieu lan nhap sai mat khau")
    assert text.endswith("... https://kynangso.example.gov.vn/account/password")

    monkeypatch.setitem(app.config, "SMS_ASCII", False)
    enqueue("attack:unicode", resident, "sign_in_attack", now=now)
    send_due(now=now)
    assert not providers.to(SMS)[1].body["text"].isascii()  # with its diacritics
