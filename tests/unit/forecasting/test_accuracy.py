"""Realised accuracy: which days are scored (sold-out and closed walk-in days are not; a day
without a sales row sold nothing; nothing after `through`) and the figures on them."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from forecasting.accuracy import (
    realised_accuracy,
    recent_folds,
    seasonal_naive_on,
    value_added,
)

STORE, ONLINE = "S1|store|A", "S1|online|A"
DAYS = pd.date_range("2025-03-01", "2025-03-07")  # Sunday 2 March: Polish stores closed


def _forecast() -> pd.DataFrame:
    store = pd.DataFrame({"unique_id": STORE, "ds": DAYS, "yhat": 2.0, "q50": 2.0, "q90": 4.0})
    store.loc[store["ds"] == "2025-03-02", ["yhat", "q50", "q90"]] = 0.0
    online = pd.DataFrame({"unique_id": ONLINE, "ds": DAYS, "yhat": 1.0, "q50": 1.0,
                           "q90": 2.0})
    return pd.concat([store, online], ignore_index=True)


def _sales() -> pd.DataFrame:
    rows = [(STORE, "2025-02-28", 50, 0),  # before the forecast: ignored
            (STORE, "2025-03-01", 3, 0), (STORE, "2025-03-03", 0, 1), (STORE, "2025-03-04", 2, 0),
            (STORE, "2025-03-07", 9, 0),  # after `through`: not scored
            (ONLINE, "2025-03-01", 1, 0), (ONLINE, "2025-03-02", 4, 0),
            (ONLINE, "2025-03-03", 0, 0), (ONLINE, "2025-03-05", 1, 0),
            ("S1|online|NEW", "2025-03-04", 6, 0)]  # launched after the run: not scored
    return pd.DataFrame(rows, columns=["unique_id", "ds", "y", "stockout"])


def test_scores_only_days_that_tell_the_truth_about_demand() -> None:
    result = realised_accuracy(_forecast(), _sales(), through=date(2025, 3, 5), country="PL")

    summary = result.summary
    # walk-in: 1, 4 and 5 March (2nd closed, 3rd sold out); online: 1..5 March
    assert summary.loc["store", "days"] == 3 and summary.loc["online", "days"] == 5
    assert result.excluded == {"sold_out_days": 1, "closed_days": 1, "unforecast_series": 1,
                               "unforecast_units": 6}
    assert (result.first_day, result.last_day) == (date(2025, 3, 1), date(2025, 3, 5))
    assert summary.loc["store", "actual_units"] == 5 and summary.loc["store", "forecast_units"] == 6
    assert summary.loc["store", "wape"] == pytest.approx(3 / 5)
    assert summary.loc["store", "bias_pct"] == pytest.approx(20.0)
    # a day without a sales row (4 March online, 5 March walk-in) sold nothing
    assert summary.loc["online", "actual_units"] == 6
    assert summary.loc["online", "wape"] == pytest.approx(5 / 6)
    assert summary.loc["all", "bias_pct"] == pytest.approx(0.0)
    assert summary.loc["all", "wape"] == pytest.approx(8 / 11)
    assert summary.loc["all", "coverage_q90"] == pytest.approx(7 / 8)
    assert summary.loc["all", "coverage_q50"] == pytest.approx(6 / 8)
    assert "coverage_q99" not in summary.columns  # only the quantiles the forecast has


def test_quantiles_a_run_stored_as_null_are_not_reported() -> None:
    forecast = _forecast().assign(q99=float("nan"))

    result = realised_accuracy(forecast, _sales(), through=date(2025, 3, 5), country="PL")

    assert "coverage_q99" not in result.summary.columns
    assert result.summary.loc["all", "coverage_q90"] == pytest.approx(7 / 8)


def test_series_are_listed_by_how_much_the_forecast_missed() -> None:
    result = realised_accuracy(_forecast(), _sales(), through=date(2025, 3, 5), country="PL")

    assert list(result.by_series.index) == [ONLINE, STORE]
    online = result.by_series.loc[ONLINE]
    assert (online["days"], online["abs_error"], online["error"]) == (5, 5.0, -1.0)
    daily = result.daily.set_index(["ds", "channel"])
    assert daily.loc[(pd.Timestamp("2025-03-02"), "online"), "actual_units"] == 4
    assert (pd.Timestamp("2025-03-02"), "store") not in daily.index


def test_nothing_to_score_before_the_first_day() -> None:
    result = realised_accuracy(_forecast(), _sales(), through=date(2025, 2, 28), country="PL")

    assert result.scored_days == 0 and result.by_series.empty
    assert result.first_day is None


def test_recent_folds_fit_before_each_cutoff_and_score_the_days_after() -> None:
    days = pd.date_range("2025-01-01", periods=70)
    recorded = pd.DataFrame({"unique_id": ONLINE, "ds": days, "y": 2.0,
                             "stockout": (days == "2025-03-05").astype(int)})
    seen: list[tuple[pd.Timestamp, int]] = []

    def fit_and_forecast(history: pd.DataFrame, horizon: int) -> pd.DataFrame:
        last = history["ds"].max()
        seen.append((last, horizon))
        future = pd.date_range(last + pd.Timedelta(days=1), periods=horizon)
        return pd.DataFrame({"unique_id": ONLINE, "ds": future, "yhat": 3.0})

    folds = recent_folds(fit_and_forecast, recorded, folds=3, days=28)

    # 70 days hold two 28-day folds after the first cutoff; the third would start before day 1
    assert seen == [(pd.Timestamp("2025-02-11"), 28), (pd.Timestamp("2025-01-14"), 28)]
    assert len(folds) == 2
    assert folds[0].last_day == date(2025, 3, 11) and folds[0].scored_days == 27  # 1 sold out
    assert folds[1].summary.loc["all", "bias_pct"] == pytest.approx(50.0)


def test_value_added_is_measured_against_last_weeks_same_weekday() -> None:
    last_week = pd.DataFrame({"unique_id": ONLINE, "ds": pd.date_range("2025-02-22", periods=7),
                              "y": [0.0, 1, 2, 3, 4, 5, 6]})  # Sat 22 Feb .. Fri 28 Feb
    naive = seasonal_naive_on(_forecast(), last_week)

    online = naive.loc[naive["unique_id"] == ONLINE].set_index("ds")["yhat"]
    assert online[pd.Timestamp("2025-03-01")] == 0.0  # a Saturday: 22 Feb's units
    assert online[pd.Timestamp("2025-03-03")] == 2.0  # a Monday: 24 Feb's units
    assert (naive.loc[naive["unique_id"] == STORE, "yhat"] == 0).all()  # no rows: sold 0

    model = realised_accuracy(_forecast(), _sales(), through=date(2025, 3, 5), country="PL")
    baseline = realised_accuracy(naive, _sales(), through=date(2025, 3, 5), country="PL")
    added = value_added(model.summary, baseline.summary)
    # online, 1..5 March: sold 1, 4, 0, 0, 1 against naive 0, 1, 2, 3, 4: |err| 1+3+2+3+3 = 12
    assert added.loc["online", "naive_wape"] == pytest.approx(12 / 6)
    assert added.loc["online", "value_added_pct"] == pytest.approx(100 * (1 - (5 / 6) / 2))


def test_stores_are_listed_by_how_far_off_they_are_in_total() -> None:
    forecast = pd.concat([_forecast(), _forecast().assign(
        unique_id=lambda f: f["unique_id"].str.replace("S1|", "S2|", regex=False),
        yhat=lambda f: f["yhat"] * 3)], ignore_index=True)
    sales = pd.concat([_sales(), _sales().assign(
        unique_id=lambda f: f["unique_id"].str.replace("S1|", "S2|", regex=False))])

    result = realised_accuracy(forecast, sales, through=date(2025, 3, 5), country="PL")

    stores = result.by_store
    assert list(stores.index) == ["S2", "S1"]  # S2 forecast 3x: furthest off
    assert stores.loc["S1", "bias_pct"] == pytest.approx(0.0)  # 11 sold, 11 forecast
    assert stores.loc["S2", "bias_pct"] == pytest.approx(200.0)
    assert stores.loc["S1", "series"] == 2 and stores.loc["S1", "wape"] == pytest.approx(8 / 11)
