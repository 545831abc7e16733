"""Stock: the one source of truth for what can be promised, and the only code that changes it.

ATP (available to promise) = on_hand − reserved − safety_stock.

Why reservations cannot oversell: `reserve` changes each stock row with ONE conditional UPDATE,

    UPDATE stock SET reserved = reserved + :qty, version = version + 1
    WHERE node_id = :node AND sku = :sku AND on_hand - reserved - safety_stock >= :qty

and checks that it touched exactly one row. On PostgreSQL under READ COMMITTED the UPDATE takes
the row lock; a second transaction updating the same row waits, and when the first commits it
re-evaluates the WHERE clause on the new row version (EvalPlanQual), so it sees the units already
taken and matches nothing. On SQLite every transaction begins IMMEDIATE (api/db/engine.py), so
writers run one at a time. No read-then-write window exists on either database. Rows are locked
in (node_id, sku) order so two multi-line orders never deadlock on each other.

On PostgreSQL all of an order's rows are reserved, and its holds written, by ONE statement (one
round trip; see `_reserve_in_one_statement`: a sorted FOR UPDATE, then the same conditional
UPDATE joined to the wanted rows); SQLite keeps one UPDATE per row (its writers serialize).
The allocation API goes one step further on PostgreSQL: `reserve_and_record` reserves the rows,
writes the holds AND the order, its lines and allocations in one statement run as its own
transaction (autocommit), all or nothing, so an order costs one round trip to write and commit.

If any row of an order is short, `InsufficientStock` names every short item and nothing of the
order stays reserved: by default a savepoint around the order's updates is rolled back and the
caller's transaction is still usable (to record a rejection or try a partial plan); with
`savepoint=False` (two round trips fewer) the caller must roll its transaction back.

Versions: `stock.version` goes up by one on every change of a row (reserve, release, ship,
snapshot, movement, safety stock), so a reader holding `Availability.version` can tell that a row
moved. `stock.feed_version` is the source system's version of the last snapshot applied to the
row (a WMS/POS count sequence number or epoch milliseconds: any integer that grows with each
count). A snapshot row is applied when its version is greater than `feed_version`, skipped as a
repeat when equal, and the whole snapshot is refused as stale when any row is older.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal, cast

import orjson
import psycopg
from psycopg.errors import InvalidTextRepresentation, UniqueViolation
from sqlalchemy import Connection, Table, bindparam, case, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from api.db.tables import DemandRate, Node, Order, Reservation, Sku, Stock, StockMovement

stock = cast(Table, Stock.__table__)
reservations = cast(Table, Reservation.__table__)
movements = cast(Table, StockMovement.__table__)
orders = cast(Table, Order.__table__)

Key = tuple[str, str]  # (node_id, sku)


@dataclass(frozen=True)
class StockItem:
    """A quantity of one SKU at one node (a line of a reservation)."""

    node_id: str
    sku: str
    qty: int


@dataclass(frozen=True)
class Shortage:
    node_id: str
    sku: str
    requested: int
    available: int


@dataclass(frozen=True)
class Availability:
    """What the allocator needs per node × SKU: ATP and the walk-in demand it would compete with."""

    node_id: str
    sku: str
    atp: int
    walkin_units_per_day: float
    on_hand: int
    reserved: int
    safety_stock: int
    version: int


@dataclass(frozen=True)
class StockCount:
    """One row of a WMS/POS snapshot: the counted units and the source's version of the count;
    `counted_at`, when the feed says, the moment the units were counted (see
    `apply_stock_snapshot`)."""

    node_id: str
    sku: str
    on_hand: int
    version: int
    counted_at: datetime | None = None


@dataclass(frozen=True)
class SnapshotResult:
    updated: int
    created: int
    unchanged: int


@dataclass(frozen=True)
class Movement:
    """A walk-in sale (units leave) or a receipt (units arrive); the id makes a retry harmless."""

    movement_id: str
    node_id: str
    sku: str
    kind: Literal["sale", "receipt"]
    qty: int
    occurred_at: datetime


@dataclass(frozen=True)
class MovementResult:
    applied: int
    duplicates: int
    already_counted: int = 0  # recorded, not applied: they happened before the row's count


class StockError(Exception):
    """A stock change refused for a business reason (mapped to 409 by the HTTP layer)."""


class InsufficientStock(StockError):
    def __init__(self, shortages: Sequence[Shortage]) -> None:
        self.shortages = tuple(shortages)
        named = ", ".join(
            f"{s.sku}@{s.node_id} (asked {s.requested}, available {s.available})"
            for s in self.shortages
        )
        super().__init__(f"insufficient stock: {named}")


class StaleSnapshot(StockError):
    def __init__(self, rows: Sequence[tuple[str, str, int, int]]) -> None:
        self.rows = tuple(rows)  # (node_id, sku, snapshot version, current feed_version)
        first = ", ".join(f"{s}@{n} (v{v} < v{c})" for n, s, v, c in self.rows[:5])
        super().__init__(f"stale stock snapshot: {len(self.rows)} rows older than applied: {first}")


class BelowReserved(StockError):
    """A count or sale would leave fewer units than are reserved for orders. `held_by` names
    the orders (or transfers) holding each row's units: the ones to ship, cancel or source
    elsewhere before the count or sale is sent again."""

    def __init__(self, rows: Sequence[tuple[str, str, int, int]],
                 held_by: dict[Key, tuple[tuple[str, ...], int]] | None = None) -> None:
        self.rows = tuple(rows)  # (node_id, sku, resulting on_hand, reserved)
        self.held_by = held_by or {}  # (up to 20 names, how many holds) per row
        first = ", ".join(f"{s}@{n} ({h} < {r} reserved)" for n, s, h, r in self.rows[:5])
        hints = []
        if any(r > 0 for _, _, _, r in self.rows):
            hints.append("ship, cancel or re-source the orders holding them (held_by), then "
                         "send it again")
        if any(h < 0 for _, _, h, _ in self.rows):
            hints.append("more units would leave than the books hold: send a count of the "
                         "shelf (PUT /v1/stock) first")
        super().__init__(f"on hand would fall below reserved units: {first}; "
                         + "; ".join(hints))


class UnknownStockItem(StockError):
    def __init__(self, keys: Iterable[Key]) -> None:
        self.keys = tuple(sorted(keys))
        super().__init__("unknown node or SKU: " + ", ".join(f"{s}@{n}" for n, s in self.keys[:5]))


class MovementIdReused(StockError):
    """A movement id already recorded for another movement: skipping it as a retry would
    lose the new one, applying it would break the retry guarantee."""

    def __init__(self, pairs: Sequence[tuple[Movement, Movement]]) -> None:
        self.pairs = tuple(pairs)  # (recorded, sent)
        recorded, sent = self.pairs[0]
        super().__init__(
            f"movement id {sent.movement_id!r} was recorded as {describe(recorded)}; this one is "
            f"{describe(sent)}. A new movement needs a new id"
            + (f" ({len(self.pairs)} ids reused in this batch)" if len(self.pairs) > 1 else "")
        )


def describe(m: Movement) -> str:
    """`a sale of 2 × F00001 at S001 at 2026-12-07T10:00:00+00:00`."""
    return (f"a {m.kind} of {m.qty} × {m.sku} at {m.node_id} "
            f"at {m.occurred_at.astimezone(UTC).isoformat()}")


class _RollBack(Exception):
    """Raised inside a savepoint to undo it."""


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


ItemLike = StockItem | tuple[str, str, int]


def _merge(items: Iterable[ItemLike]) -> dict[Key, int]:
    """Sum quantities per (node, sku), in lock order; items are StockItems or plain triples."""
    merged: dict[Key, int] = defaultdict(int)
    for item in items:
        node_id, sku, qty = (
            (item.node_id, item.sku, item.qty) if isinstance(item, StockItem) else item
        )
        if qty <= 0:
            raise ValueError(f"quantity must be positive, got {qty} for {sku}")
        merged[(node_id, sku)] += qty
    return dict(sorted(merged.items()))


_key = (stock.c.node_id == bindparam("b_node")) & (stock.c.sku == bindparam("b_sku"))
_atp = stock.c.on_hand - stock.c.reserved - stock.c.safety_stock

_RESERVE = (
    update(stock)
    .where(_key & (_atp >= bindparam("b_qty")))
    .values(
        reserved=stock.c.reserved + bindparam("b_qty"),
        version=stock.c.version + 1,
        updated_at=bindparam("b_now"),
    )
)


def reserve(
    conn: Connection,
    order_id: str,
    items: Iterable[ItemLike],
    expires_at: datetime | None = None,
    now: datetime | None = None,
    *,
    savepoint: bool = True,
) -> None:
    """Hold `items` for `order_id`, all or nothing; raise InsufficientStock naming every short item.

    Commit is the caller's (so the order, its allocations and its reservations land together).
    With `savepoint` (the default) a shortage undoes only this reservation and the caller's
    transaction stays usable. With `savepoint=False` a shortage leaves the transaction holding
    part of the order, so the caller MUST roll it back on InsufficientStock (allocate_order does:
    it decides again in a new transaction); that saves two round trips per order.
    """
    wanted = _merge(items)
    if not wanted:
        return
    at = _now(now)
    short: list[Key] = []
    if not savepoint and batched_writes(conn):
        got = _reserve_in_one_statement(conn, order_id, wanted, expires_at, at)
        short = [key for key in wanted if key not in got]
        if short:
            raise _insufficient(conn, wanted, short)
        return
    try:
        with conn.begin_nested():
            if batched_writes(conn):
                got = _reserve_in_one_statement(conn, order_id, wanted, expires_at, at)
                short = [key for key in wanted if key not in got]
            else:
                short = _reserve_row_by_row(conn, order_id, wanted, expires_at, at)
            if short:
                raise _RollBack
    except _RollBack:
        raise _insufficient(conn, wanted, short) from None


def batched_writes(conn: Connection) -> bool:
    """Whether multi-row writes go in one statement (PostgreSQL: data-modifying CTEs); SQLite
    serializes writers anyway and keeps the simple per-row statements."""
    return conn.dialect.name == "postgresql"


def _insufficient(conn: Connection, wanted: dict[Key, int], short: list[Key]) -> InsufficientStock:
    available = _current_atp(conn, short)
    return InsufficientStock(
        [Shortage(n, s, wanted[(n, s)], available.get((n, s), 0)) for n, s in short]
    )


def _hold_rows(
    order_id: str, wanted: dict[Key, int], expires_at: datetime | None, at: datetime
) -> list[dict[str, object]]:
    return [
        {
            "order_id": order_id,
            "node_id": node_id,
            "sku": sku,
            "qty": qty,
            "state": "held",
            "expires_at": expires_at,
            "created_at": at,
            "updated_at": at,
        }
        for (node_id, sku), qty in wanted.items()
    ]


def _reserve_row_by_row(
    conn: Connection,
    order_id: str,
    wanted: dict[Key, int],
    expires_at: datetime | None,
    at: datetime,
) -> list[Key]:
    """One conditional UPDATE per row in lock order, then the holds; returns the short keys."""
    short: list[Key] = []
    for (node_id, sku), qty in wanted.items():
        params = {"b_node": node_id, "b_sku": sku, "b_qty": qty, "b_now": at}
        if conn.execute(_RESERVE, params).rowcount != 1:
            short.append((node_id, sku))
    if not short:
        conn.execute(insert(reservations), _hold_rows(order_id, wanted, expires_at, at))
    return short


_RESERVE_ALL = text(
    """
    WITH wanted AS (
        SELECT * FROM unnest(CAST(:nodes AS text[]), CAST(:skus AS text[]), CAST(:qtys AS int[]))
            AS w(node_id, sku, qty)
    ), locked AS (
        SELECT s.node_id, s.sku FROM stock AS s
        JOIN wanted AS w ON s.node_id = w.node_id AND s.sku = w.sku
        ORDER BY s.node_id, s.sku
        FOR UPDATE OF s
    ), taken AS (
        UPDATE stock AS s
        SET reserved = s.reserved + w.qty, version = s.version + 1, updated_at = :now
        FROM locked AS l, wanted AS w
        WHERE s.node_id = l.node_id AND s.sku = l.sku
          AND s.node_id = w.node_id AND s.sku = w.sku
          AND s.on_hand - s.reserved - s.safety_stock >= w.qty
        RETURNING s.node_id, s.sku, w.qty
    ), holds AS (
        INSERT INTO reservations
            (order_id, node_id, sku, qty, state, expires_at, created_at, updated_at)
        SELECT :order_id, node_id, sku, qty, 'held', :expires_at, :now, :now FROM taken
    )
    SELECT node_id, sku FROM taken
    """
).bindparams(
    bindparam("now", type_=reservations.c.created_at.type),
    bindparam("expires_at", type_=reservations.c.expires_at.type),
)


def _reserve_in_one_statement(
    conn: Connection,
    order_id: str,
    wanted: dict[Key, int],
    expires_at: datetime | None,
    at: datetime,
) -> set[Key]:
    """Reserve every row of the order and write its holds in ONE round trip (PostgreSQL).

    Still one conditional update per row: the ATP test is in the UPDATE's WHERE, so a row
    changed by a transaction that committed while we waited for its lock is re-checked on its
    new version (EvalPlanQual), exactly as with the per-row statements. (A row short in the
    statement's snapshot but restocked while we waited is not found at all, and reads as
    short: a refusal the caller may retry, never an oversell.) The `locked` sub-select
    takes the row locks in (node_id, sku) order before any row is updated (a join's order is
    not guaranteed, a sorted FOR UPDATE is), so two multi-line orders never deadlock. The rows
    travel as arrays, so the text is the same for every order: compiled once by SQLAlchemy and
    prepared once per connection by psycopg. Returns the keys reserved; a key missing means the
    order is short, and the caller undoes the statement (holds included) with a savepoint or
    the whole transaction.
    """
    params = {
        "nodes": [node_id for node_id, _ in wanted],
        "skus": [sku for _, sku in wanted],
        "qtys": list(wanted.values()),
        "order_id": order_id,
        "expires_at": expires_at,
        "now": at,
    }
    return {(node_id, sku) for node_id, sku in conn.execute(_RESERVE_ALL, params)}


def _current_atp(conn: Connection, keys: Sequence[Key]) -> dict[Key, int]:
    found: dict[Key, int] = {}
    for node_id, sku in keys:
        atp = conn.execute(
            select(_atp).where((stock.c.node_id == node_id) & (stock.c.sku == sku))
        ).scalar()
        found[(node_id, sku)] = max(int(atp), 0) if atp is not None else 0
    return found


def release(conn: Connection, order_id: str, now: datetime | None = None) -> int:
    """Give back the units still held for `order_id` (cancellation). Returns units released;
    0 when nothing is held (already released, shipped or unknown): safe to repeat."""
    return _close_holds(conn, reservations.c.order_id == order_id, "released", _now(now))[0]


def ship(conn: Connection, order_id: str, now: datetime | None = None) -> int:
    """The held units leave the building: on_hand and reserved both go down. Returns units
    shipped; 0 when nothing is held."""
    return _close_holds(conn, reservations.c.order_id == order_id, "shipped", _now(now))[0]


def expire_holds(conn: Connection, now: datetime | None = None) -> list[str]:
    """Release every hold whose `expires_at` has passed (click-and-collect not picked up) and
    mark those orders expired. Returns the order ids expired."""
    at = _now(now)
    due = (reservations.c.expires_at.is_not(None)) & (reservations.c.expires_at <= at)
    _, order_ids = _close_holds(conn, due, "expired", at)
    if order_ids:
        conn.execute(
            update(orders)
            .where(orders.c.order_id.in_(order_ids) & orders.c.status.in_(("allocated", "partial")))
            .values(status="expired", updated_at=at)
        )
    return order_ids


def _close_holds(
    conn: Connection,
    which: object,
    outcome: Literal["released", "shipped", "expired"],
    at: datetime,
) -> tuple[int, list[str]]:
    # Claiming the reservation rows first (state held → final) locks them, so a concurrent
    # release/ship/expiry of the same order finds nothing left to close.
    state = "shipped" if outcome == "shipped" else "released"
    closed = conn.execute(
        update(reservations)
        .where((reservations.c.state == "held") & which)  # type: ignore[operator]
        .values(state=state, updated_at=at)
        .returning(reservations.c.order_id, reservations.c.node_id, reservations.c.sku,
                   reservations.c.qty)
    ).all()
    per_row: dict[Key, int] = defaultdict(int)
    for _, node_id, sku, qty in closed:
        per_row[(node_id, sku)] += qty
    on_hand_change = stock.c.on_hand - bindparam("b_qty") if state == "shipped" else stock.c.on_hand
    statement = (
        update(stock)
        .where(_key)
        .values(
            reserved=stock.c.reserved - bindparam("b_qty"),
            on_hand=on_hand_change,
            version=stock.c.version + 1,
            updated_at=bindparam("b_now"),
        )
    )
    for (node_id, sku), qty in sorted(per_row.items()):
        conn.execute(statement, {"b_node": node_id, "b_sku": sku, "b_qty": qty, "b_now": at})
    return sum(per_row.values()), sorted({row.order_id for row in closed})


def apply_stock_snapshot(
    conn: Connection, rows: Sequence[StockCount], now: datetime | None = None
) -> SnapshotResult:
    """Apply a WMS/POS count, all or nothing. Raises StaleSnapshot if any row is older than the
    count already applied, BelowReserved if a count is below the units reserved, and
    UnknownStockItem for a node or SKU we do not know. Repeats (same version) are skipped.

    A count that says when it was taken (`counted_at`) becomes on hand plus the sales and
    receipts recorded since that moment, less the orders and transfers shipped since (they
    reached us before the count did, and the shelf it counted did not hold their effect yet);
    the moment is kept on the row, so a movement
    from before it that arrives later is not applied twice (`apply_movements`)."""
    at = _now(now)
    counts = _unique_counts(rows)
    current = _lock_rows(conn, {node for node, _ in counts})
    since = _movements_since_counts(conn, [r for r in counts.values() if r.counted_at])
    stale, below, unknown = [], [], []
    to_update, to_create, unchanged = [], [], 0
    for key, row in counts.items():
        if key not in current:
            to_create.append(row)
            continue
        reserved, feed_version = current[key]
        on_hand = row.on_hand + since.get(key, 0)
        if row.version < feed_version:
            stale.append((row.node_id, row.sku, row.version, feed_version))
        elif row.version == feed_version:
            unchanged += 1
        elif on_hand < reserved:
            below.append((row.node_id, row.sku, on_hand, reserved))
        else:
            to_update.append(replace(row, on_hand=on_hand))
    if to_create:
        unknown = _unknown_keys(conn, [(r.node_id, r.sku) for r in to_create])
    if stale:
        raise StaleSnapshot(stale)
    if below:
        raise BelowReserved(below, _holders(conn, below))
    if unknown:
        raise UnknownStockItem(unknown)
    if to_update:
        conn.execute(
            update(stock)
            .where(_key)
            .values(
                on_hand=bindparam("b_on_hand"),
                feed_version=bindparam("b_version"),
                counted_at=bindparam("b_counted_at"),
                version=stock.c.version + 1,
                updated_at=bindparam("b_now"),
            ),
            [
                {"b_node": r.node_id, "b_sku": r.sku, "b_on_hand": r.on_hand,
                 "b_version": r.version, "b_counted_at": r.counted_at, "b_now": at}
                for r in to_update
            ],
        )
    if to_create:
        conn.execute(
            insert(stock),
            [
                {"node_id": r.node_id, "sku": r.sku, "on_hand": r.on_hand, "reserved": 0,
                 "safety_stock": 0, "version": 1, "feed_version": r.version,
                 "counted_at": r.counted_at, "updated_at": at}
                for r in to_create
            ],
        )
    return SnapshotResult(updated=len(to_update), created=len(to_create), unchanged=unchanged)


def _movements_since_counts(conn: Connection, rows: Sequence[StockCount]) -> dict[Key, int]:
    """Net units that moved at each row's node × SKU after the row's `counted_at`: recorded
    receipts up, sales down, and the holds shipped since (orders and transfers that left the
    shelf after it was counted: their units are in the count, no longer on hand). Rows are
    grouped by moment, two queries each."""
    by_moment: dict[datetime, set[Key]] = defaultdict(set)
    for row in rows:
        if row.counted_at is not None:
            by_moment[row.counted_at].add((row.node_id, row.sku))
    net: dict[Key, int] = defaultdict(int)
    signed = case((movements.c.kind == "receipt", movements.c.qty), else_=-movements.c.qty)
    for moment, keys in by_moment.items():
        nodes = sorted({n for n, _ in keys})
        moved = (
            select(movements.c.node_id, movements.c.sku, func.sum(signed))
            .where(movements.c.node_id.in_(nodes), movements.c.occurred_at > moment)
            .group_by(movements.c.node_id, movements.c.sku)
        )
        shipped = (
            select(reservations.c.node_id, reservations.c.sku, -func.sum(reservations.c.qty))
            .where(reservations.c.node_id.in_(nodes), reservations.c.state == "shipped",
                   reservations.c.updated_at > moment)
            .group_by(reservations.c.node_id, reservations.c.sku)
        )
        for query in (moved, shipped):
            for node_id, sku, units in conn.execute(query):
                if (node_id, sku) in keys:
                    net[(node_id, sku)] += int(units)
    return dict(net)


def _unique_counts(rows: Sequence[StockCount]) -> dict[Key, StockCount]:
    counts: dict[Key, StockCount] = {}
    for row in rows:
        if row.on_hand < 0 or row.version < 0:
            raise ValueError(f"negative on_hand or version for {row.sku}@{row.node_id}")
        if (row.node_id, row.sku) in counts:
            raise ValueError(f"{row.sku}@{row.node_id} appears twice in the snapshot")
        counts[(row.node_id, row.sku)] = row
    return dict(sorted(counts.items()))


def _lock_rows(conn: Connection, node_ids: set[str]) -> dict[Key, tuple[int, int]]:
    """Current (reserved, feed_version) of the nodes' rows, locked until commit on PostgreSQL
    (SQLite already holds the write lock)."""
    if not node_ids:
        return {}
    result = conn.execute(
        select(stock.c.node_id, stock.c.sku, stock.c.reserved, stock.c.feed_version)
        .where(stock.c.node_id.in_(sorted(node_ids)))
        .order_by(stock.c.node_id, stock.c.sku)
        .with_for_update()
    )
    return {(n, s): (reserved, feed) for n, s, reserved, feed in result}


def _unknown_keys(conn: Connection, keys: Sequence[Key]) -> list[Key]:
    node_ids = {n for n, _ in keys}
    sku_ids = {s for _, s in keys}
    nodes = set(conn.execute(select(Node.node_id).where(Node.node_id.in_(node_ids))).scalars())
    skus = set(conn.execute(select(Sku.sku).where(Sku.sku.in_(sku_ids))).scalars())
    return [(n, s) for n, s in keys if n not in nodes or s not in skus]


def apply_movements(
    conn: Connection, batch: Sequence[Movement], now: datetime | None = None
) -> MovementResult:
    """Apply walk-in sales (on_hand down) and receipts (on_hand up), all or nothing.

    A movement whose id was applied before is skipped (a retried feed is harmless). A sale that
    would leave fewer units than are reserved raises BelowReserved: the count is off or orders
    must be re-sourced, and a person should decide which. A receipt for a node × SKU without a
    stock row creates it. A movement that happened before the row's last count was taken
    (`stock.counted_at`) is recorded, not applied: the count holds it already.
    """
    at = _now(now)
    ordered = sorted(batch, key=lambda m: (m.node_id, m.sku, m.movement_id))
    for m in ordered:
        if m.qty <= 0 or m.kind not in ("sale", "receipt"):
            raise ValueError(f"movement {m.movement_id}: kind sale/receipt and qty > 0 required")
    counted = _count_moments(conn, {(m.node_id, m.sku) for m in ordered})
    applied = already_counted = 0
    below: list[tuple[str, str, int, int]] = []
    unknown: list[Key] = []
    reused: list[tuple[Movement, Movement]] = []
    try:
        with conn.begin_nested():
            for m in ordered:
                if not _record_movement(conn, m, at):
                    recorded = _recorded_movement(conn, m.movement_id)
                    if recorded != _in_utc(m):
                        reused.append((recorded, m))
                    continue
                moment = counted.get((m.node_id, m.sku))
                if moment is not None and m.occurred_at <= moment:
                    already_counted += 1
                    continue
                applied += 1
                if not _move(conn, m, at):
                    row = conn.execute(
                        select(stock.c.on_hand, stock.c.reserved).where(
                            (stock.c.node_id == m.node_id) & (stock.c.sku == m.sku)
                        )
                    ).first()
                    if row is None:
                        unknown.append((m.node_id, m.sku))
                    else:
                        below.append((m.node_id, m.sku, row.on_hand - m.qty, row.reserved))
            if below or unknown or reused:
                raise _RollBack
    except _RollBack:
        if reused:
            raise MovementIdReused(reused) from None
        if below:
            raise BelowReserved(below, _holders(conn, below)) from None
        raise UnknownStockItem(unknown) from None
    return MovementResult(applied=applied, duplicates=len(ordered) - applied - already_counted,
                          already_counted=already_counted)


def _holders(conn: Connection, rows: Sequence[tuple[str, str, int, int]]
             ) -> dict[Key, tuple[tuple[str, ...], int]]:
    """Per row, who holds its units: up to 20 names, transfers first (one name often stands
    for many units), then orders, oldest hold first; and how many holds there are."""
    held: dict[Key, tuple[tuple[str, ...], int]] = {}
    transfer_first = case((reservations.c.order_id.like("transfer#%"), 0), else_=1)
    for node_id, sku, _, _ in rows[:100]:
        where = (reservations.c.node_id == node_id, reservations.c.sku == sku,
                 reservations.c.state == "held")
        names = tuple(conn.execute(
            select(reservations.c.order_id).where(*where)
            .order_by(transfer_first, reservations.c.created_at, reservations.c.reservation_id)
            .limit(20)
        ).scalars())
        total = conn.execute(select(func.count()).select_from(reservations).where(*where))
        held[(node_id, sku)] = (names, int(total.scalar_one()))
    return held


def _count_moments(conn: Connection, keys: set[Key]) -> dict[Key, datetime | None]:
    """When each row's last count was taken, the rows locked in (node_id, sku) order until
    commit (PostgreSQL), so that no count lands between this read and the movement's update."""
    if not keys:
        return {}
    nodes = sorted({n for n, _ in keys})
    result = conn.execute(
        select(stock.c.node_id, stock.c.sku, stock.c.counted_at)
        .where(stock.c.node_id.in_(nodes), stock.c.sku.in_(sorted({s for _, s in keys})))
        .order_by(stock.c.node_id, stock.c.sku)
        .with_for_update()
    )
    return {(n, s): moment for n, s, moment in result if (n, s) in keys}


