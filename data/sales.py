"""Daily sales rows of the demo chain, simulated block of SKUs by block of SKUs.

A block holds as many SKUs as fit ``demand.CELLS_PER_BLOCK`` day x store cells, so memory stays
flat whatever the catalogue size; each block has its own random stream (seed, block number),
so a block's rows do not depend on how the others were drawn. Zero rows are omitted, except
walk-in days inside a stock-out spell (data.stockouts): those are kept with `stockout` = 1,
whatever they sold, so the history says the shelf was empty rather than that nobody came.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data import demand, stockouts

STREAM_DEMAND = 4
RATE_WINDOW_DAYS = 28
SHIP_FROM_STORE_SHARE = 0.3  # share of catchment online demand a store's stock also serves
WALK_IN = demand.CHANNELS.index("store")


@dataclass(frozen=True)
class SalesBlock:
    """The sales of one block of SKUs as compact code arrays, and what sizes their stock: the
    daily rate and the shelves a stock-out spell left empty at the end of the history.
    `rows()` turns the codes into SALES rows."""

    first_sku: int  # catalogue position of the block's first SKU
    rate: np.ndarray  # [stores, block SKUs] expected units per day over the last 4 weeks
    # [stores, block SKUs] bool: the SKU, in its life, sits in a walk-in stock-out spell on the
    # last history day, open or closed: its shelf is empty at the as-of date
    sold_out_last_day: np.ndarray
    codes: dict[str, np.ndarray]  # day/store/channel/sku positions; units, price, promo, stockout
    labels: SalesLabels

    def rows(self) -> pd.DataFrame:
        """SALES columns, zero rows omitted (unless sold out), sorted by date, store, channel,
        SKU."""
        return sales_frame([self])


@dataclass(frozen=True)
class SalesLabels:
    """What the code positions stand for."""

    days: pd.DatetimeIndex
    node_ids: np.ndarray
    sku_ids: np.ndarray


def iter_sales_blocks(
    seed: int,
    stores: pd.DataFrame,
    skus: pd.DataFrame,
    days: pd.DatetimeIndex,
    n_history: int,
    on_block: Callable[[], None] | None = None,
    stockout_spells: bool = True,
) -> Iterator[SalesBlock]:
    """Simulate every SKU block over `days` (history then future) for `stores`; with
    `stockout_spells`, walk-in history has stock-out spells (data.stockouts), drawn from a
    stream of their own, so switching them off gives the same rows minus the spells. A spell
    running into the last history day empties that shelf for the stock snapshot too
    (`SalesBlock.sold_out_last_day`).

    Use it directly to stream a large chain (120 stores x 5,000 SKUs x 3 years is ~10^9 cells)
    into a database block by block (`block.rows()`) instead of holding one frame.
    """
    factors = demand.day_factors(days)
    size = stores["size"].to_numpy()
    catchment = stores["catchment"].to_numpy()
    labels = SalesLabels(days, stores["node_id"].to_numpy(dtype=object),
                         skus["sku"].to_numpy(dtype=object))
    block_size = max(1, demand.CELLS_PER_BLOCK // (len(days) * len(stores)))
    recent = slice(max(0, n_history - RATE_WINDOW_DAYS), n_history)
    for number, block in enumerate(demand.sku_blocks(skus, days, block_size)):
        rng = np.random.default_rng([seed, STREAM_DEMAND, number])
        spell_rng = np.random.default_rng([seed, stockouts.STREAM_STOCKOUTS, number])
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
        sold_out_last_day = np.zeros((len(stores), len(cats)), dtype=bool)
        for channel, mean in enumerate(means):
            units = demand.negative_binomial(rng, mean)
            sold_out = np.zeros(units.shape, dtype=bool)
            if stockout_spells and channel == WALK_IN:
                spells = stockouts.spell_days(spell_rng, n_history, *units.shape)
                units = stockouts.sold_units(spell_rng, units, spells)
                sold_out = spells & (mean > 0)  # a closed or out-of-life day sells out nothing
                if n_history > 0:  # the as-of day may be closed: its flags cannot say it
                    sold_out_last_day = spells[n_history - 1] & (per_sku[n_history - 1] > 0)
            d, s, k = np.nonzero((units != 0) | sold_out)
            parts.append((d.astype(np.int32), s.astype(np.int32), np.full(len(d), channel,
                          np.int8), (k + block.first).astype(np.int32), units[d, s, k],
                          price[d, k], promo[d, k].astype(np.int8),
                          sold_out[d, s, k].astype(np.int8)))
        codes = dict(zip(_CODE_NAMES, (np.concatenate(c) for c in zip(*parts, strict=True)),
                         strict=True))
        # Stock is sized on demand without the SKU's life, so new SKUs can be stocked ahead.
        base = block.popularity[None, :]
        rate = (size[:, None] * (factors.walk_in[recent][:, cats] * base).mean(axis=0)
                + SHIP_FROM_STORE_SHARE * catchment[:, None]
                * (factors.online[recent][:, cats] * base).mean(axis=0))
        yield SalesBlock(block.first, rate, sold_out_last_day, codes, labels)
        if on_block is not None:
            on_block()


_CODE_NAMES = ("day", "store", "channel", "sku", "units", "price_pln", "promo", "stockout")


def sales_frame(blocks: list[SalesBlock]) -> pd.DataFrame:
    """The rows of `blocks` as one SALES frame in canonical order: date, store, channel,
    catalogue position of the SKU (the order does not depend on the block size)."""
    if not blocks:
        raise ValueError("no sales blocks")
    codes = {name: np.concatenate([b.codes[name] for b in blocks]) for name in _CODE_NAMES}
    order = np.lexsort((codes["sku"], codes["channel"], codes["store"], codes["day"]))
    labels = blocks[0].labels
    return pd.DataFrame({
        "date": labels.days.to_numpy()[codes["day"][order]],
        "node_id": labels.node_ids[codes["store"][order]],
        "channel": np.array(demand.CHANNELS, dtype=object)[codes["channel"][order]],
        "sku": labels.sku_ids[codes["sku"][order]],
        "units": codes["units"][order].astype(np.int64),
        "price_pln": codes["price_pln"][order],
        "promo": codes["promo"][order],
        "stockout": codes["stockout"][order],
    })
