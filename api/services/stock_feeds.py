"""Stock feeds from WMS/POS: versioned bulk counts and walk-in sales / receipts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from api.db import stock as db_stock
from api.services.catalog import Catalog
from api.services.errors import Conflict, InvalidCommand, NotFound


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
    engine: Engine,
    catalog: Catalog,
    movements: Sequence[db_stock.Movement],
    now: datetime | None = None,
) -> db_stock.MovementResult:
    """Apply sales and receipts all or nothing; a repeated movement id is skipped, and one
    reused for a different movement refuses the batch (409): skipping it would lose units.
    Within one batch, two different movements under one id are a 422 pointing at the second:
    nothing was recorded under it yet.

    Unknown nodes and SKUs are refused (404) before the database is touched. A movement for a
    known node × SKU without a stock row is refused too (409): the movements table references
    the stock row, so such a row must first come from a snapshot (`PUT /v1/stock`).
    """
    first_of: dict[str, int] = {}
    clashes: list[tuple[int, int]] = []  # (index, index of the first movement of its id)
    for index, m in enumerate(movements):
        if m.node_id not in catalog.nodes:
            raise NotFound("node", m.node_id, f"#/movements/{index}/node_id")
        if m.sku not in catalog.skus:
            raise NotFound("sku", m.sku, f"#/movements/{index}/sku")
        first = first_of.setdefault(m.movement_id, index)
        if first != index and db_stock.describe(movements[first]) != db_stock.describe(m):
            clashes.append((index, first))
    if clashes:
        _refuse_ids_shared_in_the_batch(engine, movements, clashes)
    try:
        with engine.begin() as conn:
            return db_stock.apply_movements(conn, movements, now or datetime.now(UTC))
    except ValueError as exc:
        raise InvalidCommand("#/movements", str(exc)) from exc
    except db_stock.MovementIdReused as exc:
        raise Conflict("movement-id-reused", str(exc), {"movements": [
            {"movement_id": sent.movement_id, "recorded": db_stock.describe(recorded),
             "sent": db_stock.describe(sent)} for recorded, sent in exc.pairs[:100]
        ]}) from exc
    except IntegrityError as exc:
        raise Conflict(
            "no-stock-row",
            "a movement names a node × SKU without a stock row; send a snapshot for it first",
        ) from exc


def _refuse_ids_shared_in_the_batch(engine: Engine, movements: Sequence[db_stock.Movement],
                                    clashes: list[tuple[int, int]]) -> None:
    """Two different movements of one batch under an id not recorded before: the batch is
    wrong (422 at the second), since nothing was recorded under the id to conflict with. An id
    recorded before is the 409 of a reused id, answered by the write."""
    with engine.connect() as conn:
        known = db_stock.recorded_movement_ids(conn, (movements[i].movement_id
                                                      for i, _ in clashes))
    for index, first in clashes:
        m = movements[index]
        if m.movement_id not in known:
            raise InvalidCommand(
                f"#/movements/{index}/movement_id",
                f"movement id {m.movement_id!r} is also the id of movement {first} of this "
                f"batch, a different one ({db_stock.describe(movements[first])}; here "
                f"{db_stock.describe(m)}): each movement needs its own id")
