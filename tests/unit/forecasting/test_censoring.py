from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.censoring import restore_censored_demand
from forecasting.ensemble import EnsembleForecaster
from forecasting.registry import make_model
from forecasting.validation import ForecastInputError


def _series(
    uid: str, y: list[float], stockout: list[int], start: str = "2025-03-03"
) -> pd.DataFrame:
    return pd.DataFrame({"unique_id": uid, "ds": pd.date_range(start, periods=len(y)),
                         "y": np.asarray(y, float), "stockout": stockout})


def test_a_sold_out_day_gets_the_mean_of_the_open_unflagged_days_around_it() -> None:
    y = [4.0] * 10 + [0.0, 1.0] + [6.0] * 10
    flags = [0] * 10 + [1, 1] + [0] * 10
    out = restore_censored_demand(_series("D01|online|A", y, flags), "stockout", "none")

    restored = out.history["y"].to_numpy()
    assert restored[10] == pytest.approx(5.0)  # ten days of 4 before, ten of 6 after
    assert restored[11] == pytest.approx(5.0)
    assert (restored[:10] == 4.0).all() and (restored[12:] == 6.0).all()
    assert out.censored_days == 2
    assert out.added_units == pytest.approx(9.0)
    assert "stockout" not in out.history.columns


def test_a_partial_day_keeps_its_sales_when_they_exceed_the_estimate() -> None:
    out = restore_censored_demand(_series("A", [2.0, 2.0, 9.0, 2.0], [0, 0, 1, 0]), "stockout",
                                  "none")
    assert out.history["y"].tolist() == [2.0, 2.0, 9.0, 2.0]
    assert out.added_units == 0.0


def test_only_the_nearest_usable_days_set_the_level() -> None:
    y = [100.0] * 14 + [1.0] * 42 + [0.0]
    out = restore_censored_demand(_series("A", y, [0] * 56 + [1]), "stockout", "none",
                                  neighbour_days=28)
    assert out.history["y"].iloc[-1] == pytest.approx(1.0, rel=0.05)


def test_the_nearest_days_are_taken_from_both_sides_the_nearer_first() -> None:
    """Two weeks of 2, three sold-out days, two weeks of 8 (every weekday has the same mix, so
    the weekday factors are 1). With two neighbours the first sold-out day takes the two days
    before the gap, the last the two after it, the middle one the nearest day of each side."""
    y = [2.0] * 14 + [0.0] * 3 + [8.0] * 14
    flags = [0] * 14 + [1] * 3 + [0] * 14
    out = restore_censored_demand(_series("A", y, flags), "stockout", "none", neighbour_days=2)
    assert out.history["y"].iloc[14:17].tolist() == pytest.approx([2.0, 5.0, 8.0])


def test_a_month_sold_out_up_to_the_origin_keeps_the_level_of_the_month_before() -> None:
    """The last days of a spell that reaches the forecast origin are as far from usable days as
    can be: their level still comes from four weeks of evidence, not from the day or two just
    before the spell (a fixed +-28-day window left the last day only the day before it)."""
    y = [8.0] * 58 + [2.0, 2.0] + [0.0] * 28
    out = restore_censored_demand(_series("A", y, [0] * 60 + [1] * 28), "stockout", "none")
    month_before = (26 * 8.0 + 2 * 2.0) / 28
    assert out.history["y"].iloc[-28:].tolist() == pytest.approx([month_before] * 28, rel=0.1)


def test_a_series_sold_out_for_long_takes_the_level_of_its_last_usable_days() -> None:
    y = [3.0] * 10 + [0.0] * 60
    out = restore_censored_demand(_series("A", y, [0] * 10 + [1] * 60), "stockout", "none",
                                  neighbour_days=7)
    assert out.history["y"].iloc[-1] == pytest.approx(3.0)
    assert out.history["y"].iloc[10] == pytest.approx(3.0)


def test_a_series_with_no_usable_day_keeps_what_it_sold() -> None:
    out = restore_censored_demand(_series("A", [0.0, 2.0, 1.0], [1, 1, 1]), "stockout", "none")
    assert out.history["y"].tolist() == [0.0, 2.0, 1.0]


def test_series_do_not_lend_each_other_their_level() -> None:
    frame = pd.concat([_series("A", [10.0] * 5, [0] * 5), _series("B", [1.0, 0.0], [0, 1])])
    out = restore_censored_demand(frame.reset_index(drop=True), "stockout", "none")
    assert out.history.loc[out.history["unique_id"] == "B", "y"].tolist() == [1.0, 1.0]


def test_a_restored_week_keeps_the_weekly_rhythm_of_its_channel() -> None:
    """Every online series sells twice as much on Saturdays; one series' sold-out fortnight is
    restored with its Saturdays at twice its weekday level, not flat."""
    days = 84
    rhythm = np.where(pd.date_range("2025-03-03", periods=days).dayofweek == 5, 2.0, 1.0)
    frames = [_series(f"D01|online|{k}", list(rhythm * k), [0] * days) for k in (2, 4, 6)]
    flags = [0] * (days - 14) + [1] * 14
    frames.append(_series("D01|online|X", list(rhythm * 3 * (np.array(flags) == 0)), flags))
    out = restore_censored_demand(pd.concat(frames, ignore_index=True), "stockout", "none")

    x = out.history.loc[out.history["unique_id"] == "D01|online|X"].tail(14)
    saturday = x["ds"].dt.dayofweek == 5
    assert x.loc[saturday, "y"].to_numpy() == pytest.approx(6.0)
    assert x.loc[~saturday, "y"].to_numpy() == pytest.approx(3.0)


