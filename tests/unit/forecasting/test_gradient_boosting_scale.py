"""How the LightGBM model keeps 100k series affordable: training rows are whole series from the
last `train_days` days, capped at `max_train_rows`; forecasts still cover every series."""

from __future__ import annotations

import numpy as np
import pandas as pd
from forecasting_samples import FAST_LGBM, make_history

from forecasting.gradient_boosting import LGBMForecaster
from forecasting.series_index import SeriesIndex
from forecasting.validation import validate_history


def _history() -> pd.DataFrame:
    return validate_history(make_history(days=150, skus=10))  # 40 series x 150 days


def test_training_rows_are_whole_recent_series_within_the_row_cap() -> None:
    history = _history()
    model = LGBMForecaster(train_days=100, max_train_rows=1000, **FAST_LGBM)
    rows = history.take(model._training_positions(SeriesIndex.of(history),
                                                  SeriesIndex.of(history).ends))

    per_series = rows.groupby("unique_id")["ds"].agg(["size", "min", "max"])
    assert len(rows) <= 1000 and len(per_series) == 10  # 1000 rows / 100 days
    assert (per_series["size"] == 100).all()
    assert (per_series["min"] == history["ds"].max() - pd.Timedelta(days=99)).all()


def test_the_sample_of_training_series_is_seeded() -> None:
    history = _history()
    index = SeriesIndex.of(history)

    def picked(seed: int) -> np.ndarray:
        model = LGBMForecaster(max_train_rows=1500, seed=seed, **FAST_LGBM)
        return model._training_positions(index, index.ends)

    assert np.array_equal(picked(0), picked(0)) and not np.array_equal(picked(0), picked(1))


def test_a_row_capped_model_still_forecasts_and_calibrates_every_series() -> None:
    history = _history()
    model = LGBMForecaster(country="PL", max_train_rows=1500, **FAST_LGBM)
    forecast = model.fit(history).predict(7)

    assert len(forecast) == 40 * 7 and forecast["yhat"].notna().all()
    assert model.holdout_["unique_id"].nunique() == 40
    assert model.dispersion_.per_series.size == 40


def test_the_holdout_carries_the_store_open_flag_of_the_history(promo_history: pd.DataFrame,
                                                               ) -> None:
    history = promo_history.assign(store_open=1)
    model = LGBMForecaster(calibration_days=14, **FAST_LGBM).fit(history)

    assert {"y", "yhat", "store_open"} <= set(model.holdout_.columns)
    assert len(model.holdout_) == 2 * 14
