"""The direct multi-horizon global LightGBM (`lgbm_direct`) and the `blend` and `combo` built on
it: level-free through per-series scaling, weekday-aware, uses exogenous columns, refuses what it
cannot do."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from forecasting_samples import START, future_of

from forecasting.direct_lgbm import DirectLGBMForecaster
from forecasting.ensemble import EnsembleForecaster
from forecasting.registry import make_model
from forecasting.validation import ForecastInputError

FAST = {"n_estimators": 80, "learning_rate": 0.1, "num_leaves": 7, "min_child_samples": 20,
        "seeds": (0,), "num_threads": 1, "max_horizon": 14, "origin_step": 3,
        "calibration_days": 0}
DAYS = 200


def _weekly(levels: tuple[float, ...], days: int = DAYS, seed: int = 2) -> pd.DataFrame:
    """Series with the same shape at different levels: Saturdays sell three times a weekday."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range(START, periods=days, freq="D")
    shape = np.where(ds.dayofweek == 5, 3.0, 1.0)
    frames = [pd.DataFrame({"unique_id": f"S{k}", "ds": ds, "y": rng.poisson(level * shape)})
              for k, level in enumerate(levels)]
    return pd.concat(frames, ignore_index=True)


def test_forecast_follows_the_weekly_shape_and_scales_with_each_series_level() -> None:
    history = _weekly((2.0, 2.0, 20.0, 20.0))
    forecast = DirectLGBMForecaster(**FAST).fit(history).predict(14)
    forecast["saturday"] = forecast["ds"].dt.dayofweek == 5
    by_day = forecast.groupby(["unique_id", "saturday"])["yhat"].mean().unstack()

    assert (by_day[True] > 2 * by_day[False]).all()
    small = forecast.loc[forecast["unique_id"] == "S0", "yhat"].mean()
    large = forecast.loc[forecast["unique_id"] == "S2", "yhat"].mean()
    assert 7 < large / small < 13


def test_exogenous_column_of_the_target_day_moves_the_forecast(
    promo_history: pd.DataFrame,
) -> None:
    model = DirectLGBMForecaster(**FAST).fit(promo_history)
    with_promo = model.predict(7, future_of(promo_history, 7, promo=1))
    without = model.predict(7, future_of(promo_history, 7, promo=0))

    assert with_promo["yhat"].sum() > without["yhat"].sum() * 1.3


def test_horizons_in_blocks_each_get_a_model_and_beyond_the_range_is_refused() -> None:
    model = DirectLGBMForecaster(**{**FAST, "block_days": 7}).fit(_weekly((3.0, 5.0)))
    forecast = model.predict(14)

    assert len(model.state_.blocks) == 2
    saturday = forecast["ds"].dt.dayofweek == 5
    assert forecast.loc[saturday, "yhat"].mean() > 2 * forecast.loc[~saturday, "yhat"].mean()
    with pytest.raises(ForecastInputError, match="up to 14 days"):
        model.predict(15)


def test_too_short_history_is_refused() -> None:
    with pytest.raises(ForecastInputError, match="more than"):
        DirectLGBMForecaster(**FAST).fit(_weekly((3.0,), days=20))


def test_blend_is_the_mean_of_the_direct_model_and_theta() -> None:
    history = _weekly((3.0, 8.0))
    params = {k: v for k, v in FAST.items() if k != "calibration_days"}
    blend = make_model("blend", calibration_days=0, **params)
    assert isinstance(blend, EnsembleForecaster)
    combined = blend.fit(history).predict(14)
    direct = DirectLGBMForecaster(**FAST).fit(history).predict(14)
    theta = make_model("theta", calibration_days=0).fit(history).predict(14)

    expected = (direct["yhat"].to_numpy() + theta["yhat"].clip(lower=0).to_numpy()) / 2
    np.testing.assert_allclose(combined["yhat"].to_numpy(), expected, rtol=1e-6, atol=1e-3)


@pytest.mark.parametrize("name", ["lgbm_direct", "blend", "combo"])
def test_distributed_engine_is_refused_with_a_clear_message(name: str) -> None:
    with pytest.raises(ForecastInputError, match="local engine only"):
        make_model(name, engine="dask")


LGBM_FAST = {"n_estimators": 30, "num_leaves": 7, "num_threads": 1}


def test_combo_is_the_mean_of_both_lightgbms_and_theta() -> None:
    history = _weekly((3.0, 8.0))
    direct_params = {k: v for k, v in FAST.items() if k != "calibration_days"}
    params = {**{f"lgbm__{k}": v for k, v in LGBM_FAST.items()},
              **{f"direct__{k}": v for k, v in direct_params.items()}}
    combo = make_model("combo", calibration_days=0, **params).fit(history).predict(14)
    recursive = make_model("lgbm", calibration_days=0, **LGBM_FAST).fit(history).predict(14)
    direct = DirectLGBMForecaster(**FAST).fit(history).predict(14)
    theta = make_model("theta", calibration_days=0).fit(history).predict(14)

    members = (recursive["yhat"].to_numpy() + direct["yhat"].to_numpy()
               + theta["yhat"].clip(lower=0).to_numpy())
    np.testing.assert_allclose(combo["yhat"].to_numpy(), members / 3, rtol=1e-6, atol=1e-3)


def test_combo_refuses_a_parameter_that_names_no_member() -> None:
    with pytest.raises(TypeError, match="names no member.*lgbm__, direct__"):
        make_model("combo", n_estimators=50)
    with pytest.raises(TypeError, match="'theta__season_length' names no member"):
        make_model("combo", theta__season_length=7)
