"""The last units are never sold twice: many orders race for them at the same moment."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine, select

from api.db.engine import make_engine
from api.db.stock import InsufficientStock, StockItem, reserve
from api.db.tables import Reservation, Stock
from api.settings import Settings

RACERS = 50


def _race_for_the_last_units(url: str, items: list[StockItem], mirror: bool = False) -> list[bool]:
    """Start RACERS orders for `items` at once; with `mirror`, odd racers list them reversed."""
    engine = make_engine(url, Settings(db_pool_size=RACERS, db_max_overflow=0))
    start = threading.Barrier(RACERS)

    def order(n: int) -> bool:
        start.wait()
        try:
            with engine.begin() as conn:
                reserve(conn, f"race-{n}", items[::-1] if mirror and n % 2 else items)
            return True
        except InsufficientStock:
            return False

    try:
        with ThreadPoolExecutor(RACERS) as pool:
            return list(pool.map(order, range(RACERS)))
    finally:
        engine.dispose()


def _stock_and_holds(engine: Engine, node_id: str, sku: str) -> tuple[int, int, int]:
    with engine.connect() as conn:
        on_hand, reserved = conn.execute(
            select(Stock.on_hand, Stock.reserved).where(Stock.node_id == node_id, Stock.sku == sku)
        ).one()
        held = conn.execute(
            select(Reservation.qty).where(Reservation.node_id == node_id, Reservation.sku == sku)
        ).scalars().all()
    return on_hand, reserved, sum(held)


def test_last_unit_is_never_sold_twice(loaded_engine: Engine) -> None:
    # S001 holds exactly 3 units of A; fifty one-unit orders arrive at once.
    outcomes = _race_for_the_last_units(
        loaded_engine.url.render_as_string(hide_password=False), [StockItem("S001", "A", 1)]
    )
    assert sum(outcomes) == 3
    on_hand, reserved, held = _stock_and_holds(loaded_engine, "S001", "A")
    assert (on_hand, reserved, held) == (3, 3, 3)


def test_racing_two_line_orders_neither_oversell_nor_deadlock(loaded_engine: Engine) -> None:
    # Half the racers list the lines the other way round: row locks are still taken in one order.
    url = loaded_engine.url.render_as_string(hide_password=False)
    items = [StockItem("S002", "C", 1), StockItem("S001", "A", 1)]
    outcomes = _race_for_the_last_units(url, items, mirror=True)
    assert sum(outcomes) == 3  # A at S001 (3 units) is the binding item
    assert _stock_and_holds(loaded_engine, "S001", "A")[1] == 3
    assert _stock_and_holds(loaded_engine, "S002", "C")[1] == 3
