"""SVG geometry for the history-and-forecast chart: the server lays out the shapes, the template
only draws them (no chart library, nothing fetched by the browser)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from api.console.queries import SeriesData
from forecasting.accuracy import SCORED_DAYS
from forecasting.calendar import is_store_open

WIDTH, HEIGHT = 960.0, 320.0
LEFT, RIGHT, TOP, BOTTOM = 44.0, 12.0, 14.0, 26.0


@dataclass(frozen=True)
class Band:
    x: float
    width: float
    label: str
    row: int = 0


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class SeriesChart:
    width: float
    height: float
    plot_top: float
    plot_bottom: float
    history: str
    median: str
    mean: str
    band_q95: str
    band_q99: str
    closed_days: tuple[Band, ...]
    sold_out: tuple[Band, ...]  # marks under the axis: the forecast fitted estimates there
    peaks: tuple[Band, ...]
    today_x: float
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    step = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * step >= value:
            return factor * step
    return 10 * step


def series_chart(data: SeriesData) -> SeriesChart:
    """History as a line, the forecast median with its q50-q95 and q95-q99 bands, closed days
    and peak windows shaded behind, sold-out days marked: there the line shows what the shelf
    held, while the forecast learnt an estimate of demand, so a forecast above recent sales
    can be read at a glance."""
    days = (data.end - data.start).days + 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    day_w = plot_w / days
    top_value = max(
        [u for _, u in data.history]
        + [p.q99 or p.q95 or p.yhat for p in data.forecast]
        + [1.0]
    )
    y_max = _nice_max(float(top_value))

    def x(d: date) -> float:
        return round(LEFT + ((d - data.start).days + 0.5) * day_w, 1)

    def y(v: float | None) -> float:
        return round(TOP + plot_h - (v or 0.0) / y_max * plot_h, 1)

    def points(pairs: Sequence[tuple[date, float | None]]) -> str:
        return " ".join(f"{x(d)},{y(v)}" for d, v in pairs)

    fc = list(data.forecast)
    median = [(p.ds, p.q50 if p.q50 is not None else p.yhat) for p in fc]
    q95 = [(p.ds, p.q95) for p in fc]
    q99 = [(p.ds, p.q99 if p.q99 is not None else p.q95) for p in fc]
    all_days = [data.start + timedelta(days=k) for k in range(days)]
    closed = tuple(
        Band(round(x(d) - day_w / 2, 1), round(day_w, 2), d.isoformat())
        for d in all_days if not is_store_open(d)
    )
    peaks = tuple(
        Band(
            round(x(max(w.start, data.start)) - day_w / 2, 1),
            round(((min(w.end, data.end) - max(w.start, data.start)).days + 1) * day_w, 1),
            w.name.replace("_", " "),
            k % 2,
        )
        for k, w in enumerate(data.peaks)
    )
    as_of = data.history[-1][0] if data.history else data.start
    return SeriesChart(
        width=WIDTH,
        height=HEIGHT,
        plot_top=TOP,
        plot_bottom=TOP + plot_h,
        history=points([(d, float(u)) for d, u in data.history]),
        median=points(median),
        mean=points([(p.ds, p.yhat) for p in fc]),
        band_q95=points(median + q95[::-1]) if fc else "",
        band_q99=points(q95 + q99[::-1]) if fc else "",
        closed_days=closed,
        sold_out=tuple(Band(round(x(d) - day_w / 2, 1), round(day_w, 2), d.isoformat())
                       for d in data.sold_out if data.start <= d <= data.end),
        peaks=peaks,
        today_x=round(x(as_of) + day_w / 2, 1),
        x_ticks=tuple(Tick(x(d), d.strftime("%d %b")) for d in all_days if d.day in (1, 15)),
        y_ticks=tuple(Tick(y(y_max * k / 4), f"{y_max * k / 4:g}") for k in range(5)),
    )


@dataclass(frozen=True)
class ChannelPanel:
    """One channel's daily units, sold (a line) against the forecast (a line), in its own
    panel of the accuracy chart."""

    label: str
    top: float
    bottom: float
    sold: str
    forecast: str
    y_ticks: tuple[Tick, ...]


@dataclass(frozen=True)
class AccuracyChart:
    width: float
    height: float
    panels: tuple[ChannelPanel, ...]
    x_ticks: tuple[Tick, ...]


PANEL_HEIGHT, PANEL_GAP = 150.0, 30.0


def accuracy_chart(days: Sequence[tuple[date, str, float, float]]) -> AccuracyChart:
    """Panels per channel of (day, channel, units sold, units forecast) over the scored days:
    where the lines part, the forecast drifted from the chain."""
    first, last = min(d for d, *_ in days), max(d for d, *_ in days)
    span = (last - first).days + 1
    plot_w = WIDTH - LEFT - RIGHT
    day_w = plot_w / span

    def x(d: date) -> float:
        return round(LEFT + ((d - first).days + 0.5) * day_w, 1)

    panels: list[ChannelPanel] = []
    for channel in [c for c in SCORED_DAYS if any(ch == c for _, ch, *_ in days)]:
        rows = sorted((d, sold, fc) for d, ch, sold, fc in days if ch == channel)
        top = TOP + len(panels) * (PANEL_HEIGHT + PANEL_GAP) + 14
        y_max = _nice_max(max(max(sold, fc) for _, sold, fc in rows))

        def y(value: float, top: float = top, y_max: float = y_max) -> float:
            return round(top + PANEL_HEIGHT - value / y_max * PANEL_HEIGHT, 1)

        panels.append(ChannelPanel(
            SCORED_DAYS[channel], top, top + PANEL_HEIGHT,
            " ".join(f"{x(d)},{y(sold)}" for d, sold, _ in rows),
            " ".join(f"{x(d)},{y(fc)}" for d, _, fc in rows),
            tuple(Tick(y(y_max * k / 2), f"{y_max * k / 2:g}") for k in range(3))))
    height = TOP + len(panels) * (PANEL_HEIGHT + PANEL_GAP) + BOTTOM
    all_days = [first + timedelta(days=k) for k in range(span)]
    return AccuracyChart(WIDTH, height, tuple(panels),
                         tuple(Tick(x(d), d.strftime("%d %b")) for d in all_days
                               if d.weekday() == 0))
