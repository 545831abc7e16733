"""The safety-stock plan takes its spread from the latest forecast run: each day's stored
variance-to-mean ratio and the run's level shock, with the policy default for older runs."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
from planning_setup import PLAN_AS_OF
from sqlalchemy import Engine, select

from allocation.planning import ReservationPolicy
from api.db.runs import finish_batch_run, start_batch_run, write_forecasts
from api.db.tables import Node, Stock
from api.services.planning import plan_store_reservations


def _record_run(engine: Engine, run_id: str, dispersion: float | None,
                level_shock: float | None) -> None:
    with engine.connect() as conn:
        pairs = conn.execute(
            select(Stock.node_id, Stock.sku).join(Node, Node.node_id == Stock.node_id)
            .where(Node.kind == "store")).all()
    days = pd.date_range(PLAN_AS_OF + timedelta(days=1), periods=60, freq="D")
    frame = pd.DataFrame(
        [(f"{node}|store|{sku}", day, 2.0) for node, sku in pairs for day in days],
        columns=["unique_id", "ds", "yhat"])
    if dispersion is not None:
        frame["dispersion"] = dispersion
    params = {} if level_shock is None else {"level_shock": level_shock}
    with engine.begin() as conn:
        start_batch_run(conn, "forecast_weekly", {}, run_id=run_id)
        write_forecasts(conn, run_id, frame)
        finish_batch_run(conn, run_id, "succeeded", params=params)


def test_the_latest_runs_ratio_and_level_shock_set_the_safety_stock(
    loaded_engine: Engine,
) -> None:
    with loaded_engine.begin() as conn:  # plenty on the shelves, so no plan is capped by stock
        conn.execute(Stock.__table__.update().values(on_hand=500))
    # a 95 % service level: a wider distribution of demand means more units kept
    policy = ReservationPolicy(kind="service_level", default_service_level=0.95)
    _record_run(loaded_engine, "forecast_weekly-1-old", None, None)
    default = plan_store_reservations(loaded_engine, PLAN_AS_OF, policy)
    _record_run(loaded_engine, "forecast_weekly-2-poisson", 1.0, 0.0)
    poisson = plan_store_reservations(loaded_engine, PLAN_AS_OF, policy)
    _record_run(loaded_engine, "forecast_weekly-3-shock", 1.0, 0.3)
    shocked = plan_store_reservations(loaded_engine, PLAN_AS_OF, policy)

    # a run without ratios takes the default 1.5; Poisson days keep less; a shared level
    # error of variance 0.3 keeps more than either
    assert default.rows == poisson.rows == shocked.rows > 0
    assert poisson.safety_units < default.safety_units < shocked.safety_units
