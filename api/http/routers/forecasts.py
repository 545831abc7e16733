"""`/v1/forecast-runs`: how a stored forecast run did on the sales recorded since its as-of
day (scope `planner`, or `admin`); the same figures as `omni batch accuracy`, for dashboards."""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from api.http.deps import RuntimeDep, require_scope
from api.http.openapi import problems
from api.services.forecast_accuracy import ScoredRun, score_forecast_run

PlannerKey = Annotated[str, Depends(require_scope("planner"))]
LATEST = "latest"

router = APIRouter(prefix="/v1/forecast-runs", tags=["forecasts"])


class SegmentAccuracyOut(BaseModel):
    segment: Literal["all", "store", "online"] = Field(description="store = walk-in")
    series: int
    days: int = Field(description="series-days scored")
    actual_units: float
    forecast_units: float
    bias_pct: float | None = Field(description="forecast over actual units, minus 1, in %")
    wape: float | None = Field(description="absolute errors over actual units")
    mae: float | None = Field(description="mean absolute error per series-day")
    coverage: dict[str, float] = Field(
        description="per quantile (q50...q99): share of series-days sold at or below it")


class SeriesAccuracyOut(BaseModel):
    unique_id: str = Field(description="node|channel|sku")
    days: int
    actual_units: float
    forecast_units: float
    error: float = Field(description="forecast − actual units over the scored days")
    abs_error: float = Field(description="sum of the daily absolute errors")


class ExcludedDaysOut(BaseModel):
    sold_out_days: int = Field(description="sales only a lower bound on demand there")
    closed_days: int = Field(description="walk-in days the store was closed")


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


def _finite(value: object) -> float | None:
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def _view(scored: ScoredRun, top: int) -> RunAccuracyOut:
    known = 0 if scored.through is None else max(0, (scored.through - scored.as_of).days)
    result = scored.accuracy
    if result is None or result.scored_days == 0:
        return RunAccuracyOut(run_id=scored.run_id, model=scored.model, as_of=scored.as_of,
                              horizon_days=scored.horizon_days, days_known=known,
                              first_day=None, last_day=None, excluded=None, segments=[],
                              worst_series=[])
    segments = []
    for segment, row in result.summary.iterrows():
        if row["days"] == 0:
            continue
        coverage = {str(c).removeprefix("coverage_"): float(row[c])
                    for c in result.summary.columns if str(c).startswith("coverage_")}
        segments.append(SegmentAccuracyOut(
            segment=str(segment), series=int(row["series"]),  # type: ignore[arg-type]
            days=int(row["days"]), actual_units=float(row["actual_units"]),
            forecast_units=float(row["forecast_units"]), bias_pct=_finite(row["bias_pct"]),
            wape=_finite(row["wape"]), mae=_finite(row["mae"]), coverage=coverage))
    worst = [SeriesAccuracyOut(unique_id=str(uid), days=int(row["days"]),
                               actual_units=float(row["actual_units"]),
                               forecast_units=float(row["forecast_units"]),
                               error=float(row["error"]), abs_error=float(row["abs_error"]))
             for uid, row in result.by_series.head(top).iterrows()]
    return RunAccuracyOut(run_id=scored.run_id, model=scored.model, as_of=scored.as_of,
                          horizon_days=scored.horizon_days, days_known=known,
                          first_day=result.first_day, last_day=result.last_day,
                          excluded=ExcludedDaysOut(**result.excluded), segments=segments,
                          worst_series=worst)


def _score(engine: Engine, run_id: str) -> ScoredRun:
    with engine.connect() as conn:
        return score_forecast_run(conn, None if run_id == LATEST else run_id)


@router.get("/{run_id}/accuracy", response_model=RunAccuracyOut,
            responses=problems(401, 403, 404, 409, 422, 503))
async def get_accuracy(
    run_id: Annotated[str, Path(min_length=1, max_length=64,
                                description="a forecast run id, or `latest`")],
    runtime: RuntimeDep,
    _key: PlannerKey,
    top: Annotated[int, Query(ge=0, le=1000, description="worst series listed")] = 20,
) -> RunAccuracyOut:
    """The run's realised accuracy over the days sold since its as-of day (404: unknown run or
    none yet; 409: the run did not succeed)."""
    scored = await run_in_threadpool(_score, runtime.engine, run_id)
    return _view(scored, top)
