"""Approved transfers hold their units at the sender until they ship.

A transfer plan moves units before a peak; once a planner approves it, those units are spoken
for. Left promisable, the first online orders take them (an outside trial approved 138 units
to leave a DC and saw one order source 300 from it, leaving 57). So approval reserves each
transfer's units at its sender, as an order would (`api.db.stock.reserve`, the hold named
`transfer#<id>`), all or nothing: a plan whose senders no longer hold the units is refused,
naming the transfers short, and is re-planned. The hold ends when the warehouse confirms the
dispatch (`ship_transfer`: the units leave on hand and reserved, as a shipped order's do; the
receiver books them in through its own receipt feed) or, if it never does, a day after the
transfer's ship-by (`api.db.stock.expire_holds`, the same sweep as click-and-collect holds).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, select, update

from api.db import stock as db_stock
from api.db.tables import Reservation, Transfer
from api.services.errors import Conflict, NotFound

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
    lapsed: int = 0  # transfers already a day past their ship-by: their holds end at once

    def describe(self) -> str:
        late = (f"; {self.lapsed} of them were due to leave more than a day ago, so their "
                "holds lapse at once (re-plan the peak to move them in time)"
                if self.lapsed else "")
        return (f"plan {self.plan_id} approved: {self.transfers} transfers, {self.units_held} "
                f"units held at their senders until shipped{late}")


@dataclass(frozen=True)
class TransferState:
    transfer_id: int
    from_node: str
    to_node: str
    sku: str
    qty: int
    state: str  # see _hold_state


def approve_transfer_plan(
    engine: Engine, plan_id: str, now: datetime | None = None
) -> ApprovedPlan:
    """Approve the plan's proposed transfers and hold their units at the senders, in one
    transaction. `Conflict` ("nothing-proposed"; "transfers-short", naming each short transfer
    with what its sender holds) leaves everything as it was."""
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
        lapsed = sum((row.ship_by or row.arrive_by) + HOLD_GRACE <= at for row in rows)
        short: list[str] = []
        for row in rows:
            leave_by = row.ship_by or row.arrive_by
            try:
                db_stock.reserve(conn, transfer_hold_id(row.transfer_id),
                                 [(row.from_node, row.sku, row.qty)],
                                 expires_at=leave_by + HOLD_GRACE, now=at)
            except db_stock.InsufficientStock as exc:
                available = exc.shortages[0].available
                short.append(f"transfer {row.transfer_id} ({row.qty} x {row.sku} from "
                             f"{row.from_node}: {available} available)")
        if short:
            raise Conflict("transfers-short", (
                f"plan {plan_id} cannot be approved: its senders no longer hold the units of "
                f"{len(short)} transfers ({'; '.join(short[:5])}"
                f"{'; ...' if len(short) > 5 else ''}). Nothing was approved: re-plan the peak"),
                {"plan_id": plan_id, "short": len(short)})
        conn.execute(update(Transfer).where(Transfer.plan_id == plan_id,
                                            Transfer.status == "proposed")
                     .values(status="approved"))
    return ApprovedPlan(plan_id, len(rows), sum(int(row.qty) for row in rows), lapsed)


def ship_transfer(engine: Engine, transfer_id: int, now: datetime | None = None) -> TransferState:
    """The sender's warehouse confirms the dispatch: the held units leave its on hand and
    reserved. Repeating it answers the same (safe retries); a transfer not approved, or whose
    hold expired unshipped, is a `Conflict`."""
    at = now or datetime.now(UTC)
    with engine.begin() as conn:  # a hold past its time is released, whatever follows
        db_stock.expire_holds(conn, at)
    with engine.begin() as conn:
        row = conn.execute(
            select(Transfer.transfer_id, Transfer.from_node, Transfer.to_node, Transfer.sku,
                   Transfer.qty, Transfer.status)
            .where(Transfer.transfer_id == transfer_id).with_for_update()
        ).first()
        if row is None:
            raise NotFound("transfer", str(transfer_id))
        state = _hold_state(conn, transfer_id, row.status)
        if state == "held":
            db_stock.ship(conn, transfer_hold_id(transfer_id), at)
            state = "shipped"
        elif state != "shipped":
            reason = {
                "proposed": "it is not approved",
                "released": "its hold expired unshipped and the units were given back: re-plan",
                "unheld": "it was approved before approval held units, so none are held; "
                          "the sender's next count (PUT /v1/stock) books the dispatch",
            }[state]
            raise Conflict(f"transfer-{state}", f"transfer {transfer_id} cannot ship: {reason}",
                           {"transfer_id": transfer_id, "state": state})
    return TransferState(row.transfer_id, row.from_node, row.to_node, row.sku, int(row.qty),
                         state)


def _hold_state(conn: Connection, transfer_id: int, status: str) -> str:
    return hold_states(conn, [(transfer_id, status)])[transfer_id]


def hold_states(conn: Connection, transfers: Sequence[tuple[int, str]]) -> dict[int, str]:
    """State of each (transfer_id, status)'s hold: proposed (not approved); held; shipped;
    released (lapsed unshipped); unheld (approved before approval held units)."""
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
