"""What messages cost: messages handed to a paid channel per month, per commune of the recipient
and per channel, priced by MESSAGE_PRICES (VND per message).

A message counts once, in the local month (Asia/Ho_Chi_Minh) it was handed to the provider, when
the outbox marked it sent on a paid channel: Zalo and SMS, and any other channel given a price
above nothing. E-mail and in-app messages are free unless priced. The recipient's commune is the
one their account belongs to now; accounts at the province level fall under "no commune".
Messages removed by retention (RETENTION_MESSAGES_DAYS) or an erasure no longer count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import case, func, select

from app.auth.models import User
from app.db import LOCAL_TZ, YEARS, local_today
from app.exceptions import Invalid
from app.extensions import db
from app.jobs.message_states import CHANNEL_TITLES
from app.jobs.models import CHANNELS, Message
from app.reports.tables import Column, ReportTable
from app.units.models import Unit, path_within

#: Channels that are always paid for, priced or not.
PAID_CHANNELS = ("zalo", "sms")
DEFAULT_MONTHS = 6
MAX_MONTHS = 24
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


@dataclass
class CostReport:
    unit: Unit
    first_month: date
    last_month: date
    channels: list[str]
    prices: dict[str, float]
    by_month: ReportTable
    by_commune: ReportTable
    detail: ReportTable


# --- filters ------------------------------------------------------------------------------


def month_arg(value: str, field: str) -> date:
    """A month written YYYY-MM, as its first day. Raises Invalid naming `field`."""
    match = _MONTH.fullmatch(value.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12 or not YEARS[0] <= int(match.group(1)) <= YEARS[1]:
        raise Invalid(_("Give the month as YYYY-MM, e.g. 2026-03."), field=field)
    return date(int(match.group(1)), int(match.group(2)), 1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, last: date) -> int:
    """How many months from `first` to `last`, both included."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def period(given_from: str, given_to: str) -> tuple[date, date]:
    """The months of ?from= and ?to= (YYYY-MM, both included). Without `to`: up to this month (or
    to the MAX_MONTHS-th month from `from`, whichever comes first); without `from`: the
    DEFAULT_MONTHS months up to `to`. Raises Invalid for a month that cannot be read, an end
    before the start or more than MAX_MONTHS months."""
    first = month_arg(given_from, "from") if given_from else None
    last = month_arg(given_to, "to") if given_to else None
    if last is None:
        last = local_today().replace(day=1)
        if first is not None:
            last = max(first, min(last, add_months(first, MAX_MONTHS - 1)))
    if first is None:
        first = add_months(last, -(DEFAULT_MONTHS - 1))
    if first > last:
        raise Invalid(_("The first month comes after the last."), field="from")
    if months_between(first, last) > MAX_MONTHS:
        raise Invalid(_("Choose at most %(months)d months.", months=MAX_MONTHS), field="to")
    return first, last


# --- prices -------------------------------------------------------------------------------


def prices_by_channel() -> dict[str, float]:
    """VND per message by channel, from MESSAGE_PRICES (read and checked at start-up)."""
    prices = current_app.config.get("MESSAGE_PRICES") or {}
    return {channel: prices.get(channel, 0) for channel in CHANNELS}


def paid_channels(prices: dict[str, float]) -> list[str]:
    return [channel for channel in CHANNELS if channel in PAID_CHANNELS or prices.get(channel, 0) > 0]


# --- the report ---------------------------------------------------------------------------


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ)


def _counts(unit: Unit, months: list[date], channels: list[str]) -> list[tuple[int, str, str]]:
    """(month index, unit path of the recipient, channel, count) of sent messages."""
    bounds = [_local_midnight(month) for month in months] + [_local_midnight(add_months(months[-1], 1))]
    month_index = case(*[(Message.sent_at < bounds[n + 1], n) for n in range(len(months))], else_=len(months))
    query = (
        select(month_index.label("month"), Unit.path, Message.channel, func.count().label("messages"))
        .join(User, User.id == Message.user_id)
        .join(Unit, Unit.id == User.unit_id)
        .where(
            Message.status == "sent",
            Message.channel.in_(channels),
            Message.sent_at >= bounds[0],
            Message.sent_at < bounds[-1],
            path_within(Unit.path, unit.path),
        )
        .group_by(month_index, Unit.path, Message.channel)
    )
    return [(row.month, row.path, row.channel, row.messages) for row in db.session.execute(query)]


