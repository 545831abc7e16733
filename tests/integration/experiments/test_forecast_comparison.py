"""A tiny forecast comparison against a real MLflow store in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from experiments.champion import NoChampionError, resolve_champion
from experiments.datasets import load_dataset
from experiments.forecast_comparison import Comparison, compare_forecasters

MODELS = ("seasonal_naive", "tsb")
pytestmark = pytest.mark.slow  # MLflow creates its SQLite schema: ~20 s of CPU in all


@pytest.fixture(scope="module")
def store_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('mlruns') / 'mlflow.db'}"


@pytest.fixture(scope="module")
def comparison(store_uri: str):  # type: ignore[no-untyped-def]
    data = load_dataset("demo", small=True, max_series=4)
    return compare_forecasters(data, MODELS, folds=1, uri=store_uri)


def test_a_comparison_logs_one_parent_run_with_a_child_run_per_model(
        comparison, store_uri: str) -> None:  # type: ignore[no-untyped-def]
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=store_uri)
    parent = client.get_run(comparison.parent_run_id)
    children = client.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{comparison.parent_run_id}'")
    assert sorted(c.data.params["model"] for c in children) == sorted(MODELS)
    for child in children:
        for metric in ("rmsse", "mase", "bias", "pinball_q90", "coverage_q90", "fit_seconds",
                       "predict_seconds"):
            assert metric in child.data.metrics, metric
        assert 0.0 <= child.data.metrics["coverage_q90"] <= 1.0
    artifacts = [a.path for a in client.list_artifacts(comparison.parent_run_id, "comparison")]
    assert "comparison/metrics.csv" in artifacts and "comparison/metrics.md" in artifacts


def test_the_best_model_by_the_primary_metric_becomes_the_registered_champion(
        comparison, store_uri: str) -> None:  # type: ignore[no-untyped-def]
    table = comparison.table()
    assert comparison.champion == table.iloc[0]["model"]
    name, params, version = resolve_champion(uri=store_uri)
    assert (name, version) == (comparison.champion, comparison.champion_version)
    assert params == {}


def test_resolving_a_champion_in_an_empty_store_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(NoChampionError, match="omni experiment forecast"):
        resolve_champion(uri=f"sqlite:///{tmp_path / 'empty.db'}")


def test_a_plain_model_name_passes_through_without_the_registry() -> None:
    from experiments.champion import resolve_model

    assert resolve_model("lgbm") == ("lgbm", {}, None)


def test_champion_as_a_model_name_resolves_to_the_registered_version(
        comparison, store_uri: str) -> None:  # type: ignore[no-untyped-def]
    from experiments.champion import resolve_model

    assert resolve_model("champion", uri=store_uri) == (
        comparison.champion, {}, comparison.champion_version)


def test_the_demo_dataset_keeps_the_sold_out_flag_out_of_its_regressors() -> None:
    """The flag is not known ahead: as a column it would be fitted as an exogenous regressor."""
    data = load_dataset("demo", small=True)
    assert list(data.history.columns) == ["unique_id", "ds", "y"]


def test_the_registered_champion_loads_with_pyfunc_and_forecasts_any_horizon(
        comparison, store_uri: str) -> None:  # type: ignore[no-untyped-def]
    import mlflow
    import numpy as np
    import pandas as pd

    from experiments.tracking import configure

    configure(store_uri)
    model = mlflow.pyfunc.load_model(
        f"models:/omni-forecaster/{comparison.champion_version}")
    days = pd.date_range("2025-01-01", periods=70)
    history = pd.DataFrame({"unique_id": "a", "ds": days, "y": np.arange(70) % 7})
    default = model.predict(history)
    assert len(default) == model.metadata.signature.params.params[0].default
    week = model.predict(history, params={"horizon": 7})
    assert list(week["ds"]) == list(pd.date_range("2025-03-12", periods=7))
    assert {"yhat", "q50", "q99"} <= set(week.columns)


def test_a_quick_small_comparison_does_not_replace_the_champion(tmp_path: Path) -> None:
    """`omni batch weekly --model champion` runs what the registry's alias names: a quick
    subset run (`--small`) registers nothing unless asked to with --register."""
    from typer.testing import CliRunner

    from api.cli import app

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = CliRunner().invoke(app, ["experiment", "forecast", "--small", "--folds", "1",
                                      "--models", "seasonal_naive"],
                                env={"MLFLOW_TRACKING_URI": uri})
    assert result.exit_code == 0, result.output
    assert "not registered: --small runs do not replace the champion" in result.stdout
    with pytest.raises(NoChampionError):
        resolve_champion(uri=uri)


def test_each_model_run_describes_its_hyperparameters_scope_and_code_without_its_parent(
        comparison: Comparison, store_uri: str) -> None:
    import mlflow

    from experiments.tracking import configure

    configure(store_uri)
    runs = mlflow.search_runs(
        experiment_names=["forecast-comparison"],
        filter_string="params.small = 'True' and params.model = 'tsb'", output_format="list")
    assert len(runs) == 1
    params, tags = runs[0].data.params, runs[0].data.tags
    assert params["param.statsforecast.alpha_d"] == "0.2"  # a default, not asked for
    assert params["param.calibration_days"] == "28"
    assert params["model_args"] == "{}"
    assert (params["series"], params["max_series"], params["folds"]) == ("4", "4", "1")
    assert params["dataset"] == "demo" and params["horizon"] == "14"
    assert params["history_start"] < params["history_end"]
    assert tags["omni.code_version"]


def test_the_champion_version_says_the_scope_it_was_chosen_on(
        comparison: Comparison, store_uri: str) -> None:
    from experiments.tracking import client

    assert comparison.champion_version is not None
    version = client(store_uri).get_model_version("omni-forecaster",
                                                  comparison.champion_version)
    best = next(s for s in comparison.scores if s.model == comparison.champion)
    tags = version.tags
    assert (tags["scope.series"], tags["scope.small"], tags["scope.folds"]) == ("4", "True", "1")
    assert tags["scope.dataset"] == "demo" and tags["scope.chosen_by"] == "rmsse"
    assert float(tags["scope.chosen_by_value"]) == best.metrics["rmsse"]
