"""`omni batch weekly` on a tiny demo chain in SQLite: one run recorded, 8 weeks written, one
MLflow run logged; `--model champion` with an empty registry stops before touching anything."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from api.cli import app
from forecasting.calendar import is_store_open


@pytest.mark.slow
def test_weekly_batch_writes_eight_weeks_per_series_and_records_the_run(
    tiny_chain: tuple[Path, CliRunner], monkeypatch: pytest.MonkeyPatch
) -> None:
    database, runner = tiny_chain

    result = runner.invoke(app, ["batch", "weekly", "--model", "seasonal_naive"])

    assert result.exit_code == 0, result.output
    with sqlite3.connect(database) as conn:
        runs = conn.execute("select run_id, status, model, mlflow_run_id from batch_runs "
                            "where kind = 'forecast_weekly'").fetchall()
        recorded = json.loads(conn.execute("select params from batch_runs where kind = "
                                           "'forecast_weekly'").fetchone()[0])
        assert [(status, model) for _, status, model, _ in runs] == [
            ("succeeded", "seasonal_naive")]
        per_series = conn.execute("select unique_id, count(*), min(ds) from forecasts "
                                  "where run_id = ? group by unique_id", (runs[0][0],)).fetchall()
        walk_in = conn.execute("select ds, max(yhat) from forecasts where channel = 'store' "
                               "group by ds").fetchall()
        spread = conn.execute("select count(*), sum(dispersion is null), min(dispersion), "
                              "max(dispersion), max(case when yhat = 0 then dispersion end) "
                              "from forecasts").fetchone()
    assert per_series and {count for _, count, _ in per_series} == {56}
    # every day carries its demand's variance-to-mean ratio for the planners: 1 where nothing
    # is expected (closed days), above 1 where the fitted dispersion adds to Poisson noise
    rows, missing, lowest, highest, on_empty_days = spread
    assert rows == len(per_series) * 56 and missing == 0
    assert lowest == pytest.approx(1.0) and on_empty_days == pytest.approx(1.0)
    assert highest > 1.0
    # the run records psi (the error its series' days share) for the safety-stock plan
    assert recorded["horizon_days"] == 56 and recorded["level_shock"] >= 0.0
    assert recorded["series"] == len(per_series)
    closed = [top for ds, top in walk_in if not is_store_open(date.fromisoformat(ds[:10]), "PL")]
    assert closed and all(top == 0 for top in closed)

    from experiments.tracking import client

    tracking = client()
    experiment = tracking.get_experiment_by_name("weekly-batch")
    assert experiment is not None
    logged = tracking.search_runs([experiment.experiment_id])
    assert [run.info.run_id for run in logged] == [runs[0][3]]
    params, metrics = logged[0].data.params, logged[0].data.metrics
    assert params["model"] == "seasonal_naive" and params["horizon"] == "56"
    assert params["series"] == str(len(per_series)) and params["version"] == "none"
    assert params["param.statsforecast.season_length"] == "7"  # what the fitted model ran with
    assert {"holdout_rmsse", "holdout_mase", "holdout_bias"} <= set(metrics)
    plots = [a.path for a in tracking.list_artifacts(runs[0][3], "plots")]
    busiest = [p for p in plots if p.startswith("plots/forecast_")]
    sold_out = [p for p in plots if p.startswith("plots/sold_out_")]
    with sqlite3.connect(database) as conn:
        recently_sold_out = conn.execute(
            "select count(distinct node_id || channel || sku) from sales where stockout = 1 "
            "and date > date((select max(date) from sales), '-120 days')").fetchone()[0]
    assert recently_sold_out > 0  # the demo chain's walk-in spells
    assert len(busiest) == min(4, len(per_series))
    assert len(sold_out) == min(2, recently_sold_out)
    assert len(plots) == len(busiest) + len(sold_out) and all(p.endswith(".png") for p in plots)

    def broken_store(*args: object, **kwargs: object) -> str:
        raise ConnectionError("tracking store unreachable")

    monkeypatch.setattr("experiments.batch_logging.log_weekly_batch", broken_store)
    unlogged = runner.invoke(app, ["batch", "weekly", "--model", "seasonal_naive"])

    assert unlogged.exit_code == 0, unlogged.output
    assert "warning: MLflow logging failed" in unlogged.stderr
    with sqlite3.connect(database) as conn:
        latest = conn.execute("select status, mlflow_run_id, (select count(*) from forecasts f "
                              "where f.run_id = r.run_id) from batch_runs r where kind = "
                              "'forecast_weekly' order by started_at desc limit 1").fetchone()
    assert latest == ("succeeded", None, len(per_series) * 56)


@pytest.mark.parametrize(
    ("as_of", "message"),
    [("next tuesday", "'next tuesday' is not a date"),
     ("2099-01-01", "sales are recorded through 2026-11-08 only"),
     ("2000-01-01", "before the first recorded sale")],
)
def test_an_as_of_the_sales_cannot_support_is_refused_before_a_run_is_recorded(
    tiny_chain: tuple[Path, CliRunner], as_of: str, message: str
) -> None:
    database, runner = tiny_chain

    result = runner.invoke(app, ["batch", "weekly", "--as-of", as_of, "--model",
                                 "seasonal_naive"])

    assert result.exit_code == 2
    assert message in result.stderr
    with sqlite3.connect(database) as conn:
        assert conn.execute("select count(*) from batch_runs").fetchone() == (0,)
        assert conn.execute("select count(*) from forecasts").fetchone() == (0,)


@pytest.mark.parametrize("horizon", ["0", "-3"])
def test_a_horizon_below_one_day_is_refused_before_a_run_is_recorded(
    tiny_chain: tuple[Path, CliRunner], horizon: str
) -> None:
    database, runner = tiny_chain

    result = runner.invoke(app, ["batch", "weekly", "--horizon", horizon, "--model",
                                 "seasonal_naive"])

    assert result.exit_code == 2
    assert "--horizon" in result.stderr and "greater than or equal to 1" in result.stderr
    with sqlite3.connect(database) as conn:
        assert conn.execute("select count(*) from batch_runs").fetchone() == (0,)


def test_a_last_day_only_some_stores_have_reported_is_held_back_from_the_default_as_of(
    tiny_chain: tuple[Path, CliRunner], tmp_path: Path
) -> None:
    database, runner = tiny_chain
    with sqlite3.connect(database) as conn:
        node, sku = conn.execute("select node_id, sku from sales limit 1").fetchone()
    (tmp_path / "late.csv").write_text(  # one store's walk-in day, nothing from the other yet
        f"date,node_id,channel,sku,units\n2026-11-09,{node},store,{sku},3\n")
    assert runner.invoke(app, ["sales", "import", str(tmp_path / "late.csv")]).exit_code == 0

    result = runner.invoke(app, ["batch", "weekly", "--model", "seasonal_naive"])

    assert result.exit_code == 0, result.output
    assert "sales after 2026-11-08 look incomplete" in result.stderr
    assert "2026-11-09 (online 0/" in result.stderr and "store 1/2)" in result.stderr
    with sqlite3.connect(database) as conn:
        params = json.loads(conn.execute("select params from batch_runs").fetchone()[0])
        first_day = conn.execute("select min(ds) from forecasts").fetchone()[0]
    assert params["as_of"] == "2026-11-08" and str(first_day).startswith("2026-11-09")


@pytest.mark.parametrize("command", [["batch", "weekly"], ["forecast", "--history", "h.csv",
                                                            "--horizon", "7", "--out", "o.csv"]])
def test_champion_with_an_empty_registry_exits_with_the_reason_and_writes_nothing(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "omni.db"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "h.csv").write_text("unique_id,ds,y\na,2024-01-01,1\n")
    monkeypatch.setenv("OMNI_DATABASE_URL", f"sqlite:///{database}")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}")

    result = CliRunner().invoke(app, [*command, "--model", "champion"])

    assert result.exit_code == 2
    assert "no 'champion' version" in result.stderr
    assert not database.exists() and not (tmp_path / "o.csv").exists()


def test_forecast_with_a_registered_champion_runs_its_model_and_names_the_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    from experiments.champion import register_champion
    from experiments.tracking import experiment_id

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow' / 'mlflow.db'}")
    days = [f"2024-01-{d:02d}" for d in range(1, 29)]
    (tmp_path / "h.csv").write_text("unique_id,ds,y\n" + "".join(
        f"a,{ds},{i % 7}\n" for i, ds in enumerate(days)))
    with mlflow.start_run(experiment_id=experiment_id("champion-test")) as run:
        pass
    version = register_champion(run.info.run_id, "seasonal_naive", {}, horizon=7, country="none")

    result = CliRunner().invoke(app, ["forecast", "--history", "h.csv", "--horizon", "7",
                                      "--out", "o.csv", "--country", "none",
                                      "--model", "champion"])

    assert result.exit_code == 0, result.output
    assert f"seasonal_naive@champion-v{version}" in result.stdout
    assert (tmp_path / "o.csv").read_text().count("\n") == 8


@pytest.mark.slow
def test_weekly_batch_forecasts_a_sold_out_series_from_the_demand_around_its_stock_out(
    tmp_path: Path, tiny_chain: tuple[Path, CliRunner]
) -> None:
    """The busiest online series' last week sold nothing because it sold out, as the POS file
    imported through `omni sales import` says (`stockout` = 1). Seasonal naive repeats the last
    week: fitted on the recorded zeros it would forecast 0; the batch fits the estimated demand
    of those days instead (and of the demo chain's own walk-in spells), says how many it
    estimated, and records the imported data's version."""
    database, runner = tiny_chain
    with sqlite3.connect(database) as conn:
        last = conn.execute("select max(date) from sales").fetchone()[0]
        node, sku = conn.execute(
            "select node_id, sku from sales where channel = 'online' group by node_id, sku "
            "order by sum(units) desc limit 1").fetchone()
        before = conn.execute(
            "select sum(units) / 28.0 from sales where node_id = ? and channel = 'online' and "
            "sku = ? and date > date(?, '-35 days') and date <= date(?, '-7 days')",
            (node, sku, last, last)).fetchone()[0]
        own = conn.execute("select count(*) from sales where stockout = 1").fetchone()[0]
    days = pd.date_range(end=last, periods=7).strftime("%Y-%m-%d")
    pd.DataFrame({"date": days, "node_id": node, "channel": "online", "sku": sku, "units": 0,
                  "stockout": 1}).to_csv(tmp_path / "pos.csv", index=False)
    imported = runner.invoke(app, ["sales", "import", str(tmp_path / "pos.csv")])
    assert imported.exit_code == 0, imported.output

    result = runner.invoke(app, ["batch", "weekly", "--model", "seasonal_naive"])

    assert result.exit_code == 0, result.output
    assert own > 0  # the demo chain's own walk-in stock-out spells
    assert f"{own + 7} sold-out days fitted as estimated demand" in result.stdout
    with sqlite3.connect(database) as conn:
        mean = conn.execute("select avg(yhat) from forecasts where unique_id = ?",
                            (f"{node}|online|{sku}",)).fetchone()[0]
        recorded = json.loads(conn.execute("select params from batch_runs where kind = "
                                           "'forecast_weekly'").fetchone()[0])
        run_version = conn.execute("select data_version from batch_runs where kind = "
                                   "'forecast_weekly'").fetchone()[0]
        versions = dict(conn.execute("select name, data_version from datasets").fetchall())
    # the run records the data as imported, not the demo chain it started from
    assert run_version == versions["sales_feed"] != versions["demo"]
    assert run_version[:12] in imported.stdout
    assert before > 0.1  # the zeros it replaced would have made the forecast 0
    assert mean == pytest.approx(before, rel=0.35)
    assert recorded["censored_days"] == own + 7 and recorded["censored_added_units"] > 0


@pytest.mark.slow
def test_a_sku_launched_days_ago_is_forecast_at_its_own_level_beside_the_older_ones(
    tmp_path: Path, tiny_chain: tuple[Path, CliRunner]
) -> None:
    """A SKU with five days of sales is younger than the 55 days the LightGBM's features read
    back: the batch forecasts it at the mean of its open days (4 a day), not at the near-zero
    the model gives a series whose features are missing, and the other series as usual."""
    database, runner = tiny_chain
    with sqlite3.connect(database) as conn:
        last = conn.execute("select max(date) from sales").fetchone()[0]
        node, sku = conn.execute("select node_id, sku from sales order by sku, node_id "
                                 "limit 1").fetchone()
        conn.execute("delete from sales where sku = ?", (sku,))
    days = pd.date_range(end=last, periods=5)
    walk_in = [d for d in days if is_store_open(d.date(), "PL")]
    pd.DataFrame({"date": [*days, *walk_in], "node_id": node,
                  "channel": ["online"] * len(days) + ["store"] * len(walk_in), "sku": sku,
                  "units": 4}).to_csv(tmp_path / "launch.csv", index=False)
    assert runner.invoke(app, ["sales", "import", str(tmp_path / "launch.csv")]).exit_code == 0

    result = runner.invoke(app, ["batch", "weekly", "--as-of", str(last)[:10]])

    assert result.exit_code == 0, result.output
    with sqlite3.connect(database) as conn:
        rows = conn.execute("select unique_id, ds, yhat from forecasts").fetchall()
    forecast = pd.DataFrame(rows, columns=["unique_id", "ds", "yhat"])
    online = forecast.loc[forecast["unique_id"] == f"{node}|online|{sku}", "yhat"]
    store = forecast.loc[forecast["unique_id"] == f"{node}|store|{sku}"]
    opened = [is_store_open(date.fromisoformat(ds[:10]), "PL") for ds in store["ds"]]
    assert len(online) == len(store) == 56 and len(walk_in) >= 4
    assert online.to_numpy() == pytest.approx(4.0)
    assert store.loc[opened, "yhat"].to_numpy() == pytest.approx(4.0)
    assert (store.loc[[not o for o in opened], "yhat"] == 0).all()
    assert forecast["unique_id"].nunique() > 2


def test_a_batch_is_refused_while_the_consoles_batch_is_running(
    tiny_chain: tuple[Path, CliRunner],
) -> None:
    """Two batches at once would halve the speed of both and the later would replace the
    other's forecasts; the console already refused to start beside a running one."""
    database, runner = tiny_chain
    now = datetime.now(UTC).isoformat(sep=" ")
    with sqlite3.connect(database) as conn:
        conn.execute("insert into batch_runs (run_id, kind, started_at, heartbeat_at, status, "
                     "params) values ('forecast-console', 'forecast', ?, ?, 'running', '{}')",
                     (now, now))

    result = runner.invoke(app, ["batch", "weekly", "--model", "seasonal_naive"])

    assert result.exit_code == 1
    assert "forecast run forecast-console is still running" in result.stderr
    with sqlite3.connect(database) as conn:
        assert conn.execute("select run_id from batch_runs").fetchall() == [("forecast-console",)]
        assert conn.execute("select count(*) from forecasts").fetchone() == (0,)
