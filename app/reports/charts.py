"""Small server-side SVG charts: no JavaScript, no inline styles (the CSP forbids them), readable
without colour (each series has its own marker and dash pattern), scaled by the viewBox so the
chart fits a phone. The numbers are always shown in a table next to the chart as well.

`weekly_trend_charts` draws the two charts of the weekly trends (the trends page and the printable
report)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date, timedelta

from babel.dates import format_skeleton
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

from app.i18n import format_date
from app.reports.tables import ReportTable

#: Colour, dash pattern and marker per series: dark enough for at least 4.5:1 contrast on white,
#: and told apart by the line and marker shape when colours are not seen.
SERIES_STYLES = (
    ("#0b5394", None, "circle"),
    ("#b03a00", "7 4", "square"),
    ("#1e6b2e", "2 3", "triangle"),
    ("#6a1b9a", "9 3 2 3", "diamond"),
)
WIDTH = 380
PLOT_HEIGHT = 170
RIGHT, BOTTOM = 14, 34
#: Rough width of a digit at FONT size, to leave room for the y-axis labels.
DIGIT_WIDTH = 8
LEGEND_ROW = 18
FONT = 14
MAX_X_LABELS = 6
MAX_MARKERS = 60

Series = Sequence[tuple[str, Sequence[tuple[object, float]]]]


def nice_ticks(maximum: float, count: int = 4) -> list[float]:
    """0 and about `count` round steps (1, 2, 2.5 or 5 × 10^n) reaching at least `maximum`;
    whole-number steps only, since the charts show counts."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    if raw <= 1:
        step = 1
    else:
        magnitude = 10 ** math.floor(math.log10(raw))
        step = next(s for s in (m * magnitude for m in (1, 2, 2.5, 5, 10)) if s >= raw and s == int(s))
        step = int(step)
    return [i * step for i in range(math.ceil(maximum / step) + 1)]


def _number(value: float) -> str:
    return format_decimal(value, format="#,##0.##")


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "square":
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{colour}"/>'
    if shape == "triangle":
        return f'<path d="M{x:.1f} {y - 4.5:.1f}L{x + 4.5:.1f} {y + 3.5:.1f}H{x - 4.5:.1f}Z" fill="{colour}"/>'
    if shape == "diamond":
        d = f"M{x:.1f} {y - 5:.1f}L{x + 5:.1f} {y:.1f}L{x:.1f} {y + 5:.1f}L{x - 5:.1f} {y:.1f}Z"
        return f'<path d="{d}" fill="{colour}"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/>'


def _dash(dash: str | None) -> str:
    return f' stroke-dasharray="{dash}"' if dash else ""


