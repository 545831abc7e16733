"""The weekly forecast batch, once, for `omni batch weekly` and the console's batch button.

Both start the run with `start_forecast_batch` (which as-of day, one batch at a time) and then
run it with `run_forecast_batch` (the CLI in the foreground with a progress bar, the console on
a background thread): read the whole sales history through the as-of day, fit (sold-out days as
estimated demand), forecast, optionally refit and score the last 28-day folds, log to MLflow,
then in one transaction write the forecasts with each day's variance-to-mean ratio, refresh the
walk-in demand rates the allocator prices stock with, and finish the run with its level shock.
Every reader downstream (the reservation and transfer plans, the HTTP API, realised accuracy)
thus finds the same figures whichever started the run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import Engine

from api.db.datasets import current_data_version
from api.db.history import sales_days, sales_history
from api.db.runs import (
    HEARTBEAT_EVERY,
    finish_batch_run,
    keep_alive,
    reap_abandoned_runs,
    start_exclusive_run,
    use_forecast_for_demand_rates,
    write_forecasts,
)
from api.services.errors import Conflict, InvalidCommand
from api.services.forecast_runs import FORECAST_RUN_KINDS
from api.services.sales_completeness import arrived_sales
from forecasting.accuracy import RealisedAccuracy
from forecasting.calendar import Country
from forecasting.registry import WEEKLY_HORIZON_DAYS

if TYPE_CHECKING:
    from experiments.batch_logging import WeeklyBatchRecord

log = logging.getLogger(__name__)

BACKTEST_FOLD_DAYS = 28
COUNTRY: Country = "PL"  # the chain's trading calendar

Progress = Callable[[str, int], None]
"""Told what the batch does next, and how many of its `steps` the last one completed."""


def _quiet(_what: str, _done: int) -> None:
    return None


@dataclass(frozen=True)
class BatchResult:
    """What the run wrote and how it went; `params` are the run's recorded parameters."""

    rows: int
    series: int
    censored_days: int
    censored_added_units: float
    mlflow_run_id: str | None
    mlflow_error: str | None
    folds: list[RealisedAccuracy] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StartedBatch:
    """A forecast run recorded as running: its id, the last day of history it forecasts from,
    the data version it reads, the abandoned runs reaped before it, and, when the default
    as-of held back recent days whose sales look incomplete, which and why."""

    run_id: str
    as_of: date
    data_version: str | None
    reaped: list[str]
    held_back: str | None


def start_forecast_batch(engine: Engine, kind: str, model: str, *, as_of: date | None = None,
                         horizon: int = WEEKLY_HORIZON_DAYS,
                         params: dict[str, Any] | None = None) -> StartedBatch:
    """Record a forecast run of `kind` as running, unless one is alive (`RunInProgress`).

    The as-of day is `as_of`, else the last day whose sales have arrived from the usual
    number of stores in every channel. An `as_of` past the last recorded sale is refused
    (`InvalidCommand` at `as_of`): the days between would be read as no demand and a feed
    running late would pull the whole forecast down; one before the first sale has nothing to
    learn from. An empty sales table is a `Conflict`. Abandoned runs are reaped in a
    transaction of their own, so that they stay reaped when the start is refused."""
    with engine.connect() as conn:
        recorded_days = sales_days(conn)
        if recorded_days is None:
            raise Conflict("no-sales", "the sales table is empty: load a chain first "
                           "(omni db init --demo) or import sales (omni sales import)")
        first_sale, last_sale = recorded_days
        held_back = None
        if as_of is None:
            arrived = arrived_sales(conn, last_sale, COUNTRY)
            as_of = arrived.through
            held_back = arrived.describe() if arrived.short else None
        elif as_of > last_sale:
            raise InvalidCommand("as_of", f"sales are recorded through {last_sale} only; the "
                                 f"days after it up to {as_of} would be read as no demand. "
                                 "Import those days first (omni sales import) or choose an "
                                 "earlier --as-of")
        elif as_of < first_sale:
            raise InvalidCommand("as_of", f"{as_of} is before the first recorded sale "
                                 f"({first_sale}): there is no history to learn from")
    data_version = current_data_version(engine)
    with engine.begin() as conn:
        reaped = reap_abandoned_runs(conn)
    with engine.begin() as conn:
        run_id, reaped_too = start_exclusive_run(conn, FORECAST_RUN_KINDS, kind,
                                                 _run_params(params, as_of, horizon),
                                                 model=model, data_version=data_version)
    return StartedBatch(run_id, as_of, data_version, reaped + reaped_too, held_back)


def steps(backtest_folds: int) -> int:
    """How many steps `run_forecast_batch` reports to its `progress`."""
    return 4 + backtest_folds


def run_forecast_batch(
    engine: Engine,
    run_id: str,
    as_of: date,
    model: str,
    model_params: dict[str, Any] | None = None,
    *,
    params: dict[str, Any] | None = None,
    model_version: str | None = None,
    data_version: str | None = None,
    horizon: int = WEEKLY_HORIZON_DAYS,
    backtest_folds: int = 0,
    progress: Progress = _quiet,
    heartbeat_every: timedelta = HEARTBEAT_EVERY,
) -> BatchResult:
    """Forecast every store x channel x SKU `horizon` days after `as_of` under the running run
    `run_id` and finish it as succeeded (`params` joined by what the run measured). The run
    beats its heartbeat meanwhile, so that no other process takes it for abandoned (a batch
    runs for minutes; `api.db.runs.reap_abandoned_runs`). What fitting or writing raises
    marks the run failed, with the error among its parameters, and is raised again. An MLflow
    failure does not cost the forecast: the result carries it as `mlflow_error`."""
    try:
        with keep_alive(engine, run_id, heartbeat_every):
            return _run(engine, run_id, as_of, model, model_params or {}, params or {},
                        model_version, data_version, horizon, backtest_folds, progress)
    except Exception as exc:
        with engine.begin() as conn:
            finish_batch_run(conn, run_id, "failed", params={
                **_run_params(params, as_of, horizon), "error": str(exc)[:500]})
        raise