def test_closed_store_days_are_neither_estimated_nor_counted_in_the_level() -> None:
    # Poland, March 2025: Sundays 9 and 16 March are non-trading; walk-in sells 0 there
    days = pd.date_range("2025-03-03", "2025-03-23")
    open_day = days.dayofweek != 6
    y = np.where(open_day, 6.0, 0.0)
    flags = np.zeros(len(days), int)
    flags[(days >= "2025-03-14") & (days <= "2025-03-17")] = 1  # Fri..Mon, across a Sunday
    y[flags == 1] = 0.0
    walk_in = pd.DataFrame({"unique_id": "S001|store|A", "ds": days, "y": y, "stockout": flags})

    out = restore_censored_demand(walk_in, "stockout", "PL")
    restored = out.history.set_index("ds")["y"]
    assert restored[pd.Timestamp("2025-03-16")] == 0.0  # closed Sunday stays exactly 0
    assert restored[pd.Timestamp("2025-03-15")] == pytest.approx(6.0)  # not diluted by Sundays
    assert out.censored_days == 3


def test_a_flag_other_than_0_or_1_is_refused_naming_the_row() -> None:
    with pytest.raises(ForecastInputError, match=r"'stockout', row 2: must be 0 or 1"):
        restore_censored_demand(_series("A", [1.0, 2.0], [0, 2]), "stockout", "none")


def _sold_out_at_the_end(
    uid: str = "D01|online|A", days: int = 200, sold_out: int = 28
) -> pd.DataFrame:
    """A steady series (Poisson 8 a day) whose last `sold_out` days sold out (Poisson 0.5)."""
    rng = np.random.default_rng(3)
    y = rng.poisson(8.0, days).astype(float)
    flags = np.zeros(days, int)
    flags[-sold_out:] = 1
    y[-sold_out:] = rng.poisson(0.5, sold_out)
    return _series(uid, list(y), list(flags), start="2025-01-01")


def test_a_forecast_fitted_on_restored_demand_is_not_dragged_down_by_a_stock_out() -> None:
    """Four sold-out weeks at the end of a steady series: fitted as demand, AutoETS follows the
    zeros; told which days sold out, it keeps the level customers showed before."""
    frame = _sold_out_at_the_end()
    as_recorded = make_model("auto_ets", calibration_days=0).fit(frame.drop(columns="stockout"))
    unconstrained = make_model("auto_ets", calibration_days=0).fit(frame, "stockout")

    assert as_recorded.predict(14)["yhat"].mean() < 3.0
    assert unconstrained.predict(14)["yhat"].mean() == pytest.approx(8.0, rel=0.2)
    assert unconstrained.censored_days_ == 28
    assert unconstrained.exog_ == []  # the flag is not a regressor: no future frame needed


def test_an_ensemble_fits_every_member_on_the_restored_history() -> None:
    """The ensemble's own fit (it calibrates on its members' holdouts) restores too: the sold-out
    fortnight neither drags the mean down nor enters the holdout the quantiles learn from."""
    frame = pd.concat([_sold_out_at_the_end(sold_out=14),
                       _sold_out_at_the_end("D01|online|B", sold_out=14)], ignore_index=True)
    members = [make_model("auto_ets"), make_model("seasonal_naive")]
    fitted = EnsembleForecaster(members, calibration_days=14).fit(frame, "stockout")
    as_recorded = EnsembleForecaster([make_model("auto_ets"), make_model("seasonal_naive")],
                                     calibration_days=14).fit(frame.drop(columns="stockout"))

    forecast = fitted.predict(14)
    assert fitted.censored_days_ == 28 and fitted.censored_added_units_ > 28 * 6
    assert forecast["yhat"].mean() == pytest.approx(8.0, rel=0.2)
    assert as_recorded.predict(14)["yhat"].mean() < 3.0
    assert fitted.holdout_.empty  # its 14 days are estimates: no spread to learn from them
    assert len(as_recorded.holdout_) == 28


def test_the_holdout_leaves_out_estimated_days_and_keeps_the_observed_ones() -> None:
    """Two series, one with four sold-out days inside the 14-day calibration holdout: the
    holdout keeps its 10 observed days and all 14 of the other series; the estimated days'
    smooth level would understate the spread of demand the quantiles are built on."""
    steady = _sold_out_at_the_end("D01|online|B", sold_out=1).assign(stockout=0)
    gap = _sold_out_at_the_end("D01|online|A", sold_out=10)
    gap.loc[gap.index[-10:-4], "stockout"] = 0  # flagged on its last 4 days only
    frame = pd.concat([gap, steady], ignore_index=True)
    model = make_model("auto_ets", calibration_days=14).fit(frame, "stockout")

    assert model.censored_days_ == 4
    kept = model.holdout_.groupby("unique_id")["ds"].apply(set)
    flagged = set(gap.loc[gap["stockout"] == 1, "ds"])
    assert len(kept["D01|online|A"]) == 10 and not kept["D01|online|A"] & flagged
    assert len(kept["D01|online|B"]) == 14
