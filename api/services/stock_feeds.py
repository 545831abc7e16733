"""Stock feeds from WMS/POS: versioned bulk counts and walk-in sales / receipts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine

from api.db import stock as db_stock
from api.services.errors import InvalidCommand


def apply_snapshot(
    engine: Engine,
    counts: Sequence[db_stock.StockCount],
    safety_stock: Sequence[db_stock.StockItem] = (),
    now: datetime | None = None,
) -> db_stock.SnapshotResult:
    """Apply a count all or nothing (a stale one raises `StaleSnapshot`, a 409), and the walk-in
    reserve it carries, in one transaction."""
    at = now or datetime.now(UTC)
    with engine.begin() as conn:
        try:
            result = db_stock.apply_stock_snapshot(conn, counts, at)
        except ValueError as exc:  # a row twice in one count
            raise InvalidCommand("#/items", str(exc)) from exc
        if safety_stock:
            db_stock.set_safety_stock(conn, safety_stock, at)
        return result


def apply_movements(
    engine: Engine, movements: Sequence[db_stock.Movement], now: datetime | None = None
) -> db_stock.MovementResult:
    """Apply sales and receipts all or nothing; a repeated movement id is skipped."""
    with engine.begin() as conn:
        try:
            return db_stock.apply_movements(conn, movements, now or datetime.now(UTC))
        except ValueError as exc:
            raise InvalidCommand("#/movements", str(exc)) from exc
