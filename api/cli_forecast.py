"""`omni forecast`: forecast every series of a history file and write the quantiles.

The CLI reads and writes files; everything else (checks, models, quantiles) is the core's.
A `ForecastInputError` or an unknown model becomes a one-line message on stderr and exit code 2;
the output is written to a temporary file and renamed, so a failed run leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import tempfile
from collections.abc import Iterator
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from forecasting.errors import ForecastInputError
from forecasting.registry import (
    MODEL_NAMES,
    PRODUCTION_MODEL,
    WEEKLY_HORIZON_DAYS,
    UnknownModelError,
    make_model,
)

if TYPE_CHECKING:
    import pandas as pd

    from forecasting.estimator import Forecaster

INPUT_ERROR_EXIT = 2
CHAMPION = "champion"


def resolve_model_option(model: str) -> tuple[str, dict[str, Any], str | None]:
    """`--model`: a model name passes through; `champion` becomes the registered champion's
    (model, params, version). No champion -> a message on stderr and exit 2, nothing written."""
    if model != CHAMPION:
        return model, {}, None
    from experiments.champion import NoChampionError, resolve_model

    try:
        return resolve_model(model)
    except NoChampionError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(INPUT_ERROR_EXIT) from None


def model_label(name: str, version: str | None) -> str:
    """How a run records its model: `name`, or `name@champion-vN` for a registry version."""
    return f"{name}@{CHAMPION}-v{version}" if version else name


class CountryOption(StrEnum):
    PL = "PL"
    DE = "DE"
    US = "US"
    none = "none"


class EngineOption(StrEnum):
    local = "local"
    dask = "dask"
    ray = "ray"


def read_frame(path: Path, source: str) -> pd.DataFrame:
    """A CSV or Parquet file (by extension) as a DataFrame; unreadable -> ForecastInputError."""
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise ForecastInputError(
            f"unsupported file type {suffix or '(none)'!r}: use .csv or .parquet", str(path))
    try:
        if suffix == ".csv":
            return pd.read_csv(path)
        return pd.read_parquet(path)
    except FileNotFoundError:
        raise ForecastInputError("file not found", str(path)) from None
    except Exception as error:  # any parser failure means the file is unreadable
        raise ForecastInputError(f"unreadable {suffix[1:]} file ({error})", str(path)) from None


def check_output(path: Path) -> Path:
    """The folder an output file goes into, once its type (by extension) and folder are known
    to be writable kinds; else ForecastInputError. Commands call it before their work, so a
    bad `--out` costs nothing; the writer calls it again."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise ForecastInputError(
            f"unsupported output type {suffix or '(none)'!r}: use .csv or .parquet", str(path))
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ForecastInputError("output folder does not exist", str(path))
    return directory


def write_frame_atomically(frame: pd.DataFrame, path: Path) -> None:
    """Write next to the target and rename, so the target is either complete or absent."""
    directory = check_output(path)
    suffix = path.suffix.lower()
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=directory)
    os.close(handle)
    try:
        if suffix == ".csv":
            frame.to_csv(temporary, index=False, date_format="%Y-%m-%d")
        else:
            frame.to_parquet(temporary, index=False)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)


@contextlib.contextmanager
def engine_runtime(engine: EngineOption) -> Iterator[None]:
    """A local Dask cluster of processes for `dask`; a local Ray runtime for `ray` (the
    `ray` extra must be installed). The models find the runtime and leave it to this block."""
    if engine is EngineOption.ray:
        if importlib.util.find_spec("ray") is None:
            raise ForecastInputError(
                "the ray engine needs the `ray` package, which is not installed here: install "
                "the project's `ray` extra, or use --engine local or --engine dask", "engine")
        from forecasting.distributed import ray_runtime

        with ray_runtime():
            yield
        return
    if engine is EngineOption.dask:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None,
                          processes=True) as cluster, Client(cluster):
            yield
        return
    yield