def _record_movement(conn: Connection, m: Movement, at: datetime) -> bool:
    """Insert the movement's id; False when it is already there (a repeat)."""
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = (
        dialect_insert(movements)
        .on_conflict_do_nothing(index_elements=["movement_id"])
        .returning(movements.c.movement_id)
    )
    inserted = conn.execute(
        statement,
        {"movement_id": m.movement_id, "node_id": m.node_id, "sku": m.sku, "kind": m.kind,
         "qty": m.qty, "occurred_at": m.occurred_at, "applied_at": at},
    )
    return inserted.first() is not None  # (rowcount is -1 here on psycopg)


def recorded_movement_ids(conn: Connection, ids: Iterable[str]) -> set[str]:
    """Which of `ids` name a movement already recorded."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    return set(conn.execute(
        select(movements.c.movement_id).where(movements.c.movement_id.in_(wanted))).scalars())


def _recorded_movement(conn: Connection, movement_id: str) -> Movement:
    row = conn.execute(
        select(movements.c.node_id, movements.c.sku, movements.c.kind, movements.c.qty,
               movements.c.occurred_at).where(movements.c.movement_id == movement_id)
    ).one()
    return _in_utc(Movement(movement_id, row.node_id, row.sku, row.kind, row.qty,
                            row.occurred_at))


def _in_utc(m: Movement) -> Movement:
    return replace(m, occurred_at=m.occurred_at.astimezone(UTC))


def _move(conn: Connection, m: Movement, at: datetime) -> bool:
    delta = m.qty if m.kind == "receipt" else -m.qty
    guard = _key if m.kind == "receipt" else _key & (stock.c.on_hand - m.qty >= stock.c.reserved)
    changed = conn.execute(
        update(stock)
        .where(guard)
        .values(on_hand=stock.c.on_hand + delta, version=stock.c.version + 1, updated_at=at),
        {"b_node": m.node_id, "b_sku": m.sku},
    ).rowcount
    if changed == 1 or m.kind == "sale":
        return changed == 1
    return _create_row(conn, m, at)


def _create_row(conn: Connection, m: Movement, at: datetime) -> bool:
    if _unknown_keys(conn, [(m.node_id, m.sku)]):
        return False
    conn.execute(
        insert(stock),
        {"node_id": m.node_id, "sku": m.sku, "on_hand": m.qty, "reserved": 0,
         "safety_stock": 0, "version": 1, "feed_version": 0, "updated_at": at},
    )
    return True


def set_safety_stock(
    conn: Connection, items: Iterable[StockItem], now: datetime | None = None
) -> int:
    """Set the walk-in reserve per node × SKU (an approved plan). Returns rows changed.

    Safety stock may exceed on_hand − reserved: ATP is then 0 (never negative) for online orders.
    """
    rows = [
        {"b_node": i.node_id, "b_sku": i.sku, "b_units": i.qty, "b_now": _now(now)}
        for i in sorted(items, key=lambda i: (i.node_id, i.sku))
    ]
    if any(r["b_units"] < 0 for r in rows):  # type: ignore[operator]
        raise ValueError("safety stock cannot be negative")
    if not rows:
        return 0
    result = conn.execute(
        update(stock)
        .where(_key)
        .values(
            safety_stock=bindparam("b_units"),
            version=stock.c.version + 1,
            updated_at=bindparam("b_now"),
        ),
        rows,
    )
    return result.rowcount


def read_availability(
    conn: Connection, skus: Iterable[str], node_ids: Iterable[str] | None = None
) -> list[Availability]:
    """ATP (floored at 0) and walk-in demand per node × SKU for `skus`, ordered by node and SKU.

    Rows without a demand rate (DCs, new SKUs) report 0 walk-in units per day.
    """
    wanted = sorted(set(skus))
    if not wanted:
        return []
    query = (
        select(
            stock.c.node_id,
            stock.c.sku,
            stock.c.on_hand,
            stock.c.reserved,
            stock.c.safety_stock,
            stock.c.version,
            DemandRate.walkin_units_per_day,
        )
        .select_from(
            stock.outerjoin(
                DemandRate.__table__,
                (DemandRate.node_id == stock.c.node_id) & (DemandRate.sku == stock.c.sku),
            )
        )
        .where(stock.c.sku.in_(wanted))
        .order_by(stock.c.node_id, stock.c.sku)
    )
    if node_ids is not None:
        query = query.where(stock.c.node_id.in_(sorted(set(node_ids))))
    return [
        Availability(
            node_id=r.node_id,
            sku=r.sku,
            atp=max(r.on_hand - r.reserved - r.safety_stock, 0),
            walkin_units_per_day=float(r.walkin_units_per_day or 0.0),
            on_hand=r.on_hand,
            reserved=r.reserved,
            safety_stock=r.safety_stock,
            version=r.version,
        )
        for r in conn.execute(query)
    ]


@dataclass(frozen=True)
class Hold:
    """A reservation row as the HTTP layer shows it."""

    order_id: str
    node_id: str
    sku: str
    qty: int
    state: str
    expires_at: datetime | None


def holds_for(conn: Connection, order_id: str) -> list[Hold]:
    """The reservations of an order, in every state."""
    result = conn.execute(
        select(
            reservations.c.order_id,
            reservations.c.node_id,
            reservations.c.sku,
            reservations.c.qty,
            reservations.c.state,
            reservations.c.expires_at,
        )
        .where(reservations.c.order_id == order_id)
        .order_by(reservations.c.node_id, reservations.c.sku)
    )
    return [Hold(*row) for row in result]


_PROMISABLE = select(
    stock.c.node_id, stock.c.sku, _atp, stock.c.on_hand - stock.c.reserved
).where(stock.c.sku.in_(bindparam("skus", expanding=True)) & (_atp > 0))


def promisable_rows(conn: Connection, skus: Sequence[str]) -> list[tuple[str, str, int, int]]:
    """`read_atp` on any database through SQLAlchemy (the allocation path off PostgreSQL)."""
    return [tuple(row) for row in conn.execute(_PROMISABLE, {"skus": list(skus)})]


# --- The allocation API's statements on PostgreSQL (bare psycopg, autocommit) ---------------

_READ_ATP_SQL = """
    SELECT node_id, sku, on_hand - reserved - safety_stock, on_hand - reserved
    FROM stock
    WHERE sku IN ({skus}) AND on_hand - reserved - safety_stock > 0
