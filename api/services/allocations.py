"""Allocating an order: decide on fresh stock, reserve and record it atomically, or replay it.

An attempt reads the order's SKUs' availability, lets the core decide, and then reserves the
chosen units and writes the order, its lines and allocations as ONE transaction, all or nothing.
If another order took the units between our read and our reservation, the reservation's
conditional update refuses, nothing is written, and we decide again on the new stock, at most
`MAX_ATTEMPTS` times (then 409 `stale-stock`). A decision made on stale stock is thus never
written. The read needs no transaction of its own: under READ COMMITTED each statement sees the
latest committed stock anyway, and the write re-checks every unit it takes.

PostgreSQL (the deployment) does an attempt in two statements on one pooled connection in
autocommit mode: `api.db.stock.read_atp`, then `api.db.stock.reserve_and_record`, which locks
the rows, checks them, reserves, writes the holds and the order and commits in one round trip.
Other databases (SQLite, the embedded default) run the same steps as separate statements in one
transaction (`_attempt_in_transaction`).

Idempotency: the order id is the key. The same payload again returns the recorded decision
(`created=False`; the HTTP layer answers 200 instead of 201); a different payload is a 409.
Two concurrent first requests with one id race on the orders primary key: the loser's write
rolls back (its reservation with it) and it replays the winner's decision.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import orjson
from psycopg.errors import UniqueViolation
from sqlalchemy import Connection, Engine, Table, bindparam, insert, select, text
from sqlalchemy.exc import IntegrityError

from allocation.errors import OutOfStock
from allocation.model import Availability, Decision, Location, Order, OrderLine
from allocation.sourcing import source_order
from api.db import stock as db_stock
from api.db.engine import autocommit
from api.db.tables import Allocation as AllocationRow
from api.db.tables import Order as OrderRow
from api.db.tables import OrderLine as OrderLineRow
from api.metrics import DECISIONS, RESERVATION_RETRIES
from api.services.commands import AllocateOrder
from api.services.errors import Conflict, NotEnoughStock, NotFound, ShortLine, StaleStock
from api.services.network import MasterData
from api.services.opportunity import opportunity_costs_pln
from forecasting.vocabulary import WARSAW

MAX_ATTEMPTS = 3

Decide = Callable[..., Decision]
"""The core's `source_order(order, network, availability, *, deadline_ms=...)`, or a stand-in."""

orders = cast(Table, OrderRow.__table__)
order_lines = cast(Table, OrderLineRow.__table__)
allocation_rows = cast(Table, AllocationRow.__table__)


@dataclass(frozen=True)
class AllocationPolicy:
    """The settings an allocation needs (from `api.settings.Settings`)."""

    deadline_ms: int
    hold_hours: float
    max_parcels_default: int


@dataclass(frozen=True)
class Outcome:
    """The answer body and whether this request created it (201) or replayed it (200)."""

    body: dict[str, Any]
    created: bool


class _Stale(Exception):
    """The reservation found less stock than the decision assumed."""


def allocate_order(
    engine: Engine,
    data: MasterData,
    command: AllocateOrder,
    policy: AllocationPolicy,
    now: datetime | None = None,
    decide: Decide = source_order,
) -> Outcome:
    """Source `command`, reserve its stock and record it; or replay the recorded answer."""
    at = now or datetime.now(UTC)
    command = with_nearest_locker(command, data)
    order = to_core_order(command, data, at)
    if engine.dialect.name == "postgresql":
        return _allocate_on_postgres(engine, data, command, order, policy, at, decide)
    return _allocate_in_transactions(engine, data, command, order, policy, at, decide)


