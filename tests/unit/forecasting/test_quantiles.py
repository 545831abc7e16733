from __future__ import annotations

import numpy as np
import pandas as pd

from forecasting.quantiles import (
    Dispersion,
    fit_dispersion,
    horizon_demand_quantiles,
    nb_quantiles,
    variance_to_mean,
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


def test_daily_quantiles_equal_scipy_negative_binomial_and_poisson_quantiles() -> None:
    from scipy import stats

    rng = np.random.default_rng(2)
    mean = np.concatenate([rng.gamma(0.8, 4.0, 3000), [0.3, 50.0, 900.0, 2500.0, 40000.0]])
    phi = np.concatenate([rng.choice([0.0, 1e-6, 0.2, 1.0, 6.0], 3000), [0, 0, 0, 0.5, 2.0]])
    levels = [0.99, 0.5, 0.9]  # any order
    got = nb_quantiles(mean, phi, levels)

    for j, q in enumerate(levels):
        size = 1.0 / np.where(phi > 0, phi, 1.0)
        expected = np.where(phi < 1e-8, stats.poisson.ppf(q, mean),
                            stats.nbinom.ppf(q, size, size / (size + mean)))
        np.testing.assert_array_equal(got[:, j], expected)


def test_summed_quantiles_match_day_by_day_simulation_of_uneven_days() -> None:
    # Reference: simulate every day (Gamma-Poisson with a shared level shock) and sum.
    rng = np.random.default_rng(4)
    means = np.array([6.0, 1.0, 9.0, 0.5, 4.0, 12.0, 2.0] * 2)
    phi, psi, paths = 0.6, 0.05, 200_000
    shock = rng.gamma(1 / psi, psi, (paths, 1))
    daily = rng.poisson(means * shock * rng.gamma(1 / phi, phi, (paths, means.size)))
    expected = np.quantile(daily.sum(axis=1), [0.5, 0.8, 0.9, 0.95, 0.99])
    dispersion = Dispersion(pd.Series({"S1|store|K1": phi}), phi, psi)

    got = horizon_demand_quantiles(_forecast(list(means)), dispersion, n_paths=100_000).iloc[0]

    np.testing.assert_allclose(got[list(LEVELS)].to_numpy(float), expected, rtol=0.04)


def test_summed_quantiles_are_per_series_whatever_the_row_order() -> None:
    forecast = pd.concat([_forecast([2.0] * 7, "B"), _forecast([8.0] * 7, "A")])
    shuffled = forecast.sample(frac=1.0, random_state=0)

    sums = horizon_demand_quantiles(shuffled, Dispersion.poisson(), open_days=7)

    assert sums["unique_id"].tolist() == ["A", "B"] and sums["mean"].tolist() == [56.0, 14.0]


def test_a_series_whose_holdout_jumps_from_nothing_gets_a_bounded_dispersion() -> None:
    """A relisted item (zeros, then real sales over a mean the model still holds near 0) would
    score phi ~ 1000 unwinsorised; its quantiles must stay usable for safety stock."""
    rng = np.random.default_rng(3)
    days = list(pd.date_range("2025-01-01", periods=28))
    frames = [pd.DataFrame({"unique_id": f"s{i}", "ds": days, "y": rng.poisson(5.0, 28),
                            "yhat": 5.0}) for i in range(30)]
    jump = np.r_[np.zeros(23), [17, 15, 22, 29, 25]]
    frames.append(pd.DataFrame({"unique_id": "relisted", "ds": days, "y": jump,
                                "yhat": np.r_[np.full(23, 0.15), np.full(5, 0.3)]}))
    fitted = fit_dispersion(pd.concat(frames, ignore_index=True))

    phi = fitted.per_series["relisted"]
    assert phi == fitted.per_series.max() and phi < 50  # noisiest, but not ~1000
    q50, q99 = nb_quantiles(np.array([15.0]), np.array([phi]), [0.5, 0.99])[0]
    assert q50 > 0 and q99 < 30 * 15


def test_variance_to_mean_of_a_day_is_one_plus_its_series_dispersion_times_its_mean() -> None:
    dispersion = Dispersion(pd.Series({"A": 0.5}), 0.25, 0.0)
    forecast = pd.DataFrame({"unique_id": ["A", "A", "B", "B"], "yhat": [4.0, 0.0, 2.0, np.nan]})

    ratio = variance_to_mean(forecast, dispersion)

    # A's own phi; B was not in the holdout and takes the pooled one; no demand is Poisson's 1
    assert ratio.tolist() == [3.0, 1.0, 1.5, 1.0]
    assert variance_to_mean(forecast, Dispersion.poisson()).tolist() == [1.0] * 4
