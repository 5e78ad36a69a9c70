"""Charts as inline SVG, drawn on the server: no script, no chart library, nothing from elsewhere.

A :class:`Chart` holds the figures once (categories × series of whole numbers) and is drawn three
ways from them, so the three always agree: :func:`svg` (what the eye reads), :meth:`Chart.table`
(what a screen reader reads, shown under the chart) and :func:`csv_text` (what a download holds).

The SVG is an image with a title and a one-sentence description (``role="img"``), each bar or
point carries its own ``<title>`` (a tooltip, and the exact figure), and colours come with a
legend in words; it uses presentation attributes and classes only (the site's
Content-Security-Policy forbids inline styles). Text is escaped here: the markup returned is safe
to insert as it is.

Plain Python with no Django: the caller passes the labels in the reader's language and a function
that formats a value (a count, or fen as money).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Literal

Kind = Literal["columns", "bars", "line"]

# Okabe & Ito's palette: told apart with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")

WIDTH = 720
FONT = 12


@dataclass(frozen=True)
class Category:
    """One position on the category axis: ``label`` in the table and the CSV, ``axis`` the
    (short) lines written under the axis."""

    key: str
    label: str
    axis: tuple[str, ...] = ()

    @property
    def axis_lines(self) -> tuple[str, ...]:
        return self.axis or (self.label,)


@dataclass(frozen=True)
class Series:
    key: str
    label: str
    values: tuple[int, ...]


@dataclass(frozen=True)
class Chart:
    key: str  # used in element ids and the CSV's file name
    title: str
    description: str  # what the chart shows, one sentence, read out with the image
    category_header: str  # the heading of the table's first column
    categories: tuple[Category, ...]
    series: tuple[Series, ...]
    kind: Kind = "columns"
    stacked: bool = False
    fmt: Callable[[int], str] = str  # a value as the reader sees it (table, tooltips)
    plain: Callable[[int], str] = str  # a value in the CSV (no currency sign, no separators)
    total_label: str = ""  # with stacked series: a "total" column in the table and CSV
    empty: str = ""  # what to say when every value is zero

    def __post_init__(self) -> None:
        for s in self.series:
            if len(s.values) != len(self.categories):
                raise ValueError(f"series {s.key!r} has {len(s.values)} values")

    @property
    def has_data(self) -> bool:
        return any(v for s in self.series for v in s.values)

    def totals(self) -> list[int]:
        return [sum(s.values[i] for s in self.series) for i in range(len(self.categories))]

    def header(self) -> list[str]:
        cols = [self.category_header, *(s.label for s in self.series)]
        return [*cols, self.total_label] if self.total_label else cols

    def raw_rows(self) -> list[list[int]]:
        totals = self.totals()
        rows = []
        for i in range(len(self.categories)):
            row = [s.values[i] for s in self.series]
            rows.append([*row, totals[i]] if self.total_label else row)
        return rows

    def table(self) -> list[list[str]]:
        """The rows of the table under the chart: category label, then each value formatted."""
        return [
            [c.label, *(self.fmt(v) for v in row)]
            for c, row in zip(self.categories, self.raw_rows(), strict=True)
        ]


def csv_text(chart: Chart) -> str:
    """The table as CSV (UTF-8 text; the caller adds a byte-order mark for spreadsheets): the
    same header, the same rows in the same order, numbers without currency sign or separators."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_cell(h) for h in chart.header())
    for c, row in zip(chart.categories, chart.raw_rows(), strict=True):
        writer.writerow([_cell(c.label), *(chart.plain(v) for v in row)])
    return out.getvalue()


def _cell(text: str) -> str:
    """No cell starts a formula when the file is opened in a spreadsheet."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- scales ---------------------------------------------------------------------------------------


def nice_ticks(top: int, count: int = 4) -> list[int]:
    """Gridline values from 0 to at least ``top`` in steps of 1, 2 or 5 × 10ⁿ (whole numbers)."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(int(step), 1)
    last = math.ceil(top / step) * step
    return list(range(0, last + 1, step))


def _is_wide(ch: str) -> bool:
    return ord(ch) >= 0x2E80  # CJK and other full-width text: about twice a Latin letter


def text_width(text: str, size: int = FONT) -> float:
    return sum(size if _is_wide(ch) else size * 0.58 for ch in text)


