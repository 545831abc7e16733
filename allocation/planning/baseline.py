"""The planners' usual rule, kept as the baseline the optimised plan must beat.

Fair share: a SKU's network stock (DC stock plus store stock) is split over the stores in
proportion to their peak forecast; the DC pushes to each store what it lacks of its share, scaled
down when the DC has too little. No store -> store transfers, no look at costs or the spread of
demand. It only uses the timely DC -> store lanes the optimiser would see.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from allocation.planning.network import LaneArcs
from allocation.planning.positions import Positions


def proportional_quantities(
    pos: Positions, lanes: LaneArcs, min_qty: int, dc_capacity: int | None
) -> np.ndarray:
    """Units per lane arc under the fair-share rule (zero on store -> store arcs); each DC
    ships at most `dc_capacity` units, scaled down evenly when it would ship more."""
    qty = np.zeros(lanes.sender.size, np.int64)
    arcs = np.flatnonzero(pos.is_dc[lanes.sender])
    if arcs.size == 0:
        return qty
    n_sku = int(pos.sku_code.max()) + 1
    dc_avail = np.where(pos.is_dc, np.maximum(pos.surplus, 0), 0).astype(np.float64)
    store_stock = np.where(pos.is_dc, 0, pos.on_hand).astype(np.float64)
    store_mean = np.where(pos.is_dc, 0.0, pos.mean)
    avail_by_sku = np.bincount(pos.sku_code, weights=dc_avail, minlength=n_sku)
    network = avail_by_sku + np.bincount(pos.sku_code, weights=store_stock, minlength=n_sku)
    mean_by_sku = np.bincount(pos.sku_code, weights=store_mean, minlength=n_sku)
    share = store_mean / np.maximum(mean_by_sku[pos.sku_code], 1e-9)
    need = np.maximum(network[pos.sku_code] * share - pos.on_hand, 0.0)
    need = np.where(pos.is_dc, 0.0, need)
    # Each receiver counts once per SKU even when several DCs can serve it.
    receivers = pd.unique(lanes.receiver[arcs])
    need_by_sku = np.bincount(pos.sku_code[receivers], weights=need[receivers], minlength=n_sku)
    fill = np.minimum(1.0, avail_by_sku / np.maximum(need_by_sku, 1e-9))
    s, r = lanes.sender[arcs], lanes.receiver[arcs]
    dc_share = dc_avail[s] / np.maximum(avail_by_sku[pos.sku_code[s]], 1e-9)
    qty[arcs] = np.floor(need[r] * fill[pos.sku_code[r]] * dc_share + 1e-9).astype(np.int64)
    qty[qty < min_qty] = 0
    if dc_capacity is not None:
        sent = pd.Series(qty).groupby(pos.node_id[lanes.sender]).transform("sum").to_numpy()
        scale = np.where(sent > dc_capacity, dc_capacity / np.maximum(sent, 1), 1.0)
        qty = np.floor(qty * scale).astype(np.int64)
        qty[qty < min_qty] = 0
    return qty
