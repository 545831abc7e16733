"""The planning tests' dates (a Christmas plan made on the small chain's day) and a forecast
run recorded the way the weekly batch writes one."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Engine, select

from api.db.runs import finish_batch_run, start_batch_run, write_forecasts
from api.db.tables import Node, Stock

PLAN_AS_OF = date(2026, 11, 8)
PEAK, YEAR = "christmas", 2026
IN_PEAK, BEFORE_PEAK = date(2026, 12, 5), date(2026, 11, 20)


def record_forecast_run(engine: Engine, run_id: str, dispersion: float | None,
                        level_shock: float | None, kind: str = "forecast_weekly",
                        days: int = 60, first_day: date | None = None) -> None:
    """A succeeded run forecasting 2 walk-in units a day for every store x SKU, `days` days
    from `first_day` (default: the day after PLAN_AS_OF), with each day's `dispersion` and
    the run's `level_shock` when given."""
    with engine.connect() as conn:
        pairs = conn.execute(
            select(Stock.node_id, Stock.sku).join(Node, Node.node_id == Stock.node_id)
            .where(Node.kind == "store")).all()
    ds = pd.date_range(first_day or PLAN_AS_OF + timedelta(days=1), periods=days, freq="D")
    frame = pd.DataFrame(
        [(f"{node}|store|{sku}", day, 2.0) for node, sku in pairs for day in ds],
        columns=["unique_id", "ds", "yhat"])
    if dispersion is not None:
        frame["dispersion"] = dispersion
    params = {} if level_shock is None else {"level_shock": level_shock}
    with engine.begin() as conn:
        start_batch_run(conn, kind, {}, run_id=run_id)
        write_forecasts(conn, run_id, frame)
        finish_batch_run(conn, run_id, "succeeded", params=params)