def wrap(text: str, width: float, lines: int = 2, size: int = FONT) -> list[str]:
    """Break ``text`` into at most ``lines`` lines that fit ``width`` (at spaces where there are
    any, anywhere in Chinese), the last shortened with an ellipsis if it still does not fit."""
    out: list[str] = []
    current = ""
    tokens = text.split(" ") if " " in text else list(text)
    joiner = " " if " " in text else ""
    for token in tokens:
        trial = f"{current}{joiner}{token}" if current else token
        if text_width(trial, size) <= width or not current:
            current = trial
        else:
            out.append(current)
            current = token
    out.append(current)
    if len(out) > lines:
        out = [*out[: lines - 1], joiner.join(out[lines - 1 :])]
    last = out[-1]
    if text_width(last, size) > width:
        while last and text_width(last + "…", size) > width:
            last = last[:-1]
        out[-1] = last.rstrip() + "…"
    return out


# --- drawing --------------------------------------------------------------------------------------


def svg(chart: Chart) -> str:
    """The chart as an ``<svg>`` element (safe markup)."""
    if chart.kind == "bars":
        body, height = _bars(chart)
    else:
        body, height = _columns_or_line(chart)
    title_id, desc_id = f"chart-{chart.key}-title", f"chart-{chart.key}-desc"
    return (
        f'<svg class="chart-svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" role="img" aria-labelledby="{title_id} {desc_id}" '
        f'xmlns="http://www.w3.org/2000/svg" data-chart="{escape(chart.key)}">'
        f'<title id="{title_id}">{escape(chart.title)}</title>'
        f'<desc id="{desc_id}">{escape(chart.description)}</desc>'
        f"{body}{_legend(chart, height)}</svg>"
    )


LEGEND_H = 28


def _legend(chart: Chart, height: int) -> str:
    if len(chart.series) < 2:
        return ""
    x, y = 8.0, height - LEGEND_H + 10
    parts = ['<g class="chart-legend">']
    for i, s in enumerate(chart.series):
        colour = PALETTE[i % len(PALETTE)]
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 17:.1f}" y="{y + 10:.1f}">{escape(s.label)}</text>'
        )
        x += 17 + text_width(s.label) + 24
    parts.append("</g>")
    return "".join(parts)


def _tip(chart: Chart, category: Category, series: Series, value: int) -> str:
    name = f"{category.label} · {series.label}" if len(chart.series) > 1 else category.label
    return f"<title>{escape(name)}: {escape(chart.fmt(value))}</title>"


def _columns_or_line(chart: Chart) -> tuple[str, int]:
    """Categories along the bottom (months, weeks): columns, stacked or side by side, or a line."""
    axis_lines = max((len(c.axis_lines) for c in chart.categories), default=1)
    legend = LEGEND_H if len(chart.series) > 1 else 0
    plot_h = 220
    top = 12
    bottom = top + plot_h
    height = bottom + 8 + axis_lines * (FONT + 3) + 8 + legend
    if chart.stacked:
        peak = max(chart.totals(), default=0)
    else:
        peak = max((v for s in chart.series for v in s.values), default=0)
    ticks = nice_ticks(peak)
    label_w = max(text_width(chart.fmt(t)) for t in ticks) + 10
    left, right = label_w + 4, WIDTH - 8
    plot_w = right - left
    n = max(len(chart.categories), 1)
    slot = plot_w / n

    def y_of(value: float) -> float:
        return bottom - value / ticks[-1] * plot_h

    parts = ['<g class="chart-grid">']
    for t in ticks:
        y = y_of(t)
        parts.append(
            f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="chart-tick" x="{left - 6:.1f}" y="{y + 4:.1f}" '
            f'text-anchor="end">{escape(chart.fmt(t))}</text>'
        )
    parts.append("</g>")
    # The category labels: thinned out when they would collide.
    every = 1
    widest = max((text_width(line) for c in chart.categories for line in c.axis_lines), default=0)
    while widest + 6 > slot * every:
        every += 1
    parts.append('<g class="chart-axis">')
    for i, c in enumerate(chart.categories):
        if i % every:
            continue
        x = left + slot * (i + 0.5)
        for j, line in enumerate(c.axis_lines):
            y = bottom + 8 + (j + 1) * (FONT + 3) - 3
            parts.append(
                f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle">{escape(line)}</text>'
            )
    parts.append(
        f'<line class="chart-baseline" x1="{left:.1f}" x2="{right:.1f}" '
        f'y1="{bottom:.1f}" y2="{bottom:.1f}"/></g>'
    )
    if chart.kind == "line":
        parts.append(_line_marks(chart, left, slot, y_of))
    else:
        parts.append(_column_marks(chart, left, slot, y_of))
    return "".join(parts), math.ceil(height)


