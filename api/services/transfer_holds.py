"""Approved transfers hold their units at the sender in the week before they leave.

A transfer plan moves units before a peak; once a planner approves it, those units are spoken
for. Left promisable, the first online orders take them (an outside trial approved 138 units
to leave a DC and saw one order source 300 from it, leaving 57). Held from the approval, a plan
made months ahead would freeze the DCs' stock until the peak (a second trial approved a
Back-to-School plan in November: 4,014 of 4,156 DC units reserved, orders refused). So a
transfer holds its units, as an order would (`api.db.stock.reserve`, the hold named
`transfer#<id>`), from `HOLD_AHEAD` before its ship-by:

- at approval, for the transfers already inside that window, all or nothing (a plan whose
  senders no longer hold those units is refused, naming them, and is re-planned); the others
  are `scheduled`;
- then by `hold_due_transfers`, which the server runs with its hold-expiry sweep, as each
  window opens (a sender short by then keeps the transfer scheduled, and it is logged);
- a transfer already more than a day past its ship-by is approved without a hold (`lapsed`).

The hold ends when the sender's warehouse confirms the dispatch (`ship_transfer`: the units
leave on hand and reserved, as a shipped order's do; the receiver books them in through its own
receipt feed) or, if it never does, a day after ship-by (`api.db.stock.expire_holds`). A
dispatch confirmed without a hold (early, or after the hold lapsed) holds and ships at once:
the units left the shelf either way.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, String, cast, exists, literal, select, update

from api.db import stock as db_stock
from api.db.tables import Reservation, Transfer
from api.services.errors import Conflict, NotFound

log = logging.getLogger(__name__)

HOLD_AHEAD = timedelta(days=7)  # units are held from a week before the transfer leaves
HOLD_GRACE = timedelta(days=1)  # after ship-by, a dispatch never confirmed gives the units back


def transfer_hold_id(transfer_id: int) -> str:
    """The reservation name of a transfer's hold (the `order_id` of its reservation rows).
    `#` is outside the OMS's order id alphabet, so no order can share it: cancelling an order
    named like it would release the transfer's units."""
    return f"transfer#{transfer_id}"


@dataclass(frozen=True)
class ApprovedPlan:
    plan_id: str
    transfers: int
    units_held: int
    scheduled: int = 0  # transfers whose hold starts later, HOLD_AHEAD before their ship-by
    lapsed: int = 0  # transfers already a day past their ship-by: approved, never held

    def describe(self) -> str:
        parts = [f"plan {self.plan_id} approved: {self.transfers} transfers, "
                 f"{self.units_held} units held at their senders until shipped"]
        if self.scheduled:
            parts.append(f"{self.scheduled} transfers are held from {HOLD_AHEAD.days} days "
                         "before their ship-by")
        if self.lapsed:
            parts.append(f"{self.lapsed} were due to leave more than a day ago, so nothing is "
                         "held for them (re-plan the peak to move them in time)")
        return "; ".join(parts)


@dataclass(frozen=True)
class TransferState:
    transfer_id: int
    from_node: str
    to_node: str
    sku: str
    qty: int
    state: str  # see hold_states


def _leave_by(row: Any) -> datetime:
    leave: datetime = row.ship_by or row.arrive_by
    return leave


def _window(row: Any, at: datetime) -> str:
    """Where `at` falls for a transfer: before its hold window, inside it, or past it."""
    leave = _leave_by(row)
    if leave + HOLD_GRACE <= at:
        return "lapsed"
    return "due" if leave - HOLD_AHEAD <= at else "scheduled"


def _hold(conn: Connection, row: Any, at: datetime) -> None:
    """Reserve a transfer's units at its sender until a day after its ship-by."""
    db_stock.reserve(conn, transfer_hold_id(row.transfer_id),
                     [(row.from_node, row.sku, row.qty)],
                     expires_at=_leave_by(row) + HOLD_GRACE, now=at)


def approve_transfer_plan(
    engine: Engine, plan_id: str, now: datetime | None = None
) -> ApprovedPlan:
    """Approve the plan's proposed transfers and hold the units of those due to leave within
    `HOLD_AHEAD`, in one transaction. `Conflict` ("nothing-proposed"; "transfers-short",
    naming each short transfer with what its sender holds) leaves everything as it was."""
    at = now or datetime.now(UTC)
    with engine.begin() as conn:
        rows = conn.execute(
            select(Transfer.transfer_id, Transfer.from_node, Transfer.sku, Transfer.qty,
                   Transfer.ship_by, Transfer.arrive_by)
            .where(Transfer.plan_id == plan_id, Transfer.status == "proposed")
            .order_by(Transfer.from_node, Transfer.sku, Transfer.transfer_id)  # lock order
            .with_for_update()
        ).all()
        if not rows:
            raise Conflict("nothing-proposed",
                           f"plan {plan_id} has no proposed transfers (unknown or approved)")
        windows = [_window(row, at) for row in rows]
        short: list[str] = []
        for row, window in zip(rows, windows, strict=True):
            if window != "due":
                continue
            try:
                _hold(conn, row, at)
            except db_stock.InsufficientStock as exc:
                short.append(f"transfer {row.transfer_id} ({row.qty} x {row.sku} from "
                             f"{row.from_node}: {exc.shortages[0].available} available)")
        if short:
            raise Conflict("transfers-short", (
                f"plan {plan_id} cannot be approved: its senders no longer hold the units of "
                f"{len(short)} transfers ({'; '.join(short[:5])}"
                f"{'; ...' if len(short) > 5 else ''}). Nothing was approved: re-plan the peak"),
                {"plan_id": plan_id, "short": len(short)})
        conn.execute(update(Transfer).where(Transfer.plan_id == plan_id,
                                            Transfer.status == "proposed")
                     .values(status="approved"))
    held = sum(int(row.qty) for row, w in zip(rows, windows, strict=True) if w == "due")
    return ApprovedPlan(plan_id, len(rows), held, windows.count("scheduled"),
                        windows.count("lapsed"))


