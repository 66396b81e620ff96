"""Bar charts for the statistics page, laid out on the server and drawn by the template as
inline SVG: no chart library, no JavaScript. A chart is numbers only; every chart is shown
with a table of the same numbers for screen readers and for reading exact values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import msgspec

WIDTH = 720
HEIGHT = 260
_LEFT = 48  # room for the value axis labels
_BOTTOM = 36  # room for the category labels
_TOP = 16
_TICKS = 4


class Bar(msgspec.Struct, frozen=True):
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str  # above the bar
    labelled: bool  # every n-th bar only, so that the labels under them never overlap


class Tick(msgspec.Struct, frozen=True):
    y: float
    label: str


class Chart(msgspec.Struct, frozen=True, kw_only=True):
    width: int = WIDTH
    height: int = HEIGHT
    left: int = _LEFT
    baseline: float
    bars: list[Bar]
    ticks: list[Tick]


def _nice_top(largest: float) -> float:
    """A round value axis end at or above ``largest``: 1, 2 or 5 times a power of ten."""
    if largest <= 0:
        return 1
    power = 10 ** math.floor(math.log10(largest))
    return float(next(step * power for step in (1, 2, 5, 10) if step * power >= largest))


def _number(value: float) -> str:
    return f"{value:g}"


def bar_chart(points: Sequence[tuple[str, float | None]], *, percent: bool = False) -> Chart:
    """One bar per (label, value); None draws no bar (no data), unlike 0."""
    values = [v for _, v in points if v is not None]
    top = _nice_top(max(values, default=0))
    if not percent:
        top = max(top, _TICKS)  # counts and minutes: whole numbers on the axis
    plot_height = HEIGHT - _TOP - _BOTTOM
    baseline = HEIGHT - _BOTTOM
    slot = (WIDTH - _LEFT) / max(1, len(points))
    width = max(2.0, slot * 0.7)
    # About 60 px per label.
    every = max(1, math.ceil(len(points) / ((WIDTH - _LEFT) / 60)))
    bars = []
    for index, (label, value) in enumerate(points):
        if value is None:
            continue
        height = plot_height * value / top
        text = f"{value * 100:g} %" if percent else _number(value)
        x = _LEFT + index * slot + (slot - width) / 2
        bars.append(Bar(round(x, 1), round(baseline - height, 1), round(width, 1),
                        round(height, 1), label, text, index % every == 0))  # fmt: skip
    ticks = [
        Tick(
            round(baseline - plot_height * step / _TICKS, 1),
            f"{top * step / _TICKS * 100:g} %" if percent else _number(top * step / _TICKS),
        )
        for step in range(_TICKS + 1)
    ]
    return Chart(baseline=baseline, bars=bars, ticks=ticks)