def _column_marks(chart: Chart, left: float, slot: float, y_of: Callable[[float], float]) -> str:
    parts = ['<g class="chart-marks">']
    groups = 1 if chart.stacked else len(chart.series)
    bar_w = min(slot * 0.7 / max(groups, 1), 48)
    for i, c in enumerate(chart.categories):
        centre = left + slot * (i + 0.5)
        base = 0
        for k, s in enumerate(chart.series):
            value = s.values[i]
            colour = PALETTE[k % len(PALETTE)]
            if chart.stacked:
                x = centre - bar_w / 2
                y0, y1 = y_of(base), y_of(base + value)
                base += value
            else:
                x = centre - bar_w * groups / 2 + bar_w * k
                y0, y1 = y_of(0), y_of(value)
            if value <= 0:
                continue
            parts.append(
                f'<rect x="{x:.1f}" y="{y1:.1f}" width="{bar_w:.1f}" height="{y0 - y1:.1f}" '
                f'fill="{colour}">{_tip(chart, c, s, value)}</rect>'
            )
    parts.append("</g>")
    return "".join(parts)


def _line_marks(chart: Chart, left: float, slot: float, y_of: Callable[[float], float]) -> str:
    parts = ['<g class="chart-marks">']
    for k, s in enumerate(chart.series):
        colour = PALETTE[k % len(PALETTE)]
        points = [(left + slot * (i + 0.5), y_of(v)) for i, v in enumerate(s.values)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
        )
        for (x, y), c, v in zip(points, chart.categories, s.values, strict=True):
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}">'
                f"{_tip(chart, c, s, v)}</circle>"
            )
    parts.append("</g>")
    return "".join(parts)


def _bars(chart: Chart) -> tuple[str, int]:
    """Categories down the side (rules, regions: long names), bars across, stacked by series."""
    row_h = 2 * (FONT + 3) + 10
    top = 8
    n = len(chart.categories)
    legend = LEGEND_H if len(chart.series) > 1 else 0
    plot_h = max(n, 1) * row_h
    bottom = top + plot_h
    height = bottom + FONT + 14 + legend
    label_w = 230
    left, right = label_w + 8, WIDTH - 16
    plot_w = right - left
    peak = max(chart.totals(), default=0) if chart.stacked else 0
    if not chart.stacked:
        peak = max((v for s in chart.series for v in s.values), default=0)
    ticks = nice_ticks(peak)

    def x_of(value: float) -> float:
        return left + value / ticks[-1] * plot_w

    parts = ['<g class="chart-grid">']
    for t in ticks:
        x = x_of(t)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top:.1f}" y2="{bottom:.1f}"/>'
            f'<text class="chart-tick" x="{x:.1f}" y="{bottom + FONT + 4:.1f}" '
            f'text-anchor="middle">{escape(chart.fmt(t))}</text>'
        )
    parts.append('</g><g class="chart-axis">')
    for i, c in enumerate(chart.categories):
        lines = wrap(c.label, label_w - 4)
        mid = top + row_h * (i + 0.5)
        first = mid - (len(lines) - 1) * (FONT + 3) / 2 + 4
        for j, line in enumerate(lines):
            parts.append(
                f'<text x="{label_w:.1f}" y="{first + j * (FONT + 3):.1f}" '
                f'text-anchor="end">{escape(line)}</text>'
            )
    parts.append(
        f'<line class="chart-baseline" x1="{left:.1f}" x2="{left:.1f}" '
        f'y1="{top:.1f}" y2="{bottom:.1f}"/></g><g class="chart-marks">'
    )
    bar_h = row_h * 0.6
    groups = 1 if chart.stacked else len(chart.series)
    for i, c in enumerate(chart.categories):
        y_top = top + row_h * (i + 0.5) - bar_h / 2
        base = 0
        for k, s in enumerate(chart.series):
            value = s.values[i]
            colour = PALETTE[k % len(PALETTE)]
            h = bar_h / groups
            if chart.stacked:
                x0, x1, y = x_of(base), x_of(base + value), y_top
                base += value
            else:
                x0, x1, y = x_of(0), x_of(value), y_top + h * k
            if value <= 0:
                continue
            parts.append(
                f'<rect x="{x0:.1f}" y="{y:.1f}" width="{x1 - x0:.1f}" height="{h:.1f}" '
                f'fill="{colour}">{_tip(chart, c, s, value)}</rect>'
            )
    parts.append("</g>")
    return "".join(parts), math.ceil(height)
