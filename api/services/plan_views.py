"""What planners read back: the latest reservation plan of a store, the latest transfer plan of
a peak. Plain functions over an Engine returning frozen dataclasses (the router renders them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Engine, and_, exists, func, select

from api.db.tables import BatchRun, Node, SafetyStockPlan, Stock, Transfer
from api.services.errors import NotFound
from api.services.network import REBALANCE_RUN_KIND as REBALANCE_KIND
from api.services.transfer_holds import hold_states


@dataclass(frozen=True)
class ReservationLine:
    sku: str
    on_hand: int
    reserved: int
    safety_stock: int
    promisable_online: int
    service_level: float | None
    critical_ratio: float | None
    safety_stock_now: int = 0  # stock.safety_stock: what the allocator keeps back today


@dataclass(frozen=True)
class ReservationView:
    store_id: str
    plan_id: str | None
    created_at: datetime | None
    as_of: date | None
    policy: str | None
    lines: tuple[ReservationLine, ...]
    demand_source: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class TransferLine:
    transfer_id: int
    from_node: str
    to_node: str
    sku: str
    qty: int
    ship_by: datetime | None
    arrive_by: datetime
    cost_pln: float
    status: str
    hold: str = "proposed"  # api.services.transfer_holds.hold_states


@dataclass(frozen=True)
class TransferPlanView:
    peak: str
    plan_id: str | None
    year: int | None
    window_start: date | None
    window_end: date | None
    created_at: datetime | None
    status: str | None
    solver: str | None
    units_moved: int
    expected_gain_pln: float | None
    transfer_cost_pln: float | None
    report_dir: str | None
    total_transfers: int
    transfers: tuple[TransferLine, ...]
    demand_source: str | None = None


def latest_reservations(engine: Engine, store_id: str,
                        status: str = "approved") -> ReservationView:
    """The newest reservation plan in `status` for `store_id` beside the store's stock now:
    by default the approved one, whose safety stock is in force (a console proposal awaiting
    approval changes nothing the allocator sees, and must not read as if it did).

    `promisable_online` is on hand − reserved − safety stock (never below 0), today's figure."""
    with engine.connect() as conn:
        kind = conn.execute(select(Node.kind).where(Node.node_id == store_id)).scalar()
        if kind != "store":
            raise NotFound("store", store_id)
        newest = conn.execute(
            select(SafetyStockPlan.plan_id, SafetyStockPlan.created_at)
            .where(SafetyStockPlan.node_id == store_id, SafetyStockPlan.status == status)
            .order_by(SafetyStockPlan.created_at.desc(), SafetyStockPlan.plan_id.desc())
            .limit(1)
        ).first()
        if newest is None:
            return ReservationView(store_id, None, None, None, None, ())
        plan_id, created_at = newest
        params = _run_params(conn, plan_id)
        rows = conn.execute(
            select(
                SafetyStockPlan.sku,
                func.coalesce(Stock.on_hand, 0),
                func.coalesce(Stock.reserved, 0),
                SafetyStockPlan.safety_stock,
                SafetyStockPlan.service_level,
                func.coalesce(Stock.safety_stock, 0),
            )
            .join(
                Stock,
                and_(Stock.node_id == SafetyStockPlan.node_id, Stock.sku == SafetyStockPlan.sku),
                isouter=True,
            )
            .where(SafetyStockPlan.plan_id == plan_id, SafetyStockPlan.node_id == store_id)
            .order_by(SafetyStockPlan.sku)
        ).all()
    policy = params.get("policy")
    # An approved plan's units may since have been changed by a stock feed's safety_stock:
    # promisable is what the allocator sees, so it takes the stock row's; a proposal's is what
    # approving it would leave.
    lines = tuple(
        ReservationLine(
            sku=sku,
            on_hand=int(on_hand),
            reserved=int(reserved),
            safety_stock=int(safety),
            promisable_online=max(int(on_hand) - int(reserved)
                                  - int(now if status == "approved" else safety), 0),
            service_level=None if policy == "critical_ratio" else level,
            critical_ratio=level if policy == "critical_ratio" else None,
            safety_stock_now=int(now),
        )
        for sku, on_hand, reserved, safety, level, now in rows
    )
    as_of = params.get("as_of")
    return ReservationView(
        store_id,
        plan_id,
        created_at,
        date.fromisoformat(as_of) if isinstance(as_of, str) else None,
        policy if isinstance(policy, str) else None,
        lines,
        _text(params.get("demand_source")),
        status,
    )


