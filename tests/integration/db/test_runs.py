from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, select

from api.db.runs import (
    finish_batch_run,
    latest_run_id,
    read_forecasts,
    start_batch_run,
    use_forecast_for_demand_rates,
    write_forecasts,
)
from api.db.stock import read_availability
from api.db.tables import BatchRun

START = date(2026, 11, 9)  # a Monday


def _forecast(days: int = 14) -> pd.DataFrame:
    ds = pd.date_range(START, periods=days, freq="D")
    frames = []
    for uid, level in (("S001|store|A", 4.0), ("S001|online|A", 9.0), ("S002|store|C", 0.5)):
        closed = (ds.dayofweek == 6) & uid.endswith("store|A")  # Sundays at 0 for the store
        yhat = np.where(closed, 0.0, level)
        frames.append(pd.DataFrame({"unique_id": uid, "ds": ds, "yhat": yhat, "q90": yhat * 2}))
    return pd.concat(frames, ignore_index=True)


def test_a_forecast_run_is_recorded_and_read_back(loaded_engine: Engine) -> None:
    now = datetime(2026, 11, 9, 6, 0, tzinfo=UTC)
    with loaded_engine.begin() as conn:
        run_id = start_batch_run(conn, "forecast", {"horizon": 14}, model="ets", now=now)
        assert write_forecasts(conn, run_id, _forecast()) == 42
        finish_batch_run(conn, run_id, "succeeded", mlflow_run_id="abc", now=now)
    with loaded_engine.connect() as conn:
        assert latest_run_id(conn, "forecast") == run_id
        run = conn.execute(select(BatchRun.status, BatchRun.params, BatchRun.finished_at)).one()
        frame = read_forecasts(conn, run_id, skus=["A"], start=START, end=START + timedelta(6))
    assert run.status == "succeeded" and run.params == {"horizon": 14}
    assert run.finished_at == now
    assert len(frame) == 14
    assert set(frame["channel"]) == {"store", "online"}
    assert frame["q90"].notna().all() and frame["q50"].isna().all()


def test_a_forecast_replaces_recent_sales_as_the_walkin_rate(loaded_engine: Engine) -> None:
    with loaded_engine.begin() as conn:
        run_id = start_batch_run(conn, "forecast", {})
        write_forecasts(conn, run_id, _forecast())
        assert use_forecast_for_demand_rates(conn, run_id, START, START + timedelta(13)) == 2
    with loaded_engine.connect() as conn:
        rates = {(a.node_id, a.sku): a.walkin_units_per_day for a in read_availability(conn, "AC")}
    assert rates[("S001", "A")] == pytest.approx(4.0)  # closed Sundays are not averaged in
    assert rates[("S002", "C")] == pytest.approx(0.5)
