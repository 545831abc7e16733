"""`/v1/plans`: what planners read back, the latest walk-in reservation plan of a store and the
latest transfer plan before a peak (scope `planner`, or `admin`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.http.deps import RuntimeDep, require_scope
from api.http.openapi import problems
from api.services.plan_views import latest_reservations, latest_transfer_plan

PlannerKey = Annotated[str, Depends(require_scope("planner"))]
PeakParam = Literal["back_to_school", "black_week", "christmas"]

router = APIRouter(prefix="/v1/plans", tags=["plans"])


DEMAND_SOURCE = ("where the plan's daily demand came from: a forecast run, or the flat walk-in "
                 "demand rates and why (null: plans written before this was recorded)")


class ReservationLineOut(BaseModel):
    sku: str
    on_hand: int = Field(description="units on the shelf now")
    reserved: int = Field(description="units held for orders now")
    safety_stock: int = Field(description="units the plan keeps back for walk-in customers")
    safety_stock_now: int = Field(description=(
        "units the allocator keeps back today (the stock row's): the approved plan's, unless "
        "a stock feed has set another since"))
    promisable_online: int = Field(description=(
        "on_hand − reserved − safety_stock_now (approved) or − safety_stock (proposed: what "
        "approving it would leave), at least 0"))
    service_level: float | None = Field(description="the quantile kept (policy service_level)")
    critical_ratio: float | None = Field(
        description="the newsvendor critical ratio the trade-off set (policy critical_ratio)"
    )


class ReservationPlanOut(BaseModel):
    store_id: str
    plan_exists: bool = Field(description="false: no reservation plan was written for the store")
    plan_id: str | None
    created_at: datetime | None
    as_of: date | None
    policy: Literal["critical_ratio", "service_level"] | None
    status: Literal["approved", "proposed"] | None = Field(
        description="approved: the plan in force (its safety stock is in `stock`); proposed: "
        "a plan awaiting a planner's approval")
    demand_source: str | None = Field(description=DEMAND_SOURCE)
    lines: list[ReservationLineOut]


class TransferOut(BaseModel):
    transfer_id: int
    from_node: str
    to_node: str
    sku: str
    qty: int
    ship_by: datetime | None = Field(description="leave the sender by then (None: older plans)")
    arrive_by: datetime = Field(description="at the receiver by then, before the peak starts")
    cost_pln: float
    status: Literal["proposed", "approved"]
    hold: Literal["proposed", "held", "shipped", "released", "unheld"] = Field(description=(
        "the units an approved transfer holds at its sender: held (from 7 days before "
        "ship-by until the dispatch, POST /v1/transfers/{id}/ship), unheld (its window has not "
        "opened, or its sender was short), shipped, released (lapsed a day after ship-by "
        "unshipped); proposed: not approved"))


class TransferPlanOut(BaseModel):
    peak: PeakParam
    plan_exists: bool = Field(description="false: no rebalancing plan for the peak (and filters)")
    plan_id: str | None
    year: int | None
    peak_start: date | None
    peak_end: date | None
    created_at: datetime | None
    status: Literal["proposed", "approved"] | None
    solver: str | None
    units_moved: int
    expected_gain_pln: float | None = Field(description="expected margin gained net of costs")
    transfer_cost_pln: float | None
    report_dir: str | None = Field(description="the planner's report (PNGs, CSV) of the run")
    demand_source: str | None = Field(description=DEMAND_SOURCE)
    total_transfers: int
    transfers: list[TransferOut] = Field(description="biggest first, at most `limit`")


@router.get(
    "/reservations/{store_id}",
    response_model=ReservationPlanOut,
    responses=problems(401, 403, 404, 422, 503),
)
async def get_reservations(
    store_id: Annotated[str, Path(min_length=1, max_length=32)],
    runtime: RuntimeDep,
    _key: PlannerKey,
    status: Literal["approved", "proposed"] = "approved",
) -> ReservationPlanOut:
    """The store's latest reservation plan in `status` per SKU beside its stock now: by
    default the approved plan, the one in force; `proposed` for the newest awaiting approval."""
    view = await run_in_threadpool(latest_reservations, runtime.engine, store_id, status)
    return ReservationPlanOut(
        store_id=view.store_id,
        plan_exists=view.plan_id is not None,
        plan_id=view.plan_id,
        created_at=view.created_at,
        as_of=view.as_of,
        policy=view.policy,  # type: ignore[arg-type]
        status=view.status if view.plan_id else None,  # type: ignore[arg-type]
        demand_source=view.demand_source,
        lines=[ReservationLineOut(**vars(line)) for line in view.lines],
    )


@router.get("/transfers", response_model=TransferPlanOut, responses=problems(401, 403, 422, 503))
async def get_transfers(
    peak: PeakParam,
    runtime: RuntimeDep,
    _key: PlannerKey,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    status: Literal["proposed", "approved"] | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> TransferPlanOut:
    """The latest transfer plan before `peak` (of `year`; holding transfers in `status`)."""
    view = await run_in_threadpool(
        latest_transfer_plan, runtime.engine, peak, year, status, limit
    )
    return TransferPlanOut(
        peak=peak,
        plan_exists=view.plan_id is not None,
        plan_id=view.plan_id,
        year=view.year,
        peak_start=view.window_start,
        peak_end=view.window_end,
        created_at=view.created_at,
        status=view.status,  # type: ignore[arg-type]
        solver=view.solver,
        units_moved=view.units_moved,
        expected_gain_pln=view.expected_gain_pln,
        transfer_cost_pln=view.transfer_cost_pln,
        report_dir=view.report_dir,
        demand_source=view.demand_source,
        total_transfers=view.total_transfers,
        transfers=[TransferOut(**vars(t)) for t in view.transfers],
    )
