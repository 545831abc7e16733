"""The recursive LightGBM learns the position in the year only from two yearly cycles."""

from __future__ import annotations

import pandas as pd
from forecasting_samples import FAST_LGBM, future_of, make_history

from forecasting.direct_lgbm import DirectLGBMForecaster
from forecasting.features import YEARLY_COLUMNS, add_calendar, learns_yearly
from forecasting.gradient_boosting import LGBMForecaster


def _trained_features(model: LGBMForecaster) -> list[str]:
    return list(model.state_.mlf.ts.features_order_)


def test_a_window_of_two_years_is_needed_to_learn_the_yearly_pattern() -> None:
    days = pd.Series(pd.date_range("2024-01-01", periods=730, freq="D"))

    assert learns_yearly(days) and not learns_yearly(days.iloc[1:])
    assert not learns_yearly(days.iloc[:0])


def test_short_histories_train_without_the_yearly_columns_and_still_forecast() -> None:
    history = make_history(days=200, skus=2)
    model = LGBMForecaster(calibration_days=0, **FAST_LGBM).fit(history)

    features = _trained_features(model)
    forecast = model.predict(14, future_of(history, 14))

    assert not set(YEARLY_COLUMNS) & set(features) and "day_of_month" in features
    assert len(forecast) == 14 * history["unique_id"].nunique()
    assert forecast["yhat"].notna().all()


def test_long_histories_keep_the_yearly_columns() -> None:
    history = make_history(days=760, skus=1)
    model = LGBMForecaster(calibration_days=0, **FAST_LGBM).fit(history)

    assert set(YEARLY_COLUMNS) <= set(_trained_features(model))


def test_day_of_month_is_added_only_on_request() -> None:
    frame = pd.DataFrame({"unique_id": "a", "ds": pd.to_datetime(["2025-03-01", "2025-03-31"])})

    plain = add_calendar(frame, "PL")
    with_day = add_calendar(frame, "PL", yearly=False, day_of_month=True)

    assert "day_of_month" not in plain and with_day["day_of_month"].tolist() == [1, 31]
    assert "day_of_year" in plain and "day_of_year" not in with_day


def test_the_direct_model_follows_the_same_rule() -> None:
    fast = {"n_estimators": 10, "seeds": (0,), "max_horizon": 14, "block_days": 14,
            "num_threads": 1}
    short, long = make_history(days=200, skus=1), make_history(days=760, skus=1)

    short_model = DirectLGBMForecaster(calibration_days=0, **fast).fit(short)
    long_model = DirectLGBMForecaster(calibration_days=0, **fast).fit(long)

    short_features = short_model.state_.blocks[0][0].num_feature()
    assert not short_model.state_.yearly and long_model.state_.yearly
    assert long_model.state_.blocks[0][0].num_feature() == short_features + len(YEARLY_COLUMNS)
    assert short_model.predict(14, future_of(short, 14))["yhat"].notna().all()
