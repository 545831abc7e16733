"""The sales history forecasts learn from, read from the `sales` table as a dense daily frame.

One reader for every forecast batch (`omni batch weekly`, the planner console's button), so
both learn from the same days: each series from its own first recorded day (days before a
launch are not zero demand), a day without a row sold nothing and did not sell out, and the
`stockout` flag rides along for `Forecaster.fit(..., censored_column="stockout")`.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Connection, func, select

from api.db.tables import Sale
from forecasting.daily_grid import fill_missing_days
from forecasting.series_ids import series_id

HISTORY_COLUMNS = ["unique_id", "ds", "y", "stockout"]


def sales_days(conn: Connection) -> tuple[date, date] | None:
    """The first and the last day with recorded sales; None while the sales table is empty.
    The range a batch may take its as-of from, and the day the stock on hand reflects."""
    first, last = conn.execute(select(func.min(Sale.date), func.max(Sale.date))).one()
    if last is None:
        return None
    return pd.Timestamp(first).date(), pd.Timestamp(last).date()


def sales_history(conn: Connection, as_of: date, days: int | None = None) -> pd.DataFrame:
    """`unique_id` (`node|channel|sku`), `ds`, `y`, `stockout` (0/1) through `as_of`, only the
    last `days` of it when given; empty (with those columns) when nothing was sold."""
    query = select(Sale.node_id, Sale.channel, Sale.sku, Sale.date, Sale.units,
                   Sale.stockout).where(Sale.date <= as_of)
    if days is not None:
        query = query.where(Sale.date > as_of - timedelta(days=days))
    rows = pd.DataFrame(conn.execute(query).all(),
                        columns=["node_id", "channel", "sku", "date", "units", "stockout"])
    if rows.empty:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    rows["unique_id"] = series_id(rows["node_id"], rows["channel"], rows["sku"])
    rows["ds"] = pd.to_datetime(rows["date"])
    sparse = rows.groupby(["unique_id", "ds"], as_index=False).agg(
        y=("units", "sum"), stockout=("stockout", "max"))
    sparse = sparse.astype({"y": float, "stockout": np.int8})
    dense, _ = fill_missing_days(sparse, censored_column="stockout", through=pd.Timestamp(as_of))
    return dense