def _allocate_on_postgres(
    engine: Engine,
    data: MasterData,
    command: AllocateOrder,
    order: Order,
    policy: AllocationPolicy,
    at: datetime,
    decide: Decide,
) -> Outcome:
    """Attempts of two autocommit statements each (read, then the one-statement write)."""
    skus = sorted({line.sku for line in command.lines})
    expired_once = False
    for _attempt in range(MAX_ATTEMPTS):
        short: OutOfStock | NotEnoughStock | None = None
        with autocommit(engine) as db:
            availability = _availability_of(data, db_stock.read_atp(db, skus), at)
            try:
                decision = _decide(decide, order, data, availability, command, policy)
            except (OutOfStock, NotEnoughStock) as exc:
                prior = db_stock.prior_order(db, command.order_id)
                if prior is not None:  # a repeat of a recorded order replays, never a 409
                    return _replay(prior, command)
                short = exc
            if short is None:
                body, expires_at = render(decision, command, policy)
                try:
                    result = _reserve_and_record(db, command, decision, body, expires_at, at)
                except UniqueViolation as exc:
                    if not db_stock.is_order_id_taken(exc):
                        raise
                    prior = db_stock.prior_order(db, command.order_id)
                    if prior is None:  # the winner rolled back after all: decide again
                        continue
                    result = db_stock.RecordOutcome(False, prior)
        if short is not None:
            # Holds past their time may still sit on the stock: release them and decide again.
            if not expired_once and _expire_due(engine, at):
                expired_once = True
                continue
            DECISIONS.labels("out_of_stock").inc()
            raise short
        if result.prior is not None:
            return _replay(result.prior, command)
        if result.written:
            DECISIONS.labels("partial" if decision.unfulfilled else decision.status).inc()
            return Outcome(body, created=True)
        RESERVATION_RETRIES.inc()
    DECISIONS.labels("stale").inc()
    raise StaleStock(command.order_id, MAX_ATTEMPTS)


def _decide(
    decide: Decide,
    order: Order,
    data: MasterData,
    availability: list[Availability],
    command: AllocateOrder,
    policy: AllocationPolicy,
) -> Decision:
    """The core's decision; NotEnoughStock when it serves no line at all."""
    decision = decide(
        order, data.network, availability, deadline_ms=command.deadline_ms or policy.deadline_ms
    )
    if not decision.lines:
        raise _no_stock(command, decision)
    return decision


def _reserve_and_record(
    db: Any,
    command: AllocateOrder,
    decision: Decision,
    body: dict[str, Any],
    expires_at: datetime | None,
    at: datetime,
) -> db_stock.RecordOutcome:
    """Reserve the decision's units and record the order in one statement (PostgreSQL)."""
    served = {line.line_id for line in decision.lines}
    record = db_stock.OrderRecord(
        order_id=command.order_id,
        request_hash=command.request_hash,
        status=body["state"],
        fulfilment=command.fulfilment,
        decision_json=orjson.dumps(body).decode(),
        expires_at=expires_at,
        lines=[
            (line.line_id, line.sku, line.qty,
             "allocated" if line.line_id in served else "unfulfilled")
            for line in command.lines
        ],
        allocations=[
            (line.line_id, line.node_id, line.sku, line.qty, line.method, line.promised_at,
             line.cost_pln)
            for line in decision.lines
        ],
    )
    return db_stock.reserve_and_record(db, record, _items(decision), at)


def _replay(prior: db_stock.PriorOrder, command: AllocateOrder) -> Outcome:
    """The recorded answer for a repeat of the same payload; 409 for a different one."""
    if prior.request_hash != command.request_hash:
        raise Conflict(
            "order-id-reused",
            f"order {command.order_id} was already allocated with a different payload",
            {"order_id": command.order_id},
        )
    DECISIONS.labels("replayed").inc()
    return Outcome({**prior.decision, "state": prior.status}, created=False)


def _allocate_in_transactions(
    engine: Engine,
    data: MasterData,
    command: AllocateOrder,
    order: Order,
    policy: AllocationPolicy,
    at: datetime,
    decide: Decide,
) -> Outcome:
    """One transaction per attempt: read, decide, reserve, record (SQLite and the generic path).

    A repeat is found by the orders primary key when the decision is written (no extra round
    trip for the usual first request); after any failed attempt we look first."""
    skus = sorted({line.sku for line in command.lines})
    expired_once = False
    check_recorded = False
    for _attempt in range(MAX_ATTEMPTS):
        try:
            with engine.begin() as conn:
                if check_recorded:
                    recorded = _recorded(conn, command)
                    if recorded is not None:
                        DECISIONS.labels("replayed").inc()
                        return recorded
                availability = _availability(conn, data, skus, at)
                decision = _decide(decide, order, data, availability, command, policy)
                body, expires_at = render(decision, command, policy)
                try:
                    # No savepoint: on a shortage this whole transaction rolls back.
                    db_stock.reserve(
                        conn, command.order_id, _items(decision), expires_at, at, savepoint=False
                    )
                except db_stock.InsufficientStock as exc:
                    raise _Stale from exc
                _record(conn, command, decision, body, expires_at, at)
        except _Stale:
            RESERVATION_RETRIES.inc()
            check_recorded = True
            continue
        except IntegrityError:
            if check_recorded:
                raise  # not a repeated order id: a real integrity problem
            check_recorded = True  # the order id is taken: replay or refuse it next round
            continue
        except (OutOfStock, NotEnoughStock):
            if not check_recorded:
                check_recorded = True  # a repeat of a recorded order must replay, not 409
                continue
            # Holds past their time may still sit on the stock: release them and decide again.
            if not expired_once and _expire_due(engine, at):
                expired_once = True
                continue
            DECISIONS.labels("out_of_stock").inc()
            raise
        DECISIONS.labels("partial" if decision.unfulfilled else decision.status).inc()
        return Outcome(body, created=True)
    DECISIONS.labels("stale").inc()
    raise StaleStock(command.order_id, MAX_ATTEMPTS)


