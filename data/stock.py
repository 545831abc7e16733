"""Stock on hand at the as-of date, per node x SKU."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

SAFETY_COVER_DAYS = 3.0
DC_COVER_DAYS = 21.0
STOCKOUT_SHARE = 0.04


def stock_on_hand(rng: np.random.Generator, nodes: pd.DataFrame, skus: pd.DataFrame,
                  rate: np.ndarray, as_of: date,
                  sold_out: np.ndarray | None = None) -> pd.DataFrame:
    """On hand at `as_of`, one row per node x SKU (DCs first).

    A store holds its replenishment cycle plus a few days of safety cover, with noise and a
    few stock-outs; a DC holds three weeks of its stores' demand. Discontinued SKUs are mostly
    gone from stores (a few leftovers); SKUs launching in the next 4 weeks sit in the DCs only.
    `rate` is the expected daily demand per store x SKU. `sold_out` (bool, same shape) marks
    the shelves the history leaves empty at `as_of` (a stock-out spell running into it): they
    hold 0, so the OMS cannot ship what the history says is gone. It is applied after every
    draw, so all other rows are the same with or without it.
    """
    stores = nodes[nodes["kind"] == "store"].reset_index(drop=True)
    dcs = nodes[nodes["kind"] == "dc"].reset_index(drop=True)
    ts = pd.Timestamp(as_of)
    launched = (skus["launch_date"] <= ts).to_numpy()
    soon = ((skus["launch_date"] > ts) & (skus["launch_date"] <= ts + pd.Timedelta(days=28)))
    active = launched & ~(skus["discontinue_date"] <= ts).to_numpy()

    cover = stores["replenishment_days"].to_numpy()[:, None] + SAFETY_COVER_DAYS
    store_units = np.round(rate * cover * rng.uniform(0.4, 1.6, rate.shape))
    store_units[rng.random(rate.shape) < STOCKOUT_SHARE] = 0
    leftovers = rng.integers(0, 3, rate.shape) * (rng.random(rate.shape) < 0.2)
    store_units = np.where(active[None, :], store_units,
                           np.where(launched[None, :], leftovers, 0))
    if sold_out is not None:
        store_units[sold_out] = 0

    home = stores["home_dc"].to_numpy()
    dc_units = np.zeros((len(dcs), len(skus)))
    for j, dc in enumerate(dcs["node_id"]):
        served = rate[home == dc].sum(axis=0)
        dc_units[j] = np.round(served * DC_COVER_DAYS * rng.uniform(0.7, 1.3, len(skus)))
    dc_units = np.where(active[None, :] | soon.to_numpy()[None, :], dc_units,
                        np.round(dc_units * 0.1))

    on_hand = np.vstack([dc_units, store_units]).astype(np.int64)
    node_ids = np.concatenate([dcs["node_id"].to_numpy(), stores["node_id"].to_numpy()])
    return pd.DataFrame({
        "node_id": np.repeat(node_ids, len(skus)),
        "sku": np.tile(skus["sku"].to_numpy(), len(node_ids)),
        "on_hand": on_hand.ravel(),
    })
