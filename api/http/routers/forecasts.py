"""`/v1/forecast-runs`: a stored forecast run read back (scope `planner`, or `admin`): its
forecast of a store and/or a SKU for replenishment and other systems, and how it did on the
sales recorded since its as-of day (the figures of `omni batch accuracy`, for dashboards)."""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from api.http.deps import RuntimeDep, require_scope
from api.http.openapi import problems
from api.services.forecast_accuracy import ScoredRun, score_forecast_run
from api.services.forecast_runs import forecast_slice, resolve_forecast_run

RUN_PROBLEMS = problems(401, 403, 404, 409, 422, 503)
RunIdPath = Annotated[str, Path(min_length=1, max_length=64,
                                description="a forecast run id, or `latest`")]

# every route reads planning data: a planner key (or admin) for all of them
router = APIRouter(prefix="/v1/forecast-runs", tags=["forecasts"],
                   dependencies=[Depends(require_scope("planner"))])


class ForecastRowOut(BaseModel):
    node_id: str
    channel: Literal["store", "online"] = Field(description="store = walk-in")
    sku: str
    ds: date
    yhat: float = Field(description="mean demand of the day")
    q50: float | None
    q80: float | None
    q90: float | None
    q95: float | None
    q99: float | None
    dispersion: float | None = Field(description="variance-to-mean ratio of the day's demand")


class RunForecastOut(BaseModel):
    run_id: str
    model: str | None
    as_of: date = Field(description="the last day of history the run forecast from")
    horizon_days: int
    rows: list[ForecastRowOut] = Field(description="by series (store, channel, SKU) and day")


class SegmentAccuracyOut(BaseModel):
    segment: Literal["all", "store", "online"] = Field(description="store = walk-in")
    series: int
    days: int = Field(description="series-days scored")
    actual_units: float
    forecast_units: float
    bias_pct: float | None = Field(description="forecast over actual units, minus 1, in %")
    wape: float | None = Field(description="absolute errors over actual units")
    mae: float | None = Field(description="mean absolute error per series-day")
    naive_wape: float | None = Field(description="WAPE of the seasonal naive forecast (each "
                                     "day = the same weekday of the week before as_of)")
    value_added_pct: float | None = Field(description="how much lower the run's WAPE is, in % "
                                          "of the seasonal naive's (negative: naive did better)")
    coverage: dict[str, float] = Field(
        description="per quantile (q50...q99): share of series-days sold at or below it")


class SeriesAccuracyOut(BaseModel):
    unique_id: str = Field(description="node|channel|sku")
    days: int
    actual_units: float
    forecast_units: float
    error: float = Field(description="forecast − actual units over the scored days")
    abs_error: float = Field(description="sum of the daily absolute errors")


class StoreAccuracyOut(BaseModel):
    node_id: str
    series: int
    actual_units: float
    forecast_units: float
    bias_pct: float | None = Field(description="forecast over actual units, minus 1, in %")
    wape: float | None


class ExcludedDaysOut(BaseModel):
    sold_out_days: int = Field(description="sales only a lower bound on demand there")
    closed_days: int = Field(description="walk-in days the store was closed")
    unforecast_series: int = Field(description="series that sold on the scored days but are "
                                   "not in the run (launched after its as-of)")
    unforecast_units: int = Field(description="their units")


class RunAccuracyOut(BaseModel):
    run_id: str
    model: str | None
    as_of: date
    horizon_days: int
    days_known: int = Field(description="days after as_of with recorded sales (scored)")
    first_day: date | None
    last_day: date | None
    excluded: ExcludedDaysOut | None
    segments: list[SegmentAccuracyOut] = Field(description="empty while nothing is known yet")
    worst_series: list[SeriesAccuracyOut] = Field(description="largest abs_error first")
    worst_stores: list[StoreAccuracyOut] = Field(
        default_factory=list, description="stores furthest off in total (largest |bias_pct|) "
        "first")
    held_back_days: list[date] = Field(
        default_factory=list, description="recent days left out because fewer stores than "
        "usual have reported their sales yet (only without `through`)")


def _finite(value: object) -> float | None:
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def _held_back_days(scored: ScoredRun) -> list[date]:
    return sorted({short.day for short in scored.held_back.short}) if scored.held_back else []


