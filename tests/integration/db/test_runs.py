from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from api.db.runs import (
    RunInProgress,
    finish_batch_run,
    heartbeat,
    keep_alive,
    latest_run_id,
    read_forecasts,
    reap_abandoned_runs,
    start_batch_run,
    start_exclusive_run,
    use_forecast_for_demand_rates,
    write_forecasts,
)
from api.db.stock import read_availability
from api.db.tables import BatchRun, Sale

START = date(2026, 11, 9)  # a Monday


def _forecast(days: int = 14) -> pd.DataFrame:
    ds = pd.date_range(START, periods=days, freq="D")
    frames = []
    for uid, level in (("S001|store|A", 4.0), ("S001|online|A", 9.0), ("S002|store|C", 0.5)):
        closed = (ds.dayofweek == 6) & uid.endswith("store|A")  # Sundays at 0 for the store
        yhat = np.where(closed, 0.0, level)
        frames.append(pd.DataFrame({"unique_id": uid, "ds": ds, "yhat": yhat, "q90": yhat * 2,
                                    "dispersion": 1.0 + 0.25 * yhat}))
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
    assert (frame["dispersion"] == 1.0 + 0.25 * frame["yhat"]).all()


def test_a_forecast_replaces_recent_sales_as_the_walkin_rate(loaded_engine: Engine) -> None:
    with loaded_engine.begin() as conn:
        run_id = start_batch_run(conn, "forecast", {})
        write_forecasts(conn, run_id, _forecast())
        assert use_forecast_for_demand_rates(conn, run_id, START, START + timedelta(13)) == 2
    with loaded_engine.connect() as conn:
        rates = {(a.node_id, a.sku): a.walkin_units_per_day for a in read_availability(conn, "AC")}
    assert rates[("S001", "A")] == pytest.approx(4.0)  # closed Sundays are not averaged in
    assert rates[("S002", "C")] == pytest.approx(0.5)


def test_a_run_whose_heartbeat_went_quiet_is_reaped_and_a_live_one_is_not(
    loaded_engine: Engine,
) -> None:
    t0 = datetime(2026, 11, 9, 6, 0, tzinfo=UTC)
    with loaded_engine.begin() as conn:
        dead = start_batch_run(conn, "forecast", {"as_of": "2026-11-08"}, now=t0)
        alive = start_batch_run(conn, "forecast", {}, now=t0)
        done = start_batch_run(conn, "forecast", {}, now=t0)
        finish_batch_run(conn, done, "succeeded", now=t0 + timedelta(minutes=1))
        assert heartbeat(conn, alive, now=t0 + timedelta(minutes=8))
        assert not heartbeat(conn, done), "a finished run takes no heartbeat"
        now = t0 + timedelta(minutes=10)
        assert reap_abandoned_runs(conn, now=now) == [dead]
        assert reap_abandoned_runs(conn, now=now) == [], "reaping twice changes nothing"
    with loaded_engine.connect() as conn:
        rows = {r.run_id: r for r in conn.execute(
            select(BatchRun.run_id, BatchRun.status, BatchRun.params, BatchRun.finished_at)
        )}
    assert rows[dead].status == "failed" and rows[dead].finished_at == now
    assert rows[dead].params["as_of"] == "2026-11-08"
    assert "abandoned" in rows[dead].params["error"]
    assert rows[alive].status == "running" and rows[done].status == "succeeded"


def test_keep_alive_beats_while_the_work_runs(loaded_engine: Engine) -> None:
    started = datetime.now(UTC) - timedelta(hours=1)
    with loaded_engine.begin() as conn:
        run_id = start_batch_run(conn, "forecast", {}, now=started)

    def last_beat() -> datetime:
        with loaded_engine.connect() as conn:
            return conn.execute(
                select(BatchRun.heartbeat_at).where(BatchRun.run_id == run_id)
            ).scalar_one()

    with keep_alive(loaded_engine, run_id, every=timedelta(milliseconds=20)):
        deadline = time.monotonic() + 10.0
        while last_beat() == started and time.monotonic() < deadline:
            time.sleep(0.02)
    assert last_beat() > started
    with loaded_engine.begin() as conn:
        assert reap_abandoned_runs(conn) == [], "a run that beats is not abandoned"


