"""Bar charts laid out for inline SVG: every bar carries its value, every axis whole steps.

Two shapes: ``column_chart`` (vertical bars, short labels under them: the
score histogram) and ``row_chart`` (horizontal bars, labels on the left:
one bar per exercise, readable however many exercises there are). The
templates (``charts.html.j2``) only draw what is computed here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

CHAR_WIDTH = 6.6  # px per character of the charts' 11 px font, generously


@dataclass
class Bar:
    label: str
    value: float
    text: str  # the value as shown beside the bar, "0" included
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0


@dataclass
class Chart:
    title: str
    bars: list[Bar]
    horizontal: bool = False
    width: int = 520
    height: int = 220
    top: int = 24
    bottom: int = 36
    left: int = 40
    right: int = 12
    y_max: float = 1.0
    y_label: str = ""
    ticks: list[tuple[float, str]] = field(default_factory=list)  # (position in px, label)

    @property
    def plot_height(self) -> float:
        return self.height - self.top - self.bottom

    @property
    def plot_width(self) -> float:
        return self.width - self.left - self.right


def _steps(top: float, whole: bool) -> tuple[float, list[float]]:
    """An axis maximum and its tick values: whole numbers when counting (no half learners)."""
    if not whole:
        top = top or 1.0
        return top, [top * k / 4 for k in range(5)]
    top = max(int(math.ceil(top)), 1)
    step = max(1, math.ceil(top / 4))
    maximum = step * math.ceil(top / step)
    return float(maximum), [float(v) for v in range(0, maximum + 1, step)]


def _tick(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def column_chart(title: str, labelled: list[tuple[str, float, str]], *, y_max: float | None = None,
                 y_label: str = "", counts: bool = False, width: int = 520) -> Chart:
    """Vertical bars; ``counts`` puts the axis on whole numbers."""
    chart = Chart(title, [Bar(label, value, text) for label, value, text in labelled], width=width, y_label=y_label)
    chart.y_max, values = _steps(y_max or max([b.value for b in chart.bars] + [0.0]), counts and not y_max)
    slot = chart.plot_width / max(len(chart.bars), 1)
    for i, bar in enumerate(chart.bars):
        bar.width = slot * 0.78
        bar.x = chart.left + i * slot + slot * 0.11
        bar.height = chart.plot_height * (bar.value / chart.y_max if chart.y_max else 0)
        bar.y = chart.top + chart.plot_height - bar.height
    chart.ticks = [(chart.top + chart.plot_height * (1 - v / chart.y_max), _tick(v)) for v in values]
    return chart


def row_chart(title: str, labelled: list[tuple[str, float, str]], *, x_max: float, x_label: str = "",
              width: int = 520, row: int = 22) -> Chart:
    """Horizontal bars, one row each, their labels on the left (as wide as the longest label)."""
    bars = [Bar(label, value, text) for label, value, text in labelled]
    left = int(min(max([len(b.label) for b in bars] + [4]), 32) * CHAR_WIDTH) + 10
    chart = Chart(title, bars, horizontal=True, width=width, top=10, bottom=30, left=left, right=44,
                  y_label=x_label)
    chart.height = chart.top + chart.bottom + row * max(len(bars), 1)
    chart.y_max, values = _steps(x_max, False)
    for i, bar in enumerate(bars):
        bar.height = row * 0.7
        bar.y = chart.top + i * row + row * 0.15
        bar.x = chart.left
        bar.width = chart.plot_width * (bar.value / chart.y_max if chart.y_max else 0)
    chart.ticks = [(chart.left + chart.plot_width * v / chart.y_max, _tick(v)) for v in values]
    return chart