def with_nearest_locker(command: AllocateOrder, data: MasterData) -> AllocateOrder:
    """A parcel-locker order sent with an address but no locker goes to the locker nearest the
    address: priced and promised to it, and named in the answer (`locker_id`)."""
    if command.fulfilment != "parcel_locker" or command.locker_id is not None:
        return command
    try:
        address = _address(command, data)
    except NotFound:
        return command  # to_core_order reports it, after the lines' SKUs, as for any order
    if address is None:
        return command  # to_core_order says what is missing
    locker = data.catalog.nearest_locker(address.lat, address.lon)
    return command if locker is None else replace(command, locker_id=locker.place_id)


def _address(command: AllocateOrder, data: MasterData) -> Location | None:
    """The order's destination as sent: its coordinates, else its postcode area's centroid
    (an unknown area is a 404 at the postcode); None when it sent neither."""
    if command.lat is not None and command.lon is not None:
        return Location(command.lat, command.lon)
    if command.postcode is not None:
        centroid = data.catalog.locate_postcode(command.postcode)
        if centroid is None:
            raise NotFound("postcode area", command.postcode[:2], "#/destination/postcode")
        return Location(*centroid)
    return None


def to_core_order(command: AllocateOrder, data: MasterData, placed_at: datetime) -> Order:
    """The core's `Order`: destination resolved to coordinates, references checked (404)."""
    catalog = data.catalog
    for index, line in enumerate(command.lines):
        if line.sku not in catalog.skus:
            raise NotFound("sku", line.sku, f"#/lines/{index}/sku")
    destination: Location | None = None
    if command.fulfilment == "click_and_collect":
        store = catalog.nodes.get(command.pickup_store_id or "")
        if store is None or store.kind != "store":
            raise NotFound("store", command.pickup_store_id or "", "#/pickup_store_id")
        destination = Location(store.lat, store.lon)
    elif command.locker_id is not None and command.fulfilment == "parcel_locker":
        locker = catalog.lockers.get(command.locker_id)
        if locker is None:
            raise NotFound("locker", command.locker_id, "#/locker_id")
        destination = Location(locker.lat, locker.lon)
    else:
        destination = _address(command, data)
    return Order(
        order_id=command.order_id,
        fulfilment=command.fulfilment,  # type: ignore[arg-type]
        lines=tuple(OrderLine(line.line_id, line.sku, line.qty) for line in command.lines),
        placed_at=placed_at,
        destination=destination,
        pickup_store_id=command.pickup_store_id,
        promise_by=command.promise_by,
        max_parcels=command.max_parcels,
        allow_partial=command.allow_partial,
    )


def _availability(
    conn: Connection, data: MasterData, skus: Sequence[str], at: datetime
) -> list[Availability]:
    """ATP per node × SKU for the order's SKUs, one query, only rows that can promise something.

    Leaner than `api.db.stock.read_availability` (which returns every row with its demand rate,
    for display): the filter runs in the database and walk-in rates come from the cached network.
    """
    return _availability_of(data, db_stock.promisable_rows(conn, skus), at)


def _availability_of(
    data: MasterData, rows: Sequence[tuple[str, str, int, int]], at: datetime
) -> list[Availability]:
    """The core's availability from freshly read (node_id, sku, ATP, units on the shelf) rows,
    each with the opportunity cost of taking a unit there (`_derived`)."""
    return _derived.availability(data, rows, at.astimezone(WARSAW).date())


