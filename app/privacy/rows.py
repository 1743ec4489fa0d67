"""What every exporter shares: JSON-safe values and the people a row names.

An exporter (app.privacy.register.exporter) returns one person's rows of its table as plain dicts
with stable English keys; `plain` makes each value JSON-safe (dates and times as ISO 8601, times in
Asia/Ho_Chi_Minh, translated titles as text). The printable page titles the keys with FIELD_TITLES.
"""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import false, or_, select

from app.auth.models import User
from app.db import LOCAL_TZ
from app.extensions import db
from app.privacy.register import Subject


def plain(value):
    """`value` as JSON can carry it: ISO dates and local times, text for translated titles."""
    if isinstance(value, datetime):
        return value.astimezone(LOCAL_TZ).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return str(value)  # a lazy (translated) string


def row(**fields) -> dict:
    return {key: plain(value) for key, value in fields.items()}


def about(subject: Subject, *, user_columns=(), resident_columns=()):
    """A WHERE clause: the row names the subject's account in one of `user_columns` or one of
    their resident records in one of `resident_columns` (false when it can name neither)."""
    clauses = []
    if subject.user_id is not None:
        clauses += [column == subject.user_id for column in user_columns]
    if subject.resident_ids:
        clauses += [column.in_(subject.resident_ids) for column in resident_columns]
    return or_(*clauses) if clauses else false()


def names_of(user_ids) -> dict[int, str]:
    """user id -> full name, in one query, for the people a set of rows names."""
    ids = {user_id for user_id in user_ids if user_id is not None}
    if not ids:
        return {}
    query = select(User.id, User.full_name).where(User.id.in_(ids))
    return dict(db.session.execute(query).tuples().all())


#: Titles of the keys exporters use, for the printable page (the JSON keeps the keys).
FIELD_TITLES = {
    "username": _l("Username"),
    "full_name": _l("Full name"),
    "name": _l("Name"),
    "email": _l("E-mail"),
    "phone": _l("Phone"),
    "birth_year": _l("Year of birth"),
    "role": _l("Role"),
    "unit": _l("Unit"),
    "village": _l("Village"),
    "language": _l("Language"),
    "active": _l("Active"),
    "created_at": _l("Created"),
    "created_by": _l("Created by"),
    "last_login_at": _l("Last sign-in"),
    "purpose": _l("Purpose"),
    "given_at": _l("Given"),
    "withdrawn_at": _l("Withdrawn"),
    "recorded_by": _l("Recorded by"),
    "recorded_at": _l("Recorded"),
    "note": _l("Note"),
    "notes": _l("Notes"),
    "course": _l("Course"),
    "module": _l("Module"),
    "lesson": _l("Lesson"),
    "quiz": _l("Quiz"),
    "enrolled_at": _l("Enrolled"),
    "completed_at": _l("Completed"),
    "completed_on": _l("Completed on"),
    "mode": _l("How"),
    "read_at": _l("Read"),
    "attempt": _l("Attempt"),
    "started_at": _l("Started"),
    "submitted_at": _l("Submitted"),
    "score": _l("Score"),
    "max_score": _l("Out of"),
    "passed": _l("Passed"),
    "question": _l("Question"),
    "correct": _l("Correct"),
    "answer": _l("Answer"),
    "code": _l("Code"),
    "issued_at": _l("Issued"),
    "revoked_at": _l("Revoked"),
    "held_on": _l("Held on"),
    "place": _l("Place"),
    "address": _l("Address"),
    "household": _l("Household"),
    "consent_at": _l("Consent recorded"),
    "milestone": _l("Milestone"),
    "reached_on": _l("Reached on"),
    "on_date": _l("Date"),
    "confirmation": _l("Confirmed by"),
    "helped_by": _l("Helped by"),
    "stage": _l("Stage"),
    "taken_on": _l("Taken on"),
    "answers": _l("Answers"),
    "due_on": _l("Due"),
    "reason": _l("Reason"),
    "status": _l("Status"),
    "assigned_to": _l("Assigned to"),
    "closed_at": _l("Closed"),
    "campaign": _l("Campaign"),
    "starts_on": _l("Starts"),
    "ends_on": _l("Ends"),
    "member": _l("Member"),
    "updated_at": _l("Updated"),
    "month": _l("Month"),
    "visits": _l("Visits"),
    "sessions": _l("Sessions"),
    "minutes": _l("Minutes"),
    "residents_helped": _l("Residents helped"),
    "milestones_confirmed": _l("Milestones confirmed"),
    "team": _l("Team"),
    "skills": _l("Skills"),
    "leader": _l("Team leader"),
    "weekday": _l("Weekday"),
    "from": _l("From"),
    "to": _l("To"),
    "kind": _l("Kind"),
    "skill": _l("Help with"),
    "preferred_times": _l("Preferred times"),
    "starts_at": _l("Starts"),
    "ends_at": _l("Ends"),
    "cancel_reason": _l("Reason for cancelling"),
    "skills_done": _l("Skills done"),
    "resolved": _l("Resolved"),
    "follow_up_needed": _l("Follow-up needed"),
    "rating": _l("Rating"),
    "your_part": _l("Your part"),
    "session": _l("Group session"),
    "attended": _l("Attended"),
    "subject": _l("Subject"),
    "body": _l("Message"),
    "sent_at": _l("Sent"),
    "at": _l("When"),
    "action": _l("What"),
    "ip_address": _l("IP address"),
    "details": _l("Details"),
    "title": _l("Title"),
}
