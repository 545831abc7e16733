"""The opportunity cost of taking a store's units for an online order, per unit, in PLN.

The rule is the core's (`allocation.opportunity`): margin × P(D ≥ n), walk-in demand D until the
next replenishment ~ Poisson(walk-in units a day × open days in the horizon), n the units on the
shelf. Here it is evaluated for all the order's candidate rows in ONE vectorised call of the
Poisson survival function: a scalar call per row costs tens of microseconds, times hundreds of
store rows per order, which the hot path cannot afford. Open days per horizon are cached.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
from scipy.special import pdtrc

from allocation.model import Network
from forecasting.calendar import open_days_between


@lru_cache(maxsize=256)
def horizon_open_days(as_of: date, replenishment_days: int) -> int:
    """Open store days from tomorrow until the next replenishment arrives."""
    if replenishment_days <= 0:
        return 0
    start = as_of + timedelta(days=1)
    return len(open_days_between(start, as_of + timedelta(days=replenishment_days)))


def opportunity_costs_pln(
    network: Network, rows: Sequence[tuple[str, str, int]], as_of: date
) -> list[float]:
    """Per-unit opportunity cost for each (node_id, sku, units on the shelf) row: 0 for DCs and
    rows without walk-in demand (`Network.walkin_units_per_day`, read at start-up)."""
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
    return costs
