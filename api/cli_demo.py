"""`omni demo`: the main job end to end on the embedded defaults.

Loads the generated demo chain into the configured database (SQLite `./omni.db` by default),
then runs what the three users run, in the order a real week would: the planners' forecast
batch, the reservation plan and a rebalancing plan for the next peak, then a day of OMS orders
through the real HTTP API; and prints a short summary of each step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console

from forecasting.registry import PRODUCTION_MODEL, WEEKLY_HORIZON_DAYS

if TYPE_CHECKING:
    from sqlalchemy import Engine

console = Console()
T = TypeVar("T")


def demo_command(
    seed: Annotated[int, typer.Option(help="Demo chain seed.")] = 7,
    stores: Annotated[int, typer.Option(min=1, help="Number of stores.")] = 100,
    skus: Annotated[int | None, typer.Option(min=1, help="Number of SKUs.")] = None,
    orders: Annotated[int, typer.Option(min=1, help="Orders sent through the API.")] = 400,
    model: Annotated[str, typer.Option(help="Forecasting model of the batch.")] = PRODUCTION_MODEL,
    rebalance_deadline_s: Annotated[
        float, typer.Option(min=1, help="Deadline of the rebalancing solver.")
    ] = 30.0,
    force: Annotated[bool, typer.Option("--force", help=(
        "Replace a database that holds another chain's orders, movements, runs or plans "
        "(they are deleted)."))] = False,
) -> None:
    """Run the main job end to end on the embedded defaults and print a summary."""
    import numpy as np

    from api.chain_summary import summarise_chain
    from api.cli_db import init_command
    from api.cli_forecast import weekly
    from api.db.engine import make_engine
    from api.demo_orders import day_of_orders, send_orders
    from api.settings import get_settings
    from data.demo_chain import DEFAULT_SKUS, DEMO_AS_OF, generate_chain

    started = time.perf_counter()
    n_skus = skus if skus is not None else DEFAULT_SKUS
    _step("1. load the demo chain", lambda: init_command(
        demo=True, seed=seed, stores=stores, skus=n_skus, force=force
    ))
    settings = get_settings()
    engine = make_engine(settings.database_url, settings)
    try:
        for line in summarise_chain(engine).lines():
            console.print(f"  {line}")
        _step(
            f"2. weekly forecast batch ({model}): every store x channel x SKU, 8 weeks",
            lambda: weekly(as_of=None, model=model, horizon=WEEKLY_HORIZON_DAYS),
        )
        chain = generate_chain(seed=seed, n_stores=stores, n_skus=n_skus)
        _plan_step(engine, chain.as_of, rebalance_deadline_s)
        run_tag = datetime.now().strftime("DEMO-%Y%m%dT%H%M%S")
        payloads = day_of_orders(chain, np.random.default_rng(seed), run_tag, orders)
        report = _step(
            "4. a day of OMS orders through the HTTP API",
            lambda: send_orders(settings, engine, payloads),
        )
        for line in report.lines():
            console.print(f"  {line}")
    finally:
        engine.dispose()
    console.print(
        f"planner console: run `OMNI_BUSINESS_DATE={DEMO_AS_OF} omni serve` (the demo "
        "chain's day; without it the console plans from today) and open "
        "http://127.0.0.1:8000/console (development planner key: dev-planner-key)", soft_wrap=True
    )
    console.print(f"[bold green]demo finished in {time.perf_counter() - started:.1f} s[/]")


def _plan_step(engine: Engine, as_of: date, deadline_s: float) -> None:
    """The planners' decisions: walk-in safety stock, then transfers before the next peak."""
    from api.services.planning import plan_peak_transfers, plan_store_reservations
    from forecasting.calendar import next_peak

    reservations = _step(
        "3a. reservation plan: safety stock kept for walk-in customers",
        lambda: plan_store_reservations(engine, as_of),
    )
    console.print(
        f"  {reservations.rows:,} store x SKU rows: {reservations.safety_units:,} units kept "
        f"for walk-in, {reservations.promisable_units:,} promisable online"
    )
    console.print(f"  demand: {reservations.demand_source}", soft_wrap=True)
    peak = next_peak(as_of)
    transfers = _step(
        f"3b. rebalancing before {peak.name} {peak.start}",
        lambda: plan_peak_transfers(engine, peak.name, peak.start.year, as_of, deadline_s),
    )
    plan = transfers.plan
    console.print(
        f"  {plan.status}: {plan.units_moved:,} units in {len(plan.transfers):,} transfers, "
        f"expected gain {plan.expected_gain_pln:,.0f} PLN after "
        f"{plan.transfer_cost_pln:,.0f} PLN transfer cost (plan {transfers.plan_id}, proposed)"
    )
    console.print(f"  demand: {transfers.demand_source}", soft_wrap=True)


def _step(title: str, action: Callable[[], T]) -> T:
    console.rule(f"[bold]{title}")
    t0 = time.perf_counter()
    result = action()
    console.print(f"[dim]{title}: {time.perf_counter() - t0:.1f} s[/]")
    return result
