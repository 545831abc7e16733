"""What a planner does from the console: run the weekly forecast batch, run a rebalancing plan
for a peak or a reservation plan, and approve a plan.

Each runs the service the CLI runs: the weekly batch (api.services.forecast_batch), on a
background thread; rebalancing (api.services.planning.plan_peak_transfers), whose transfers are
`proposed`; the reservation plan (api.services.planning.store_reservations), written here as a
proposal where `omni plan reservations` applies it at once. Approval is the one step that
changes what the allocator sees (transfers proposed -> approved; a reservation plan's safety
stock written into `stock`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, func, insert, select, update

from api.db.runs import RunInProgress, finish_batch_run, start_batch_run
from api.db.tables import (
    SafetyStockPlan,
    Stock,
)
from api.services.errors import Conflict
from api.services.transfer_holds import approve_transfer_plan
from forecasting.calendar import PeakName, peak_window

log = logging.getLogger(__name__)

BATCH_MODEL = "lgbm"
# Offered in the console's batch form (validated against forecasting.registry on submit; the
# registry itself is not imported by the pages: it pulls in LightGBM).
BATCH_MODELS: tuple[str, ...] = ("lgbm", "ensemble", "auto_ets", "theta", "seasonal_naive")
PLAN_DEADLINE_S = 30.0


class ActionError(Exception):
    """An action the planner asked for cannot be done; the message says why, in one line."""


@dataclass(frozen=True)
class ActionResult:
    run_id: str
    message: str


# --- The weekly forecast batch ---------------------------------------------------------------


def start_weekly_batch(engine: Engine, model: str = BATCH_MODEL) -> ActionResult:
    """Record a `running` forecast batch and run it on a background thread: a batch over the
    whole chain takes minutes, longer than a browser should wait for a page. One at a time:
    a second would only halve the speed of both."""
    from api.services.forecast_batch import start_forecast_batch
    from forecasting.registry import MODEL_NAMES

    if model not in MODEL_NAMES:
        raise ActionError(f"unknown model {model!r}: expected one of {', '.join(MODEL_NAMES)}")
    try:
        started = start_forecast_batch(engine, "forecast", model, params={"source": "console"})
    except Conflict as refused:
        raise ActionError(refused.detail) from None
    except RunInProgress as busy:
        raise ActionError(f"forecast {busy}") from None
    for dead in started.reaped:
        log.warning("forecast run %s had no heartbeat: marked failed", dead)
    worker = threading.Thread(
        target=_batch_in_background,
        args=(engine, started.run_id, started.as_of, model, started.data_version),
        name=f"console-{started.run_id}", daemon=True,
    )
    worker.start()
    held_back = f" ({started.held_back})" if started.held_back else ""
    return ActionResult(started.run_id, f"forecast run {started.run_id} as of {started.as_of} "
                        f"started; it is listed below until done{held_back}")


def _batch_in_background(engine: Engine, run_id: str, as_of: date, model: str,
                         data_version: str | None) -> None:
    try:
        run_weekly_batch(engine, run_id, as_of, model, data_version)
    except Exception:  # the run is marked failed; the thread logs it instead of dying silently
        log.exception("forecast run %s failed", run_id)


def run_weekly_batch(engine: Engine, run_id: str, as_of: date, model: str,
                     data_version: str | None = None) -> dict[str, Any]:
    """The weekly batch as `omni batch weekly` runs it (`api.services.forecast_batch`) under
    the running run `run_id`, which it finishes; returns the run's parameters. `data_version`
    (the one its start read) goes to its MLflow run, as the CLI's does."""
    from api.services.forecast_batch import run_forecast_batch

    result = run_forecast_batch(engine, run_id, as_of, model, params={"source": "console"},
                                data_version=data_version)
    return result.params


