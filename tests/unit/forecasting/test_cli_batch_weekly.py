"""`omni batch weekly` on a tiny demo chain in SQLite: one run recorded, 8 weeks written."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from forecasting.calendar import is_store_open


@pytest.mark.slow
def test_weekly_batch_writes_eight_weeks_per_series_and_records_the_run(tmp_path: Path) -> None:
    database = tmp_path / "omni.db"
    env = {"OMNI_DATABASE_URL": f"sqlite:///{database}"}
    runner = CliRunner()
    loaded = runner.invoke(app, ["db", "init", "--demo", "--stores", "2", "--skus", "2"],
                           env=env)
    assert loaded.exit_code == 0, loaded.output

    result = runner.invoke(app, ["batch", "weekly", "--model", "seasonal_naive"], env=env)

    assert result.exit_code == 0, result.output
    with sqlite3.connect(database) as conn:
        runs = conn.execute("select run_id, status, model from batch_runs "
                            "where kind = 'forecast_weekly'").fetchall()
        assert [(status, model) for _, status, model in runs] == [("succeeded", "seasonal_naive")]
        per_series = conn.execute("select unique_id, count(*), min(ds) from forecasts "
                                  "where run_id = ? group by unique_id", (runs[0][0],)).fetchall()
        walk_in = conn.execute("select ds, max(yhat) from forecasts where channel = 'store' "
                               "group by ds").fetchall()
    assert per_series and {count for _, count, _ in per_series} == {56}
    closed = [top for ds, top in walk_in if not is_store_open(date.fromisoformat(ds[:10]), "PL")]
    assert closed and all(top == 0 for top in closed)
