from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, Row, select

from api.db.stock import (
    BelowReserved,
    InsufficientStock,
    Movement,
    StaleSnapshot,
    StockCount,
    StockItem,
    UnknownStockItem,
    apply_movements,
    apply_stock_snapshot,
    expire_holds,
    holds_for,
    read_availability,
    release,
    reserve,
    set_safety_stock,
    ship,
)
from api.db.tables import Stock

NOW = datetime(2026, 11, 9, 10, 0, tzinfo=UTC)


def _row(engine: Engine, node_id: str, sku: str) -> Row[Any]:
    with engine.connect() as conn:
        query = select(Stock).where(Stock.node_id == node_id, Stock.sku == sku)
        return conn.execute(query).one()


def test_reserving_holds_units_and_lowers_atp(loaded_engine: Engine) -> None:
    with loaded_engine.begin() as conn:
        reserve(conn, "o-1", [StockItem("S001", "A", 1), ("DC-STRYKOW", "B", 5), ("S001", "A", 1)])
    row = _row(loaded_engine, "S001", "A")
    assert (row.on_hand, row.reserved, row.version) == (3, 2, 1)
    with loaded_engine.connect() as conn:
        [a] = read_availability(conn, ["A"], node_ids=["S001"])
        holds = holds_for(conn, "o-1")
    assert a.atp == 1
    assert [(h.node_id, h.sku, h.qty, h.state) for h in holds] == [
        ("DC-STRYKOW", "B", 5, "held"),
        ("S001", "A", 2, "held"),
    ]


def test_reserving_nothing_or_a_non_positive_quantity_is_harmless_or_refused(
    loaded_engine: Engine,
) -> None:
    with loaded_engine.begin() as conn:
        reserve(conn, "o-0", [])
        with pytest.raises(ValueError, match="positive"):
            reserve(conn, "o-1", [StockItem("S001", "A", 0)])
        assert holds_for(conn, "o-0") == [] and holds_for(conn, "o-1") == []


def test_an_order_short_on_one_line_reserves_nothing_at_all(loaded_engine: Engine) -> None:
    with loaded_engine.begin() as conn, pytest.raises(InsufficientStock) as caught:
        reserve(conn, "o-1", [StockItem("DC-STRYKOW", "A", 1), StockItem("S002", "B", 2)])
    assert [(s.node_id, s.sku, s.requested, s.available) for s in caught.value.shortages] == [
        ("S002", "B", 2, 1)
    ]
    assert _row(loaded_engine, "DC-STRYKOW", "A").reserved == 0
    with loaded_engine.connect() as conn:
        assert holds_for(conn, "o-1") == []


def test_safety_stock_is_kept_back_from_online_orders(loaded_engine: Engine) -> None:
    with loaded_engine.begin() as conn:
        assert set_safety_stock(conn, [StockItem("S001", "A", 2), StockItem("S002", "C", 1)]) == 2
    with loaded_engine.begin() as conn, pytest.raises(InsufficientStock):
        reserve(conn, "o-1", [StockItem("S001", "A", 2)])
    with loaded_engine.begin() as conn:
        reserve(conn, "o-2", [StockItem("S001", "A", 1)])
        [a] = read_availability(conn, ["A"], node_ids=["S001"])
    assert a.atp == 0 and a.safety_stock == 2 and a.reserved == 1


def test_release_gives_units_back_once(loaded_engine: Engine) -> None:
    with loaded_engine.begin() as conn:
        reserve(conn, "o-1", [StockItem("S001", "A", 3)])
    with loaded_engine.begin() as conn:
        assert release(conn, "o-1") == 3
        assert release(conn, "o-1") == 0
    row = _row(loaded_engine, "S001", "A")
    assert (row.on_hand, row.reserved) == (3, 0)


def test_shipping_takes_units_off_the_shelf_and_out_of_reserved(loaded_engine: Engine) -> None:
    with loaded_engine.begin() as conn:
        reserve(conn, "o-1", [StockItem("S001", "A", 2)])
    with loaded_engine.begin() as conn:
        assert ship(conn, "o-1") == 2
        assert release(conn, "o-1") == 0  # a shipped order has nothing left to release
    row = _row(loaded_engine, "S001", "A")
    assert (row.on_hand, row.reserved) == (1, 0)