def test_the_weekly_batch_beats_while_it_fits(
    loaded_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`omni batch weekly` and the console's button run `run_forecast_batch`: a CLI batch of
    many minutes used to have no heartbeat, and a console start reaped it as abandoned."""
    from api.services.forecast_batch import run_forecast_batch

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")

    started = datetime.now(UTC) - timedelta(hours=1)
    with loaded_engine.begin() as conn:
        run_id = start_batch_run(conn, "forecast_weekly", {}, now=started)
        as_of = conn.execute(select(func.max(Sale.date))).scalar_one()
    beats: list[datetime] = []

    def while_fitting(what: str, _done: int) -> None:
        if what == "predict":  # the fit is done: give the heartbeat a moment, then look
            deadline = time.monotonic() + 10.0
            while time.monotonic() < deadline:
                with loaded_engine.connect() as conn:
                    beat = conn.execute(select(BatchRun.heartbeat_at)
                                        .where(BatchRun.run_id == run_id)).scalar_one()
                if beat > started:
                    beats.append(beat)
                    return
                time.sleep(0.02)

    result = run_forecast_batch(loaded_engine, run_id, as_of, "seasonal_naive",
                                progress=while_fitting, heartbeat_every=timedelta(milliseconds=20))
    assert beats and beats[0] > started
    with loaded_engine.connect() as conn:
        status = conn.execute(select(BatchRun.status).where(BatchRun.run_id == run_id)).scalar()
    assert status == "succeeded" and result.rows > 0


KINDS = ("forecast_weekly", "forecast")


def test_a_batch_is_not_started_while_another_is_alive_and_the_abandoned_are_reaped_first(
    loaded_engine: Engine,
) -> None:
    with loaded_engine.begin() as conn:
        dead = start_batch_run(conn, "forecast", {}, now=datetime.now(UTC) - timedelta(hours=1))
        first, reaped = start_exclusive_run(conn, KINDS, "forecast_weekly", {"as_of": "x"})
    assert reaped == [dead]
    with pytest.raises(RunInProgress, match=f"run {first} is still running"):
        with loaded_engine.begin() as conn:
            start_exclusive_run(conn, KINDS, "forecast", {})
    with loaded_engine.connect() as conn:
        statuses = dict(conn.execute(select(BatchRun.run_id, BatchRun.status)).tuples().all())
    assert statuses == {dead: "failed", first: "running"}


def test_a_refused_batch_start_still_reaps_the_abandoned_runs(loaded_engine: Engine) -> None:
    """Reaping and refusing used to share one transaction, so a refused start rolled its
    reaping back and a dead run stayed `running` on the console until the next start."""
    from api.services.forecast_batch import start_forecast_batch

    with loaded_engine.begin() as conn:
        alive = start_batch_run(conn, "forecast", {})
        dead = start_batch_run(conn, "forecast_weekly", {},
                               now=datetime.now(UTC) - timedelta(hours=1))
    with pytest.raises(RunInProgress, match=f"run {alive} is still running"):
        start_forecast_batch(loaded_engine, "forecast_weekly", "seasonal_naive")
    with loaded_engine.connect() as conn:
        statuses = dict(conn.execute(select(BatchRun.run_id, BatchRun.status)).tuples().all())
    assert statuses == {alive: "running", dead: "failed"}


def test_a_batch_is_not_started_on_an_empty_sales_table(loaded_engine: Engine) -> None:
    """The console's button used to record a run dated today and fail it in the background."""
    from api.services.errors import Conflict
    from api.services.forecast_batch import start_forecast_batch

    with loaded_engine.begin() as conn:
        conn.execute(Sale.__table__.delete())
    with pytest.raises(Conflict, match="the sales table is empty"):
        start_forecast_batch(loaded_engine, "forecast", "seasonal_naive")
    with loaded_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(BatchRun)).scalar_one() == 0


def test_two_batches_started_at_the_same_moment_do_not_both_run(loaded_engine: Engine) -> None:
    """The second start waits for the first one's transaction (PostgreSQL: an advisory lock,
    SQLite: its single writer) and then sees it running; checking without waiting would miss
    the first run's uncommitted row and start a second batch beside it."""
    outcome: list[object] = []

    def second_start() -> None:
        try:
            with loaded_engine.begin() as conn:
                outcome.append(start_exclusive_run(conn, KINDS, "forecast", {})[0])
        except RunInProgress as busy:
            outcome.append(busy)

    with loaded_engine.begin() as conn:
        first, _ = start_exclusive_run(conn, KINDS, "forecast_weekly", {})
        other = threading.Thread(target=second_start)
        other.start()
        time.sleep(0.5)  # the second start is now waiting on (or past) the check
    other.join(timeout=30)

    assert len(outcome) == 1 and isinstance(outcome[0], RunInProgress)
    assert outcome[0].run_id == first
    with loaded_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(BatchRun)).scalar_one() == 1


def test_a_batch_that_fails_marks_its_run_failed_with_the_error(
    loaded_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI and the console run the same service; it owns the run's end either way."""
    from api.services.forecast_batch import run_forecast_batch
    from forecasting.registry import UnknownModelError

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    with loaded_engine.begin() as conn:
        run_id = start_batch_run(conn, "forecast_weekly", {"source": "test"})
        as_of = conn.execute(select(func.max(Sale.date))).scalar_one()

    with pytest.raises(UnknownModelError):
        run_forecast_batch(loaded_engine, run_id, as_of, "no-such-model",
                           params={"source": "test"}, horizon=14)

    with loaded_engine.connect() as conn:
        status, params = conn.execute(select(BatchRun.status, BatchRun.params)
                                      .where(BatchRun.run_id == run_id)).one()
    assert status == "failed" and params["source"] == "test"
    assert "no-such-model" in params["error"] and params["as_of"] == str(as_of)
    # what it was asked to forecast survives the failure, to compare with the runs that worked
    assert params["horizon_days"] == 14 and params["country"] == "PL"