"""
_read_atp_texts: dict[int, str] = {}


def read_atp(
    connection: psycopg.Connection[Any], skus: Sequence[str]
) -> list[tuple[str, str, int, int]]:
    """(node_id, sku, ATP, units on the shelf) of every row of `skus` that can promise a unit:
    one prepared statement, filtered in the database (an order's SKUs have ~100 rows each).

    The SKUs are listed (`IN ($1, $2)`), one statement text per count, not passed as one
    array: a generic plan cannot see an array's length and scans the whole table (5x the
    CPU of the index scan it picks for a known count of SKUs)."""
    text_ = _read_atp_texts.get(len(skus))
    if text_ is None:
        text_ = _READ_ATP_SQL.format(skus=", ".join(["%s"] * len(skus)))
        _read_atp_texts[len(skus)] = text_
    return connection.execute(text_, list(skus), prepare=True).fetchall()


@dataclass(frozen=True)
class OrderRecord:
    """An order as `reserve_and_record` writes it: the `orders` row (with the answer body as
    JSON text), its lines and its allocations."""

    order_id: str
    request_hash: str
    status: str
    fulfilment: str
    decision_json: str
    expires_at: datetime | None
    lines: Sequence[tuple[str, str, int, str]]
    """(line_id, sku, qty, status) per line of the order."""
    allocations: Sequence[tuple[str, str, str, int, str, datetime, float]]
    """(line_id, node_id, sku, qty, method, promised_at, cost_pln) per allocated line part."""


@dataclass(frozen=True)
class PriorOrder:
    """The order already recorded under an id: its payload digest, state and answer body."""

    request_hash: str
    status: str
    decision: dict[str, Any]


@dataclass(frozen=True)
class RecordOutcome:
    """`written`: the order is reserved and recorded. Otherwise `prior` holds the order that
    already had the id, or (None) some row had too few units: nothing at all was written."""

    written: bool
    prior: PriorOrder | None = None


_RESERVE_AND_RECORD_SQL = """
    WITH prior AS MATERIALIZED (
        SELECT request_hash, status, decision FROM orders WHERE order_id = %(order_id)s::text
    ), wanted AS MATERIALIZED (
        SELECT * FROM unnest(%(w_nodes)s::text[], %(w_skus)s::text[], %(w_qtys)s::int[])
            AS w(node_id, sku, qty)
    ), locked AS MATERIALIZED (
        SELECT s.node_id, s.sku, s.on_hand - s.reserved - s.safety_stock AS atp
        FROM stock AS s JOIN wanted AS w ON s.node_id = w.node_id AND s.sku = w.sku
        WHERE NOT EXISTS (SELECT FROM prior)
        ORDER BY s.node_id, s.sku
        FOR UPDATE OF s
    ), seen AS MATERIALIZED (
        SELECT s.node_id, s.sku, s.on_hand - s.reserved - s.safety_stock AS atp
        FROM stock AS s JOIN wanted AS w ON s.node_id = w.node_id AND s.sku = w.sku
        WHERE NOT EXISTS (SELECT FROM prior)
    ), verdict AS MATERIALIZED (
        SELECT count(*) = %(n_wanted)s::int AS go
        FROM locked AS l JOIN wanted AS w ON l.node_id = w.node_id AND l.sku = w.sku
        JOIN seen AS n ON n.node_id = w.node_id AND n.sku = w.sku
        WHERE l.atp >= w.qty AND n.atp >= w.qty
    ), taken AS (
        UPDATE stock AS s
        SET reserved = s.reserved + w.qty, version = s.version + 1,
            updated_at = %(now)s::timestamptz
        FROM wanted AS w, verdict AS v
        WHERE v.go AND s.node_id = w.node_id AND s.sku = w.sku
          AND s.on_hand - s.reserved - s.safety_stock >= w.qty
        RETURNING s.node_id, s.sku, w.qty
    ), holds AS (
        INSERT INTO reservations
            (order_id, node_id, sku, qty, state, expires_at, created_at, updated_at)
        SELECT %(order_id)s::text, node_id, sku, qty, 'held', %(expires_at)s::timestamptz,
               %(now)s::timestamptz, %(now)s::timestamptz
        FROM taken
    ), new_order AS (
        INSERT INTO orders (order_id, request_hash, status, fulfilment, created_at, updated_at,
                            expires_at, decision)
        SELECT %(order_id)s::text, %(request_hash)s::text, %(status)s::text,
               %(fulfilment)s::text, %(now)s::timestamptz, %(now)s::timestamptz,
               %(expires_at)s::timestamptz, %(decision)s::jsonb
        FROM verdict WHERE go
    ), new_lines AS (
        INSERT INTO order_lines (order_id, line_id, sku, qty, status)
        SELECT %(order_id)s::text, l.line_id, l.sku, l.qty, l.status
        FROM json_to_recordset(%(lines)s::json)
            AS l(line_id text, sku text, qty int, status text), verdict
        WHERE verdict.go
    ), new_allocations AS (
        INSERT INTO allocations
            (order_id, line_id, node_id, sku, qty, method, promised_at, cost_pln)
        SELECT %(order_id)s::text, a.line_id, a.node_id, a.sku, a.qty, a.method,
               a.promised_at, a.cost_pln
        FROM json_to_recordset(%(allocations)s::json)
            AS a(line_id text, node_id text, sku text, qty int, method text,
                 promised_at timestamptz, cost_pln numeric), verdict
        WHERE verdict.go
    ), reserved_rows AS (
        SELECT count(*) AS n FROM taken
    )
    SELECT v.go,
           CASE WHEN v.go AND r.n <> %(n_wanted)s::int
                THEN CAST('reserve_and_record: ' || r.n || ' of ' || %(n_wanted)s::int
                          || ' stock rows reserved' AS int)
                ELSE r.n END,
           p.request_hash, p.status, p.decision
    FROM verdict AS v CROSS JOIN reserved_rows AS r LEFT JOIN prior AS p ON true
