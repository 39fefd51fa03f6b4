"""Geometry of the reports' charts, drawn as inline SVG by templates/tickets/reports/.

Plain numbers in, coordinates out: the templates only place what is computed here, so a chart
needs no script, no web font and nothing from another host, and autoescaping covers every label.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Columns chart (per day): the drawing's own units; the SVG scales to the page's width.
WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 14, 44
MAX_X_LABELS = 10

# Horizontal bars (backlog).
BAR_ROW, BAR_LABEL_WIDTH, BAR_WIDTH = 30, 190, 720
LABEL_MAX_CHARS = 26


def nice_ceiling(value: float) -> int:
    """The smallest 1, 2 or 5 x 10^n at or above ``value`` (at least 1): a readable axis top."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return int(step * power)
    return int(10 * power)


@dataclass(frozen=True)
class Tick:
    value: int
    y: float


@dataclass(frozen=True)
class Column:
    x: float
    y: float
    width: float
    height: float
    value: int
    series: int
    title: str


@dataclass(frozen=True)
class XLabel:
    x: float
    text: str


def y_ticks(top: int, plot_top: float, plot_height: float) -> list[Tick]:
    """Four to six whole-number gridlines from 0 to ``top``."""
    step = max(1, nice_ceiling(top / 5))
    values = list(range(0, top + 1, step))
    if values[-1] != top:
        values.append(top)
    return [Tick(value=v, y=round(plot_top + plot_height * (1 - v / top), 1)) for v in values]


def columns_chart(*, labels: list[str], series: list[list[int]], series_names: list[str]) -> dict:
    """Grouped columns: one group per label (day), one column per series (created, solved)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = nice_ceiling(max((v for values in series for v in values), default=0))
    count = max(1, len(labels))
    group = plot_w / count
    gap = group * 0.2 if count > 1 else group * 0.4
    width = (group - gap) / max(1, len(series))
    columns = []
    for s, values in enumerate(series):
        for i, value in enumerate(values):
            height = plot_h * value / top
            columns.append(
                Column(
                    x=round(LEFT + i * group + gap / 2 + s * width, 2),
                    y=round(TOP + plot_h - height, 2),
                    width=round(max(width - 0.5, 0.8), 2),
                    height=round(height, 2),
                    value=value,
                    series=s,
                    title=f"{labels[i]}: {value} {series_names[s]}",
                )
            )
    every = max(1, math.ceil(count / MAX_X_LABELS))
    x_labels = [
        XLabel(x=round(LEFT + i * group + group / 2, 1), text=labels[i]) for i in range(0, count, every)
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "baseline": TOP + plot_h,
        "ticks": y_ticks(top, TOP, plot_h),
        "columns": columns,
        "x_labels": x_labels,
        "x_label_y": TOP + plot_h + 18,
        "axis_title_y": HEIGHT - 6,
        "center_x": LEFT + plot_w / 2,
    }


@dataclass(frozen=True)
class Bar:
    y: float
    text_y: float
    width: float
    label: str
    full_label: str
    value: int
    value_x: float


def _short(label: str) -> str:
    return label if len(label) <= LABEL_MAX_CHARS else label[: LABEL_MAX_CHARS - 1] + "…"


def bars_chart(rows: list[tuple[str, int]]) -> dict:
    """Horizontal bars, one per (label, value), longest scaled to the available width."""
    top = nice_ceiling(max((v for _, v in rows), default=0))
    span = BAR_WIDTH - BAR_LABEL_WIDTH - 60
    bars = []
    for i, (label, value) in enumerate(rows):
        width = span * value / top
        bars.append(
            Bar(
                y=i * BAR_ROW + 6,
                text_y=i * BAR_ROW + 21,
                width=round(max(width, 1 if value else 0), 2),
                label=_short(label),
                full_label=label,
                value=value,
                value_x=round(BAR_LABEL_WIDTH + width + 6, 2),
            )
        )
    return {
        "width": BAR_WIDTH,
        "height": max(1, len(rows)) * BAR_ROW + 8,
        "label_x": BAR_LABEL_WIDTH - 8,
        "bar_x": BAR_LABEL_WIDTH,
        "bars": bars,
    }
