"""SVG charts of reports, drawn with matplotlib's object API.

matplotlib is imported on the first chart only: it is slow to import and
most processes never draw.  The object API (``Figure``, no pyplot) keeps
figures independent, so Waitress threads can draw at the same time.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from datetime import date, datetime
from itertools import pairwise
from typing import Any

from .models import Chart

MAX_TICK_LABELS = 16
_setup_lock = threading.Lock()
_ready = False


def _matplotlib() -> Any:
    global _ready
    import matplotlib as mpl

    with _setup_lock:
        if not _ready:
            # Agg: no display, no GUI toolkit; text stays text in the SVG
            # (smaller, selectable) and the output is reproducible.
            mpl.use("Agg")
            mpl.rcParams["svg.fonttype"] = "none"
            mpl.rcParams["svg.hashsalt"] = "plinth"
            _ready = True
    return mpl


def label(value: Any) -> str:
    if isinstance(value, datetime):
        return (
            value.strftime("%Y-%m-%d %H:%M")
            if (value.hour or value.minute)
            else value.date().isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


_drawable: frozenset[int] | None = None


def drawable() -> frozenset[int]:
    """The code points the default font has a glyph for (read once)."""
    global _drawable
    if _drawable is None:
        from matplotlib import font_manager, ft2font

        font = ft2font.FT2Font(font_manager.findfont(font_manager.FontProperties()))
        _drawable = frozenset(font.get_charmap())
    return _drawable


def printable(text: str, limit: int = 160) -> str:
    """``text`` with what the font cannot draw replaced by '?', and cut short.

    Parameters come from the query string: a character without a glyph would
    draw as a box and log a warning on every request.
    """
    glyphs = drawable()
    cleaned = "".join(c if c.isprintable() and ord(c) in glyphs else "?" for c in text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "..."


def _pretty(name: str) -> str:
    return name.replace("_", " ")


def _is_time(values: Sequence[Any]) -> bool:
    return bool(values) and all(isinstance(v, date) for v in values)


def _as_datetime(value: date) -> datetime:
    # A calendar day on the chart's axis: no time zone to speak of.
    return (
        value
        if isinstance(value, datetime)
        else datetime(  # noqa: DTZ001
            value.year, value.month, value.day
        )
    )


PERIOD_DAYS = {"day": 1.0, "week": 7.0, "month": 30.4}


def period_label(start: date, period: str | None) -> str:
    """How a period starting at ``start`` is named on the x axis."""
    if period == "month":
        return start.strftime("%Y-%m")
    if period == "week":
        return "week of " + start.strftime("%Y-%m-%d")
    return start.strftime("%Y-%m-%d")


def render_svg(
    chart: Chart,
    title: str,
    subtitle: str,
    points: Sequence[tuple[Any, Sequence[float]]],
    period: str | None = None,
) -> bytes:
    """``points`` ([(x, [y, ...])]) drawn as ``chart`` says, as SVG bytes.

    Dates and times go on a time axis, so that a period without data shows as
    a gap rather than vanishing; anything else is a category.  ``period``
    (day, week, month) is the time each x value starts: bars then cover it.
    """
    _matplotlib()
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    count = len(points)
    xs = [x for x, _ in points]
    on_time_axis = _is_time(xs)
    width = 10.0 if on_time_axis else min(16.0, max(7.0, 0.35 * count * len(chart.y) + 2.5))
    figure = Figure(figsize=(width, 4.8), layout="constrained")
    axes = figure.add_subplot()
    # parse_math=False everywhere: parameters and data are shown as written;
    # a '$' in a SKU must not reach matplotlib's TeX parser.
    plain: dict[str, Any] = {"parse_math": False}
    figure.suptitle(chart.title or title, fontsize=13, **plain)
    if subtitle:
        axes.set_title(printable(subtitle), fontsize=9, color="#555555", **plain)
    axes.set_xlabel(chart.x_label or _pretty(chart.x), **plain)
    axes.set_ylabel(chart.y_label or ", ".join(_pretty(y) for y in chart.y), **plain)
    if on_time_axis:
        positions = [float(date2num(_as_datetime(x))) for x in xs]
        gaps = [b - a for a, b in pairwise(positions) if b > a]
        # Bars as long as the period, or as the closest two points allow.
        span = PERIOD_DAYS[period] if period in PERIOD_DAYS else min(gaps, default=1.0)
        if period in PERIOD_DAYS and chart.kind == "bar":
            # x is the start of a period: centre each group of bars on it.
            positions = [p + span / 2 for p in positions]
    else:
        positions = [float(p) for p in range(count)]
        span = 1.0
    series = [[ys[n] for _, ys in points] for n in range(len(chart.y))]
    if chart.kind == "bar":
        slot = 0.8 * span / max(1, len(series))
        for n, (name, values) in enumerate(zip(chart.y, series, strict=True)):
            offset = (n - (len(series) - 1) / 2) * slot
            axes.bar([p + offset for p in positions], values, width=slot, label=_pretty(name))
    else:
        for name, values in zip(chart.y, series, strict=True):
            axes.plot(
                positions,
                values,
                marker="o" if count <= 60 else None,
                markersize=3,
                label=_pretty(name),
            )
    if on_time_axis and period in PERIOD_DAYS and 0 < count <= MAX_TICK_LABELS:
        # Few periods: one tick per period, named as the report names it, and
        # half a period of room on each side (one day must not read as hours).
        axes.set_xticks(positions, [period_label(x, period) for x in xs], **plain)
        axes.set_xlim(min(positions) - span, max(positions) + span)
    elif on_time_axis:
        locator = AutoDateLocator(maxticks=MAX_TICK_LABELS)
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    elif count:
        # At most MAX_TICK_LABELS labels, evenly spaced, so that they stay readable.
        labels = [label(x) for x in xs]
        shown = list(range(0, count, max(1, -(-count // MAX_TICK_LABELS))))
        slanted = any(len(labels[p]) > 6 for p in shown)
        axes.set_xticks(
            [positions[p] for p in shown],
            [printable(labels[p]) for p in shown],
            rotation=45 if slanted else 0,
            ha="right" if slanted else "center",
            **plain,
        )
    axes.yaxis.set_major_locator(MaxNLocator(nbins=8))
    axes.yaxis.set_major_formatter(FuncFormatter(_number))
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    if count == 0:
        axes.text(
            0.5,
            0.5,
            "no data for these parameters",
            ha="center",
            va="center",
            transform=axes.transAxes,
            color="#777777",
        )
        axes.set_xticks([])
    if len(chart.y) > 1 and count:
        for text in axes.legend(frameon=False).get_texts():
            text.set_parse_math(False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _number(value: float, _position: Any = None) -> str:
    """Tick labels: thousands separated, decimals only where they say something."""
    if value == int(value) or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.2f}"
