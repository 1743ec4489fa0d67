"""Demo messages carried by Zalo, SMS and in-app, with their delivery receipts, so that the
notifications page shows each message's channel and state and the message cost report has
figures on first start. Written directly, as the sender and the receipts would leave them."""

from __future__ import annotations

from datetime import timedelta

from app.auth.models import User
from app.db import utcnow
from app.extensions import db
from app.jobs.models import Message

#: (username, days ago, channel, outbox status, receipt, subject)
_MESSAGES = (
    ("resident", 62, "zalo", "sent", "delivered", "Nhắc lịch: hỗ trợ cài đặt VNeID"),
    ("resident", 33, "sms", "sent", "delivered", "Lịch hỗ trợ đã được xác nhận"),
    ("resident", 6, "zalo", "sent", "delivered", "Nhắc lịch: hỗ trợ thanh toán không dùng tiền mặt"),
    ("resident", 3, "sms", "sent", "failed", "Buổi hỗ trợ nhóm tại nhà văn hoá"),
    ("resident", 1, "in_app", "no_email", None, "Khoá học mới: An toàn trên mạng"),
    ("resident", 0, None, "pending", None, "Nhắc lịch: hỗ trợ dịch vụ công trực tuyến"),
    ("resident2", 40, "zalo", "sent", "delivered", "Nhắc lịch: hỗ trợ cài đặt VNeID"),
    ("resident2", 12, "zalo", "sent", "delivered", "Lịch hỗ trợ đã được xác nhận"),
    ("resident2", 2, "sms", "sent", None, "Nhắc lịch: hỗ trợ thanh toán không dùng tiền mặt"),
    ("cadre", 20, "sms", "sent", "delivered", "Nhắc hạn hoàn thành khoá học"),
)


def seed_messages(people: dict[str, User]) -> None:
    now = utcnow()
    for n, (username, days_ago, channel, status, receipt, subject) in enumerate(_MESSAGES, start=1):
        written = now - timedelta(days=days_ago, hours=2)
        sent = status == "sent"
        db.session.add(
            Message(
                key=f"demo:message:{n}",
                user_id=people[username].id,
                subject=subject,
                body=f"{subject}.\n\nTin nhắn mẫu của tỉnh Hòa Lâm (dữ liệu mẫu).\n",
                status=status,
                channel=channel,
                phone="+84912000000" if channel in ("zalo", "sms") else None,
                provider_ref=f"demo-{channel}-{n}" if sent else None,
                created_at=written,
                next_attempt_at=written,
                sent_at=written + timedelta(minutes=1) if sent else None,
                delivery_status=receipt,
                delivered_at=written + timedelta(minutes=2) if receipt == "delivered" else None,
                read_at=written + timedelta(hours=1) if days_ago > 5 else None,
            )
        )
