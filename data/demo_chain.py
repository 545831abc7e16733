"""The demo chain: a deterministic Polish omnichannel retailer (fashion and electronics).

``generate_chain`` builds every frame of docs/CONTRACTS.md from a seed: the same arguments give
byte-identical frames (``chain_fingerprint`` pins that). Nothing is read from disk or the
network; the demand shapes are constants in ``data.calibration``.

`sales` and `future_sales` omit zero rows (a store x channel x SKU x day with no unit sold),
which keeps the default chain under ~1.5 M rows. Online demand is attributed to the store whose
catchment the customer lives in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from data import demand
from data.catalogue import catalogue
from data.geography import lockers, postcode_areas
from data.network import nodes as build_nodes
from data.tariffs import parcel_rates, transfer_rates

DEMO_AS_OF = date(2026, 11, 8)
HISTORY_START = date(2023, 10, 1)
DEFAULT_HISTORY_DAYS = (DEMO_AS_OF - HISTORY_START).days + 1
DEFAULT_FUTURE_DAYS = 56
DEFAULT_SKUS = 20
SALES_COLUMNS = ["date", "node_id", "channel", "sku", "units", "price_pln", "promo"]

# Independent random streams, so that adding a store does not reshuffle the catalogue.
_STREAM_NODES, _STREAM_CATALOGUE, _STREAM_LOCKERS, _STREAM_STOCK, _STREAM_DEMAND = range(5)


@dataclass(frozen=True)
class DemoChain:
    """All frames of the demo chain (plain columns, no index); see docs/CONTRACTS.md."""

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
) -> DemoChain:
    """Generate the demo chain. History covers the `history_days` days ending on `as_of`
    (inclusive); `future_sales` the `future_days` days after it."""
    if n_stores < 1 or n_skus < 1 or history_days < 1 or future_days < 0:
        raise ValueError("n_stores, n_skus and history_days must be >= 1, future_days >= 0")
    history_start = as_of - timedelta(days=history_days - 1)
    days = pd.date_range(history_start, as_of + timedelta(days=future_days), freq="D")
    node_frame = build_nodes(_rng(seed, _STREAM_NODES), n_stores)
    stores = node_frame[node_frame["kind"] == "store"].reset_index(drop=True)
    sku_frame = catalogue(_rng(seed, _STREAM_CATALOGUE), n_skus, history_start, as_of)
    sales, rate = _simulate_sales(seed, stores, sku_frame, days, history_days, progress)
    history_end = pd.Timestamp(as_of)
    in_history = sales["date"] <= history_end
    return DemoChain(
        nodes=node_frame,
        skus=sku_frame,
        stock=_stock(_rng(seed, _STREAM_STOCK), node_frame, sku_frame, rate, as_of),
        postcode_areas=postcode_areas(),
        parcel_rates=parcel_rates(),
        transfer_rates=transfer_rates(),
        lockers=lockers(_rng(seed, _STREAM_LOCKERS)),
        sales=sales[in_history].reset_index(drop=True),
        future_sales=sales[~in_history].reset_index(drop=True),
        as_of=as_of,
    )


def _rng(seed: int, stream: int, block: int = 0) -> np.random.Generator:
    return np.random.default_rng([seed, stream, block])


def _simulate_sales(
    seed: int, stores: pd.DataFrame, skus: pd.DataFrame, days: pd.DatetimeIndex,
    n_history: int, progress: bool,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Sales rows (zero rows omitted) and the expected daily rate per store x SKU at as_of
    (both channels, over the last 28 days of history, life ignored; used to size stock)."""
    factors = demand.day_factors(days)
    size = stores["size"].to_numpy()
    catchment = stores["catchment"].to_numpy()
    n_days, n_stores = len(days), len(stores)
    block_size = max(1, demand.CELLS_PER_BLOCK // (n_days * n_stores))
    parts: list[tuple[np.ndarray, ...]] = []
    rate = np.zeros((n_stores, len(skus)))
    blocks = list(demand.sku_blocks(skus, days, block_size))
    with _progress(progress, len(blocks)) as advance:
        for number, block in enumerate(blocks):
            rng = _rng(seed, _STREAM_DEMAND, number)
            price, promo, price_factor = demand.prices(rng, block, days)
            alive = demand.life(block, n_days)
            per_sku = block.popularity[None, :] * price_factor * alive  # [D, K]
            cats = block.category
            walk_in = factors.walk_in[:, cats] * per_sku  # [D, K]
            online = factors.online[:, cats] * per_sku
            shifted = factors.shifted[:, cats] * per_sku
            mean_store = walk_in[:, None, :] * size[None, :, None]  # [D, S, K]
            mean_online = (online[:, None, :] * catchment[None, :, None]
                           + shifted[:, None, :] * size[None, :, None])
            for channel, mean in enumerate((mean_store, mean_online)):
                units = demand.negative_binomial(rng, mean)
                d, s, k = np.nonzero(units)
                parts.append((d.astype(np.int32), s.astype(np.int32),
                              np.full(len(d), channel, np.int8), (k + block.first).astype(
                                  np.int32), units[d, s, k], price[d, k], promo[d, k]))
            potential = block.popularity[None, :] * (
                factors.walk_in[:, cats] + factors.online[:, cats])
            recent = potential[max(0, n_history - 28):n_history].mean(axis=0)
            rate[:, block.first:block.first + len(cats)] = (
                size[:, None] * recent[None, :] * 0.75 + catchment[:, None] * recent[None, :]
                * 0.25)
            advance()
    return _assemble(parts, days, stores, skus), rate


def _assemble(parts: list[tuple[np.ndarray, ...]], days: pd.DatetimeIndex,
              stores: pd.DataFrame, skus: pd.DataFrame) -> pd.DataFrame:
    """Concatenate the blocks into one frame sorted by date, store, channel, SKU."""
    d, s, c, k, units, price, promo = (np.concatenate(col) for col in zip(*parts, strict=True))
    order = np.lexsort((k, c, s, d))
    node_ids = stores["node_id"].to_numpy(dtype=object)
    sku_ids = skus["sku"].to_numpy(dtype=object)
    channels = np.array(demand.CHANNELS, dtype=object)
    return pd.DataFrame({
        "date": days.to_numpy()[d[order]],
        "node_id": node_ids[s[order]],
        "channel": channels[c[order]],
        "sku": sku_ids[k[order]],
        "units": units[order].astype(np.int64),
        "price_pln": price[order],
        "promo": promo[order].astype(np.int8),
    })


def _stock(rng: np.random.Generator, nodes: pd.DataFrame, skus: pd.DataFrame,
           rate: np.ndarray, as_of: date) -> pd.DataFrame:
    """On hand at `as_of`: stores hold their replenishment cycle plus safety cover, with
    noise and a few stock-outs; DCs hold three weeks of their stores' demand. Discontinued SKUs
    are mostly gone from stores; SKUs launching in the next 4 weeks sit in the DCs only."""
    stores = nodes[nodes["kind"] == "store"].reset_index(drop=True)
    dcs = nodes[nodes["kind"] == "dc"].reset_index(drop=True)
    ts = pd.Timestamp(as_of)
    launched = (skus["launch_date"] <= ts).to_numpy()
    soon = ((skus["launch_date"] > ts) & (skus["launch_date"] <= ts + pd.Timedelta(days=28)))
    active = launched & ~(skus["discontinue_date"] <= ts).to_numpy()
    cover = stores["replenishment_days"].to_numpy()[:, None] + 3.0
    noise = rng.uniform(0.4, 1.6, rate.shape)
    store_units = np.round(rate * cover * noise)
    store_units[rng.random(rate.shape) < 0.04] = 0
    leftovers = rng.integers(0, 3, rate.shape) * (rng.random(rate.shape) < 0.2)
    store_units = np.where(active[None, :], store_units, np.where(launched[None, :],
                                                                  leftovers, 0))
    home = stores["home_dc"].to_numpy()
    dc_units = np.zeros((len(dcs), len(skus)))
    for j, dc in enumerate(dcs["node_id"]):
        demand_dc = rate[home == dc].sum(axis=0)
        dc_units[j] = np.round(demand_dc * 21 * rng.uniform(0.7, 1.3, len(skus)))
    dc_units = np.where(active[None, :] | soon.to_numpy()[None, :], dc_units,
                        np.round(dc_units * 0.1))
    on_hand = np.vstack([dc_units, store_units]).astype(np.int64)
    node_ids = np.concatenate([dcs["node_id"].to_numpy(), stores["node_id"].to_numpy()])
    return pd.DataFrame({
        "node_id": np.repeat(node_ids, len(skus)),
        "sku": np.tile(skus["sku"].to_numpy(), len(node_ids)),
        "on_hand": on_hand.ravel(),
    })


class _progress:
    """A rich progress bar over SKU blocks when asked for, else nothing."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled, self.total = enabled, total
        self._bar: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return lambda: None
        from rich.progress import Progress

        self._bar = Progress()
        self._bar.__enter__()
        task = self._bar.add_task("demo chain: SKU blocks", total=self.total)
        return lambda: self._bar.advance(task)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


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