class _DerivedAvailability:
    """`Availability` values derived from stock rows, remembered per row value.

    An order's SKUs have ~180 rows with ATP, and turning each into an `Availability` with its
    opportunity cost (a Poisson tail per store row) cost more CPU than reading them. That
    derivation is a pure function of the row's values (node, SKU, ATP, units on the shelf), the
    day, and the master data (network, shadow prices), so equal rows give equal values: it is
    remembered per row value, for one master-data version and one day. Nothing about the stock
    itself is remembered: every order reads its rows from the database, and a row whose units
    moved is a new key. Safe across threads: a race only derives a value twice.
    """

    MAX_ROWS = 50_000  # distinct row values kept before starting afresh (~10 MB)

    def __init__(self) -> None:
        self._basis: tuple[MasterData, date] | None = None
        self._by_row: dict[tuple[str, str, int, int], Availability] = {}

    def availability(
        self, data: MasterData, rows: Sequence[tuple[str, str, int, int]], day: date
    ) -> list[Availability]:
        basis = self._basis
        if basis is None or basis[0] is not data or basis[1] != day or (
            len(self._by_row) > self.MAX_ROWS
        ):
            self._by_row = {}
            self._basis = (data, day)
        known = self._by_row
        found = [known.get(row) for row in rows]
        missing = [row for row, value in zip(rows, found, strict=True) if value is None]
        if not missing:
            return cast(list[Availability], found)
        costs = opportunity_costs_pln(
            data.network, [(n, s, shelf) for n, s, _, shelf in missing], day, data.shadow_prices
        )
        for (node_id, sku, atp, shelf), cost in zip(missing, costs, strict=True):
            known[(node_id, sku, atp, shelf)] = Availability(node_id, sku, int(atp), cost)
        return [value or known[row] for row, value in zip(rows, found, strict=True)]


_derived = _DerivedAvailability()


def _items(decision: Decision) -> list[db_stock.StockItem]:
    return [db_stock.StockItem(line.node_id, line.sku, line.qty) for line in decision.lines]


def _no_stock(command: AllocateOrder, decision: Decision) -> NotEnoughStock:
    short = [ShortLine(u.line_id, u.sku, u.qty, u.available) for u in decision.unfulfilled]
    return NotEnoughStock(command.order_id, short)


def render(
    decision: Decision, command: AllocateOrder, policy: AllocationPolicy
) -> tuple[dict[str, Any], datetime | None]:
    """The response body (JSON-ready) and when a click-and-collect hold lapses.

    A hold lasts `hold_hours` from the moment the order is ready at the store (the latest
    promised time), not from the order: the customer's pickup window starts when it is there.
    """
    expires_at: datetime | None = None
    if command.fulfilment == "click_and_collect":
        ready = max(line.promised_at for line in decision.lines)
        expires_at = ready + timedelta(hours=policy.hold_hours)
    lines: list[dict[str, Any]] = [
        {
            "line_id": line.line_id,
            "sku": line.sku,
            "qty": line.qty,
            "node_id": line.node_id,
            "method": line.method,
            "promised_at": line.promised_at,
            "cost_pln": line.cost_pln,
            "status": "allocated",
            "costs": line.costs,
        }
        for line in decision.lines
    ]
    lines += [
        {
            "line_id": u.line_id,
            "sku": u.sku,
            "qty": u.qty,
            "node_id": None,
            "method": None,
            "promised_at": None,
            "cost_pln": 0.0,
            "status": "unfulfilled",
            "available": u.available,
        }
        for u in decision.unfulfilled
    ]
    body = {
        "order_id": command.order_id,
        "status": decision.status,
        "state": "partial" if decision.unfulfilled else "allocated",
        "fulfilment": command.fulfilment,
        "locker_id": command.locker_id if command.fulfilment == "parcel_locker" else None,
        "lines": lines,
        "parcels": decision.parcels,
        "total_cost_pln": decision.total_cost_pln,
        "costs": decision.costs,
        "solve_ms": round(decision.solve_ms, 3),
        "explanation": decision.explanation,
        "expires_at": expires_at,
    }
    # orjson turns dataclasses and aware datetimes into JSON types in one pass.
    return orjson.loads(orjson.dumps(body)), expires_at


