from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from forecasting_samples import FAST_LGBM, future_of

from forecasting.quantiles import QUANTILE_COLUMNS
from forecasting.registry import MODEL_NAMES, UnknownModelError, make_model

HORIZON = 14


def _model(name: str):  # type: ignore[no-untyped-def]
    params = dict(FAST_LGBM) if name in ("lgbm", "ensemble") else {}
    return make_model(name, country="PL", **params)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_every_model_forecasts_every_series_and_day_with_ordered_quantiles(
    name: str, history: pd.DataFrame
) -> None:
    forecast = _model(name).fit(history).predict(HORIZON)

    assert list(forecast.columns) == ["unique_id", "ds", "yhat", *QUANTILE_COLUMNS]
    assert len(forecast) == history["unique_id"].nunique() * HORIZON
    assert not forecast.duplicated(["unique_id", "ds"]).any()
    values = forecast[["yhat", *QUANTILE_COLUMNS]].to_numpy()
    assert np.isfinite(values).all() and (values >= 0).all()
    quantiles = forecast[list(QUANTILE_COLUMNS)].to_numpy()
    assert (np.diff(quantiles, axis=1) >= 0).all()


def test_gradient_boosting_uses_the_promo_regressor(promo_history: pd.DataFrame) -> None:
    model = make_model("lgbm", **FAST_LGBM).fit(promo_history)
    with_promo = model.predict(7, future_of(promo_history, 7, promo=1))
    without = model.predict(7, future_of(promo_history, 7, promo=0))

    assert with_promo["yhat"].sum() > without["yhat"].sum() * 1.3


def test_unknown_model_name_is_refused() -> None:
    with pytest.raises(UnknownModelError, match="unknown model 'prophet'"):
        make_model("prophet")


def test_high_quantiles_of_a_busy_series_sit_above_its_mean(history: pd.DataFrame) -> None:
    forecast = make_model("seasonal_naive", country="PL").fit(history).predict(HORIZON)
    busy = forecast["yhat"] > 3

    assert (forecast.loc[busy, "q95"] > forecast.loc[busy, "yhat"]).all()


def test_gradient_boosting_on_a_log_target_forecasts_the_level_of_the_series(
    promo_history: pd.DataFrame,
) -> None:
    model = make_model("lgbm", objective="regression", log_target=True, **FAST_LGBM)
    forecast = model.fit(promo_history).predict(7, future_of(promo_history, 7, promo=1))

    assert forecast["yhat"].between(2, 12).all()
    assert (forecast[list(QUANTILE_COLUMNS)].diff(axis=1).iloc[:, 1:] >= 0).all().all()


def test_a_young_series_gets_a_forecast_without_a_warning_per_day(
    history: pd.DataFrame,
) -> None:
    """A SKU launched 10 days ago has no 28-day lag yet: LightGBM takes the missing values, and
    the batch's output is not buried under one mlforecast warning per forecast day."""
    last = history["ds"].max()
    young = history.loc[(history["unique_id"] == "S001|online|K0")
                        & (history["ds"] > last - pd.Timedelta(days=10))]
    frame = pd.concat([history, young.assign(unique_id="S001|online|NEW")], ignore_index=True)
    model = make_model("lgbm", country="PL", calibration_days=0, **FAST_LGBM).fit(frame)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        forecast = model.predict(14)

    assert not [w for w in caught if "Found null values" in str(w.message)]
    new = forecast.loc[forecast["unique_id"] == "S001|online|NEW", "yhat"]
    assert len(new) == 14 and (new >= 0).all() and new.notna().all()


def test_a_series_younger_than_a_week_is_forecast_from_its_last_value_where_no_weekday_repeats(
) -> None:
    days = pd.date_range("2025-03-03", periods=3, freq="D")
    young = pd.DataFrame({"unique_id": "new", "ds": days, "y": [1.0, 2.0, 4.0]})

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # statsforecast's warning is handled, not shown
        forecast = make_model("seasonal_naive").fit(young).predict(7)

    assert forecast["yhat"].tolist() == [4.0, 4.0, 4.0, 4.0, 1.0, 2.0, 4.0]


def test_constant_series_are_forecast_flat_without_numpy_warnings() -> None:
    """A SKU that sold nothing for weeks (or the same every day) has no variance: Theta's
    seasonality test divides by it. The batch shows no warning for it, and the forecast holds
    the constant."""
    days = pd.date_range("2025-01-06", periods=70)
    history = pd.concat([pd.DataFrame({"unique_id": "dead", "ds": days, "y": 0.0}),
                         pd.DataFrame({"unique_id": "flat", "ds": days, "y": 3.0})])

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        forecast = make_model("theta").fit(history).predict(7)

    assert forecast.groupby("unique_id")["yhat"].agg(["min", "max"]).to_dict("index") == {
        "dead": {"min": 0.0, "max": 0.0}, "flat": {"min": 3.0, "max": 3.0}}
