"""What every MLflow run records about itself: names MLflow accepts, the hyperparameters a
model really ran with (defaults included) and a code version even without git."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from allocation.model import CostWeights
from experiments import run_description
from experiments.run_description import code_version_tags, flat_params, hyperparameters
from forecasting.registry import make_model


@pytest.fixture
def fresh_code_version() -> Iterator[None]:
    code_version_tags.cache_clear()
    yield
    code_version_tags.cache_clear()


def test_nested_settings_become_dotted_names_and_values_mlflow_accepts() -> None:
    from mlflow.utils.validation import (
        MAX_ENTITY_KEY_LENGTH,
        MAX_PARAM_VAL_LENGTH,
        _validate_param_name,
    )

    flat = flat_params({"param": {"weights": CostWeights(), "odd key/+": 1, "long": "x" * 9000,
                                  "empty": {}, "k" * 300: 2}})

    assert flat["param.weights.split_pln"] == "6.0"
    assert flat["param.odd_key__"] == "1" and flat["param.empty"] == "{}"
    assert len(flat["param.long"]) == MAX_PARAM_VAL_LENGTH
    for key in flat:
        _validate_param_name(key)
        assert len(key) <= MAX_ENTITY_KEY_LENGTH


def test_hyperparameters_are_what_the_model_runs_with_defaults_included() -> None:
    params = hyperparameters(make_model("lgbm", country="PL", n_estimators=50))

    assert params["n_estimators"] == 50  # asked for
    assert params["learning_rate"] == 0.05 and params["lags"][:3] == (1, 2, 3)  # defaults
    # the booster's sampling settings too (they were fixed inside the model, never logged)
    assert (params["min_child_samples"], params["feature_fraction"]) == (20, 0.8)
    from forecasting.gradient_boosting import LGBMForecaster

    booster = LGBMForecaster(min_child_samples=5, bagging_freq=0)._regressor().get_params()
    assert (booster["min_child_samples"], booster["bagging_freq"]) == (5, 0)
    assert params["country"] == "PL" and params["calibration_days"] == 28


def test_ensemble_members_nest_under_their_names_with_their_own_settings() -> None:
    params = hyperparameters(make_model("ensemble", n_estimators=30, calibration_days=14))

    assert params["calibration_days"] == 14
    assert params["members"]["lgbm"]["n_estimators"] == 30
    assert params["members"]["auto_ets"]["statsforecast"]["season_length"] == 7


def test_a_statistical_model_logs_its_statsforecast_settings() -> None:
    params = hyperparameters(make_model("tsb"))

    assert params["model"] == "tsb"
    assert params["statsforecast"]["alpha_d"] == 0.2


def test_without_git_the_code_version_is_the_package_version(
        fresh_code_version: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_git(*args: object, **kwargs: object) -> None:
        raise FileNotFoundError("git")

    monkeypatch.setattr(run_description.subprocess, "run", no_git)

    tags = code_version_tags()

    assert tags["omni.code_version"].startswith("omni-allocation ")
    assert tags["omni.code_version_source"] == "package"
    assert "mlflow.source.git.commit" not in tags


def test_in_a_git_checkout_the_code_version_is_the_commit(fresh_code_version: None) -> None:
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=run_description.CHECKOUT,
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("no git checkout here")

    tags = code_version_tags()

    assert tags["omni.code_version"] == tags["mlflow.source.git.commit"] == head
    assert tags["omni.code_dirty"] in ("true", "false")
