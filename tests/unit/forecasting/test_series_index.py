from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.series_index import SeriesIndex, row_positions


def _frame() -> pd.DataFrame:
    # A: 5 days, B: 3 days with a gap (no 2025-01-03), C: 1 day
    return pd.DataFrame({
        "unique_id": ["A"] * 5 + ["B"] * 3 + ["C"],
        "ds": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-04",
                              "2025-01-05", "2025-01-01", "2025-01-02", "2025-01-04",
                              "2025-01-04"]),
        "y": np.arange(9.0),
    })


def test_each_series_is_a_row_range_in_frame_order() -> None:
    index = SeriesIndex.of(_frame())

    assert index.ids.tolist() == ["A", "B", "C"]
    assert index.starts.tolist() == [0, 5, 8] and index.ends.tolist() == [5, 8, 9]
    assert pd.DatetimeIndex(index.last_ds).strftime("%m-%d").tolist() == ["01-05", "01-04",
                                                                          "01-04"]


def test_last_days_are_cut_by_date_not_by_row_count() -> None:
    index = SeriesIndex.of(_frame())

    # the last 2 days of B (3 and 4 January) hold one row only: the 3rd is missing
    assert index.cut_last_days(2).tolist() == [3, 7, 8]
    assert index.cut_last_days(0).tolist() == index.ends.tolist()


def test_row_positions_concatenate_the_ranges() -> None:
    assert row_positions(np.array([0, 5, 8]), np.array([2, 5, 9])).tolist() == [0, 1, 8]
    assert row_positions(np.array([3]), np.array([1])).tolist() == []


def test_future_grid_follows_each_series_last_day() -> None:
    grid = SeriesIndex.of(_frame()).future_grid(2)

    assert grid["unique_id"].tolist() == ["A", "A", "B", "B", "C", "C"]
    assert grid["ds"].dt.strftime("%m-%d").tolist() == ["01-06", "01-07", "01-05", "01-06",
                                                        "01-05", "01-06"]


def test_a_frame_not_grouped_by_series_is_refused() -> None:
    shuffled = _frame().iloc[[0, 5, 1, 6, 2, 7, 3, 4, 8]]

    with pytest.raises(ValueError, match="not grouped by unique_id"):
        SeriesIndex.of(shuffled)

