"""The direct known-future LightGBM (`lgbm_exog`): uses the future frame's exogenous columns,
never recurses on its own forecasts, zeroes closed days, and learns only from open days."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from forecasting_samples import START, future_of

from forecasting.direct import KnownFutureLGBMForecaster
from forecasting.quantiles import QUANTILE_COLUMNS
from forecasting.registry import make_model
from forecasting.validation import ForecastInputError

FAST = {"n_estimators": 60, "learning_rate": 0.2, "num_leaves": 7, "num_threads": 1,
        "early_stopping_rounds": 20, "calibration_days": 14}
DAYS = 140


def _stores(days: int = DAYS, seed: int = 1) -> pd.DataFrame:
    """Three stores: weekly pattern, promo lifts sales by 60%, closed on Sundays."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range(START, periods=days, freq="D")
    frames = []
    for k, level in enumerate((200.0, 500.0, 1000.0)):
        promo = (np.arange(days) // 7 + k) % 2
        store_open = (ds.dayofweek != 6).astype(int)
        weekday = 1 + 0.2 * (ds.dayofweek.to_numpy() == 0)
        y = level * weekday * (1 + 0.6 * promo) * rng.lognormal(0, 0.05, days) * store_open
        frames.append(pd.DataFrame({"unique_id": f"S{k}", "ds": ds, "y": np.round(y),
                                    "store_open": store_open, "promo": promo}))
    return pd.concat(frames, ignore_index=True)


def _future(history: pd.DataFrame, horizon: int, promo: int) -> pd.DataFrame:
    future = future_of(history, horizon, promo=promo)
    future["store_open"] = (future["ds"].dt.dayofweek != 6).astype(int)
    return future


def test_is_selectable_by_name_and_returns_ordered_quantiles() -> None:
    history = _stores()
    model = make_model("lgbm_exog", country="DE", encode_by=("promo",), **FAST)
    forecast = model.fit(history).predict(21, _future(history, 21, promo=1))

    assert isinstance(model, KnownFutureLGBMForecaster)
    assert list(forecast.columns) == ["unique_id", "ds", "yhat", *QUANTILE_COLUMNS]
    assert len(forecast) == 3 * 21
    quantiles = forecast[list(QUANTILE_COLUMNS)].to_numpy()
    assert (np.diff(quantiles, axis=1) >= 0).all() and (quantiles >= 0).all()


def test_promo_in_the_future_frame_lifts_the_forecast() -> None:
    history = _stores()
    model = KnownFutureLGBMForecaster(encode_by=("promo",), **FAST).fit(history)
    with_promo = model.predict(14, _future(history, 14, promo=1))
    without = model.predict(14, _future(history, 14, promo=0))

    assert with_promo["yhat"].sum() > without["yhat"].sum() * 1.3


def test_closed_days_are_zero_and_open_days_are_on_the_store_level() -> None:
    history = _stores()
    forecast = KnownFutureLGBMForecaster(**FAST).fit(history).predict(
        14, _future(history, 14, promo=0))
    sunday = forecast["ds"].dt.dayofweek == 6

    assert (forecast.loc[sunday, ["yhat", *QUANTILE_COLUMNS]] == 0).all().all()
    open_mean = forecast.loc[~sunday].groupby("unique_id")["yhat"].mean()
    assert open_mean["S0"] < open_mean["S1"] < open_mean["S2"]
    assert 150 < open_mean["S0"] < 350 and 700 < open_mean["S2"] < 1700


def test_early_stopping_on_the_holdout_sets_the_tree_count_of_the_final_fit() -> None:
    history = _stores()
    model = KnownFutureLGBMForecaster(**{**FAST, "n_estimators": 400}).fit(history)

    assert 1 <= model.best_rounds_ <= 420
    assert all(b.current_iteration() == model.best_rounds_ for b in model.state_.boosters)


def test_relative_correction_is_fitted_on_the_holdout_only() -> None:
    history = _stores()
    model = KnownFutureLGBMForecaster(correction="relative_per_series", **FAST).fit(history)
    rows = model.holdout_.loc[model.holdout_["y"] > 0]
    ratio = rows["yhat"] / rows["y"]

    assert 0.8 < model.factor_ < 1.2
    assert set(model.series_factor_.index) == {"S0", "S1", "S2"}
    # after the per-series factor, no store's holdout is systematically biased
    assert (ratio.groupby(rows["unique_id"]).mean() - 1).abs().max() < 0.1


def test_seeds_are_averaged() -> None:
    history = _stores()
    model = KnownFutureLGBMForecaster(seeds=(0, 1, 2), **FAST).fit(history)

    assert len(model.state_.boosters) == 3


def test_a_future_without_the_history_exogenous_columns_is_refused() -> None:
    history = _stores()
    model = KnownFutureLGBMForecaster(**FAST).fit(history)

    with pytest.raises(ForecastInputError, match="store_open"):
        model.predict(7, future_of(history, 7, promo=0))


def test_an_unknown_encode_by_column_is_named() -> None:
    with pytest.raises(ForecastInputError, match="price"):
        KnownFutureLGBMForecaster(encode_by=("price",), **FAST).fit(_stores())


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="correction"):
        KnownFutureLGBMForecaster(correction="median")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="seed"):
        KnownFutureLGBMForecaster(seeds=())


def test_quantiles_are_the_forecast_times_holdout_ratio_quantiles_and_cover() -> None:
    """Store sales: the spread is the model's relative error (read off 42 holdout days), not
    count noise, so every quantile is the same multiple of the forecast and covers the future
    of the same process about as often as its level says."""
    full = _stores(days=DAYS + 28, seed=4)
    history = full.loc[full["ds"] < full["ds"].min() + pd.Timedelta(days=DAYS)]
    actual = full.loc[~full.index.isin(history.index)]
    model = KnownFutureLGBMForecaster(**{**FAST, "calibration_days": 42}).fit(history)
    future = actual.drop(columns="y")
    forecast = model.predict(28, future).merge(actual[["unique_id", "ds", "y"]])

    open_days = forecast.loc[forecast["yhat"] > 0]
    ratios = open_days[list(QUANTILE_COLUMNS)].to_numpy() / open_days[["yhat"]].to_numpy()
    np.testing.assert_allclose(ratios, np.broadcast_to(model.ratio_quantiles_, ratios.shape))
    assert (forecast.loc[forecast["yhat"] == 0, list(QUANTILE_COLUMNS)].to_numpy() == 0).all()
    coverage = {c: float(np.mean(open_days["y"] <= open_days[c])) for c in QUANTILE_COLUMNS}
    assert 0.3 <= coverage["q50"] <= 0.7 and coverage["q95"] >= 0.8
