from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.quantiles import (
    Dispersion,
    fit_dispersion,
    horizon_demand_quantiles,
    nb_quantiles,
)

LEVELS = ("q50", "q80", "q90", "q95", "q99")


def _forecast(means: list[float], uid: str = "S1|store|K1") -> pd.DataFrame:
    return pd.DataFrame({"unique_id": uid, "ds": pd.date_range("2025-03-03", periods=len(means)),
                         "yhat": means})


def test_quantile_of_summed_demand_covers_the_sum_of_means_and_grows_with_the_level() -> None:
    dispersion = Dispersion(pd.Series({"S1|store|K1": 0.3}), 0.3, 0.05)
    sums = horizon_demand_quantiles(_forecast([4.0, 2.0, 6.0, 3.0, 5.0, 1.0, 7.0]), dispersion)
    row = sums.iloc[0]

    assert row["mean"] == 28.0
    assert row["q80"] >= row["mean"] and row["q90"] > row["mean"]
    assert list(row[list(LEVELS)]) == sorted(row[list(LEVELS)])


def test_summed_quantile_is_below_the_sum_of_daily_quantiles() -> None:
    forecast = _forecast([5.0] * 14)
    dispersion = Dispersion.poisson()
    summed = horizon_demand_quantiles(forecast, dispersion).iloc[0]
    daily_q95 = nb_quantiles(forecast["yhat"].to_numpy(), np.zeros(14), [0.95])[:, 0]

    assert summed["q95"] < daily_q95.sum()  # per-day quantiles do not add up


def test_closed_days_are_not_counted_among_the_open_days() -> None:
    forecast = _forecast([3.0, 0.0, 3.0, 3.0]).assign(store_open=[1, 0, 1, 1])
    sums = horizon_demand_quantiles(forecast, Dispersion.poisson(), open_days=3)

    assert sums.iloc[0]["open_days"] == 3 and sums.iloc[0]["mean"] == 9.0


def test_dispersion_is_larger_for_noisier_series() -> None:
    rng = np.random.default_rng(1)
    calm = rng.poisson(10, 200)
    noisy = rng.negative_binomial(2, 2 / 12, 200)  # mean 10, variance 60
    holdout = pd.DataFrame({"unique_id": ["calm"] * 200 + ["noisy"] * 200,
                            "ds": list(pd.date_range("2025-01-01", periods=200)) * 2,
                            "y": np.concatenate([calm, noisy]), "yhat": 10.0})
    fitted = fit_dispersion(holdout)

    assert fitted.per_series["noisy"] > 0.2 > fitted.per_series["calm"]


def test_zero_mean_gives_zero_quantiles() -> None:
    assert (nb_quantiles(np.array([0.0, 0.0]), np.array([0.5, 0.0]), [0.5, 0.99]) == 0).all()
