from __future__ import annotations

import pandas as pd
import pytest

from forecasting.daily_grid import fill_missing_days
from forecasting.registry import make_model
from forecasting.validation import ForecastInputError, validate_history


def _frame(rows: list[tuple[str, str, float]], **columns: list[float]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["unique_id", "ds", "y"])
    for name, values in columns.items():
        frame[name] = values
    return validate_history(frame)


def test_days_without_a_row_are_zero_sales_through_the_histories_last_day() -> None:
    clean = _frame([("A", "2025-01-01", 2), ("A", "2025-01-04", 3), ("B", "2025-01-02", 1)])

    filled, added = fill_missing_days(clean)

    assert added == 2 + 2  # A: 2nd and 3rd; B: 3rd and 4th (A's last day ends the history)
    assert filled.loc[filled["unique_id"] == "A", "y"].tolist() == [2, 0, 0, 3]
    assert filled.loc[filled["unique_id"] == "B", "ds"].dt.day.tolist() == [2, 3, 4]
    assert filled.loc[filled["unique_id"] == "B", "y"].tolist() == [1, 0, 0]


def test_a_complete_history_is_returned_as_it_came() -> None:
    clean = _frame([("A", "2025-01-01", 2), ("A", "2025-01-02", 3), ("B", "2025-01-02", 1)])

    filled, added = fill_missing_days(clean)

    assert added == 0 and filled is clean


def test_an_added_day_did_not_sell_out() -> None:
    clean = _frame([("A", "2025-01-01", 2), ("A", "2025-01-03", 0)], stockout=[0, 1])

    filled, added = fill_missing_days(clean, censored_column="stockout")

    assert added == 1
    assert filled["stockout"].tolist() == [0, 0, 1]


def test_a_gap_is_refused_when_exogenous_values_would_have_to_be_invented() -> None:
    clean = _frame([("A", "2025-01-01", 2), ("A", "2025-01-02", 1), ("A", "2025-01-05", 3),
                    ("B", "2025-01-01", 1)], promo=[0, 1, 0, 0])

    with pytest.raises(ForecastInputError, match="no row for unique_id 'A' on 2025-01-03") as err:
        fill_missing_days(clean, source="h.csv")
    assert (err.value.source, err.value.column) == ("h.csv", "ds")
    assert "promo" in str(err.value)


def test_series_ending_early_keep_their_end_when_there_are_exogenous_columns() -> None:
    clean = _frame([("A", "2025-01-01", 2), ("A", "2025-01-02", 1), ("B", "2025-01-01", 1)],
                   promo=[0, 1, 0])

    filled, added = fill_missing_days(clean)

    assert added == 0 and filled is clean


def test_a_sales_export_without_zero_rows_keeps_the_weekly_season_in_place() -> None:
    days = pd.date_range("2025-01-06", periods=8 * 7, freq="D")  # Mondays first
    mondays = pd.DataFrame({"unique_id": "A", "ds": days,
                            "y": [5.0 * (d.dayofweek == 0) for d in days]})
    daily = pd.DataFrame({"unique_id": "B", "ds": days, "y": 1.0})  # sells through the end
    dense = pd.concat([mondays, daily])
    sparse = dense.loc[dense["y"] > 0]

    from_dense = make_model("seasonal_naive").fit(dense).predict(7)
    from_sparse = make_model("seasonal_naive").fit(sparse).predict(7)

    pd.testing.assert_frame_equal(from_sparse, from_dense)
    assert from_sparse.loc[from_sparse["unique_id"] == "A", "yhat"].tolist() == [5, 0, 0, 0, 0,
                                                                                  0, 0]


def test_through_a_later_day_every_series_runs_to_it() -> None:
    clean = _frame([("A", "2025-01-01", 2), ("B", "2025-01-02", 1)])

    filled, added = fill_missing_days(clean, through=pd.Timestamp("2025-01-03"))

    assert added == 2 + 1
    assert filled.groupby("unique_id")["ds"].max().dt.day.tolist() == [3, 3]
