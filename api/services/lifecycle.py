"""After the decision: read, cancel (release) and ship (consume) an order; holds expire.

Each transition locks the order row (`FOR UPDATE` on PostgreSQL; SQLite writers are serial),
so a cancel racing a ship ends with exactly one of them applied. Repeating a transition that
already happened returns the order unchanged (safe retries); a transition from a state it cannot
follow (ship a cancelled order) is a 409. A click-and-collect order past its hold is expired on
read, before anything else looks at it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, cast

from sqlalchemy import Connection, Engine, Table, select, update

from api.db import stock as db_stock
from api.db.tables import Order as OrderRow
from api.services.errors import Conflict, NotFound

orders = cast(Table, OrderRow.__table__)

OPEN_STATES = ("allocated", "partial")


def get_order(engine: Engine, order_id: str, now: datetime | None = None) -> dict[str, Any]:
    """The recorded decision with the order's current state."""
    with engine.begin() as conn:
        return _body(_locked(conn, order_id, now or datetime.now(UTC)))


def cancel_order(engine: Engine, order_id: str, now: datetime | None = None) -> dict[str, Any]:
    """Release the order's held units; a cancelled order stays cancelled."""
    return _transition(engine, order_id, "cancelled", now or datetime.now(UTC))


def ship_order(engine: Engine, order_id: str, now: datetime | None = None) -> dict[str, Any]:
    """The held units leave: on hand and reserved both go down; a shipped order stays shipped."""
    return _transition(engine, order_id, "shipped", now or datetime.now(UTC))


def expire_due_holds(engine: Engine, now: datetime | None = None) -> int:
    """Release every click-and-collect hold past its time; returns orders expired."""
    with engine.begin() as conn:
        return len(db_stock.expire_holds(conn, now or datetime.now(UTC)))


def _transition(
    engine: Engine, order_id: str, target: Literal["cancelled", "shipped"], at: datetime
) -> dict[str, Any]:
    with engine.begin() as conn:
        row = _locked(conn, order_id, at)
        if row["status"] == target:
            return _body(row)
        if row["status"] not in OPEN_STATES:
            raise Conflict(
                f"order-{row['status']}",
                f"order {order_id} is {row['status']}; it cannot be {target}",
                {"order_id": order_id, "state": row["status"]},
            )
        if target == "cancelled":
            db_stock.release(conn, order_id, at)
        else:
            db_stock.ship(conn, order_id, at)
        conn.execute(
            update(orders).where(orders.c.order_id == order_id).values(status=target, updated_at=at)
        )
        return _body({**row, "status": target})


def _locked(conn: Connection, order_id: str, at: datetime) -> dict[str, Any]:
    query = (
        select(orders.c.status, orders.c.expires_at, orders.c.decision)
        .where(orders.c.order_id == order_id)
        .with_for_update()
    )
    row = conn.execute(query).mappings().first()
    if row is None:
        raise NotFound("order", order_id)
    due = row["expires_at"] is not None and row["expires_at"] <= at
    if due and row["status"] in OPEN_STATES:
        db_stock.expire_holds(conn, at)
        row = conn.execute(query).mappings().one()
    return dict(row)


def _body(row: dict[str, Any]) -> dict[str, Any]:
    return {**row["decision"], "state": row["status"]}
