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
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from forecasting.registry import MODEL_NAMES, PRODUCTION_MODEL, UnknownModelError, make_model
from forecasting.validation import ForecastInputError

INPUT_ERROR_EXIT = 2


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


def write_frame_atomically(frame: pd.DataFrame, path: Path) -> None:
    """Write next to the target and rename, so the target is either complete or absent."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise ForecastInputError(
            f"unsupported output type {suffix or '(none)'!r}: use .csv or .parquet", str(path))
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ForecastInputError("output folder does not exist", str(path))
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
def _engine(engine: EngineOption) -> Iterator[None]:
    """A local Dask cluster of processes for `dask`; `ray` only if the package is installed."""
    if engine is EngineOption.ray:
        if importlib.util.find_spec("ray") is None:
            raise ForecastInputError(
                "the ray engine needs the `ray` package, which is not installed here; "
                "use --engine local or --engine dask", "engine")
        raise ForecastInputError("the ray engine is not supported yet; use --engine dask",
                                 "engine")
    if engine is EngineOption.dask:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None,
                          processes=True) as cluster, Client(cluster):
            yield
        return
    yield


def run_forecast(
    history: Path, horizon: int, out: Path, future: Path | None, country: str, model: str,
    engine: EngineOption, **params: Any,
) -> pd.DataFrame:
    """Read, forecast, write. Raises ForecastInputError / UnknownModelError on bad input."""
    if model not in MODEL_NAMES:
        raise UnknownModelError(
            f"unknown model {model!r}: expected one of {', '.join(MODEL_NAMES)}")
    history_frame = read_frame(history, str(history))
    future_frame = read_frame(future, str(future)) if future is not None else None
    with _engine(engine):
        engine_name = "dask" if engine is EngineOption.dask else "local"
        forecaster = make_model(model, country=country, engine=engine_name,  # type: ignore[arg-type]
                                **params)
        try:
            forecaster.fit(history_frame)
        except ForecastInputError as error:
            raise ForecastInputError(error.problem, str(history), error.column,
                                     error.row) from None
        try:
            forecast = forecaster.predict(horizon, future_frame)
        except ForecastInputError as error:
            named = str(future) if future is not None else "--future"
            source = named if error.source == "future" else error.source
            raise ForecastInputError(error.problem, source, error.column, error.row) from None
    forecast = forecast.assign(ds=pd.to_datetime(forecast["ds"]).dt.strftime("%Y-%m-%d"))
    write_frame_atomically(forecast, out)
    return forecast


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
        "--model", help=f"One of: {', '.join(MODEL_NAMES)}")] = PRODUCTION_MODEL,
    engine: Annotated[EngineOption, typer.Option(
        "--engine", help="local, dask (a local Dask cluster), ray (if installed)")
    ] = EngineOption.local,
) -> None:
    """Forecast daily demand with quantiles for every series in a history file."""
    try:
        result = run_forecast(history, horizon, out, future, country.value, model, engine)
    except (ForecastInputError, UnknownModelError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(INPUT_ERROR_EXIT) from None
    typer.echo(f"wrote {len(result)} rows for {result['unique_id'].nunique()} series to {out}")
