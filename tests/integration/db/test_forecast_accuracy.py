"""Scoring a stored weekly run on the sales imported after its as-of day, on SQLite and
PostgreSQL: the run's own rows, the days through the last recorded sale, sold-out days left
out; unknown and unfinished runs refused."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import Engine, select

from api.db.runs import finish_batch_run, start_batch_run, write_forecasts
from api.db.tables import Sale
from api.services.errors import Conflict, NotFound
from api.services.forecast_accuracy import score_forecast_run
from api.services.sales_feed import import_sales

AS_OF = date(2026, 11, 8)  # the tiny chain's last day of sales


def _run(engine: Engine, status: str = "succeeded", kind: str = "forecast_weekly",
         horizon_recorded: bool = True) -> str:
    ds = pd.date_range("2026-11-09", periods=14)
    forecast = pd.concat([pd.DataFrame({"unique_id": uid, "ds": ds, "yhat": level,
                                        "q90": 2 * level})
                          for uid, level in (("S001|online|B", 2.0), ("S002|online|C", 1.0))])
    with engine.begin() as conn:
        params = {"as_of": AS_OF.isoformat(), "horizon_days": 14}
        if not horizon_recorded:
            del params["horizon_days"]
        run_id = start_batch_run(conn, kind, params)
        write_forecasts(conn, run_id, forecast)
        finish_batch_run(conn, run_id, status)  # type: ignore[arg-type]
    return run_id


@pytest.mark.parametrize("kind", ["forecast_weekly", "forecast"])  # CLI batch, console button
def test_the_newest_run_is_scored_through_the_last_recorded_sale(
    loaded_engine: Engine, kind: str
) -> None:
    run_id = _run(loaded_engine, kind=kind)
    sales = pd.DataFrame(
        [("2026-11-09", "S001", "online", "B", 3, 0), ("2026-11-10", "S001", "online", "B", 0, 1),
         ("2026-11-11", "S001", "online", "B", 1, 0), ("2026-11-10", "S002", "online", "C", 2, 0)],
        columns=["date", "node_id", "channel", "sku", "units", "stockout"])
    import_sales(loaded_engine, sales, today=date(2026, 11, 12))

    with loaded_engine.connect() as conn:
        scored = score_forecast_run(conn)

    assert scored.run.run_id == run_id and scored.through == date(2026, 11, 11)
    result = scored.accuracy
    assert result is not None and result.excluded["sold_out_days"] == 1
    by_series = result.by_series
    # B: 9th and 11th (10th sold out): 3 + 1 sold vs 2 + 2; C: 9th-11th, 2 sold vs 3
    assert by_series.loc["S001|online|B", ["days", "actual_units", "forecast_units"]].tolist() \
        == [2, 4, 4]
    assert by_series.loc["S002|online|C", ["days", "actual_units", "forecast_units"]].tolist() \
        == [3, 2, 3]
    assert result.summary.loc["all", "wape"] == pytest.approx((1 + 1 + 1 + 1 + 1) / 6)
    # the seasonal naive on the same days: each day = the same weekday of the week before
    sold = {(uid, day): units for uid, day, units in _last_week(loaded_engine)}
    actual = {("S001|online|B", 9): 3, ("S001|online|B", 11): 1, ("S002|online|C", 9): 0,
              ("S002|online|C", 10): 2, ("S002|online|C", 11): 0}
    naive_errors = sum(abs(sold.get((uid, day - 7), 0) - units)
                       for (uid, day), units in actual.items())
    assert result.summary.loc["all", "naive_wape"] == pytest.approx(naive_errors / 6)
    assert result.summary.loc["all", "value_added_pct"] == pytest.approx(
        100 * (1 - 5 / naive_errors))


def _last_week(engine: Engine) -> list[tuple[str, int, int]]:
    """(unique_id, day of November, units) of the two forecast series, 2-8 November."""
    with engine.connect() as conn:
        rows = conn.execute(select(Sale.node_id, Sale.channel, Sale.sku, Sale.date, Sale.units)
                            .where(Sale.date > date(2026, 11, 1), Sale.date <= AS_OF)).all()
    return [(f"{n}|{c}|{k}", d.day, u) for n, c, k, d, u in rows
            if f"{n}|{c}|{k}" in ("S001|online|B", "S002|online|C")]


def test_unknown_unfinished_and_unscorable_runs(loaded_engine: Engine) -> None:
    with loaded_engine.connect() as conn:
        with pytest.raises(NotFound):
            score_forecast_run(conn)
    failed = _run(loaded_engine, status="failed")
    with loaded_engine.connect() as conn:
        with pytest.raises(NotFound, match="unknown forecast run 'nope'"):
            score_forecast_run(conn, "nope")
        with pytest.raises(Conflict, match="is failed"):
            score_forecast_run(conn, failed)
    fresh = _run(loaded_engine)
    with loaded_engine.connect() as conn:
        scored = score_forecast_run(conn, fresh)
    assert scored.accuracy is None and scored.through == AS_OF  # no sale after the as-of yet
    older_kind = _run(loaded_engine, horizon_recorded=False)  # its rows give the horizon
    with loaded_engine.connect() as conn:
        assert score_forecast_run(conn, older_kind).run.horizon_days == 14
