"""Bulk load of a chain (the generated demo, or any frames with its columns) into the database.

The load replaces everything in ONE transaction: on any error, or Ctrl-C, the database is as
before. Rows go in through api/db/bulk.py (COPY on PostgreSQL, batched executemany on SQLite).
Sales are sorted in primary-key order first so the index grows at its right edge.

Also computed here: demand_rates, the walk-in units per open day over the last N open days of
history (N = settings.demand_rate_window_days, 28), which the allocator uses as the opportunity
cost of taking a store's units until a forecast replaces it (source 'recent_sales').

A sales frame without `stockout` loads as never sold out (0), as the sales feed takes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, delete, func, insert, select, text

from api.db.bulk import enlarge_sqlite_cache, write_frame
from api.db.tables import Dataset, metadata
from forecasting.calendar import is_store_open

DEMO_DATASET = "demo"

# Frame -> table, and the table columns each frame fills (extra frame columns are ignored).
LOAD_ORDER: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("nodes", ("node_id", "kind", "name", "city", "lat", "lon", "format", "opens_at_hour",
               "closes_at_hour", "pick_cost_pln", "pick_capacity_per_day",
               "replenishment_days")),
    ("skus", ("sku", "name", "department", "category", "size_class", "weight_kg", "price_pln",
              "unit_cost_pln", "launch_date", "discontinue_date")),
    ("postcode_areas", ("postcode_prefix", "city", "lat", "lon")),
    ("lockers", ("locker_id", "city", "lat", "lon")),
    ("parcel_rates", ("method", "rank", "max_weight_kg", "max_distance_km", "price_pln",
                      "transit_hours")),
    ("transfer_rates", ("lane", "fixed_cost_pln", "cost_per_unit_pln", "cost_per_km_pln",
                        "lead_time_hours")),
    ("stock", ("node_id", "sku", "on_hand")),
    ("sales", ("node_id", "channel", "sku", "date", "units", "price_pln", "promo", "stockout")),
    ("demand_rates", ("node_id", "sku", "walkin_units_per_day", "source")),
)


class ChainFrames(Protocol):
    """What the loader needs of a chain: the frames of docs/CONTRACTS.md and the as-of date."""

    @property
    def nodes(self) -> pd.DataFrame: ...
    @property
    def skus(self) -> pd.DataFrame: ...
    @property
    def stock(self) -> pd.DataFrame: ...
    @property
    def postcode_areas(self) -> pd.DataFrame: ...
    @property
    def parcel_rates(self) -> pd.DataFrame: ...
    @property
    def transfer_rates(self) -> pd.DataFrame: ...
    @property
    def lockers(self) -> pd.DataFrame: ...
    @property
    def sales(self) -> pd.DataFrame: ...
    @property
    def as_of(self) -> date: ...


Progress = Callable[[str, int], None]
"""Called as progress(table, rows_just_written)."""


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    data_version: str
    params: dict[str, Any]
    loaded_at: datetime


@dataclass(frozen=True)
class LoadReport:
    data_version: str
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def demand_rates_from_sales(
    sales: pd.DataFrame, as_of: date, window_days: int = 28
) -> pd.DataFrame:
    """Mean walk-in units per open day per store × SKU over the last `window_days` days on which
    stores were open, up to `as_of`. Closed days (holidays, non-trading Sundays) are left out of
    both the sum and the count, so a Sunday ban does not dilute the rate; so are the store ×
    SKU's sold-out days (`stockout` = 1, when the column is there): they sold what the shelf
    held, not what customers wanted, and counted in they would lower the rate of exactly the
    stores that ran short. Their units are a lower bound all the same, so the rate is never
    below the window's recorded units per open day."""
    open_days: list[date] = []
    day = as_of
    while len(open_days) < window_days:
        if is_store_open(day):
            open_days.append(day)
        day = date.fromordinal(day.toordinal() - 1)
    walkin = sales[sales["channel"] == "store"]
    in_window = walkin[pd.to_datetime(walkin["date"]).isin(pd.to_datetime(open_days))]
    sold_out = (in_window["stockout"].to_numpy() == 1 if "stockout" in in_window
                else np.zeros(len(in_window), dtype=bool))
    sums = in_window.assign(
        usable=np.where(sold_out, 0, in_window["units"]), sold_out=sold_out.astype(int)
    ).groupby(["node_id", "sku"], observed=True)[["units", "usable", "sold_out"]].sum()
    usable_days = window_days - sums["sold_out"].to_numpy()
    around = np.divide(sums["usable"].to_numpy(dtype=float), usable_days,
                       out=np.zeros(len(sums)), where=usable_days > 0)
    recorded = sums["units"].to_numpy(dtype=float) / window_days
    return pd.DataFrame(
        {
            "node_id": sums.index.get_level_values("node_id"),
            "sku": sums.index.get_level_values("sku"),
            "walkin_units_per_day": np.maximum(around, recorded),
            "source": "recent_sales",
        }
    )