def run_forecast(
    history: Path, horizon: int, out: Path, future: Path | None, country: str, model: str,
    engine: EngineOption, censored_column: str | None = None, **params: Any,
) -> tuple[pd.DataFrame, Forecaster]:
    """Read, forecast, write; the forecast and the fitted model (what it did to the history).
    Raises ForecastInputError / UnknownModelError on bad input."""
    if model not in MODEL_NAMES:
        raise UnknownModelError(
            f"unknown model {model!r}: expected one of {', '.join(MODEL_NAMES)}")
    check_output(out)
    history_frame = read_frame(history, str(history))
    future_frame = read_frame(future, str(future)) if future is not None else None
    forecaster = make_model(model, country=country, engine=engine.value,  # type: ignore[arg-type]
                            **params)
    with engine_runtime(engine):
        try:
            forecaster.fit(history_frame, censored_column)
        except ForecastInputError as error:
            raise ForecastInputError(error.problem, str(history), error.column,
                                     error.row) from None
        try:
            forecast = forecaster.predict(horizon, future_frame)
        except ForecastInputError as error:
            named = str(future) if future is not None else "--future"
            source = named if error.source == "future" else error.source
            raise ForecastInputError(error.problem, source, error.column, error.row) from None
    write_frame_atomically(forecast, out)
    return forecast, forecaster


