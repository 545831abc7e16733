"""`omni plan ...`: the planners' commands (walk-in reservations, rebalancing before a peak).

Reads stock and forecasts from the database, writes the plans, prints a summary. Bad input
(unknown peak, negative stock) ends with one line on stderr and exit code 2.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from forecasting.vocabulary import PEAK_NAMES

plan_app = typer.Typer(help="Plan walk-in reservations and transfers before a peak.")
console = Console()
INPUT_ERROR_EXIT = 2
AS_OF_HELP = "YYYY-MM-DD (default: OMNI_BUSINESS_DATE, else today in Warsaw)"


def _engine():  # type: ignore[no-untyped-def]
    """The database at the current schema, or one line and exit 1 (`api.cli_db.schema_engine`)."""
    from api.cli_db import command_error, schema_engine, user_errors

    with user_errors(command_error):
        return schema_engine()


def _day(value: str | None) -> date:
    """`--as-of` as a date (default: the business day, `OMNI_BUSINESS_DATE` or today in
    Warsaw); a malformed one exits 2 naming it."""
    if value is None:
        from api.cli_db import command_error, user_errors
        from api.settings import get_settings

        with user_errors(command_error):
            return get_settings().today()
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        typer.echo(f"error: --as-of: {value!r} is not a date (YYYY-MM-DD)", err=True)
        raise typer.Exit(INPUT_ERROR_EXIT) from None


@plan_app.command("reservations")
def reservations(
    as_of: Annotated[str | None, typer.Option("--as-of", help=AS_OF_HELP)] = None,
) -> None:
    """Set each store's safety stock for walk-in customers; the rest is promisable online."""
    day = _day(as_of)  # the input first: a typo needs no database nor the planning stack
    from allocation.planning import PlanningInputError
    from api.services.planning import plan_store_reservations

    try:
        summary = plan_store_reservations(_engine(), day)
    except (PlanningInputError, ValueError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(INPUT_ERROR_EXIT) from None
    console.print(
        f"plan {summary.plan_id}: {summary.rows:,} store x SKU rows, "
        f"{summary.safety_units:,} units kept for walk-in, "
        f"{summary.promisable_units:,} promisable online, {summary.stale_rows} stale rows refused"
    )
    console.print(f"demand: {summary.demand_source}", soft_wrap=True)
    console.print("stores most at risk (SKUs whose stock is below the horizon forecast):")
    console.print(summary.stores_at_risk.to_string(index=False))


@plan_app.command("rebalance")
def rebalance(
    peak: Annotated[str, typer.Option(help=" | ".join(PEAK_NAMES))],
    year: Annotated[int, typer.Option(help="YYYY")],
    deadline_s: Annotated[float, typer.Option("--deadline-s", help="solver deadline")] = 60.0,
    as_of: Annotated[str | None, typer.Option("--as-of", help=AS_OF_HELP)] = None,
    reports_dir: Annotated[
        Path | None,
        typer.Option("--reports-dir", help="where the run's report folder goes (default reports/)"),
    ] = None,
) -> None:
    """Plan DC -> store and store -> store transfers that arrive before the peak starts; the
    planner's report (PNG plots, CSV of the top lanes) goes to `<reports-dir>/<plan id>/`."""
    day = _day(as_of)  # the input first: a typo needs no database ...
    if peak not in PEAK_NAMES:  # ... nor the planning stack's imports
        typer.echo(f"error: peak: unknown peak {peak!r}: expected one of "
                   f"{', '.join(PEAK_NAMES)}", err=True)
        raise typer.Exit(INPUT_ERROR_EXIT)
    from allocation.planning import PlanningInputError
    from allocation.planning.rebalance import resolve_peak
    from api.services.planning import plan_peak_transfers

    try:
        resolve_peak(peak, year)
        summary = plan_peak_transfers(_engine(), peak, year, day, deadline_s,
                                      reports_dir=reports_dir)
    except PlanningInputError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(INPUT_ERROR_EXIT) from None
    plan = summary.plan
    console.print(
        f"plan {summary.plan_id} ({plan.status}, {plan.solve_seconds:.1f} s): "
        f"{plan.units_moved:,} units in {len(plan.transfers):,} transfers, "
        f"expected gain {plan.expected_gain_pln:,.0f} PLN after "
        f"{plan.transfer_cost_pln:,.0f} PLN of transfer costs"
    )
    console.print(f"demand: {summary.demand_source}", soft_wrap=True)
    console.print("stores most at risk (summed shadow price of one more unit per SKU, PLN):")
    console.print(summary.stores_at_risk.to_string(index=False))
    console.print(
        f"{summary.shadow_price_rows:,} shadow prices written for the allocator "
        f"({plan.peak.start:%Y-%m-%d} .. {plan.peak.end:%Y-%m-%d})"
    )
    console.print(f"report: {summary.report_dir}", soft_wrap=True)