def hold_due_transfers(engine: Engine, now: datetime | None = None) -> int:
    """Hold the units of approved transfers whose window opened (`HOLD_AHEAD` before ship-by)
    and that hold nothing yet; returns units held. A sender short by then keeps its transfer
    unheld (logged; it is tried again on the next sweep, and its dispatch still ships)."""
    at = now or datetime.now(UTC)
    held = 0
    with engine.begin() as conn:
        rows = conn.execute(
            select(Transfer.transfer_id, Transfer.from_node, Transfer.sku, Transfer.qty,
                   Transfer.ship_by, Transfer.arrive_by)
            .where(Transfer.status == "approved",
                   Transfer.ship_by <= at + HOLD_AHEAD, Transfer.ship_by > at - HOLD_GRACE,
                   ~exists().where(Reservation.order_id == _hold_name_sql()))
            .order_by(Transfer.from_node, Transfer.sku, Transfer.transfer_id)
        ).all()
        for row in rows:
            try:
                _hold(conn, row, at)
                held += int(row.qty)
            except db_stock.InsufficientStock as exc:
                log.warning("transfer %s: %s; not held yet", row.transfer_id, exc)
    return held


def _hold_name_sql() -> Any:
    """`transfer_hold_id` in SQL, for a correlated test on the transfers table."""
    return literal("transfer#") + cast(Transfer.transfer_id, String)


def ship_transfer(engine: Engine, transfer_id: int, now: datetime | None = None) -> TransferState:
    """The sender's warehouse confirms the dispatch: the units leave its on hand and reserved.
    Held or not (an early dispatch, a hold that lapsed), the units left the shelf: without a
    hold they are held and shipped at once, a `Conflict` ("transfer-short") when the sender's
    book stock no longer has them. Repeating it answers the same (safe retries); a transfer
    not approved is a `Conflict` ("transfer-proposed")."""
    at = now or datetime.now(UTC)
    with engine.begin() as conn:  # a hold past its time is released, whatever follows
        db_stock.expire_holds(conn, at)
    with engine.begin() as conn:
        row = conn.execute(
            select(Transfer.transfer_id, Transfer.from_node, Transfer.to_node, Transfer.sku,
                   Transfer.qty, Transfer.status, Transfer.ship_by, Transfer.arrive_by)
            .where(Transfer.transfer_id == transfer_id).with_for_update()
        ).first()
        if row is None:
            raise NotFound("transfer", str(transfer_id))
        state = hold_states(conn, [(transfer_id, row.status)])[transfer_id]
        if state == "proposed":
            raise Conflict("transfer-proposed",
                           f"transfer {transfer_id} cannot ship: it is not approved",
                           {"transfer_id": transfer_id, "state": state})
        if state != "shipped":
            if state != "held":
                try:
                    _hold(conn, row, at)
                except db_stock.InsufficientStock as exc:
                    raise Conflict("transfer-short", (
                        f"transfer {transfer_id} cannot ship: its sender's book stock has "
                        f"{exc.shortages[0].available} of its {row.qty} units free; send the "
                        "sender's count (PUT /v1/stock) first"),
                        {"transfer_id": transfer_id, "state": state}) from None
            db_stock.ship(conn, transfer_hold_id(transfer_id), at)
    return TransferState(row.transfer_id, row.from_node, row.to_node, row.sku, int(row.qty),
                         "shipped")


def hold_states(conn: Connection, transfers: Sequence[tuple[int, str]]) -> dict[int, str]:
    """State of each (transfer_id, status)'s hold: proposed (not approved); held; shipped;
    released (its hold lapsed unshipped); unheld (approved, nothing held: its window has not
    opened, its sender was short, or it was approved past its ship-by)."""
    approved = [transfer_id for transfer_id, status in transfers if status == "approved"]
    seen: dict[str, set[str]] = defaultdict(set)
    for start in range(0, len(approved), 500):  # IN lists of bounded length
        names = [transfer_hold_id(t) for t in approved[start:start + 500]]
        for name, state in conn.execute(select(Reservation.order_id, Reservation.state)
                                        .where(Reservation.order_id.in_(names))):
            seen[name].add(state)
    return {transfer_id: _state(status, seen.get(transfer_hold_id(transfer_id), set()))
            for transfer_id, status in transfers}


def _state(status: str, states: set[str]) -> str:
    if status != "approved":
        return "proposed"
    if "held" in states:
        return "held"
    if "shipped" in states:
        return "shipped"
    return "released" if states else "unheld"