def forecast(
    history: Annotated[Path, typer.Option("--history", help="Long history: unique_id, ds, y "
                                          "[+ numeric exogenous]; .csv or .parquet")],
    horizon: Annotated[int, typer.Option("--horizon", help="Days to forecast (> 0)")],
    out: Annotated[Path, typer.Option("--out", help="Output .csv or .parquet: unique_id, ds, "
                                      "yhat, q50, q80, q90, q95, q99")],
    future: Annotated[Path | None, typer.Option(
        "--future", help="Known-future exogenous: unique_id, ds + the history's exogenous "
        "columns for every day of the horizon (required when the history has any)")] = None,
    country: Annotated[CountryOption, typer.Option(
        "--country", help="Calendar for holidays and closed days")] = CountryOption.PL,
    model: Annotated[str, typer.Option(
        "--model", help=f"One of: {', '.join(MODEL_NAMES)}, or {CHAMPION} (the registered "
        "champion)")] = PRODUCTION_MODEL,
    engine: Annotated[EngineOption, typer.Option(
        "--engine", help="local, dask (a local Dask cluster), ray (a local Ray runtime; the "
        "`ray` extra)")
    ] = EngineOption.local,
    censored_column: Annotated[str | None, typer.Option(
        "--censored-column", help="A 0/1 column of the history: 1 = the day sold out, so its y "
        "is a lower bound on demand; such days are fitted as estimated demand")] = None,
) -> None:
    """Forecast daily demand with quantiles for every series in a history file."""
    name, params, version = resolve_model_option(model)
    try:
        result, fitted = run_forecast(history, horizon, out, future, country.value, name,
                                      engine, censored_column, **params)
    except (ForecastInputError, UnknownModelError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(INPUT_ERROR_EXIT) from None
    typer.echo(f"wrote {len(result)} rows for {result['unique_id'].nunique()} series to {out} "
               f"(model {model_label(name, version)})")
    if fitted.filled_days_:
        typer.echo(f"note: {fitted.filled_days_:,} days without a row in {history} were read as "
                   "0 sales (every series runs daily from its first row to the history's last "
                   "day)", err=True)


# --- omni batch weekly -------------------------------------------------------------------------

batch_app = typer.Typer(help="Scheduled batch jobs.", no_args_is_help=True)


def _as_of_option(as_of: str | None) -> date | None:
    """`--as-of` as a date; a malformed one exits 2 naming it."""
    if as_of is None:
        return None
    try:
        return date.fromisoformat(as_of)
    except ValueError:
        typer.echo(f"error: --as-of: {as_of!r} is not a date (YYYY-MM-DD)", err=True)
        raise typer.Exit(INPUT_ERROR_EXIT) from None


@batch_app.command("weekly")
def weekly(
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Last day of history (YYYY-MM-DD); default: the last day whose sales "
        "have arrived from the usual number of stores in every channel")
    ] = None,
    model: Annotated[str, typer.Option(
        "--model", help=f"Forecasting model, or {CHAMPION} (the registered champion)")
    ] = PRODUCTION_MODEL,
    horizon: Annotated[int, typer.Option(
        "--horizon", min=1, help="Days ahead (at least 1)")] = WEEKLY_HORIZON_DAYS,
    backtest_folds: Annotated[int, typer.Option(
        "--backtest-folds", min=0, help="Also refit on the history before each of the last N "
        "28-day folds and score the fold as realised accuracy (logged to MLflow as "
        "backtest.*; each fold costs one more fit)")] = 0,
) -> None:
    """Forecast every store x channel x SKU for the next 8 weeks and store the run."""
    from rich.progress import Progress

    from api.cli_db import command_error, schema_engine, user_errors
    from api.db.runs import RunInProgress
    from api.services.errors import Conflict, InvalidCommand
    from api.services.forecast_batch import run_forecast_batch, start_forecast_batch, steps
    from api.settings import get_settings

    name, model_params, version = resolve_model_option(model)
    if name not in MODEL_NAMES:
        typer.echo(f"error: unknown model {name!r}: expected one of {', '.join(MODEL_NAMES)}",
                   err=True)
        raise typer.Exit(INPUT_ERROR_EXIT)
    label = model_label(name, version)
    day = _as_of_option(as_of)
    try:
        with user_errors(command_error):
            engine = schema_engine(get_settings())
            started = start_forecast_batch(engine, "forecast_weekly", label, as_of=day,
                                           horizon=horizon)
    except InvalidCommand as refused:
        typer.echo(f"error: --as-of: {refused.detail}", err=True)
        raise typer.Exit(INPUT_ERROR_EXIT) from None
    except Conflict as refused:
        typer.echo(f"error: {refused.detail}", err=True)
        raise typer.Exit(1) from None
    except RunInProgress as busy:
        typer.echo(f"error: forecast {busy}", err=True)
        raise typer.Exit(1) from None
    if started.held_back is not None:
        typer.echo(f"note: {started.held_back} (pass --as-of to use them anyway)", err=True)
    for dead in started.reaped:
        typer.echo(f"note: forecast run {dead} had no heartbeat: marked failed", err=True)
    run_id, day = started.run_id, started.as_of
    try:
        with Progress(transient=True) as progress:
            task = progress.add_task("forecast batch", total=steps(backtest_folds))

            def report(what: str, done: int) -> None:
                progress.update(task, advance=done, description=what)

            result = run_forecast_batch(
                engine, run_id, day, name, model_params, model_version=version,
                data_version=started.data_version, horizon=horizon, backtest_folds=backtest_folds,
                progress=report)
    finally:
        engine.dispose()
    if result.mlflow_error is not None:
        typer.echo(f"warning: MLflow logging failed, forecasts kept: {result.mlflow_error}",
                   err=True)
    typer.echo(f"run {run_id}: {result.rows} forecast rows for {result.series} "
               f"series, {horizon} days after {day} (model {label}; {result.censored_days} "
               f"sold-out days fitted as estimated demand, +{result.censored_added_units:,.0f} "
               "units" + (f", MLflow run {result.mlflow_run_id})" if result.mlflow_run_id
                          else ")"))
    for k, fold in enumerate(result.folds, start=1):
        row = fold.summary.loc["all"]
        typer.echo(f"backtest fold {k} ({fold.first_day} .. {fold.last_day}): WAPE "
                   f"{row['wape']:.3f}, bias {row['bias_pct']:+.1f}%"
                   + (f", share sold <= q90 {row['coverage_q90']:.3f}"
                      if "coverage_q90" in row.index else ""))


