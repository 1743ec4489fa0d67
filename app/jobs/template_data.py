"""What a Zalo template is filled with, per kind of message: short texts by parameter name, taken
from the same context the e-mail template gets (app/templates/email/<kind>.txt).

Every message carries `name` (the recipient's name); the kinds below add their own parameters.
The province registers one ZNS template per kind with these parameter names (ZNS_TEMPLATES maps
the kind to the template's id). Zalo limits a parameter's length (a name 30 characters, an
address 200), so each value is cut to fit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from app.auth.models import User
from app.db import LOCAL_TZ

#: The longest value of a short parameter (names, codes, labels) and of a place.
SHORT = 30
LONG = 200


def _text(value, limit: int = SHORT) -> str:
    return " ".join(str(value or "").split())[:limit]


def _when(moment: datetime | None) -> str:
    """A moment in local time as "08:30 15/12/2026"."""
    return moment.astimezone(LOCAL_TZ).strftime("%H:%M %d/%m/%Y") if moment is not None else ""


def _day(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day is not None else ""


def _visit(context: dict) -> dict[str, str]:
    visit = context["visit"]
    data = {
        "time": _when(visit.starts_at),
        "place": _text(visit.place, LONG),
        "member": _text(visit.member.full_name if visit.member is not None else ""),
        "skill": _text(context.get("skill", "")),
        "person": _text(context.get("person_name", "")),
    }
    if context.get("moved_from") is not None:
        data["old_time"] = _when(context["moved_from"])
    return data


def _digest(context: dict) -> dict[str, str]:
    return {"count": str(len(context.get("requests") or [])), "date": _day(context.get("day"))}


def _manager_digest(context: dict) -> dict[str, str]:
    return {"area": _text(context["area"].display_name), "week": _day(context.get("week"))}


def _follow_up(context: dict) -> dict[str, str]:
    return {"person": _text(context.get("person_name", "")), "due_date": _day(context["follow_up"].due_on)}


def _assignment(context: dict) -> dict[str, str]:
    return {"course": _text(context["course"].title, LONG), "due_date": _day(context["assignment"].due_on)}


def _code(context: dict) -> dict[str, str]:
    return {"otp": _text(context.get("code", ""))}


BUILDERS: dict[str, Callable[[dict], dict[str, str]]] = {
    "visit_reminder_member": _visit,
    "visit_reminder_resident": _visit,
    "visit_booked": _visit,
    "visit_cancelled": _visit,
    "visit_moved": _visit,
    "outcome_nudge": _visit,
    "daily_digest": _digest,
    "manager_digest": _manager_digest,
    "follow_up_reminder": _follow_up,
    "assignment_overdue": _assignment,
    "recovery_code": _code,
    "sign_in_attack": lambda _context: {},
}


def template_data(kind: str, user: User, context: dict) -> dict[str, str]:
    """The ZNS parameters of a message of `kind` to `user` (recipient's name first)."""
    data = {"name": _text(user.full_name)}
    builder = BUILDERS.get(kind)
    if builder is not None:
        data.update(builder(context))
    return data