def line_chart(
    series: Series,
    *,
    title: str,
    chart_id: str = "chart",
    description: str | None = None,
    label: Callable[[object], str] = str,
) -> Markup:
    """A line chart of `series` — [(name, [(x, value), …]), …], every series over the same x
    values in order — as SVG markup. `label(x)` gives the text under the x axis (thinned to a
    few labels); `description` is read by screen readers after the title."""
    series = [(name, list(points)) for name, points in series][: len(SERIES_STYLES)]
    xs = [x for x, _value in series[0][1]] if series else []
    top_margin = 8 + LEGEND_ROW * len(series) + 8
    height = top_margin + PLOT_HEIGHT + BOTTOM
    values = [value or 0 for _name, points in series for _x, value in points]
    ticks = nice_ticks(max(values, default=0))
    tick_labels = [_number(tick) for tick in ticks]
    y_top = ticks[-1]
    left = round(12 + DIGIT_WIDTH * max(len(text) for text in tick_labels))
    plot_width = WIDTH - left - RIGHT

    def x_at(index: int) -> float:
        if len(xs) <= 1:
            return left + plot_width / 2
        return left + plot_width * index / (len(xs) - 1)

    def y_at(value: float) -> float:
        return top_margin + PLOT_HEIGHT - PLOT_HEIGHT * (value or 0) / y_top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" aria-describedby="{chart_id}-desc" '
        f'font-family="system-ui, sans-serif" font-size="{FONT}" class="chart-svg">',
        f"<title>{escape(title)}</title>",
        f'<desc id="{chart_id}-desc">{escape(description or "")}</desc>',
    ]
    # Legend: one row per series, with the line and marker it is drawn with.
    for index, (name, _points) in enumerate(series):
        colour, dash, shape = SERIES_STYLES[index]
        y = 8 + LEGEND_ROW * index + LEGEND_ROW / 2
        parts.append(
            f'<line x1="{left}" y1="{y}" x2="{left + 28}" y2="{y}" stroke="{colour}" stroke-width="2.5"{_dash(dash)}/>'
        )
        parts.append(_marker(shape, left + 14, y, colour))
        parts.append(f'<text x="{left + 36}" y="{y + 4.5}" fill="#1a1a1a">{escape(name)}</text>')
    # Horizontal grid lines with their values.
    for tick, text in zip(ticks, tick_labels, strict=True):
        y = y_at(tick)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#d6d6d6"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4.5:.1f}" text-anchor="end" fill="#333">{text}</text>')
    # Axes.
    bottom = top_margin + PLOT_HEIGHT
    parts.append(f'<path d="M{left} {top_margin}V{bottom}H{WIDTH - RIGHT}" fill="none" stroke="#555"/>')
    # A few x labels, evenly spaced, always including the last (most recent) one.
    if xs:
        step = max(1, math.ceil(len(xs) / MAX_X_LABELS))
        shown = set(range(len(xs) - 1, -1, -step))
        for index in sorted(shown):
            x = x_at(index)
            parts.append(f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 5}" stroke="#555"/>')
            anchor = "middle" if 0 < index < len(xs) - 1 or len(xs) == 1 else ("start" if index == 0 else "end")
            text = escape(label(xs[index]))
            parts.append(f'<text x="{x:.1f}" y="{bottom + 20}" text-anchor="{anchor}" fill="#333">{text}</text>')
    # The series: a line, and markers (thinned on long ranges).
    marker_step = max(1, math.ceil(len(xs) / MAX_MARKERS))
    for index, (_name, points) in enumerate(series):
        colour, dash, shape = SERIES_STYLES[index]
        coordinates = " ".join(f"{x_at(i):.1f},{y_at(value):.1f}" for i, (_x, value) in enumerate(points))
        parts.append(
            f'<polyline points="{coordinates}" fill="none" stroke="{colour}" stroke-width="2.5" '
            f'stroke-linejoin="round"{_dash(dash)}/>'
        )
        parts.extend(
            _marker(shape, x_at(i), y_at(value), colour)
            for i, (_x, value) in enumerate(points)
            if i % marker_step == 0 or i == len(points) - 1
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 — every text inside was escaped above


def week_label(week: date) -> str:
    """A week under the x axis: its Monday as day and month, in the reader's language."""
    return format_skeleton("dM", week, locale=get_locale())


def weekly_trend_charts(table: ReportTable, *, id_prefix: str = "") -> tuple[Markup, Markup]:
    """The learning chart (enrolments, completions) and the visits chart (help requests, visits
    done) of a weekly trends table (app.reports.analytics.weekly_trends)."""
    first, last = table.rows[0]["week"], table.rows[-1]["week"]
    description = _(
        "Weekly figures from %(first)s to %(last)s; the numbers are in the table below.",
        first=format_date(first),
        last=format_date(last + timedelta(days=6)),
    )
    learning = line_chart(
        [
            (_("Enrolments"), [(row["week"], row["enrolled"]) for row in table.rows]),
            (_("Courses completed"), [(row["week"], row["completed"]) for row in table.rows]),
        ],
        title=_("Enrolments and completions per week"),
        chart_id=f"{id_prefix}learning-chart",
        description=description,
        label=week_label,
    )
    visits = line_chart(
        [
            (_("Help requests"), [(row["week"], row["requests"]) for row in table.rows]),
            (_("Visits done"), [(row["week"], row["visits_done"]) for row in table.rows]),
        ],
        title=_("Help requests and visits per week"),
        chart_id=f"{id_prefix}visits-chart",
        description=description,
        label=week_label,
    )
    return learning, visits


#: A bar of the unit comparison: its height and the gap to the next, and the room for names.
BAR_ROW = 24
NAME_WIDTH = 150


def bar_chart(
    bars: Sequence[tuple[str, float | None]],
    *,
    title: str,
    chart_id: str = "bars",
    description: str | None = None,
    percent: bool = True,
) -> Markup:
    """A horizontal bar chart of `bars` — [(name, value), …] in the order given — as SVG markup;
    values are shares (0..1, shown as percentages) or counts (`percent=False`); a missing value
    is drawn as "–" with no bar. Names longer than the room left for them are cut with "…"."""
    bars = list(bars)
    values = [value or 0 for _name, value in bars]
    top = max(values, default=0)
    if top <= 0:
        scale_top = 1
    elif percent:
        scale_top = math.ceil(top * 10) / 10  # up to the next ten percent
    else:
        scale_top = nice_ticks(top)[-1]
    plot_left, value_room = NAME_WIDTH + 8, 62
    plot_width = WIDTH - plot_left - value_room
    height = 8 + BAR_ROW * max(1, len(bars)) + 8

    def shown(value: float | None) -> str:
        if value is None:
            return "–"
        return format_decimal(value * 100, format="#,##0.0") + "%" if percent else _number(value)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" aria-describedby="{chart_id}-desc" '
        f'font-family="system-ui, sans-serif" font-size="{FONT - 1}" class="chart-svg">',
        f"<title>{escape(title)}</title>",
        f'<desc id="{chart_id}-desc">{escape(description or "")}</desc>',
        f'<line x1="{plot_left}" y1="4" x2="{plot_left}" y2="{height - 4}" stroke="#555"/>',
    ]
    colour = SERIES_STYLES[0][0]
    for index, (name, value) in enumerate(bars):
        y = 8 + BAR_ROW * index
        label = name if len(name) <= 20 else name[:19] + "…"
        parts.append(
            f'<text x="{NAME_WIDTH}" y="{y + BAR_ROW / 2 + 4.5:.1f}" text-anchor="end" fill="#1a1a1a">'
            f"{escape(label)}</text>"
        )
        width = plot_width * min(1, (value or 0) / scale_top)
        if value:
            parts.append(
                f'<rect x="{plot_left}" y="{y + 4}" width="{width:.1f}" height="{BAR_ROW - 8}" fill="{colour}"/>'
            )
        parts.append(
            f'<text x="{plot_left + width + 6:.1f}" y="{y + BAR_ROW / 2 + 4.5:.1f}" fill="#333">'
            f"{escape(shown(value))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 — every text inside was escaped above
