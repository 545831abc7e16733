"""Daily sales rows of the demo chain, simulated block of SKUs by block of SKUs.

A block holds as many SKUs as fit ``demand.CELLS_PER_BLOCK`` day x store cells, so memory stays
flat whatever the catalogue size; each block has its own random stream (seed, block number),
so a block's rows do not depend on how the others were drawn. Zero rows are omitted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data import demand

STREAM_DEMAND = 4
RATE_WINDOW_DAYS = 28
SHIP_FROM_STORE_SHARE = 0.3  # share of catchment online demand a store's stock also serves


@dataclass(frozen=True)
class SalesBlock:
    """The sales rows of one block of SKUs and the daily rate that sizes their stock."""

    rows: pd.DataFrame  # SALES columns, zero rows omitted, sorted by date, store, channel, SKU
    first_sku: int  # catalogue position of the block's first SKU
    rate: np.ndarray  # [stores, block SKUs] expected units per day over the last 4 weeks


def iter_sales_blocks(
    seed: int,
    stores: pd.DataFrame,
    skus: pd.DataFrame,
    days: pd.DatetimeIndex,
    n_history: int,
    on_block: Callable[[], None] | None = None,
) -> Iterator[SalesBlock]:
    """Simulate every SKU block over `days` (history then future) for `stores`.

    Use it directly to stream a large chain (120 stores x 5,000 SKUs x 3 years is ~10^9 cells)
    into a database block by block instead of holding one frame.
    """
    factors = demand.day_factors(days)
    size = stores["size"].to_numpy()
    catchment = stores["catchment"].to_numpy()
    node_ids = stores["node_id"].to_numpy(dtype=object)
    sku_ids = skus["sku"].to_numpy(dtype=object)
    block_size = max(1, demand.CELLS_PER_BLOCK // (len(days) * len(stores)))
    recent = slice(max(0, n_history - RATE_WINDOW_DAYS), n_history)
    for number, block in enumerate(demand.sku_blocks(skus, days, block_size)):
        rng = np.random.default_rng([seed, STREAM_DEMAND, number])
        price, promo, price_factor = demand.prices(rng, block, days)
        per_sku = block.popularity[None, :] * price_factor * demand.life(block, len(days))
        cats = block.category
        walk_in = factors.walk_in[:, cats] * per_sku  # [D, K]
        online = factors.online[:, cats] * per_sku
        shifted = factors.shifted[:, cats] * per_sku
        means = (
            walk_in[:, None, :] * size[None, :, None],  # [D, S, K]
            online[:, None, :] * catchment[None, :, None] + shifted[:, None, :] * size[None, :,
                                                                                       None],
        )
        parts: list[tuple[np.ndarray, ...]] = []
        for channel, mean in enumerate(means):
            units = demand.negative_binomial(rng, mean)
            d, s, k = np.nonzero(units)
            parts.append((d, s, np.full(len(d), channel, np.int8), k, units[d, s, k],
                          price[d, k], promo[d, k]))
        # Stock is sized on demand without the SKU's life, so new SKUs can be stocked ahead.
        base = block.popularity[None, :]
        rate = (size[:, None] * (factors.walk_in[recent][:, cats] * base).mean(axis=0)
                + SHIP_FROM_STORE_SHARE * catchment[:, None]
                * (factors.online[recent][:, cats] * base).mean(axis=0))
        rows = _frame(parts, days, node_ids, sku_ids[block.first:block.first + len(cats)])
        yield SalesBlock(rows, block.first, rate)
        if on_block is not None:
            on_block()


def _frame(parts: list[tuple[np.ndarray, ...]], days: pd.DatetimeIndex, node_ids: np.ndarray,
           sku_ids: np.ndarray) -> pd.DataFrame:
    d, s, c, k, units, price, promo = (np.concatenate(col) for col in zip(*parts, strict=True))
    order = np.lexsort((k, c, s, d))
    return pd.DataFrame({
        "date": days.to_numpy()[d[order]],
        "node_id": node_ids[s[order]],
        "channel": np.array(demand.CHANNELS, dtype=object)[c[order]],
        "sku": sku_ids[k[order]],
        "units": units[order].astype(np.int64),
        "price_pln": price[order],
        "promo": promo[order].astype(np.int8),
    })


def sort_sales(frame: pd.DataFrame, skus: pd.DataFrame, stores: pd.DataFrame) -> pd.DataFrame:
    """Rows of all blocks in one canonical order: date, store, channel, catalogue position."""
    sku_pos = pd.Index(skus["sku"]).get_indexer(frame["sku"])
    node_pos = pd.Index(stores["node_id"]).get_indexer(frame["node_id"])
    channel = (frame["channel"] == "online").to_numpy()
    order = np.lexsort((sku_pos, channel, node_pos, frame["date"].to_numpy()))
    return frame.take(order).reset_index(drop=True)
