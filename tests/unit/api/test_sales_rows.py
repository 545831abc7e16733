"""The checks a sales batch passes before the database is touched (`sales_feed.checked_rows`):
every refusal names the row and the field, and the first bad row in batch order is the one."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from api.services.errors import InvalidCommand
from api.services.sales_feed import BodyPointers, checked_rows

TODAY = date(2026, 11, 30)


def batch(**columns: list[object]) -> pd.DataFrame:
    base: dict[str, list[object]] = {
        "date": ["2026-11-01", "2026-11-01", "2026-11-02"],
        "node_id": ["S001", "S001", "S002"],
        "channel": ["store", "online", "store"],
        "sku": ["A", "A", "B"],
        "units": ["3", "0", "12"],
    }
    return pd.DataFrame({**base, **columns})


def refusal(frame: pd.DataFrame, today: date = TODAY) -> InvalidCommand:
    with pytest.raises(InvalidCommand) as caught:
        checked_rows(frame, today, BodyPointers())
    return caught.value


def test_csv_text_becomes_typed_rows_with_defaults_for_absent_optional_columns() -> None:
    rows = checked_rows(batch(), TODAY, BodyPointers())
    assert rows["date"].tolist() == [date(2026, 11, 1), date(2026, 11, 1), date(2026, 11, 2)]
    assert rows["units"].tolist() == [3, 0, 12]
    assert rows["promo"].tolist() == [0, 0, 0] and rows["stockout"].tolist() == [0, 0, 0]
    assert rows["price_pln"].isna().all()  # filled from the SKU's list price later


def test_blank_optional_cells_take_their_defaults() -> None:
    rows = checked_rows(batch(price_pln=["", "19.99", " "], stockout=["1", "", "0"]), TODAY,
                        BodyPointers())
    assert rows["price_pln"].isna().tolist() == [True, False, True]
    assert rows["stockout"].tolist() == [1, 0, 0]


def test_parquet_types_are_accepted_midnight_timestamps_ints_and_bools() -> None:
    frame = batch(date=pd.to_datetime(["2026-11-01", "2026-11-01", "2026-11-02"]),
                  units=[3, 0, 12], promo=[True, False, True], stockout=[0, 1, 0])
    rows = checked_rows(frame, TODAY, BodyPointers())
    assert rows["date"].tolist()[2] == date(2026, 11, 2)
    assert rows["promo"].tolist() == [1, 0, 1] and rows["stockout"].tolist() == [0, 1, 0]


def test_a_timestamp_with_a_time_of_day_is_not_a_day() -> None:
    frame = batch(date=pd.to_datetime(["2026-11-01 00:00", "2026-11-01 13:00", "2026-11-02 00:00"]))
    assert refusal(frame).pointer == "#/sales/1/date"


@pytest.mark.parametrize(("units", "row"), [
    (["3", "-1", "2"], 1),
    (["3", "0", "2.5"], 2),
    (["many", "0", "1"], 0),
    (["3", "", "1"], 1),
    (["3", "0", "1e12"], 2),
])
def test_negative_fractional_missing_or_huge_units_are_refused_at_their_row(
    units: list[object], row: int
) -> None:
    assert refusal(batch(units=units)).pointer == f"#/sales/{row}/units"


def test_the_first_bad_row_is_named_and_the_count_of_rows_like_it() -> None:
    error = refusal(batch(promo=["1", "2", "yes"]))
    assert error.pointer == "#/sales/1/promo"
    assert "promo must be 0 or 1, got '2'" in error.detail
    assert "2 rows have this problem" in error.detail


def test_the_earliest_bad_row_wins_across_columns() -> None:
    error = refusal(batch(units=["3", "0", "-4"], channel=["store", "web", "store"]))
    assert error.pointer == "#/sales/1/channel"


@pytest.mark.parametrize("bad", ["2026-13-01", "2026-02-30", "01.11.2026", "20261101", ""])
def test_a_date_that_is_not_an_iso_day_is_refused(bad: str) -> None:
    assert refusal(batch(date=["2026-11-01", bad, "2026-11-02"])).pointer == "#/sales/1/date"


def test_a_day_after_today_is_refused_and_today_is_accepted() -> None:
    later = batch(date=["2026-11-01", "2026-12-01", "2026-11-02"])
    error = refusal(later)
    assert error.pointer == "#/sales/1/date" and "after today (2026-11-30)" in error.detail
    assert len(checked_rows(later, date(2026, 12, 1), BodyPointers())) == 3


def test_a_day_before_2000_is_a_typo() -> None:
    assert refusal(batch(date=["1999-12-31", "2026-11-01", "2026-11-02"])).pointer == (
        "#/sales/0/date")


def test_the_same_day_twice_in_one_batch_is_refused_naming_both_rows() -> None:
    error = refusal(batch(node_id=["S001", "S002", "S002"], channel=["store"] * 3,
                          sku=["A", "B", "B"], date=["2026-11-01", "2026-11-02", "2026-11-02"]))
    assert error.pointer == "#/sales/2"
    assert "#/sales/1" in error.detail


def test_an_unknown_column_is_refused_by_name() -> None:
    error = refusal(batch(colour=["red", "red", "blue"]))
    assert error.pointer == "#/sales" and "unknown column(s): colour" in error.detail


def test_a_missing_required_column_is_refused_by_name() -> None:
    error = refusal(batch().drop(columns=["units"]))
    assert "missing column(s): units" in error.detail


def test_an_empty_batch_is_refused() -> None:
    assert "no sales rows" in refusal(batch().iloc[0:0]).detail