def _view(scored: ScoredRun, top: int) -> RunAccuracyOut:
    run, result = scored.run, scored.accuracy
    answer = RunAccuracyOut(run_id=run.run_id, model=run.model, as_of=run.as_of,
                            horizon_days=run.horizon_days, days_known=scored.days_known,
                            first_day=None, last_day=None, excluded=None, segments=[],
                            worst_series=[], held_back_days=_held_back_days(scored))
    if result is None or result.scored_days == 0:
        return answer
    coverage_columns = [c for c in result.summary.columns if str(c).startswith("coverage_")]
    segments = [
        SegmentAccuracyOut(
            segment=str(segment), series=int(row["series"]),  # type: ignore[arg-type]
            days=int(row["days"]), actual_units=float(row["actual_units"]),
            forecast_units=float(row["forecast_units"]), bias_pct=_finite(row["bias_pct"]),
            wape=_finite(row["wape"]), mae=_finite(row["mae"]),
            naive_wape=_finite(row["naive_wape"]),
            value_added_pct=_finite(row["value_added_pct"]),
            coverage={str(c).removeprefix("coverage_"): float(row[c]) for c in coverage_columns})
        for segment, row in result.summary.iterrows() if row["days"] > 0]
    worst = [SeriesAccuracyOut(unique_id=str(uid), days=int(row["days"]),
                               actual_units=float(row["actual_units"]),
                               forecast_units=float(row["forecast_units"]),
                               error=float(row["error"]), abs_error=float(row["abs_error"]))
             for uid, row in result.by_series.head(top).iterrows()]
    return answer.model_copy(update={
        "first_day": result.first_day, "last_day": result.last_day,
        "excluded": ExcludedDaysOut(**result.excluded), "segments": segments,
        "worst_series": worst, "worst_stores": _stores(result.by_store, top)})


def _forecast(engine: Engine, run_id: str, node_id: str | None, sku: str | None,
              channel: str | None, start: date | None, end: date | None) -> RunForecastOut:
    with engine.connect() as conn:
        run = resolve_forecast_run(conn, run_id)
        rows = forecast_slice(conn, run, node_id, sku, channel, start, end)
    fields = list(ForecastRowOut.model_fields)
    plain = rows.assign(ds=rows["ds"].dt.date)[fields].astype(object)
    records = plain.where(plain.notna(), None).to_dict("records")
    return RunForecastOut(run_id=run.run_id, model=run.model, as_of=run.as_of,
                          horizon_days=run.horizon_days,
                          rows=[ForecastRowOut.model_validate(r) for r in records])


@router.get("/{run_id}/forecasts", response_model=RunForecastOut, responses=RUN_PROBLEMS)
async def get_forecasts(
    run_id: RunIdPath,
    runtime: RuntimeDep,
    node_id: Annotated[str | None, Query(max_length=32, description="a store")] = None,
    sku: Annotated[str | None, Query(max_length=32)] = None,
    channel: Literal["store", "online"] | None = None,
    start: date | None = None,
    end: date | None = None,
) -> RunForecastOut:
    """The run's daily forecast with quantiles for a store, a SKU or one store's SKU (at least
    one of `node_id` and `sku`), optionally one channel and the days `start`..`end`."""
    return await run_in_threadpool(_forecast, runtime.engine, run_id, node_id, sku, channel,
                                   start, end)


def _stores(by_store: pd.DataFrame, top: int) -> list[StoreAccuracyOut]:
    return [StoreAccuracyOut(node_id=str(node), series=int(row["series"]),
                             actual_units=float(row["actual_units"]),
                             forecast_units=float(row["forecast_units"]),
                             bias_pct=_finite(row["bias_pct"]), wape=_finite(row["wape"]))
            for node, row in by_store.head(top).iterrows()]


def _score(engine: Engine, run_id: str, through: date | None) -> ScoredRun:
    with engine.connect() as conn:
        return score_forecast_run(conn, run_id, through)


@router.get("/{run_id}/accuracy", response_model=RunAccuracyOut, responses=RUN_PROBLEMS)
async def get_accuracy(
    run_id: RunIdPath,
    runtime: RuntimeDep,
    top: Annotated[int, Query(ge=0, le=1000, description="worst series listed")] = 20,
    through: Annotated[date | None, Query(description="score no later day (default: the last "
                                          "day whose sales have arrived from the usual number "
                                          "of stores; see held_back_days)")] = None,
) -> RunAccuracyOut:
    """The run's realised accuracy over the days sold since its as-of day (404: unknown run or
    none yet; 409: the run did not succeed)."""
    scored = await run_in_threadpool(_score, runtime.engine, run_id, through)
    return _view(scored, top)
