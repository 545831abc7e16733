"""The sales feed on SQLite and real PostgreSQL: upserts counted right, all or nothing, refusals
naming the row, and the rows the weekly batch then reads.

The tiny chain (conftest) has stores S001 and S002, a DC, SKUs A (list price 299.99), B
(1499.00) and C (49.90), and 60 days of sales through 2026-11-08, every day of S001 online B.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, select

from api.db.history import sales_history
from api.db.tables import Sale
from api.services import sales_feed
from api.services.errors import InvalidCommand, NotFound
from api.services.sales_feed import import_sales

TODAY = date(2026, 11, 30)


def day_rows(*rows: tuple[Any, ...], **extra: list[Any]) -> pd.DataFrame:
    """(date, node_id, channel, sku, units) rows, plus optional columns."""
    frame = pd.DataFrame(rows, columns=["date", "node_id", "channel", "sku", "units"])
    return frame.assign(**extra)


def table(engine: Engine) -> list[tuple[Any, ...]]:
    """Every sales row, in key order, prices as floats."""
    query = select(Sale.node_id, Sale.channel, Sale.sku, Sale.date, Sale.units, Sale.price_pln,
                   Sale.promo, Sale.stockout).order_by(Sale.node_id, Sale.channel, Sale.sku,
                                                        Sale.date)
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(query)]


def row(engine: Engine, node_id: str, channel: str, sku: str, day: date) -> tuple[Any, ...]:
    """(units, price_pln, promo, stockout) of one day."""
    query = select(Sale.units, Sale.price_pln, Sale.promo, Sale.stockout).where(
        Sale.node_id == node_id, Sale.channel == channel, Sale.sku == sku, Sale.date == day)
    with engine.connect() as conn:
        return tuple(conn.execute(query).one())


NOVEMBER_9 = day_rows(
    ("2026-11-09", "S001", "store", "A", 4),
    ("2026-11-09", "S001", "online", "B", 1),
    ("2026-11-09", "S002", "online", "C", 0),
)


def test_new_days_are_inserted_and_a_resent_day_replaces_the_recorded_one(
    loaded_engine: Engine,
) -> None:
    first = import_sales(loaded_engine, NOVEMBER_9, today=TODAY)
    assert (first.inserted, first.replaced) == (3, 0)
    assert (first.first_date, first.last_date) == (date(2026, 11, 9), date(2026, 11, 9))
    correction = day_rows(
        ("2026-11-09", "S001", "store", "A", 6),  # POS re-sends the day: 6, not 4
        ("2026-11-08", "S001", "online", "B", 3),  # a day the demo history already holds
        ("2026-11-10", "S002", "store", "C", 2),
    )
    second = import_sales(loaded_engine, correction, today=TODAY)
    assert (second.inserted, second.replaced) == (1, 2)
    assert (second.first_date, second.last_date) == (date(2026, 11, 8), date(2026, 11, 10))
    assert row(loaded_engine, "S001", "store", "A", date(2026, 11, 9))[0] == 6
    assert row(loaded_engine, "S001", "online", "B", date(2026, 11, 8))[0] == 3


def test_a_bad_row_in_the_middle_leaves_the_table_unchanged(loaded_engine: Engine) -> None:
    before = table(loaded_engine)
    bad = day_rows(
        ("2026-11-09", "S001", "store", "A", 4),
        ("2026-11-09", "S001", "online", "B", -2),
        ("2026-11-09", "S002", "store", "C", 1),
    )
    with pytest.raises(InvalidCommand) as caught:
        import_sales(loaded_engine, bad, today=TODAY)
    assert caught.value.pointer == "#/sales/1/units"
    assert table(loaded_engine) == before


def test_an_unknown_sku_in_the_middle_leaves_the_table_unchanged(loaded_engine: Engine) -> None:
    before = table(loaded_engine)
    bad = day_rows(
        ("2026-11-09", "S001", "store", "A", 4),
        ("2026-11-09", "S001", "store", "NOSUCH", 1),
        ("2026-11-08", "S001", "online", "B", 9),
    )
    with pytest.raises(NotFound) as caught:
        import_sales(loaded_engine, bad, today=TODAY)
    assert (caught.value.kind, caught.value.key, caught.value.field) == (
        "sku", "NOSUCH", "#/sales/1/sku")
    assert str(caught.value) == "unknown sku 'NOSUCH'"
    assert table(loaded_engine) == before


def test_a_failure_after_some_chunks_were_written_rolls_all_of_them_back(
    loaded_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one transaction spans every chunk: Ctrl-C (or a dropped connection) after the first
    chunk must not leave half a file in the history."""
    monkeypatch.setattr(sales_feed, "CHUNK_ROWS", 1)
    before = table(loaded_engine)

    def interrupt(_rows: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_sales(loaded_engine, NOVEMBER_9, today=TODAY, progress=interrupt)
    assert table(loaded_engine) == before


def test_an_unknown_node_is_a_not_found_naming_its_row(loaded_engine: Engine) -> None:
    bad = day_rows(("2026-11-09", "S001", "store", "A", 1), ("2026-11-09", "S999", "store", "A", 1))
    with pytest.raises(NotFound) as caught:
        import_sales(loaded_engine, bad, today=TODAY)
    assert (caught.value.kind, caught.value.field) == ("node", "#/sales/1/node_id")
    assert str(caught.value) == "unknown node 'S999'"


def test_a_dc_has_no_sales_of_its_own_online_sales_belong_to_a_store(
    loaded_engine: Engine,
) -> None:
    bad = day_rows(("2026-11-09", "DC-STRYKOW", "online", "A", 1))
    with pytest.raises(InvalidCommand) as caught:
        import_sales(loaded_engine, bad, today=TODAY)
    assert caught.value.pointer == "#/sales/0/node_id"
    assert "distribution centre, not a store" in caught.value.detail


def test_a_missing_price_is_the_skus_list_price_and_a_given_one_is_kept(
    loaded_engine: Engine,
) -> None:
    rows = day_rows(("2026-11-09", "S001", "store", "A", 1),
                    ("2026-11-09", "S002", "store", "C", 1), price_pln=[None, 39.5])
    import_sales(loaded_engine, rows, today=TODAY)
    assert row(loaded_engine, "S001", "store", "A", date(2026, 11, 9))[1] == pytest.approx(299.99)
    assert row(loaded_engine, "S002", "store", "C", date(2026, 11, 9))[1] == pytest.approx(39.5)
    no_column = day_rows(("2026-11-09", "S001", "online", "B", 2))
    import_sales(loaded_engine, no_column, today=TODAY)
    assert row(loaded_engine, "S001", "online", "B", date(2026, 11, 9))[1] == pytest.approx(1499.0)


def test_stockout_and_promo_round_trip_and_a_correction_can_clear_them(
    loaded_engine: Engine,
) -> None:
    sold_out = day_rows(("2026-11-09", "S001", "store", "A", 5), promo=[1], stockout=[1])
    import_sales(loaded_engine, sold_out, today=TODAY)
    assert row(loaded_engine, "S001", "store", "A", date(2026, 11, 9))[2:] == (1, 1)
    corrected = day_rows(("2026-11-09", "S001", "store", "A", 5))  # flags absent: 0
    import_sales(loaded_engine, corrected, today=TODAY)
    assert row(loaded_engine, "S001", "store", "A", date(2026, 11, 9))[2:] == (0, 0)


def test_a_day_after_today_is_refused(loaded_engine: Engine) -> None:
    with pytest.raises(InvalidCommand) as caught:
        import_sales(loaded_engine, NOVEMBER_9, today=date(2026, 11, 8))
    assert caught.value.pointer == "#/sales/0/date"


def test_counts_stay_right_over_many_chunks(
    loaded_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sales_feed, "CHUNK_ROWS", 7)
    days = pd.date_range("2026-10-01", "2026-11-20").strftime("%Y-%m-%d")
    rows = pd.DataFrame([(d, "S001", "online", "B", 2) for d in days],
                        columns=["date", "node_id", "channel", "sku", "units"])
    written: list[int] = []
    result = import_sales(loaded_engine, rows, today=TODAY, progress=written.append)
    # The tiny chain holds S001 online B every day from 2026-09-10 to 2026-11-08.
    assert (result.inserted, result.replaced) == (12, 39)
    assert sum(written) == 51 and max(written) == 7


def test_imported_days_are_the_history_the_weekly_batch_reads(loaded_engine: Engine) -> None:
    import_sales(loaded_engine, NOVEMBER_9.assign(stockout=[1, 0, 0]), today=TODAY)
    with loaded_engine.connect() as conn:
        history = sales_history(conn, date(2026, 11, 9))
    last = history[history["ds"] == pd.Timestamp("2026-11-09")].set_index("unique_id")
    assert last.loc["S001|store|A", "y"] == 4 and last.loc["S001|online|B", "y"] == 1
    assert last.loc["S001|store|A", "stockout"] == 1 and last.loc["S001|online|B", "stockout"] == 0


def test_a_history_window_starts_each_series_at_its_first_recorded_day(
    loaded_engine: Engine,
) -> None:
    """The console's batch reads the last year only: a series launched inside the window starts
    at its first recorded day, not at the window's start (days before a launch are not zero
    demand), and the rows it has equal the full history's."""
    import_sales(loaded_engine, NOVEMBER_9, today=TODAY)
    start = pd.Timestamp("2026-09-01")  # 70 days through 2026-11-09
    with loaded_engine.connect() as conn:
        everything = sales_history(conn, date(2026, 11, 9))
        window = sales_history(conn, date(2026, 11, 9), days=70)
        in_window = {f"{r.node_id}|{r.channel}|{r.sku}" for r in conn.execute(
            select(Sale.node_id, Sale.channel, Sale.sku).where(Sale.date >= start.date()))}
    launched = everything.groupby("unique_id")["ds"].min()
    expected = launched[launched.index.isin(in_window)].clip(lower=start)
    first = window.groupby("unique_id")["ds"].min()
    assert (launched > start).any()  # the tiny chain has series launched inside the window
    assert first.sort_index().to_dict() == expected.sort_index().to_dict()
    inside = everything[everything["ds"] >= start].merge(window, on=["unique_id", "ds"],
                                                         suffixes=("", "_w"))
    assert len(inside) == len(window)
    assert (inside["y"] == inside["y_w"]).all()
    assert (inside["stockout"] == inside["stockout_w"]).all()


def test_every_import_gives_the_data_a_new_version_and_a_refused_one_does_not(
    loaded_engine: Engine,
) -> None:
    """Forecast runs record `current_data_version`: the loaded chain's until sales are
    imported, then one per import (the same file twice is two imports), never a refused one's."""
    from api.db.datasets import current_data_version
    from api.db.load_chain import loaded_dataset

    chain = loaded_dataset(loaded_engine)
    assert chain is not None and current_data_version(loaded_engine) == chain.data_version
    first = import_sales(loaded_engine, NOVEMBER_9, today=TODAY)
    assert current_data_version(loaded_engine) == first.data_version != chain.data_version
    with pytest.raises(InvalidCommand):
        import_sales(loaded_engine, day_rows(("2026-11-09", "S001", "store", "A", -1)),
                     today=TODAY)
    assert current_data_version(loaded_engine) == first.data_version
    again = import_sales(loaded_engine, NOVEMBER_9, today=TODAY)
    assert len({chain.data_version, first.data_version, again.data_version}) == 3
    assert current_data_version(loaded_engine) == again.data_version
