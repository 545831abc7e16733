"""The network (nodes, SKUs, rates, postcode areas, lockers, walk-in demand) read once and cached.

Master data changes with a load, not per order, so each process reads it once (lazily, so an app
started while the database is down still comes up and answers 503 until it can read it).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, Engine, select

from allocation.model import Network, network_from_frames
from api.db import tables as t
from api.services.catalog import Catalog, catalog_from_frames

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


@dataclass(frozen=True)
class MasterData:
    """The optimizer's network and the edge's catalog, built from one read of the tables."""

    catalog: Catalog
    network: Network


def load_master_data(engine: Engine) -> MasterData:
    with engine.connect() as conn:
        frames = read_network_frames(conn)
    return MasterData(catalog_from_frames(frames), network_from_frames(**frames))


class NetworkCache:
    """The process's network, loaded on first use and kept; `reload` after a master-data load."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._data: MasterData | None = None
        self._lock = threading.Lock()

    def cached(self) -> MasterData | None:
        """The master data if already loaded (never touches the database)."""
        return self._data

    def get(self) -> MasterData:
        data = self._data
        if data is not None:
            return data
        with self._lock:
            if self._data is None:
                self._data = load_master_data(self._engine)
            return self._data

    def reload(self) -> MasterData:
        with self._lock:
            self._data = load_master_data(self._engine)
            return self._data