# --- Rebalancing before a peak ---------------------------------------------------------------


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts (numpy scalars included; the drivers accept them via .item())."""
    return [{str(k): (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
            for row in frame.to_dict("records")]


def run_rebalance(engine: Engine, peak: PeakName, as_of: date,
                  year: int | None = None) -> ActionResult:
    """The optimised transfer plan for `peak` made on the business day `as_of` (the planning
    service's, as `omni plan rebalance` makes it), written as `proposed` with its expected
    gain; the next such peak that has not begun when no year is given."""
    from allocation.planning import PlanningInputError
    from api.services.planning import plan_peak_transfers

    try:
        window = peak_window(peak, year or _next_year_of(peak, as_of))
    except ValueError as exc:
        raise ActionError(str(exc)) from None
    try:
        summary = plan_peak_transfers(
            engine, peak, window.start.year, as_of, deadline_s=PLAN_DEADLINE_S
        )
    except PlanningInputError as exc:
        raise ActionError(str(exc)) from None
    plan = summary.plan
    return ActionResult(
        summary.plan_id,
        f"plan {summary.plan_id} for {peak} {window.start.year}: {plan.units_moved} units in "
        f"{len(plan.transfers)} transfers, expected gain {plan.expected_gain_pln:.2f} PLN "
        f"({plan.status}); demand: {summary.demand_source}",
    )


def _next_year_of(peak: PeakName, as_of: date) -> int:
    this_year = peak_window(peak, as_of.year)
    return as_of.year if this_year.start > as_of else as_of.year + 1


def approve_transfers(engine: Engine, plan_id: str) -> ActionResult:
    """Approve the plan and hold its units at the senders (api.services.transfer_holds)."""
    try:
        approved = approve_transfer_plan(engine, plan_id)
    except Conflict as exc:
        raise ActionError(exc.detail) from None
    return ActionResult(plan_id, approved.describe())


# --- Safety stock kept for walk-in customers -------------------------------------------------


def run_reservation_plan(engine: Engine, as_of: date) -> ActionResult:
    """Safety stock per store x SKU as of the business day `as_of`, as `omni plan
    reservations` computes it (`api.services.planning.store_reservations`), written as a
    `proposed` plan."""
    from allocation.planning import PlanningInputError
    from api.services.planning import (
        planned_service_level,
        reservation_plan_id,
        store_reservations,
    )

    try:
        plan, source = store_reservations(engine, as_of)
    except PlanningInputError as exc:
        raise ActionError(str(exc)) from None
    if plan.empty:
        raise ActionError("no store stock to plan")
    run_id = reservation_plan_id(as_of)
    created = datetime.now(UTC)  # explicit: SQLite's CURRENT_TIMESTAMP has whole seconds
    level = planned_service_level(plan)
    rows = [
        {"plan_id": run_id, "node_id": r["store"], "sku": r["sku"], "peak": None,
         "safety_stock": int(r["safety_stock"]), "service_level": float(lv),
         "status": "proposed", "created_at": created}
        for r, lv in zip(_records(plan), level.tolist(), strict=True)
    ]
    policy = str(plan["policy"].iloc[0])
    params = {"as_of": as_of.isoformat(), "policy": policy,
              "units_kept": int(plan["safety_stock"].sum()), "rows": len(rows),
              "demand_source": source.describe()}
    with engine.begin() as conn:
        start_batch_run(conn, "reservations", params, model=policy, run_id=run_id)
        conn.execute(insert(SafetyStockPlan), rows)
        finish_batch_run(conn, run_id, "succeeded", params=params)
    return ActionResult(
        run_id, f"reservation plan {run_id}: {params['units_kept']} units kept for walk-in; "
        f"demand: {params['demand_source']}")


def _newer_approved_reservation_plan(conn: Connection, plan_id: str) -> str | None:
    """An approved reservation plan created after `plan_id` (its safety stock is in force)."""
    created = (
        select(func.max(SafetyStockPlan.created_at))
        .where(SafetyStockPlan.plan_id == plan_id)
        .scalar_subquery()
    )
    return conn.execute(
        select(SafetyStockPlan.plan_id)
        .where(SafetyStockPlan.status == "approved", SafetyStockPlan.created_at > created)
        .order_by(SafetyStockPlan.created_at.desc())
        .limit(1)
    ).scalar()


def approve_reservations(engine: Engine, plan_id: str) -> ActionResult:
    """Write the plan's safety stock into `stock` (the allocator uses it at once)."""
    with engine.begin() as conn:
        rows = conn.execute(
            select(SafetyStockPlan.node_id, SafetyStockPlan.sku, SafetyStockPlan.safety_stock)
            .where(SafetyStockPlan.plan_id == plan_id, SafetyStockPlan.status == "proposed")
        ).all()
        if not rows:
            raise ActionError(f"plan {plan_id} has nothing proposed (unknown or approved)")
        newer = _newer_approved_reservation_plan(conn, plan_id)
        if newer is not None:
            raise ActionError(
                f"plan {plan_id} is older than the approved plan {newer}: approving it would "
                "undo a newer decision; run a new reservation plan instead"
            )
        for node_id, sku, safety in rows:
            conn.execute(
                update(Stock).where(Stock.node_id == node_id, Stock.sku == sku)
                .values(safety_stock=safety, version=Stock.version + 1,
                        updated_at=datetime.now(UTC))
            )
        conn.execute(update(SafetyStockPlan).where(SafetyStockPlan.plan_id == plan_id)
                     .values(status="approved"))
    return ActionResult(plan_id, f"reservation plan {plan_id} approved: {len(rows)} rows applied")
