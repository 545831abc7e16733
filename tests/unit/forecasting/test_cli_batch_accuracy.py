"""`omni batch accuracy` on a tiny demo chain in SQLite: a weekly run made 14 days before the
last recorded sales is scored on those 14 days (figures printed, per-series file, plot, MLflow
metrics on the run's own MLflow run); refusals name the problem and exit 2."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app
from forecasting.calendar import is_store_open


def _weekly_run(database: Path, runner: CliRunner, days_before_last: int) -> tuple[str, date]:
    with sqlite3.connect(database) as conn:
        last = date.fromisoformat(conn.execute("select max(date) from sales").fetchone()[0])
    as_of = last - timedelta(days=days_before_last)
    result = runner.invoke(app, ["batch", "weekly", "--model", "seasonal_naive",
                                 "--as-of", as_of.isoformat()])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(database) as conn:
        run_id = conn.execute("select run_id from batch_runs where kind = 'forecast_weekly' "
                              "order by started_at desc limit 1").fetchone()[0]
    return run_id, last


@pytest.mark.slow
def test_a_run_is_scored_on_the_days_sold_since_its_as_of(
    tiny_chain: tuple[Path, CliRunner], tmp_path: Path
) -> None:
    database, runner = tiny_chain
    run_id, last = _weekly_run(database, runner, 14)

    result = runner.invoke(app, ["batch", "accuracy", "--run", "latest",
                                 "--out", str(tmp_path / "acc.csv"),
                                 "--reports-dir", str(tmp_path / "reports"), "--top", "3"])

    assert result.exit_code == 0, result.output
    assert f"{run_id}" in result.stdout and "14 of 56 days known" in result.stdout
    assert "The 3 stores furthest off in total" in result.stdout
    assert all(f"│ {store} " in result.stdout for store in ("S001", "S002"))
    per_series = pd.read_csv(tmp_path / "acc.csv")
    with sqlite3.connect(database) as conn:
        series = conn.execute("select count(distinct unique_id) from forecasts").fetchone()[0]
        sold = conn.execute(
            "select sum(units) from sales where date > date(?, '-14 days') and stockout = 0",
            (last.isoformat(),)).fetchone()[0]
        flagged = conn.execute(
            "select count(*) from sales where date > date(?, '-14 days') and stockout = 1",
            (last.isoformat(),)).fetchone()[0]
    assert len(per_series) == series
    # every unit sold on a scored day is counted; a walk-in series is scored on open days only
    assert per_series["actual_units"].sum() == sold
    open_days = sum(is_store_open(last - timedelta(days=k), "PL") for k in range(14))
    walk_in = per_series.loc[per_series["unique_id"].str.contains(r"\|store\|")]
    online = per_series.loc[per_series["unique_id"].str.contains(r"\|online\|")]
    assert walk_in["days"].max() == open_days and (online["days"] == 14).all()
    assert walk_in["days"].sum() == len(walk_in) * open_days - flagged
    assert f"left out: {flagged} sold-out days" in result.stdout
    assert per_series["abs_error"].is_monotonic_decreasing
    assert (tmp_path / "reports" / run_id / "accuracy.png").stat().st_size > 0

    from experiments.tracking import client

    tracking = client()
    with sqlite3.connect(database) as conn:
        logged_run = conn.execute("select mlflow_run_id from batch_runs where run_id = ?",
                                  (run_id,)).fetchone()[0]
    history = tracking.get_metric_history(logged_run, "realised.all.actual_units")
    assert [(m.step, m.value) for m in history] == [(14, sold)]
    assert 0 <= tracking.get_run(logged_run).data.metrics["realised.online.coverage_q90"] <= 1
    assert [a.path for a in tracking.list_artifacts(logged_run, "realised")] == [
        "realised/accuracy.png"]

    # scored again with the last 7 days held back (a feed still coming in): a second point
    capped = runner.invoke(app, ["batch", "accuracy", "--through",
                                 (last - timedelta(days=7)).isoformat(), "--top", "0",
                                 "--reports-dir", str(tmp_path / "reports")])
    assert capped.exit_code == 0, capped.output
    assert "7 of 56 days known" in capped.stdout
    history = tracking.get_metric_history(logged_run, "realised.all.actual_units")
    assert [m.step for m in sorted(history, key=lambda m: m.step)] == [7, 14]

    # a last day before the run's first forecast day is a mistake, not "no sales yet"
    as_of = last - timedelta(days=14)
    early = runner.invoke(app, ["batch", "accuracy", "--through", as_of.isoformat()])
    assert early.exit_code == 2
    assert f"is not after the run's as-of day {as_of}" in early.stderr
    assert len(tracking.get_metric_history(logged_run, "realised.all.actual_units")) == 2


@pytest.mark.slow
def test_a_run_without_sales_after_it_has_nothing_to_score(
    tiny_chain: tuple[Path, CliRunner]
) -> None:
    database, runner = tiny_chain
    _weekly_run(database, runner, 0)

    result = runner.invoke(app, ["batch", "accuracy"])

    assert result.exit_code == 0, result.output
    assert "nothing to score" in result.stdout


def test_refusals_name_the_problem(tiny_chain: tuple[Path, CliRunner], tmp_path: Path) -> None:
    database, runner = tiny_chain

    no_run = runner.invoke(app, ["batch", "accuracy"])
    unknown = runner.invoke(app, ["batch", "accuracy", "--run", "nope"])
    with sqlite3.connect(database) as conn:
        conn.execute("insert into batch_runs (run_id, kind, started_at, status, params) values "
                     "('r-failed', 'forecast_weekly', '2026-01-01 00:00:00', 'failed', "
                     "'{\"as_of\": \"2026-01-01\"}')")
        conn.execute("insert into batch_runs (run_id, kind, started_at, status, params) values "
                     "('r-plan', 'plan_reservations', '2026-01-01 00:00:00', 'succeeded', '{}')")
    failed = runner.invoke(app, ["batch", "accuracy", "--run", "r-failed"])
    other_kind = runner.invoke(app, ["batch", "accuracy", "--run", "r-plan"])
    bad_out = runner.invoke(app, ["batch", "accuracy", "--out", str(tmp_path / "a.txt")])
    no_folder = runner.invoke(app, ["batch", "accuracy", "--out",
                                    str(tmp_path / "missing" / "a.csv")])
    bad_day = runner.invoke(app, ["batch", "accuracy", "--through", "yesterday"])

    assert no_run.exit_code == 2 and "no forecast run has succeeded" in no_run.stderr
    assert unknown.exit_code == 2 and "unknown forecast run 'nope'" in unknown.stderr
    assert failed.exit_code == 2 and "is failed, not succeeded" in failed.stderr
    assert other_kind.exit_code == 2 and "unknown forecast run 'r-plan'" in other_kind.stderr
    assert bad_out.exit_code == 2 and "use .csv or .parquet" in bad_out.stderr
    assert no_folder.exit_code == 2 and "output folder does not exist" in no_folder.stderr
    assert bad_day.exit_code == 2 and "--through 'yesterday': not a date" in bad_day.stderr


@pytest.mark.slow
def test_the_weekly_batch_backtests_its_last_folds_as_realised_accuracy(
    tiny_chain: tuple[Path, CliRunner]
) -> None:
    database, runner = tiny_chain

    result = runner.invoke(app, ["batch", "weekly", "--model", "seasonal_naive",
                                 "--backtest-folds", "2"])

    assert result.exit_code == 0, result.output
    with sqlite3.connect(database) as conn:
        last = date.fromisoformat(conn.execute("select max(date) from sales").fetchone()[0])
        sold = [conn.execute("select sum(units) from sales where stockout = 0 and date > ? and "
                             "date <= ?", ((last - timedelta(days=28 * k)).isoformat(),
                                           (last - timedelta(days=28 * (k - 1))).isoformat())
                             ).fetchone()[0] for k in (1, 2)]
        params, logged_run = conn.execute("select params, mlflow_run_id from batch_runs where "
                                          "kind = 'forecast_weekly'").fetchone()
    first_fold = f"backtest fold 1 ({last - timedelta(days=27)} .. {last})"
    assert first_fold in result.stdout and "backtest fold 2 (" in result.stdout
    recorded = json.loads(params)
    assert recorded["backtest_folds"] == 2 and recorded["backtest_wape"] > 0

    from experiments.tracking import client

    history = client().get_metric_history(logged_run, "backtest.all.actual_units")
    assert sorted((m.step, m.value) for m in history) == [(1, sold[0]), (2, sold[1])]


def test_a_day_only_some_stores_have_reported_is_not_scored_unless_asked(
    tiny_chain: tuple[Path, CliRunner], tmp_path: Path
) -> None:
    database, runner = tiny_chain
    _, last = _weekly_run(database, runner, 7)
    with sqlite3.connect(database) as conn:
        node, sku = conn.execute("select node_id, sku from sales limit 1").fetchone()
    late_day = last + timedelta(days=1)
    (tmp_path / "late.csv").write_text(
        f"date,node_id,channel,sku,units\n{late_day},{node},store,{sku},3\n")
    assert runner.invoke(app, ["sales", "import", str(tmp_path / "late.csv")]).exit_code == 0
    reports = ["--reports-dir", str(tmp_path / "reports")]

    held = runner.invoke(app, ["batch", "accuracy", *reports])
    asked = runner.invoke(app, ["batch", "accuracy", "--through", late_day.isoformat(), *reports])

    assert held.exit_code == 0 and asked.exit_code == 0, held.output + asked.output
    assert "7 of 56 days known" in held.stdout and f"sales after {last} look incomplete" \
        in held.stdout
    assert "8 of 56 days known" in asked.stdout and "look incomplete" not in asked.stdout