"""
"""The statement text is the same for every order (prepared once per connection, generic
plan). The stock rows wanted travel as three array literals written by `_array_literal`, so
the generic plan sees an `unnest` of arrays (estimated at 10 rows: index lookups on `pk_stock`;
`json_to_recordset` is estimated at 100 and gets a sequential scan of the stock table). The
lines and allocations, only inserted, travel as two JSON documents parsed once each by
`json_to_recordset`. Both forms cost the client a third of psycopg's dumping of sixteen list
parameters (~90 µs of the server's CPU per order)."""


def _array_literal(values: Iterable[object]) -> str:
    """A PostgreSQL array literal of `values`, every element double-quoted (backslash and
    double quote escaped), for a `%s::text[]` or `%s::int[]` parameter sent as plain text."""
    quoted = (
        '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values
    )
    return "{" + ",".join(quoted) + "}"


class RecordingFailed(Exception):
    """The one-statement write found it had reserved fewer rows than it judged available (a
    bug, never expected); the statement was rolled back, so nothing of the order was written."""


def reserve_and_record(
    connection: psycopg.Connection[Any],
    order: OrderRecord,
    items: Iterable[ItemLike],
    now: datetime | None = None,
) -> RecordOutcome:
    """Reserve `items` for `order`, write its holds, the order, its lines and its allocations in
    ONE statement on an autocommit connection: one transaction, one round trip, durable when it
    returns (the commit is the statement's). All or nothing:

    - `locked` takes the order's stock rows FOR UPDATE in (node_id, sku) order (no deadlock
      between multi-line orders). Under READ COMMITTED a row another transaction changed and
      committed while we waited is returned in its NEW version, and it cannot change again
      until we commit, so `verdict` judges every row's ATP on the current, frozen units.
    - Only if every row has the units (`verdict.go`) does anything happen: the conditional
      UPDATE (ATP re-checked on the locked version, as everywhere in this module), the holds,
      the order, its lines and allocations. Otherwise nothing is written and `written` is False:
      the caller decides again on fresh stock.
    - The verdict also asks the row's version in the statement's snapshot (`seen`) for the
      units. The UPDATE's scan finds rows by that version, and re-checks the newest one only
      for rows it found: a row short in the snapshot but restocked by a feed while we waited
      for its lock was skipped, while the verdict on the locked version passed and the order
      was recorded holding nothing (a unit sold twice when it shipped). Such a row now makes
      the write a no-op, decided again on a fresh snapshot.
    - Should the UPDATE still reserve fewer rows than the verdict passed, the statement's last
      SELECT fails (a text cast to int: plain SQL has no RAISE), so the whole statement rolls
      back and `RecordingFailed` is raised with nothing written.
    - An order id already recorded (`prior`) also writes nothing and returns that order (replay
      or 409 is the caller's call). An id recorded concurrently, after our snapshot, makes the
      orders (or order lines) INSERT fail on its primary key: the whole statement, reservation
      included, rolls back and `UniqueViolation` reaches the caller, who reads the winner with
      `prior_order` (`is_order_id_taken` tells this case from others).
    """
    wanted = _merge(items)
    if not wanted:
        raise ValueError("an order with nothing to reserve is not recorded here")
    at = _now(now)
    try:
        row = _execute_reserve_and_record(connection, order, wanted, at)
    except InvalidTextRepresentation as exc:
        if "reserve_and_record:" not in str(exc):
            raise
        raise RecordingFailed(f"order {order.order_id}: {exc.diag.message_primary} (nothing "
                              "was written)") from exc
    assert row is not None  # `verdict` is an aggregate: always one row
    go, _, prior_hash, prior_status, prior_decision = row
    if prior_hash is not None:
        return RecordOutcome(False, PriorOrder(prior_hash, prior_status, prior_decision))
    return RecordOutcome(bool(go))


def _execute_reserve_and_record(
    connection: psycopg.Connection[Any], order: OrderRecord, wanted: dict[Key, int],
    at: datetime,
) -> tuple[Any, ...] | None:
    return connection.execute(
        _RESERVE_AND_RECORD_SQL,
        {
            "order_id": order.order_id,
            "request_hash": order.request_hash,
            "status": order.status,
            "fulfilment": order.fulfilment,
            "decision": order.decision_json,
            "expires_at": order.expires_at,
            "now": at,
            "n_wanted": len(wanted),
            "w_nodes": _array_literal(node_id for node_id, _ in wanted),
            "w_skus": _array_literal(sku for _, sku in wanted),
            "w_qtys": _array_literal(wanted.values()),
            "lines": orjson.dumps(
                [{"line_id": line_id, "sku": sku, "qty": qty, "status": status}
                 for line_id, sku, qty, status in order.lines]
            ).decode(),
            "allocations": orjson.dumps(
                [{"line_id": line_id, "node_id": node_id, "sku": sku, "qty": qty,
                  "method": method, "promised_at": promised_at, "cost_pln": cost_pln}
                 for line_id, node_id, sku, qty, method, promised_at, cost_pln
                 in order.allocations]
            ).decode(),
        },
        prepare=True,
    ).fetchone()


def prior_order(connection: psycopg.Connection[Any], order_id: str) -> PriorOrder | None:
    """The order recorded under `order_id`, if any (after losing a race for the id)."""
    row = connection.execute(
        "SELECT request_hash, status, decision FROM orders WHERE order_id = %(order_id)s::text",
        {"order_id": order_id},
        prepare=True,
    ).fetchone()
    return None if row is None else PriorOrder(*row)


_ORDER_KEYS = frozenset({"pk_orders", "pk_order_lines"})


def is_order_id_taken(exc: UniqueViolation) -> bool:
    """Whether a unique violation says the order id is recorded (a concurrent first request):
    the orders or the order lines primary key, whichever INSERT of the statement ran first."""
    return exc.diag.constraint_name in _ORDER_KEYS
