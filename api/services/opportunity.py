"""The opportunity cost of taking a store's units for an online order, per unit, in PLN.

The rule is the core's (`allocation.opportunity`): margin × P(D ≥ n), walk-in demand D until the
next replenishment ~ Poisson(walk-in units a day × open days in the horizon), n the units on the
shelf. Here it is evaluated for all the order's candidate rows in ONE vectorised call of the
Poisson survival function: a scalar call per row costs tens of microseconds, times hundreds of
store rows per order, which the hot path cannot afford. Open days per horizon are cached.

During a planned peak the cost is the larger of that rule and the rebalancing plan's shadow
price of the unit (`ShadowPrices`, written by `omni plan rebalance`). The Poisson rule looks only
until the next replenishment; the shadow price is the look-ahead value of the unit over the whole
peak, from the plan that positioned the stock for it. Charging it keeps the allocator from
spending, for one online order, store units the plan moved there for the peak's walk-in
customers (Acimovic & Graves, 2015: the look-ahead term closes about a third of the gap to a
clairvoyant policy). The max, not a sum: both value the same unit's lost walk-in sale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
from scipy.special import pdtrc

from allocation.model import Network
from forecasting.calendar import open_days_between

PriceWindow = tuple[date, date, float]


@dataclass(frozen=True)
class ShadowPrices:
    """Per (node_id, sku): (valid_from, valid_to, PLN) of the newest plan of each peak.

    `version` names the newest rebalancing run they were read after (None: none yet), so a cache
    can tell cheaply whether a newer plan has been written."""

    windows: Mapping[tuple[str, str], tuple[PriceWindow, ...]] = field(default_factory=dict)
    version: str | None = None

    def at(self, node_id: str, sku: str, day: date) -> float:
        """The shadow price of a unit of `sku` at `node_id` on `day` (0 outside every peak)."""
        best = 0.0
        for start, end, price in self.windows.get((node_id, sku), ()):
            if start <= day <= end and price > best:
                best = price
        return best


NO_SHADOW_PRICES = ShadowPrices()


@lru_cache(maxsize=256)
def horizon_open_days(as_of: date, replenishment_days: int) -> int:
    """Open store days from tomorrow until the next replenishment arrives."""
    if replenishment_days <= 0:
        return 0
    start = as_of + timedelta(days=1)
    return len(open_days_between(start, as_of + timedelta(days=replenishment_days)))


def opportunity_costs_pln(
    network: Network,
    rows: Sequence[tuple[str, str, int]],
    as_of: date,
    shadow: ShadowPrices = NO_SHADOW_PRICES,
) -> list[float]:
    """Per-unit opportunity cost for each (node_id, sku, units on the shelf) row: 0 for DCs and
    rows without walk-in demand (`Network.walkin_units_per_day`, read at start-up); during a
    planned peak at least the plan's shadow price of a store unit."""
    costs = [0.0] * len(rows)
    picked: list[int] = []
    margins: list[float] = []
    shelves: list[int] = []
    means: list[float] = []
    walkin = network.walkin_units_per_day
    for k, (node_id, sku_id, on_shelf) in enumerate(rows):
        node = network.by_id.get(node_id)
        sku = network.skus.get(sku_id)
        rate = walkin.get((node_id, sku_id), 0.0)
        if node is None or sku is None or node.kind != "store" or on_shelf <= 0 or rate <= 0:
            continue
        picked.append(k)
        margins.append(sku.margin_pln)
        shelves.append(on_shelf)
        means.append(rate * horizon_open_days(as_of, node.replenishment_days))
    if picked:
        # P(D >= n) = P(D > n - 1): the Poisson survival function (pdtrc), n >= 1 here.
        lost = np.asarray(margins) * pdtrc(np.asarray(shelves) - 1, np.asarray(means))
        for k, value in zip(picked, np.round(lost, 2).tolist(), strict=True):
            costs[k] = float(value)
    if shadow.windows:
        for k, (node_id, sku_id, on_shelf) in enumerate(rows):
            node = network.by_id.get(node_id)
            if node is not None and node.kind == "store" and on_shelf > 0:
                costs[k] = max(costs[k], shadow.at(node_id, sku_id, as_of))
    return costs
