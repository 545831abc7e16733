"""Which recent days' sales have fully arrived: the default last day of a forecast batch.

Sales come in per store and channel (POS uploads, the e-shop's feed), often a day or two late
for some stores. The batch reads a day without a row as no demand, so a half-arrived last day
would pull every missing store's forecast down, unnoticed. A day counts as arrived when, in
each channel, at least `share` of the stores that usually report did; the usual number is the
median over the four weeks before the days checked (for walk-in sales, over open days only:
on a non-trading Sunday no store reports walk-in sales, and that is not a gap).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median

import pandas as pd
from sqlalchemy import Connection, func, select

from api.db.tables import Sale
from forecasting.calendar import Country, is_store_open

HELD_BACK_DAYS = 7  # at most this many of the last days with sales may still be arriving
USUAL_DAYS = 28  # the days before them that set the usual number of reporting stores
ARRIVED_SHARE = 0.9


@dataclass(frozen=True)
class ShortDay:
    """A recent day on which fewer stores than usual reported a channel's sales."""

    day: date
    channel: str
    stores: int
    usual: float


@dataclass(frozen=True)
class ArrivedSales:
    """`through`: the last day whose sales have arrived in every channel (the batch's default
    as-of); `last_sale`: the last day with any sales; `short`: the days after `through` that
    look incomplete, and why."""

    through: date
    last_sale: date
    short: tuple[ShortDay, ...]

    def describe(self) -> str:
        """One line for a planner: which days are held back, with the stores that reported
        each short channel against the usual number."""
        per_day: dict[date, list[str]] = {}
        for s in sorted(self.short, key=lambda s: (s.day, s.channel)):
            per_day.setdefault(s.day, []).append(f"{s.channel} {s.stores}/{s.usual:.0f}")
        shown = ", ".join(f"{day} ({', '.join(parts)})" for day, parts in per_day.items())
        return (f"sales after {self.through} look incomplete (stores reporting / usually): "
                f"{shown}; they are left out")


def arrived_sales(conn: Connection, last_sale: date, country: Country = "PL") -> ArrivedSales:
    """`arrived_through` on the stores that reported in the days before `last_sale` (the last
    day with any sales): what the batch and the accuracy take as their default last day."""
    return arrived_through(stores_reporting(conn, last_sale), last_sale, country)


def stores_reporting(conn: Connection, last_sale: date) -> dict[tuple[date, str], int]:
    """(day, channel) -> how many nodes recorded any sale, over the checked days and the usual
    days before them."""
    first = last_sale - timedelta(days=HELD_BACK_DAYS + USUAL_DAYS)
    rows = conn.execute(
        select(Sale.date, Sale.channel, func.count(Sale.node_id.distinct()))
        .where(Sale.date >= first, Sale.date <= last_sale)
        .group_by(Sale.date, Sale.channel)).all()
    return {(pd.Timestamp(day).date(), str(channel)): int(n) for day, channel, n in rows}


def arrived_through(
    counts: Mapping[tuple[date, str], int], last_sale: date, country: Country = "PL",
    share: float = ARRIVED_SHARE,
) -> ArrivedSales:
    """The last of the checked days from which back every day's sales look arrived (see the
    module docstring); with no usual days to compare against, `last_sale` itself."""
    checked = [last_sale - timedelta(days=k) for k in range(HELD_BACK_DAYS + 1)]
    usual_days = [checked[-1] - timedelta(days=k) for k in range(1, USUAL_DAYS + 1)]
    short: list[ShortDay] = []
    for day in checked:  # newest first: stop at the first day that has arrived
        day_short = []
        for channel in sorted({c for _, c in counts}):
            if channel == "store" and not is_store_open(day, country):
                continue
            usual = _usual(counts, usual_days, channel, country)
            stores = counts.get((day, channel), 0)
            if usual is not None and stores < share * usual:
                day_short.append(ShortDay(day, channel, stores, usual))
        if not day_short:
            return ArrivedSales(day, last_sale, tuple(short))
        short.extend(day_short)
    return ArrivedSales(last_sale, last_sale, ())  # over a week short: a change, not a feed late


def _usual(counts: Mapping[tuple[date, str], int], days: list[date], channel: str,
           country: Country) -> float | None:
    values = [counts.get((d, channel), 0) for d in days
              if channel != "store" or is_store_open(d, country)]
    values = [v for v in values if v > 0]
    return float(median(values)) if values else None