def table_frames(chain: ChainFrames, window_days: int = 28) -> dict[str, pd.DataFrame]:
    """The frames to write, table by table, with exactly the table's load columns."""
    parcel_rates = chain.parcel_rates.reset_index(drop=True).assign(
        rank=lambda f: np.arange(len(f))
    )
    sources = {
        "nodes": chain.nodes,
        "skus": chain.skus,
        "postcode_areas": chain.postcode_areas,
        "lockers": chain.lockers,
        "parcel_rates": parcel_rates,
        "transfer_rates": chain.transfer_rates,
        "stock": chain.stock,
        "sales": _with_stockout(chain.sales).sort_values(["node_id", "channel", "sku", "date"],
                                                         kind="stable"),
        "demand_rates": demand_rates_from_sales(chain.sales, chain.as_of, window_days),
    }
    frames = {}
    for table, columns in LOAD_ORDER:
        missing = [c for c in columns if c not in sources[table].columns]
        if missing:
            raise ValueError(f"chain frame {table!r} lacks columns {missing}")
        frame = sources[table].loc[:, list(columns)]
        flags = [c for c in columns if pd.api.types.is_bool_dtype(frame[c])]
        frames[table] = frame.astype(dict.fromkeys(flags, "int8")) if flags else frame
    return frames


def _with_stockout(sales: pd.DataFrame) -> pd.DataFrame:
    return sales if "stockout" in sales.columns else sales.assign(stockout=0)


def loaded_dataset(engine: Engine, name: str = DEMO_DATASET) -> DatasetInfo | None:
    """What the database says it holds (None when nothing was loaded)."""
    query = select(Dataset.name, Dataset.data_version, Dataset.params, Dataset.loaded_at)
    with engine.connect() as conn:
        row = conn.execute(query.where(Dataset.name == name)).first()
    if row is None:
        return None
    return DatasetInfo(row.name, row.data_version, dict(row.params), row.loaded_at)


# What the service records while it runs (as opposed to the chain a load writes): a load
# deletes these with everything else.
OPERATIONAL_TABLES: tuple[str, ...] = (
    "orders", "stock_movements", "batch_runs", "transfers", "safety_stock_plans")


def operational_records(engine: Engine) -> dict[str, int]:
    """Rows per table of what orders, feeds and planners have recorded (tables with none are
    left out): what a reload of the chain would delete."""
    tables = {t.name: t for t in metadata.sorted_tables}
    with engine.connect() as conn:
        counts = {name: conn.execute(select(func.count()).select_from(tables[name])).scalar_one()
                  for name in OPERATIONAL_TABLES}
    return {name: int(n) for name, n in counts.items() if n}


def load_chain(
    engine: Engine,
    chain: ChainFrames,
    data_version: str,
    params: dict[str, Any],
    progress: Progress | None = None,
    window_days: int = 28,
    name: str = DEMO_DATASET,
) -> LoadReport:
    """Replace all data in the database with `chain`, in one transaction."""
    started = time.perf_counter()
    frames = table_frames(chain, window_days)
    report = progress or (lambda _table, _rows: None)
    with engine.begin() as conn:
        _empty_all_tables(conn)
        enlarge_sqlite_cache(conn)
        for table, frame in frames.items():
            for written in write_frame(conn, table, frame):
                report(table, written)
        conn.execute(
            insert(Dataset).values(
                name=name, data_version=data_version, params=params,
                loaded_at=datetime.now(UTC),
            )
        )
    with engine.begin() as conn:
        refresh_planner_statistics(conn, [*frames, Dataset.__tablename__])
    return LoadReport(
        data_version=data_version,
        rows={table: len(frame) for table, frame in frames.items()},
        seconds=time.perf_counter() - started,
    )


def total_rows(chain: ChainFrames) -> int:
    """Rows the load will write (for a progress bar), demand rates counted approximately."""
    return sum(len(getattr(chain, t)) for t, _ in LOAD_ORDER if t != "demand_rates") + len(
        chain.stock
    )


def refresh_planner_statistics(conn: Connection, loaded: Iterable[str]) -> None:
    """ANALYZE the freshly loaded tables: without statistics the first hours of orders run on
    plans made for empty tables (and autovacuum may be off or slow to get to it).

    Only the `loaded` ones on PostgreSQL: an ANALYZE of a table left empty (orders, order
    lines...) records it as empty, and the plans the server then caches (the foreign-key checks
    each order's lines and allocations make) scan it sequentially while it grows: 12k orders
    in, PostgreSQL read 50M order rows for them. Left never-analyzed (TRUNCATE resets that),
    the planner assumes a few pages and uses the primary key.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("ANALYZE " + ", ".join(f'"{name}"' for name in loaded)))
    else:
        conn.execute(text("ANALYZE"))


def _empty_all_tables(conn: Connection) -> None:
    tables = list(reversed(metadata.sorted_tables))
    if conn.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        return
    for table in tables:
        conn.execute(delete(table))
