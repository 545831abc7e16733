"""The network (nodes, SKUs, rates, postcode areas, lockers, walk-in demand) read once and cached.

Master data changes with a load, not per order, so each process reads it once (lazily, so an app
started while the database is down still comes up and answers 503 until it can read it).
The rebalancing plans' shadow prices come with it; a plan written by another process (`omni plan
rebalance`) is picked up within `SHADOW_REFRESH_S`, by one indexed look-up of the newest run.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime

import pandas as pd
from sqlalchemy import Connection, Engine, func, select

from allocation.model import Network, network_from_frames
from api.db import tables as t
from api.services.catalog import Catalog, catalog_from_frames
from api.services.opportunity import PriceWindow, ShadowPrices
from forecasting.vocabulary import WARSAW

SHADOW_REFRESH_S = 60.0
REBALANCE_RUN_KIND = "plan_rebalance"

_FRAMES = {
    "nodes": t.Node,
    "skus": t.Sku,
    "postcode_areas": t.PostcodeArea,
    "parcel_rates": t.ParcelRate,
    "transfer_rates": t.TransferRate,
    "lockers": t.Locker,
}


def read_network_frames(conn: Connection) -> dict[str, pd.DataFrame]:
    """The master-data tables as the DataFrames of docs/CONTRACTS.md (same columns)."""
    frames: dict[str, pd.DataFrame] = {}
    for name, row in _FRAMES.items():
        table = row.__table__
        query = select(table)
        if name == "parcel_rates":
            query = query.order_by(table.c.method, table.c.rank)
        frames[name] = pd.DataFrame(conn.execute(query).mappings().all(),
                                    columns=[c.name for c in table.columns])
    frames["parcel_rates"] = frames["parcel_rates"].drop(columns=["rank"])
    rates = t.DemandRate.__table__
    frames["demand_rates"] = pd.DataFrame(
        conn.execute(select(rates.c.node_id, rates.c.sku, rates.c.walkin_units_per_day))
        .mappings()
        .all(),
        columns=["node_id", "sku", "walkin_units_per_day"],
    )
    return frames


def newest_rebalance_run(conn: Connection) -> str | None:
    """The newest rebalancing run's id (index ix_batch_runs_kind_started_at): a plan version."""
    runs = t.BatchRun.__table__
    query = (
        select(runs.c.run_id)
        .where(runs.c.kind == REBALANCE_RUN_KIND)
        .order_by(runs.c.started_at.desc())
        .limit(1)
    )
    return conn.execute(query).scalar()


def read_shadow_prices(conn: Connection, today: date | None = None) -> ShadowPrices:
    """The shadow prices of the newest plan per peak window that has not ended by `today`."""
    today = today or datetime.now(WARSAW).date()
    version = newest_rebalance_run(conn)
    sp = t.ShadowPrice.__table__
    plans = conn.execute(
        select(sp.c.plan_id, sp.c.peak, sp.c.valid_from, func.max(sp.c.created_at))
        .where(sp.c.valid_to >= today)
        .group_by(sp.c.plan_id, sp.c.peak, sp.c.valid_from)
    ).all()
    newest: dict[tuple[str, date], tuple[datetime, str]] = {}
    for plan_id, peak, valid_from, created in plans:
        key = (peak, valid_from)
        if key not in newest or (created, plan_id) > newest[key]:
            newest[key] = (created, plan_id)
    windows: dict[tuple[str, str], list[PriceWindow]] = defaultdict(list)
    if newest:
        rows = conn.execute(
            select(sp.c.node_id, sp.c.sku, sp.c.valid_from, sp.c.valid_to, sp.c.shadow_price_pln)
            .where(sp.c.plan_id.in_([plan_id for _, plan_id in newest.values()]))
        )
        for node_id, sku, start, end, price in rows:
            windows[(node_id, sku)].append((start, end, float(price)))
    return ShadowPrices({k: tuple(v) for k, v in windows.items()}, version)


@dataclass(frozen=True)
class MasterData:
    """The optimizer's network and the edge's catalog, built from one read of the tables, and
    the rebalancing plans' shadow prices (the look-ahead opportunity cost of store stock)."""

    catalog: Catalog
    network: Network
    shadow_prices: ShadowPrices = field(default_factory=ShadowPrices)


def load_master_data(engine: Engine) -> MasterData:
    with engine.connect() as conn:
        frames = read_network_frames(conn)
        shadow = read_shadow_prices(conn)
    return MasterData(catalog_from_frames(frames), network_from_frames(**frames), shadow)


class NetworkCache:
    """The process's network, loaded on first use and kept; `reload` after a master-data load,
    `reload_shadow_prices` after a rebalancing plan (also done every `refresh_s` if one is new)."""

    def __init__(self, engine: Engine, refresh_s: float = SHADOW_REFRESH_S) -> None:
        self._engine = engine
        self._data: MasterData | None = None
        self._lock = threading.Lock()
        self._refresh_s = refresh_s
        self._checked_at = time.monotonic()

    def cached(self) -> MasterData | None:
        """The master data if loaded and not due a plan check (never touches the database);
        None sends the caller to `get` (in a thread), which does the check."""
        if time.monotonic() - self._checked_at > self._refresh_s:
            return None
        return self._data

    def get(self) -> MasterData:
        data = self._data
        if data is not None and time.monotonic() - self._checked_at <= self._refresh_s:
            return data
        with self._lock:
            if self._data is None:
                self._data = load_master_data(self._engine)
                self._checked_at = time.monotonic()
            elif time.monotonic() - self._checked_at > self._refresh_s:
                self._refresh_if_newer_plan(self._data)
            return self._data

    def reload(self) -> MasterData:
        with self._lock:
            self._data = load_master_data(self._engine)
            self._checked_at = time.monotonic()
            return self._data

    def reload_shadow_prices(self) -> MasterData | None:
        """Re-read the shadow prices only (a new plan was written); None if nothing loaded."""
        with self._lock:
            if self._data is not None:
                with self._engine.connect() as conn:
                    self._data = replace(self._data, shadow_prices=read_shadow_prices(conn))
                self._checked_at = time.monotonic()
            return self._data

    def _refresh_if_newer_plan(self, data: MasterData) -> None:
        """Under the lock: re-read shadow prices if a newer plan exists. A database blip keeps
        the cached prices (the order is served; the check runs again after `refresh_s`)."""
        self._checked_at = time.monotonic()
        try:
            with self._engine.connect() as conn:
                if newest_rebalance_run(conn) != data.shadow_prices.version:
                    self._data = replace(data, shadow_prices=read_shadow_prices(conn))
        except Exception:  # noqa: BLE001 - stale prices beat a failed order
            return