def test_expired_click_and_collect_holds_release_themselves(loaded_engine: Engine) -> None:
    with loaded_engine.begin() as conn:
        reserve(conn, "cc-1", [StockItem("S001", "A", 1)], expires_at=NOW + timedelta(hours=72))
        reserve(conn, "hd-1", [StockItem("S001", "A", 1)])
    with loaded_engine.begin() as conn:
        assert expire_holds(conn, NOW + timedelta(hours=71)) == []
        assert expire_holds(conn, NOW + timedelta(hours=72)) == ["cc-1"]
    assert _row(loaded_engine, "S001", "A").reserved == 1


def test_a_newer_snapshot_replaces_the_count_and_a_stale_one_is_refused(
    loaded_engine: Engine,
) -> None:
    with loaded_engine.begin() as conn:
        result = apply_stock_snapshot(conn, [StockCount("S001", "A", 7, version=10)])
        assert (result.updated, result.created) == (1, 0)
    with loaded_engine.begin() as conn:
        repeat = apply_stock_snapshot(conn, [StockCount("S001", "A", 7, version=10)])
        assert repeat.unchanged == 1
    with loaded_engine.begin() as conn, pytest.raises(StaleSnapshot):
        apply_stock_snapshot(
            conn, [StockCount("S002", "A", 5, version=11), StockCount("S001", "A", 1, version=9)]
        )
    assert _row(loaded_engine, "S001", "A").on_hand == 7
    assert _row(loaded_engine, "S002", "A").on_hand == 0  # the whole snapshot was refused


def test_a_count_below_the_reserved_units_is_refused(loaded_engine: Engine) -> None:
    with loaded_engine.begin() as conn:
        reserve(conn, "o-1", [StockItem("S001", "A", 3)])
    with loaded_engine.begin() as conn, pytest.raises(BelowReserved):
        apply_stock_snapshot(conn, [StockCount("S001", "A", 2, version=1)])
    assert _row(loaded_engine, "S001", "A").on_hand == 3


def test_a_snapshot_row_for_an_unknown_store_is_refused(loaded_engine: Engine) -> None:
    with loaded_engine.begin() as conn, pytest.raises(UnknownStockItem):
        apply_stock_snapshot(conn, [StockCount("S999", "A", 2, version=1)])


def test_movements_apply_once_even_when_the_feed_retries(loaded_engine: Engine) -> None:
    sale = Movement("pos-1", "S001", "A", "sale", 1, NOW)
    receipt = Movement("wms-1", "S002", "A", "receipt", 6, NOW)
    with loaded_engine.begin() as conn:
        assert apply_movements(conn, [sale, receipt]).applied == 2
    with loaded_engine.begin() as conn:
        again = apply_movements(conn, [sale, receipt])
    assert (again.applied, again.duplicates) == (0, 2)
    assert _row(loaded_engine, "S001", "A").on_hand == 2
    assert _row(loaded_engine, "S002", "A").on_hand == 6