_RECORD_ALL = text(
    """
    WITH new_lines AS (
        INSERT INTO order_lines (order_id, line_id, sku, qty, status)
        SELECT :order_id, * FROM unnest(
            CAST(:l_ids AS text[]), CAST(:l_skus AS text[]), CAST(:l_qtys AS int[]),
            CAST(:l_states AS text[]))
    ), new_allocations AS (
        INSERT INTO allocations
            (order_id, line_id, node_id, sku, qty, method, promised_at, cost_pln)
        SELECT :order_id, * FROM unnest(
            CAST(:a_lines AS text[]), CAST(:a_nodes AS text[]), CAST(:a_skus AS text[]),
            CAST(:a_qtys AS int[]), CAST(:a_methods AS text[]),
            CAST(:a_promised AS timestamptz[]), CAST(:a_costs AS numeric[]))
    )
    INSERT INTO orders
        (order_id, request_hash, status, fulfilment, created_at, updated_at, expires_at, decision)
    VALUES (:order_id, :request_hash, :status, :fulfilment, :created_at, :updated_at,
            :expires_at, :decision)
    """
).bindparams(
    bindparam("created_at", type_=orders.c.created_at.type),
    bindparam("updated_at", type_=orders.c.updated_at.type),
    bindparam("expires_at", type_=orders.c.expires_at.type),
    bindparam("decision", type_=orders.c.decision.type),
)
"""The order, its lines and its allocations in one statement (PostgreSQL): the rows travel as
arrays, so the text is the same for every order (compiled once, prepared by psycopg), and the
foreign keys of lines and allocations are checked at the end of the statement."""


def _record(
    conn: Connection,
    command: AllocateOrder,
    decision: Decision,
    body: dict[str, Any],
    expires_at: datetime | None,
    at: datetime,
) -> None:
    """Write the order, its lines and its allocations: one statement on PostgreSQL
    (`_RECORD_ALL`), one INSERT per table on SQLite."""
    order_row = {
        "order_id": command.order_id,
        "request_hash": command.request_hash,
        "status": body["state"],
        "fulfilment": command.fulfilment,
        "created_at": at,
        "updated_at": at,
        "expires_at": expires_at,
        "decision": body,
    }
    served = {line.line_id for line in decision.lines}
    line_rows = [
        {
            "order_id": command.order_id,
            "line_id": line.line_id,
            "sku": line.sku,
            "qty": line.qty,
            "status": "allocated" if line.line_id in served else "unfulfilled",
        }
        for line in command.lines
    ]
    allocations = [
        {
            "order_id": command.order_id,
            "line_id": line.line_id,
            "node_id": line.node_id,
            "sku": line.sku,
            "qty": line.qty,
            "method": line.method,
            "promised_at": line.promised_at,
            "cost_pln": line.cost_pln,
        }
        for line in decision.lines
    ]
    if db_stock.batched_writes(conn):
        conn.execute(
            _RECORD_ALL,
            {
                **order_row,
                "l_ids": [row["line_id"] for row in line_rows],
                "l_skus": [row["sku"] for row in line_rows],
                "l_qtys": [row["qty"] for row in line_rows],
                "l_states": [row["status"] for row in line_rows],
                "a_lines": [line.line_id for line in decision.lines],
                "a_nodes": [line.node_id for line in decision.lines],
                "a_skus": [line.sku for line in decision.lines],
                "a_qtys": [line.qty for line in decision.lines],
                "a_methods": [line.method for line in decision.lines],
                "a_promised": [line.promised_at.astimezone(UTC) for line in decision.lines],
                "a_costs": [line.cost_pln for line in decision.lines],
            },
        )
        return
    conn.execute(insert(orders), order_row)
    conn.execute(insert(order_lines), line_rows)
    if allocations:
        conn.execute(insert(allocation_rows), allocations)


def _recorded(conn: Connection, command: AllocateOrder) -> Outcome | None:
    row = conn.execute(
        select(orders.c.request_hash, orders.c.status, orders.c.decision).where(
            orders.c.order_id == command.order_id
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != command.request_hash:
        raise Conflict(
            "order-id-reused",
            f"order {command.order_id} was already allocated with a different payload",
            {"order_id": command.order_id},
        )
    return Outcome({**row.decision, "state": row.status}, created=False)


def _expire_due(engine: Engine, at: datetime) -> bool:
    with engine.begin() as conn:
        return bool(db_stock.expire_holds(conn, at))
