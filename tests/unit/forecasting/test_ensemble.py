"""Ensemble weights: a weighted mean of the members' point forecasts, checked on input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.ensemble import EnsembleForecaster
from forecasting.statistical import StatisticalForecaster


def _members() -> list[StatisticalForecaster]:
    return [StatisticalForecaster("seasonal_naive", calibration_days=0),
            StatisticalForecaster("auto_ets", calibration_days=0)]


def test_weights_give_the_weighted_mean_of_the_members(history: pd.DataFrame) -> None:
    naive = _members()[0].fit(history).predict(7)["yhat"].to_numpy()
    ets = _members()[1].fit(history).predict(7)["yhat"].to_numpy()

    only_first = EnsembleForecaster(_members(), calibration_days=0, weights=[1.0, 0.0])
    three_to_one = EnsembleForecaster(_members(), calibration_days=0, weights=[3.0, 1.0])

    np.testing.assert_allclose(only_first.fit(history).predict(7)["yhat"], naive, atol=1e-9)
    np.testing.assert_allclose(three_to_one.fit(history).predict(7)["yhat"],
                               0.75 * naive + 0.25 * ets, atol=1e-6)


@pytest.mark.parametrize("weights", [[1.0], [1.0, -1.0], [0.0, 0.0], [1.0, float("nan")]])
def test_bad_weights_are_refused(weights: list[float]) -> None:
    with pytest.raises(ValueError, match="weights"):
        EnsembleForecaster(_members(), weights=weights)
