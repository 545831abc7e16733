"""Opportunity cost of taking a store's stock for an online order.

A unit shipped from a store's shelf is a unit a walk-in customer cannot buy before the next
replenishment. With walk-in demand D over the store's open days until then, and n units on the
shelf before we take one, the unit we take would have been sold iff D >= n, so the expected lost
margin of that marginal unit is

    margin x P(D >= n).

Until the walk-in forecasts land (forecasting issue), D is Poisson with mean = the store's
recent walk-in units a day (`Network.walkin_units_per_day`, from the last weeks of sales) x
open days in the replenishment horizon: the documented fallback. Given forecast quantiles
instead, `exceedance_from_quantiles` gives P(D >= n) from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
from scipy.special import pdtrc
from scipy.stats import poisson

from allocation.model import Network
from forecasting.calendar import open_days_between


def lost_margin_pln(margin_pln: float, on_shelf: int, mean_demand: float) -> float:
    """Expected walk-in margin lost by taking one unit from a shelf holding `on_shelf` units,
    walk-in demand ~ Poisson(`mean_demand`) until replenishment."""
    if on_shelf <= 0:
        return 0.0
    if mean_demand <= 0:
        return 0.0
    return margin_pln * float(poisson.sf(on_shelf - 1, mean_demand))


def lost_margins_pln(
    margin_pln: np.ndarray, on_shelf: np.ndarray, mean_demand: np.ndarray
) -> np.ndarray:
    """`lost_margin_pln` over arrays in one call (the hot path prices hundreds of store rows
    per order; a scalar Poisson call each costs tens of microseconds)."""
    shelf = np.asarray(on_shelf, dtype=float)
    mean = np.asarray(mean_demand, dtype=float)
    ok = (shelf > 0) & (mean > 0)
    p = np.where(ok, pdtrc(np.maximum(shelf - 1, 0), np.where(ok, mean, 1.0)), 0.0)
    return np.asarray(margin_pln, dtype=float) * p


def lost_margin_for_units_pln(
    margin_pln: float, on_shelf: int, units: int, mean_demand: float
) -> float:
    """Expected lost margin of taking `units` units one after another (each leaves the shelf
    emptier, so each costs more than the one before)."""
    return sum(
        lost_margin_pln(margin_pln, on_shelf - k, mean_demand) for k in range(min(units, on_shelf))
    )


def exceedance_from_quantiles(
    levels: Sequence[float], values: Sequence[float], units: float
) -> float:
    """P(D >= units) read off forecast quantiles (levels ascending, e.g. 0.1..0.9), linear
    between them and flat outside (the tails are not known)."""
    if units <= values[0]:
        return 1.0 - levels[0] if units > 0 else 1.0
    for (l0, v0), (l1, v1) in zip(
        zip(levels, values, strict=True), zip(levels[1:], values[1:], strict=True), strict=False
    ):
        if v0 <= units <= v1:
            cdf = l0 if v1 == v0 else l0 + (l1 - l0) * (units - v0) / (v1 - v0)
            return 1.0 - cdf
    return 1.0 - levels[-1]


def horizon_open_days(as_of: date, replenishment_days: int) -> int:
    """Open store days from tomorrow until the next replenishment arrives."""
    if replenishment_days <= 0:
        return 0
    start = as_of + timedelta(days=1)
    return len(open_days_between(start, as_of + timedelta(days=replenishment_days)))


def store_opportunity_cost_pln(
    network: Network, node_id: str, sku: str, on_shelf: int, as_of: date
) -> float:
    """Per-unit opportunity cost to put in `Availability` for a store (0 for a DC): the
    Poisson fallback over the store's replenishment horizon."""
    node = network.node(node_id)
    if node.kind != "store":
        return 0.0
    rate = network.walkin_units_per_day.get((node_id, sku), 0.0)
    days = horizon_open_days(as_of, node.replenishment_days)
    item = network.skus[sku]
    return round(lost_margin_pln(item.margin_pln, on_shelf, rate * days), 2)
