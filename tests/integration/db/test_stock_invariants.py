"""Whatever sequence of orders, cancellations, shipments and feeds arrives, the stock books
balance: reserved equals the units still held, never exceeds on hand, and on hand moves only by
receipts, walk-in sales and shipments."""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from api.db.engine import make_engine
from api.db.load_chain import load_chain
from api.db.stock import (
    BelowReserved,
    InsufficientStock,
    Movement,
    StockItem,
    apply_movements,
    release,
    reserve,
    ship,
)
from api.db.tables import Reservation, Stock

NOW = datetime(2026, 11, 9, 12, tzinfo=UTC)
ROWS = [("S001", "A"), ("S002", "C")]  # 3 and 4 units on hand in the tiny chain

operation = st.one_of(
    st.tuples(st.just("reserve"), st.integers(0, 5), st.integers(1, 3), st.booleans()),
    st.tuples(st.just("release"), st.integers(0, 5)),
    st.tuples(st.just("ship"), st.integers(0, 5)),
    st.tuples(st.just("sale"), st.integers(0, 1), st.integers(1, 3)),
    st.tuples(st.just("receipt"), st.integers(0, 1), st.integers(1, 3)),
)


@pytest.mark.slow
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(operation, min_size=1, max_size=12))
def test_stock_books_balance_after_any_sequence_of_events(
    operations: list[tuple[Any, ...]], _migrated_sqlite_template: Path, chain: Any
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "omni.db"
        shutil.copyfile(_migrated_sqlite_template, path)
        engine = make_engine(f"sqlite:///{path}")
        try:
            load_chain(engine, chain, "tiny", {})
            with engine.connect() as conn:
                start = dict(_on_hand(conn))
            moved = Counter[tuple[str, str]]()
            for n, op in enumerate(operations):
                _apply(engine, n, op, moved)
            with engine.connect() as conn:
                on_hand = dict(_on_hand(conn))
                reserved = dict(_reserved(conn))
                held = Counter[tuple[str, str]]()
                for node_id, sku, qty in conn.execute(
                    select(Reservation.node_id, Reservation.sku, Reservation.qty).where(
                        Reservation.state == "held"
                    )
                ):
                    held[(node_id, sku)] += qty
            for key in ROWS:
                assert 0 <= reserved[key] <= on_hand[key]
                assert reserved[key] == held[key]
                assert on_hand[key] == start[key] + moved[key]
        finally:
            engine.dispose()


def _apply(engine: Any, n: int, op: tuple[Any, ...], moved: Counter[tuple[str, str]]) -> None:
    kind = op[0]
    with engine.begin() as conn:
        if kind == "reserve":
            _, order, qty, both = op
            items = [StockItem(*ROWS[0], qty)] + ([StockItem(*ROWS[1], 1)] if both else [])
            try:
                reserve(conn, f"o{order}", items)
            except InsufficientStock:
                pass
        elif kind == "release":
            release(conn, f"o{op[1]}")
        elif kind == "ship":
            shipped = conn.execute(
                select(Reservation.node_id, Reservation.sku, Reservation.qty).where(
                    (Reservation.order_id == f"o{op[1]}") & (Reservation.state == "held")
                )
            ).all()
            ship(conn, f"o{op[1]}")
            for node_id, sku, qty in shipped:
                moved[(node_id, sku)] -= qty
        else:
            _, row, qty = op
            node_id, sku = ROWS[row]
            try:
                apply_movements(conn, [Movement(f"m{n}", node_id, sku, kind, qty, NOW)])
                moved[(node_id, sku)] += qty if kind == "receipt" else -qty
            except BelowReserved:
                pass


def _on_hand(conn: Any) -> list[tuple[tuple[str, str], int]]:
    rows = conn.execute(select(Stock.node_id, Stock.sku, Stock.on_hand)).all()
    return [((n, s), h) for n, s, h in rows]


def _reserved(conn: Any) -> list[tuple[tuple[str, str], int]]:
    rows = conn.execute(select(Stock.node_id, Stock.sku, Stock.reserved)).all()
    return [((n, s), r) for n, s, r in rows]