def latest_transfer_plan(
    engine: Engine,
    peak: str,
    year: int | None = None,
    status: str | None = None,
    limit: int = 1000,
) -> TransferPlanView:
    """The newest rebalancing run for `peak` (of `year`; with a transfer in `status`) and its
    transfers (only those in `status` when given), at most `limit` of them, biggest first."""
    prefix = f"rebalance-{peak}-{year}-%" if year is not None else f"rebalance-{peak}-%"
    query = (
        select(BatchRun.run_id, BatchRun.started_at, BatchRun.model, BatchRun.params)
        .where(BatchRun.kind == REBALANCE_KIND, BatchRun.run_id.like(prefix))
        .order_by(BatchRun.started_at.desc(), BatchRun.run_id.desc())
        .limit(1)
    )
    if status is not None:
        query = query.where(
            exists().where(Transfer.plan_id == BatchRun.run_id, Transfer.status == status)
        )
    with engine.connect() as conn:
        run = conn.execute(query).first()
        if run is None:
            return TransferPlanView(
                peak, None, year, None, None, None, None, None, 0, None, None, None, 0, ()
            )
        plan_id, started_at, model, params = run
        where = [Transfer.plan_id == plan_id]
        if status is not None:
            where.append(Transfer.status == status)
        statuses = conn.execute(
            select(Transfer.status, func.count(), func.coalesce(func.sum(Transfer.qty), 0))
            .where(*where)
            .group_by(Transfer.status)
        ).all()
        rows = conn.execute(
            select(
                Transfer.transfer_id,
                Transfer.from_node,
                Transfer.to_node,
                Transfer.sku,
                Transfer.qty,
                Transfer.ship_by,
                Transfer.arrive_by,
                Transfer.cost_pln,
                Transfer.status,
            )
            .where(*where)
            .order_by(Transfer.qty.desc(), Transfer.transfer_id)
            .limit(limit)
        ).all()
        holds = hold_states(conn, [(int(r[0]), str(r[8])) for r in rows])
    params = dict(params or {})
    kinds = {s for s, _, _ in statuses}
    plan_status = "approved" if kinds == {"approved"} else "proposed"
    start, end = params.get("window_start"), params.get("window_end")
    return TransferPlanView(
        peak=peak,
        plan_id=plan_id,
        year=int(params["year"]) if "year" in params else year,
        window_start=date.fromisoformat(start) if isinstance(start, str) else None,
        window_end=date.fromisoformat(end) if isinstance(end, str) else None,
        created_at=started_at,
        status=plan_status,
        solver=model,
        units_moved=int(sum(int(units) for _, _, units in statuses)),
        expected_gain_pln=_float(params.get("expected_gain_pln")),
        transfer_cost_pln=_float(params.get("transfer_cost_pln")),
        report_dir=_text(params.get("report_dir")),
        total_transfers=int(sum(int(n) for _, n, _ in statuses)),
        transfers=tuple(
            TransferLine(*r[:4], int(r[4]), r[5], r[6], float(r[7]), r[8], holds[int(r[0])])
            for r in rows
        ),
        demand_source=_text(params.get("demand_source")),
    )


def _run_params(conn: Any, run_id: str) -> dict[str, Any]:
    params = conn.execute(select(BatchRun.params).where(BatchRun.run_id == run_id)).scalar()
    return dict(params or {})


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