def _commune_path(path: str, communes: dict[str, Unit]) -> str | None:
    """The path of the commune among `communes` that the unit at `path` is or lies in (None for
    a unit above every commune)."""
    parts = path.strip("/").split("/")
    prefixes = ("/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1))
    return next((prefix for prefix in prefixes if prefix in communes), None)


def _columns(first: Column, channels: list[str], *, second: Column | None = None) -> list[Column]:
    columns = [first] + ([second] if second else [])
    for channel in channels:
        columns.append(Column(f"{channel}_messages", _("%(channel)s messages", channel=CHANNEL_TITLES[channel])))
    for channel in channels:
        columns.append(Column(f"{channel}_cost", _("%(channel)s cost (VND)", channel=CHANNEL_TITLES[channel])))
    columns.append(Column("messages", _("Messages")))
    columns.append(Column("cost", _("Total cost (VND)")))
    return columns


def _figures(counts: dict[str, int], channels: list[str], prices: dict[str, float]) -> dict:
    row = {}
    for channel in channels:
        row[f"{channel}_messages"] = counts.get(channel, 0)
        row[f"{channel}_cost"] = counts.get(channel, 0) * prices.get(channel, 0)
    row["messages"] = sum(counts.get(channel, 0) for channel in channels)
    row["cost"] = sum(row[f"{channel}_cost"] for channel in channels)
    return row


def _add(into: dict[str, int], channel: str, count: int) -> None:
    into[channel] = into.get(channel, 0) + count


def message_costs(unit: Unit, first_month: date, last_month: date) -> CostReport:
    """The cost report of messages to people in `unit`'s subtree over the months from
    `first_month` to `last_month` (first days of months, both included)."""
    prices = prices_by_channel()
    channels = paid_channels(prices)
    months = [add_months(first_month, n) for n in range(months_between(first_month, last_month))]
    communes = {
        commune.path: commune
        for commune in db.session.scalars(
            select(Unit).where(Unit.kind.in_(("commune", "ward")), path_within(Unit.path, unit.path))
        )
    }
    if unit.level > 2:  # a village: its commune lies above it
        commune = unit.commune()
        if commune is not None:
            communes[commune.path] = commune

    per_month: dict[int, dict[str, int]] = {}
    per_commune: dict[str | None, dict[str, int]] = {}
    per_both: dict[tuple[int, str | None], dict[str, int]] = {}
    for month, path, channel, count in _counts(unit, months, channels):
        commune_path = _commune_path(path, communes)
        _add(per_month.setdefault(month, {}), channel, count)
        _add(per_commune.setdefault(commune_path, {}), channel, count)
        _add(per_both.setdefault((month, commune_path), {}), channel, count)

    def commune_name(path: str | None) -> str:
        return communes[path].display_name if path is not None else _("No commune (province level)")

    def month_name(index: int) -> str:
        return format_date(months[index], "MM/yyyy")

    totals: dict[str, int] = {}
    for counts in per_month.values():
        for channel, count in counts.items():
            _add(totals, channel, count)
    total_row = _figures(totals, channels, prices)
    note = _(
        "Messages handed to a paid channel, in the month they were sent (local time), priced per "
        "message by the setting MESSAGE_PRICES. E-mail and in-app messages are free."
    )

    month_column = Column("month", _("Month"), kind="text")
    commune_column = Column("commune", _("Commune or ward"), kind="text")
    by_month = ReportTable(
        _("Messages and cost by month"),
        _columns(month_column, channels),
        [{"month": month_name(n), **_figures(per_month.get(n, {}), channels, prices)} for n in range(len(months))],
        {"month": _("Total"), **total_row},
        note,
    )
    by_commune = ReportTable(
        _("Messages and cost by commune"),
        _columns(commune_column, channels),
        sorted(
            (
                {"commune": commune_name(path), **_figures(counts, channels, prices)}
                for path, counts in per_commune.items()
            ),
            key=lambda row: (-row["cost"], row["commune"]),
        ),
        {"commune": _("Total"), **total_row},
    )
    detail = ReportTable(
        _("Messages and cost by month and commune"),
        _columns(month_column, channels, second=commune_column),
        [
            {"month": month_name(month), "commune": commune_name(path), **_figures(counts, channels, prices)}
            for (month, path), counts in sorted(
                per_both.items(), key=lambda item: (item[0][0], commune_name(item[0][1]))
            )
        ],
        {"month": _("Total"), "commune": "", **total_row},
    )
    return CostReport(unit, first_month, last_month, channels, prices, by_month, by_commune, detail)
