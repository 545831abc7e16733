"""`omni batch accuracy`: how the weekly forecast a planner used did on the days sold since.

It scores a stored run (by default the newest succeeded one, from `omni batch weekly` or the
planner console's batch button) on the sales recorded after its as-of day
(`api.services.forecast_accuracy`), prints the accuracy per channel and the series the forecast
missed most, draws the chain's daily units sold against the forecast, and adds the figures to
the run's own MLflow run (console runs have none). Run it again as sales arrive: each
call scores every day known so far. An unknown run or one that did not succeed is refused with
exit code 2; a database problem exits with 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from api.cli_db import command_error, schema_engine, user_errors
from api.cli_forecast import INPUT_ERROR_EXIT, check_output
from forecasting.errors import ForecastInputError

if TYPE_CHECKING:
    import pandas as pd

    from api.services.forecast_accuracy import ScoredRun

console = Console()

def accuracy(
    run: Annotated[str | None, typer.Option(
        "--run", help="A forecast run id, or latest (the default: the newest succeeded run)")
    ] = None,
    through: Annotated[str | None, typer.Option(
        "--through", help="Score no day after this one (YYYY-MM-DD; default: the last day "
        "whose sales have arrived from the usual number of stores in every channel)")] = None,
    top: Annotated[int, typer.Option("--top", min=0, help="Series the forecast missed most, "
                                     "listed")] = 10,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Also write the per-series accuracy here (.csv or .parquet)")] = None,
    reports_dir: Annotated[Path | None, typer.Option(
        "--reports-dir", help="Where the run's plot goes (<dir>/<run id>/accuracy.png; "
        "default OMNI_REPORTS_DIR, else reports/ in the project)")
    ] = None,
) -> None:
    """Score a weekly forecast run on the sales recorded after its as-of day."""
    from datetime import date

    from api.services.errors import Conflict, InvalidCommand, NotFound
    from api.services.forecast_accuracy import score_forecast_run
    from api.services.forecast_runs import LATEST
    from api.settings import get_settings

    try:
        last_day = date.fromisoformat(through) if through else None
    except ValueError:
        typer.echo(f"error: --through {through!r}: not a date (YYYY-MM-DD)", err=True)
        raise typer.Exit(INPUT_ERROR_EXIT) from None
    if out is not None:
        try:
            check_output(out)
        except ForecastInputError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(INPUT_ERROR_EXIT) from None
    with user_errors(command_error):
        engine = schema_engine(get_settings())
        try:
            with engine.connect() as conn:
                scored = score_forecast_run(conn, run, last_day)
        except InvalidCommand as error:
            typer.echo(f"error: --through: {error.detail}", err=True)
            raise typer.Exit(INPUT_ERROR_EXIT) from None
        except (NotFound, Conflict) as error:
            message = (f"--run: {error}" if run not in (None, LATEST) else "no forecast run "
                       "has succeeded yet: run `omni batch weekly` first")
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(INPUT_ERROR_EXIT) from None
        finally:
            engine.dispose()
    run_info = scored.run
    heading = (f"run {run_info.run_id} (model {run_info.model}, as of {run_info.as_of}, "
               f"{run_info.horizon_days} days)")
    if scored.accuracy is None or scored.accuracy.scored_days == 0:
        typer.echo(f"{heading}: no sales recorded after {run_info.as_of} yet; nothing to score "
                   "(load them with `omni sales import`)")
        return
    _print(scored, heading, top)
    if out is not None:
        from api.cli_forecast import write_frame_atomically

        write_frame_atomically(scored.accuracy.by_series.reset_index(), out)
        typer.echo(f"wrote the accuracy of {len(scored.accuracy.by_series):,} series to {out}")
    plot = _plot(scored, reports_dir or get_settings().reports_dir)
    typer.echo(f"plot: {plot}")
    _log_to_mlflow(scored, plot)


def _print(scored: ScoredRun, heading: str, top: int) -> None:
    result = scored.accuracy
    assert result is not None and scored.through is not None
    console.print(f"Realised accuracy of {heading}: {scored.days_known} of "
                  f"{scored.run.horizon_days} days "
                  f"known, scored {result.first_day} .. {result.last_day}")
    if scored.held_back is not None:
        console.print(f"note: {scored.held_back.describe()} (pass --through to score them)")
    from api.services.forecast_accuracy import summary_table

    segments, rows = summary_table(result.summary)
    table = Table()
    table.add_column("")
    for segment in segments:
        table.add_column(segment, justify="right")
    for label, values in rows:
        table.add_row(label, *values)
    console.print(table)
    excluded = result.excluded
    console.print(f"left out: {excluded['sold_out_days']:,} sold-out days (sales are a lower "
                  f"bound on demand there), {excluded['closed_days']:,} walk-in days the store "
                  "was closed. A calibrated q90 covers 0.90 of the days.")
    if excluded["unforecast_series"]:
        console.print(f"not in the run: {excluded['unforecast_series']:,} series sold "
                      f"{excluded['unforecast_units']:,} units (launched after its as-of)")
    if top == 0:
        return
    console.print(f"The {top} series the forecast missed most (units over the scored days):")
    _print_ranking(result.by_series.head(top), "series", (
        ("days", "days", "{:.0f}"), ("actual_units", "sold", "{:,.0f}"),
        ("forecast_units", "forecast", "{:,.1f}"), ("error", "error", "{:+,.1f}"),
        ("abs_error", "abs error", "{:,.1f}")))
    console.print(f"The {top} stores furthest off in total (all their series and channels):")
    _print_ranking(result.by_store.head(top), "store", (
        ("series", "series", "{:.0f}"), ("actual_units", "sold", "{:,.0f}"),
        ("forecast_units", "forecast", "{:,.1f}"), ("bias_pct", "bias %", "{:+.1f}"),
        ("wape", "WAPE", "{:.3f}")))


def _print_ranking(frame: pd.DataFrame, key: str,
                   columns: tuple[tuple[str, str, str], ...]) -> None:
    """A ranked table: the index (a series or a store) left, its figures right."""
    from api.services.forecast_accuracy import shown

    table = Table()
    table.add_column(key)
    for _, label, _ in columns:
        table.add_column(label, justify="right")
    for name, row in frame.iterrows():
        table.add_row(str(name), *(shown(fmt, float(row[column])) for column, _, fmt in columns))
    console.print(table)


def _plot(scored: ScoredRun, reports_dir: Path) -> Path:
    from experiments.plots import realised_daily_totals

    assert scored.accuracy is not None
    folder = reports_dir / scored.run.run_id
    folder.mkdir(parents=True, exist_ok=True)
    return realised_daily_totals(
        scored.accuracy.daily, folder / "accuracy.png",
        f"units sold vs forecast, chain total ({scored.run.model}, as of {scored.run.as_of})")


def _log_to_mlflow(scored: ScoredRun, plot: Path) -> None:
    """Onto the batch's own MLflow run; a logging failure is a warning, never lost figures:
    they were printed above."""
    mlflow_run_id = scored.run.mlflow_run_id
    if mlflow_run_id is None or scored.accuracy is None:
        return
    from experiments.batch_logging import log_realised_accuracy

    try:
        log_realised_accuracy(mlflow_run_id, scored.accuracy.summary, scored.days_known, plot)
    except Exception as error:  # MLflow is a side channel here
        typer.echo(f"warning: not logged to MLflow run {mlflow_run_id}: {error}",
                   err=True)
        return
    typer.echo(f"logged to MLflow run {mlflow_run_id} (metrics realised.*)")