def test_a_count_that_says_when_it_was_taken_adds_what_moved_since(
    loaded_engine: Engine,
) -> None:
    """Counted at 09:00, applied at 10:00: the 09:30 sale already recorded is not in the count
    and stays subtracted; the 08:00 sale that arrives after the count is in it, and is only
    recorded (both were applied on top of the count before, whatever their moment)."""
    counted = NOW - timedelta(hours=1)
    with loaded_engine.begin() as conn:  # S002/A: on hand 0
        apply_movements(conn, [Movement("pos-0930", "S002", "A", "receipt", 9, NOW)])
        apply_movements(conn, [Movement("pos-0931", "S002", "A", "sale", 2,
                                        counted + timedelta(minutes=31))])
        apply_stock_snapshot(conn, [StockCount("S002", "A", 10, version=5, counted_at=counted)])
    assert _row(loaded_engine, "S002", "A").on_hand == 10 + 9 - 2
    with loaded_engine.begin() as conn:
        late = apply_movements(conn, [
            Movement("pos-0800", "S002", "A", "sale", 3, counted - timedelta(hours=1)),
            Movement("pos-1005", "S002", "A", "sale", 1, NOW + timedelta(minutes=5)),
        ])
    assert (late.applied, late.already_counted, late.duplicates) == (1, 1, 0)
    assert _row(loaded_engine, "S002", "A").on_hand == 17 - 1
    with loaded_engine.begin() as conn:  # a retry of the late sale is a duplicate
        again = apply_movements(conn, [
            Movement("pos-0800", "S002", "A", "sale", 3, counted - timedelta(hours=1))])
    assert (again.applied, again.already_counted, again.duplicates) == (0, 0, 1)
    assert _row(loaded_engine, "S002", "A").counted_at == counted


def test_a_count_taken_before_an_order_shipped_does_not_put_its_units_back(
    loaded_engine: Engine,
) -> None:
    """Counted with 3 on the shelf; 2 of them shipped to a customer after the count, before it
    arrived: on hand is 1 (an outside trial saw the shipped units back on sale)."""
    counted = NOW - timedelta(hours=1)
    with loaded_engine.begin() as conn:  # S001/A: on hand 3
        reserve(conn, "o-1", [StockItem("S001", "A", 2)], now=counted - timedelta(hours=1))
        ship(conn, "o-1", now=NOW - timedelta(minutes=30))
        reserve(conn, "o-2", [StockItem("S001", "A", 1)], now=NOW)
        ship(conn, "o-2", now=counted - timedelta(minutes=5))  # before the count: in it
    with loaded_engine.begin() as conn:
        apply_stock_snapshot(conn, [StockCount("S001", "A", 3, version=5, counted_at=counted)])
    row = _row(loaded_engine, "S001", "A")
    assert (row.on_hand, row.reserved) == (3 - 2, 0)


def test_a_count_without_its_moment_is_taken_as_it_stands(loaded_engine: Engine) -> None:
    with loaded_engine.begin() as conn:
        apply_movements(conn, [Movement("wms-1", "S002", "A", "receipt", 4, NOW)])
        apply_stock_snapshot(conn, [StockCount("S002", "A", 10, version=5)])
        late = apply_movements(conn, [
            Movement("pos-1", "S002", "A", "sale", 1, NOW - timedelta(days=1))])
    assert (late.applied, late.already_counted) == (1, 0)
    row = _row(loaded_engine, "S002", "A")
    assert (row.on_hand, row.counted_at) == (9, None)


def test_a_count_plus_later_sales_below_the_reserved_units_is_refused(
    loaded_engine: Engine,
) -> None:
    with loaded_engine.begin() as conn:  # S001/A: on hand 3
        reserve(conn, "o-1", [StockItem("S001", "A", 2)])
        apply_movements(conn, [Movement("pos-1", "S001", "A", "sale", 1, NOW)])
    with loaded_engine.begin() as conn, pytest.raises(BelowReserved, match="1 < 2 reserved"):
        apply_stock_snapshot(conn, [StockCount("S001", "A", 2, version=1,
                                               counted_at=NOW - timedelta(hours=1))])
    assert _row(loaded_engine, "S001", "A").on_hand == 2


def test_a_walkin_sale_cannot_take_units_reserved_for_orders(loaded_engine: Engine) -> None:
    with loaded_engine.begin() as conn:
        reserve(conn, "o-1", [StockItem("S001", "A", 3)])
    with loaded_engine.begin() as conn, pytest.raises(BelowReserved):
        apply_movements(conn, [Movement("pos-9", "S001", "A", "sale", 1, NOW)])
    with loaded_engine.begin() as conn:  # refused means not recorded: a retry is judged afresh
        release(conn, "o-1")
        assert apply_movements(conn, [Movement("pos-9", "S001", "A", "sale", 1, NOW)]).applied == 1