def _run_params(params: dict[str, Any] | None, as_of: date, horizon: int) -> dict[str, Any]:
    """What every forecast run records whichever way it ends: the caller's parameters and the
    days it forecasts from and for."""
    return {**(params or {}), "as_of": as_of.isoformat(), "horizon_days": horizon,
            "country": COUNTRY}


def _run(engine: Engine, run_id: str, as_of: date, model: str, model_params: dict[str, Any],
         params: dict[str, Any], model_version: str | None, data_version: str | None,
         horizon: int, backtest_folds: int, progress: Progress) -> BatchResult:
    from experiments.batch_logging import WeeklyBatchRecord  # MLflow: only when a batch runs
    from experiments.run_description import hyperparameters
    from forecasting.registry import make_model  # LightGBM: only when a batch runs

    with engine.connect() as conn:
        recorded = sales_history(conn, as_of)
    if recorded.empty:
        raise ValueError(f"no sales recorded through {as_of}: nothing to forecast from")
    progress(f"fit {model} on {recorded['unique_id'].nunique()} series", 1)
    forecaster = make_model(model, country=COUNTRY, **model_params).fit(
        recorded, censored_column="stockout")
    progress("predict", 1)
    forecast = forecaster.predict(horizon)
    progress("backtest" if backtest_folds else "log to MLflow", 1)
    folds = _backtest_folds(recorded, backtest_folds, model, model_params, progress)
    progress("log to MLflow", 0)
    record = WeeklyBatchRecord(run_id, as_of.isoformat(), horizon, model, model_version,
                               data_version, model_params, forecaster.censored_days_,
                               forecaster.censored_added_units_, hyperparameters(forecaster))
    sold_out = recorded.loc[recorded["stockout"] == 1, ["unique_id", "ds", "y"]]
    mlflow_run_id, mlflow_error = _log_to_mlflow(
        record, forecaster.history_, forecast, getattr(forecaster, "holdout_", None), sold_out,
        [fold.summary for fold in folds])
    series = int(forecast["unique_id"].nunique())
    finished = {
        **_run_params(params, as_of, horizon), "series": series,
        # psi, the variance of the error a series' days share: the safety-stock plan adds it
        # to the spread of summed demand (allocation.planning.reservation).
        "level_shock": float(forecaster.dispersion_.level_shock),
        "censored_days": forecaster.censored_days_,
        "censored_added_units": forecaster.censored_added_units_,
        **_fold_means(folds),
    }
    with engine.begin() as conn:
        spread = forecaster.variance_to_mean(forecast)
        rows = write_forecasts(conn, run_id, forecast.assign(dispersion=spread))
        use_forecast_for_demand_rates(conn, run_id, as_of + timedelta(days=1),
                                      as_of + timedelta(days=28))
        finish_batch_run(conn, run_id, "succeeded", mlflow_run_id=mlflow_run_id,
                         params=finished)
    progress("done", 1)
    return BatchResult(rows, series, forecaster.censored_days_,
                       forecaster.censored_added_units_, mlflow_run_id, mlflow_error, folds,
                       finished)


def _backtest_folds(recorded: pd.DataFrame, count: int, model: str,
                    model_params: dict[str, Any], progress: Progress) -> list[RealisedAccuracy]:
    """The last `count` 28-day folds of the history, each refitted before its cutoff the way
    the batch fits (sold-out days as estimated demand) and scored as realised accuracy."""
    from forecasting.accuracy import recent_folds
    from forecasting.registry import make_model

    def fit_and_forecast(history: pd.DataFrame, horizon: int) -> pd.DataFrame:
        progress(f"backtest fold ending {history['ds'].max().date()}", 0)
        fitted = make_model(model, country=COUNTRY, **model_params).fit(
            history, censored_column="stockout")
        progress(f"backtest fold ending {history['ds'].max().date()}", 1)
        return fitted.predict(horizon)

    return recent_folds(fit_and_forecast, recorded, count, BACKTEST_FOLD_DAYS, COUNTRY)


def _fold_means(folds: list[RealisedAccuracy]) -> dict[str, float]:
    """The run's record of its backtest: mean WAPE and bias % of the folds' whole chain."""
    if not folds:
        return {}
    rows = pd.DataFrame([fold.summary.loc["all"] for fold in folds])
    return {"backtest_folds": len(folds), "backtest_wape": float(rows["wape"].mean()),
            "backtest_bias_pct": float(rows["bias_pct"].mean())}


def _log_to_mlflow(record: WeeklyBatchRecord, history: pd.DataFrame, forecast: pd.DataFrame,
                   holdout: pd.DataFrame | None, sold_out: pd.DataFrame,
                   backtest: list[pd.DataFrame]) -> tuple[str | None, str | None]:
    """(the batch's MLflow run id, None), or (None, what went wrong): a logging failure must
    not cost the forecast."""
    from experiments.batch_logging import log_weekly_batch

    try:
        return log_weekly_batch(record, history, forecast, holdout, sold_out=sold_out,
                                backtest=backtest), None
    except Exception as error:  # any tracking-store failure; the forecast still gets written
        log.warning("MLflow logging of run %s failed: %s", record.batch_run_id, error)
        return None, str(error)
