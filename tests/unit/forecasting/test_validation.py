from __future__ import annotations

import pandas as pd
import pytest

from forecasting.validation import (
    ForecastInputError,
    validate_future,
    validate_history,
    validate_horizon,
)


def _history(**changes: object) -> pd.DataFrame:
    frame = pd.DataFrame({"unique_id": ["A", "A", "A"],
                          "ds": ["2025-01-01", "2025-01-02", "2025-01-03"], "y": [1, 2, 3]})
    for name, value in changes.items():
        frame[name] = value
    return frame


def test_missing_column_is_named() -> None:
    with pytest.raises(ForecastInputError, match="missing column 'y'") as error:
        validate_history(_history().drop(columns="y"))
    assert error.value.column == "y"


def test_duplicate_series_day_names_the_first_duplicate_row() -> None:
    frame = _history(ds=["2025-01-01", "2025-01-02", "2025-01-02"])
    with pytest.raises(ForecastInputError, match="duplicate unique_id\\+ds") as error:
        validate_history(frame)
    assert error.value.row == 3


def test_non_numeric_demand_names_the_row_and_value() -> None:
    with pytest.raises(ForecastInputError, match="not a number: 'lots'") as error:
        validate_history(_history(y=[1, "lots", 3]))
    assert (error.value.column, error.value.row) == ("y", 2)


def test_non_numeric_exogenous_column_is_refused() -> None:
    with pytest.raises(ForecastInputError, match="column 'promo'"):
        validate_history(_history(promo=[0, "yes", 1]))


def test_unparseable_date_is_refused() -> None:
    with pytest.raises(ForecastInputError, match="not a date"):
        validate_history(_history(ds=["2025-01-01", "soon", "2025-01-03"]))


@pytest.mark.parametrize("horizon", [0, -3])
def test_horizon_must_be_positive(horizon: int) -> None:
    with pytest.raises(ForecastInputError, match="positive"):
        validate_horizon(horizon)


def test_a_horizon_past_ten_years_is_refused_before_dates_overflow() -> None:
    validate_horizon(3660)
    with pytest.raises(ForecastInputError, match="too long for a daily forecast: at most 3,660"):
        validate_horizon(100_000)


def test_future_frame_is_required_when_history_has_exogenous_columns() -> None:
    history = validate_history(_history(promo=[0, 1, 0]))
    with pytest.raises(ForecastInputError, match="future frame is required.*promo"):
        validate_future(None, history, 2)


def test_gap_in_the_future_frame_names_the_missing_day() -> None:
    history = validate_history(_history(promo=[0, 1, 0]))
    future = pd.DataFrame({"unique_id": ["A", "A"], "ds": ["2025-01-04", "2025-01-06"],
                           "promo": [1, 1]})
    with pytest.raises(ForecastInputError, match="gap: no row for unique_id 'A' on 2025-01-05"):
        validate_future(future, history, 3)


def test_future_frame_missing_an_exogenous_column_is_refused() -> None:
    history = validate_history(_history(promo=[0, 1, 0]))
    future = pd.DataFrame({"unique_id": ["A"], "ds": ["2025-01-04"]})
    with pytest.raises(ForecastInputError, match="missing column 'promo'") as error:
        validate_future(future, history, 1)
    assert error.value.source == "future"


def test_clean_history_is_sorted_and_typed() -> None:
    clean = validate_history(_history(ds=["2025-01-03", "2025-01-01", "2025-01-02"]))

    assert clean["ds"].is_monotonic_increasing
    assert clean["y"].dtype == float


def test_an_empty_demand_cell_is_named_as_missing() -> None:
    with pytest.raises(ForecastInputError, match="row 2: missing value") as error:
        validate_history(_history(y=[1, None, 3]))
    assert error.value.column == "y"


def test_days_with_a_time_zone_are_the_dates_where_they_were_recorded() -> None:
    """A Parquet file written from Warsaw times crashed the check (TypeError from numpy)."""
    local = pd.date_range("2025-01-01", periods=3, freq="D", tz="Europe/Warsaw")
    clean = validate_history(_history(ds=local))

    assert list(clean["ds"]) == list(pd.date_range("2025-01-01", periods=3, freq="D"))
