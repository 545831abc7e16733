"""The global LightGBM on histories shorter than its features reach back (55 days): refused with
the days it needs when no series can train it, through the models that contain it and the CLI;
a series younger than that, among older ones, forecast at its own level instead of near 0."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from forecasting_samples import FAST_LGBM
from typer.testing import CliRunner

from api.cli import app
from forecasting.calendar import calendar_features
from forecasting.errors import ForecastInputError
from forecasting.registry import make_model


def flat(uid: str, days: int, mean: float = 4.0, seed: int = 0) -> pd.DataFrame:
    """`days` days of Poisson demand ending 2026-11-08."""
    ds = pd.date_range(end="2026-11-08", periods=days, freq="D")
    y = np.random.default_rng(seed).poisson(mean, days)
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": y})


@pytest.mark.parametrize("model", ["lgbm", "ensemble", "combo"])
def test_a_history_no_series_can_train_on_is_refused_with_the_days_it_needs(model: str) -> None:
    # 56 days give one day with every feature; LightGBM's bagging needs two
    history = pd.concat([flat("a", 3), flat("b", 56)], ignore_index=True)
    params = ({f"lgbm__{k}": v for k, v in FAST_LGBM.items()} if model == "combo"
              else FAST_LGBM)

    with pytest.raises(ForecastInputError, match="at least one series needs 57 days; the "
                                                 "longest has 56"):
        make_model(model, **params).fit(history)


def test_a_history_that_never_sold_is_refused_naming_the_models_that_handle_it() -> None:
    """LightGBM's Tweedie objective died on it with a raw LightGBMError."""
    never = flat("a", 120).assign(y=0)

    with pytest.raises(ForecastInputError, match="every y lgbm would learn from is 0"):
        make_model("lgbm", **FAST_LGBM).fit(never)


def test_a_series_that_began_selling_after_the_holdout_cut_still_fits() -> None:
    # zeros until the last three weeks: the holdout model would train on zeros only
    late = flat("a", 120)
    late.loc[late.index < 99, "y"] = 0
    model = make_model("lgbm", **FAST_LGBM).fit(late)

    assert model.holdout_.empty and len(model.predict(7)) == 7


def test_one_series_of_the_needed_length_is_fitted() -> None:
    forecast = make_model("lgbm", **FAST_LGBM).fit(flat("a", 57)).predict(7)

    assert len(forecast) == 7 and forecast["yhat"].gt(0).all()


def test_a_holdout_with_one_day_to_train_on_leaves_the_model_uncalibrated_not_failed() -> None:
    # 84 days: the 28-day holdout leaves 56 before it, so its model has one row to learn from
    model = make_model("lgbm", **FAST_LGBM).fit(flat("a", 84))

    assert model.holdout_.empty and model.dispersion_.pooled == 0.0
    assert model.predict(7)["yhat"].gt(0).all()


def test_the_cli_refuses_a_too_short_history_with_exit_2_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    flat("a", 3).to_csv(tmp_path / "tiny.csv", index=False)

    result = CliRunner().invoke(app, ["forecast", "--history", "tiny.csv", "--horizon", "14",
                                      "--out", "o.csv"])

    assert result.exit_code == 2
    assert result.stderr.startswith("error: tiny.csv: history too short for lgbm")
    assert "needs 57 days; the longest has 3" in result.stderr
    assert "Traceback" not in result.output and not (tmp_path / "o.csv").exists()


def test_a_series_younger_than_the_features_reach_is_forecast_at_the_mean_of_its_open_days(
    history: pd.DataFrame,
) -> None:
    """Its missing features would be read as no demand (the model never trained on a missing
    one); the other series' forecasts are those of the model fitted without it."""
    busiest = history.groupby("unique_id")["y"].mean().idxmax()
    young = history.loc[(history["unique_id"] == busiest)
                        & (history["ds"] > history["ds"].max() - pd.Timedelta(days=10))]
    young = young.assign(unique_id=busiest.replace("|K", "|NEW"))
    assert busiest.split("|")[1] == "store"  # walk-in: closed days sell nothing
    frame = pd.concat([history, young], ignore_index=True)
    fast = {**FAST_LGBM, "calibration_days": 0}

    forecast = make_model("lgbm", country="PL", **fast).fit(frame).predict(14)
    without = make_model("lgbm", country="PL", **fast).fit(history).predict(14)

    new = forecast.loc[forecast["unique_id"] == young["unique_id"].iloc[0]]
    opened = calendar_features(pd.DatetimeIndex(young["ds"]), "PL")["store_open"].to_numpy()
    level = young.loc[opened == 1, "y"].mean()
    open_ahead = calendar_features(pd.DatetimeIndex(new["ds"]), "PL")["store_open"].to_numpy()
    assert level > 3 and len(new) == 14
    assert new.loc[open_ahead == 1, "yhat"].to_numpy() == pytest.approx(level)
    assert (new.loc[open_ahead == 0, ["yhat", "q99"]] == 0).all().all()
    others = forecast.loc[forecast["unique_id"] != young["unique_id"].iloc[0]]
    pd.testing.assert_frame_equal(others.reset_index(drop=True), without)
