"""The policy comparison and the weekly batch logged to a real MLflow store in a temporary
folder: each run says what it measured, with what settings and code, without its parent."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from experiments.batch_logging import WeeklyBatchRecord, log_weekly_batch
from experiments.policies import log_policies
from experiments.run_description import hyperparameters
from experiments.simulation import PolicyResult, SimulationConfig
from forecasting.registry import make_model

pytestmark = pytest.mark.slow  # MLflow creates its SQLite schema: ~20 s of CPU
SCOPE = {"weeks": 2, "seed": 3, "stores": 4, "skus": 5, "chain_seed": 7, "order_sample": 0.5}


@pytest.fixture(scope="module")
def store_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('mlruns') / 'mlflow.db'}"


def _result(policy: str, cost_plus_lost: float, margin: float) -> PolicyResult:
    return PolicyResult(policy, orders=10, served=10, cancelled=0, online_refused=0,
                        cost_per_order_pln=1.0, parcels_per_order=1.0, on_time_rate=0.9,
                        walkin_units=5, walkin_lost_units=0, walkin_lost_pln=0.0,
                        walkin_lost_margin_pln=0.0, fulfilment_cost_pln=cost_plus_lost,
                        cost_plus_lost_margin_pln=cost_plus_lost, margin_pln=margin,
                        seconds=0.0, cost_plus_lost_incl_refused_pln=cost_plus_lost)


@pytest.fixture(scope="module")
def policy_runs(store_uri: str) -> list[Any]:
    """Children of one logged comparison, read back from the store (the parent first)."""
    import mlflow

    results = [_result("nearest", 13_000.0, 900.0), _result("dc_first", 11_672.0, 950.0),
               _result("optimizer_reserved", 12_376.0, 1000.0)]
    parent_id = log_policies(results, SCOPE, uri=store_uri,
                             config=SimulationConfig(forecast_model="seasonal_naive"))
    parent = mlflow.get_run(parent_id)
    children = mlflow.search_runs(
        experiment_ids=[parent.info.experiment_id], output_format="list",
        filter_string=f"tags.mlflow.parentRunId = '{parent_id}'")
    return [parent, *children]


def test_every_policy_run_carries_the_season_scope_and_its_own_settings(
        policy_runs: list[Any]) -> None:
    _, *children = policy_runs
    by = {run.data.params["policy"]: run.data for run in children}
    assert set(by) == {"nearest", "dc_first", "optimizer_reserved"}
    for data in by.values():
        assert {k: data.params[k] for k in SCOPE} == {k: str(v) for k, v in SCOPE.items()}
        assert data.params["param.forecast_model"] == "seasonal_naive"
        assert data.params["param.weights.split_pln"] == "6.0"
        assert data.tags["omni.code_version"]
    assert by["nearest"].params["param.solver"] == "greedy"
    assert by["optimizer_reserved"].params["param.solver"] == "auto"
    assert by["optimizer_reserved"].params["param.deadline_ms"] == "500.0"
    assert by["optimizer_reserved"].params["param.reservation.kind"] == "critical_ratio"
    assert "param.reservation.kind" not in by["nearest"].params


def test_the_policy_goals_are_numeric_metrics_runs_sort_by(
        policy_runs: list[Any], store_uri: str) -> None:
    import mlflow

    parent = policy_runs[0]
    metrics = parent.data.metrics
    assert metrics["goal.cost_plus_lost_cut_vs_best_rule"] == pytest.approx(-0.0603)
    assert metrics["goal.cut_at_least_5pct"] == 0.0 and metrics["goal.highest_margin"] == 1.0
    ranked = mlflow.search_runs(
        experiment_ids=[parent.info.experiment_id], output_format="list",
        filter_string="metrics.`goal.cut_at_least_5pct` = 0",
        order_by=["metrics.`goal.cost_plus_lost_cut_vs_best_rule` DESC"])
    assert [run.info.run_id for run in ranked] == [parent.info.run_id]


def test_the_weekly_batch_run_logs_the_models_effective_hyperparameters_and_scope(
        store_uri: str) -> None:
    import mlflow

    days = pd.date_range("2026-01-01", periods=70)
    history = pd.concat([pd.DataFrame({"unique_id": uid, "ds": days,
                                       "y": (np.arange(70) % 7).astype(float) + shift})
                         for uid, shift in (("S1|store|A", 0.0), ("S2|online|B", 2.0))])
    model = make_model("lgbm", country="PL", n_estimators=5, num_threads=1).fit(history)
    record = WeeklyBatchRecord("batch-1", "2026-03-11", 7, "lgbm", None, None,
                               {"n_estimators": 5, "num_threads": 1},
                               hyperparameters=hyperparameters(model))

    run_id = log_weekly_batch(record, history, model.predict(7), None, uri=store_uri)

    data = mlflow.get_run(run_id).data
    assert data.params["param.n_estimators"] == "5"  # asked for
    assert data.params["param.learning_rate"] == "0.05"  # the default it ran with
    assert data.params["param.lags"].startswith("(1, 2, 3")
    assert data.params["model.n_estimators"] == "5"  # the request, as before
    assert (data.params["series"], data.params["rows"]) == ("2", "140")
    assert (data.params["history_start"], data.params["history_end"]) == (
        "2026-01-01", "2026-03-11")
    assert data.tags["omni.code_version"]
