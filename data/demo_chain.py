"""The demo chain: a deterministic Polish omnichannel retailer (fashion and electronics).

``generate_chain`` builds every frame of docs/CONTRACTS.md from a seed: the same arguments give
byte-identical frames (``chain_fingerprint`` pins that). Nothing is read from disk or the
network; the demand shapes are constants in ``data.calibration``.

`sales` and `future_sales` omit zero rows (a store x channel x SKU x day with no unit sold),
which keeps the default chain under ~1.5 M rows. Online demand is attributed to the store whose
catchment the customer lives in. The walk-in history has stock-out spells (data.stockouts):
those days carry `stockout` = 1 and a row even when they sold nothing; a spell still running
on `as_of` leaves that store x SKU at 0 in `stock`. `future_sales` is the demand the
simulations replay, never censored (`stockout` = 0).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from data.catalogue import catalogue
from data.demand import CELLS_PER_BLOCK
from data.geography import lockers, postcode_areas
from data.network import nodes as build_nodes
from data.sales import iter_sales_blocks, sales_frame
from data.stock import stock_on_hand
from data.tariffs import parcel_rates, transfer_rates

if TYPE_CHECKING:
    from rich.progress import Progress

DEMO_AS_OF = date(2026, 11, 8)
HISTORY_START = date(2023, 10, 1)
DEFAULT_HISTORY_DAYS = (DEMO_AS_OF - HISTORY_START).days + 1
DEFAULT_FUTURE_DAYS = 56
DEFAULT_SKUS = 20
SALES_COLUMNS = ["date", "node_id", "channel", "sku", "units", "price_pln", "promo", "stockout"]

# Independent random streams, so that adding a store does not reshuffle the catalogue.
# (data.sales uses stream 4 for demand, data.stockouts 5 for stock-out spells.)
_STREAM_NODES, _STREAM_CATALOGUE, _STREAM_LOCKERS, _STREAM_STOCK = range(4)


@dataclass(frozen=True)
class DemoChain:
    """All frames of the demo chain (plain columns, no index); see docs/CONTRACTS.md.

    Extra columns beyond the contract: nodes `home_dc` (nearest DC), `size` (walk-in demand
    multiplier) and `catchment` (online demand multiplier); skus `popularity` and
    `category_code` (demand-model inputs); transfer_rates `max_lead_time_hours`.
    """

    nodes: pd.DataFrame
    skus: pd.DataFrame
    stock: pd.DataFrame
    postcode_areas: pd.DataFrame
    parcel_rates: pd.DataFrame
    transfer_rates: pd.DataFrame
    lockers: pd.DataFrame
    sales: pd.DataFrame
    future_sales: pd.DataFrame
    as_of: date = DEMO_AS_OF

    def frames(self) -> dict[str, pd.DataFrame]:
        """Frame name -> frame, in declaration order."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "as_of"}


def generate_chain(
    seed: int = 7,
    n_stores: int = 100,
    n_skus: int = DEFAULT_SKUS,
    as_of: date = DEMO_AS_OF,
    history_days: int = DEFAULT_HISTORY_DAYS,
    future_days: int = DEFAULT_FUTURE_DAYS,
    progress: bool = False,
    stockouts: bool = True,
) -> DemoChain:
    """Generate the demo chain. History covers the `history_days` days ending on `as_of`
    (inclusive); `future_sales` the `future_days` days after it. `stockouts=False` leaves out
    the walk-in stock-out spells: every other row stays the same.

    The default (100 stores x 20 SKUs, 2023-10-01 .. 2026-11-08) takes ~1-2 s and ~0.8 M sales
    rows. For large catalogues stream the sales with `data.sales.iter_sales_blocks` instead.
    `progress=True` shows a rich progress bar over SKU blocks; otherwise nothing is printed.
    """
    if n_stores < 1 or n_skus < 1 or history_days < 1 or future_days < 0:
        raise ValueError("n_stores, n_skus and history_days must be >= 1, future_days >= 0")
    history_start = as_of - timedelta(days=history_days - 1)
    days = pd.date_range(history_start, as_of + timedelta(days=future_days), freq="D")
    node_frame = build_nodes(_rng(seed, _STREAM_NODES), n_stores)
    stores = node_frame[node_frame["kind"] == "store"].reset_index(drop=True)
    sku_frame = catalogue(_rng(seed, _STREAM_CATALOGUE), n_skus, history_start, as_of)
    sales, rate, sold_out = _all_sales(seed, stores, sku_frame, days, history_days, progress,
                                       stockouts)
    history_end = pd.Timestamp(as_of)
    in_history = sales["date"] <= history_end
    return DemoChain(
        nodes=node_frame,
        skus=sku_frame,
        stock=stock_on_hand(_rng(seed, _STREAM_STOCK), node_frame, sku_frame, rate, as_of,
                            sold_out),
        postcode_areas=postcode_areas(),
        parcel_rates=parcel_rates(),
        transfer_rates=transfer_rates(),
        lockers=lockers(_rng(seed, _STREAM_LOCKERS)),
        sales=sales[in_history].reset_index(drop=True),
        future_sales=sales[~in_history].reset_index(drop=True),
        as_of=as_of,
    )


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream, 0])


def _all_sales(seed: int, stores: pd.DataFrame, skus: pd.DataFrame, days: pd.DatetimeIndex,
               n_history: int, progress: bool,
               stockouts: bool) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Every block's rows in canonical order, and for stock the store x SKU daily rate and
    the shelves sold out on the last history day."""
    n_blocks = -(-len(skus) // max(1, CELLS_PER_BLOCK // (len(days) * len(stores))))
    blocks = []
    rate = np.zeros((len(stores), len(skus)))
    sold_out = np.zeros((len(stores), len(skus)), dtype=bool)
    with _ProgressBar(progress, n_blocks) as advance:
        for block in iter_sales_blocks(seed, stores, skus, days, n_history, advance,
                                       stockout_spells=stockouts):
            blocks.append(block)
            columns = slice(block.first_sku, block.first_sku + block.rate.shape[1])
            rate[:, columns] = block.rate
            sold_out[:, columns] = block.sold_out_last_day
    return sales_frame(blocks), rate, sold_out


class _ProgressBar:
    """A rich progress bar over SKU blocks when asked for; otherwise silent."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled, self.total = enabled, total
        self._bar: Progress | None = None

    def __enter__(self) -> Callable[[], None] | None:
        if not self.enabled:
            return None
        from rich.progress import Progress

        self._bar = Progress(transient=True)
        self._bar.start()
        task = self._bar.add_task("demo chain: SKU blocks", total=self.total)
        bar = self._bar
        return lambda: bar.advance(task)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def chain_fingerprint(chain: DemoChain) -> str:
    """sha256 over a canonical CSV of every frame (fixed float format, ISO dates)."""
    digest = hashlib.sha256()
    digest.update(chain.as_of.isoformat().encode())
    for name, frame in chain.frames().items():
        digest.update(name.encode())
        for chunk in _csv_chunks(frame):
            digest.update(chunk)
    return digest.hexdigest()


def _csv_chunks(frame: pd.DataFrame, rows: int = 200_000) -> Iterable[bytes]:
    for start in range(0, max(len(frame), 1), rows):
        part = frame.iloc[start:start + rows]
        text = part.to_csv(index=False, header=start == 0, float_format="%.6f",
                           date_format="%Y-%m-%d", lineterminator="\n")
        yield text.encode()
