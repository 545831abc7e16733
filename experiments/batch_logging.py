"""The weekly forecast batch as one MLflow run: what ran, how well it did lately, what it says.

What ran: the model, its effective hyperparameters (`param.*`), the history it learnt from
(series, rows, first and last day) and the code version (see `experiments.run_description`).

Planners look a run up by the id recorded in `batch_runs.mlflow_run_id`. The metrics come from
the model's own calibration holdout (its last 28 days, refitted without them), so logging costs
no extra fit. MLflow is imported inside the functions so that `omni --help` stays fast.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.plots import forecast_vs_history
from experiments.run_description import history_scope, log_description
from experiments.tracking import experiment_id
from forecasting.backtest import score

WEEKLY_BATCH_EXPERIMENT = "weekly-batch"
PLOTTED_SERIES = 4
PLOTTED_SOLD_OUT_SERIES = 2
PLOTTED_HISTORY_DAYS = 120


@dataclass(frozen=True)
class WeeklyBatchRecord:
    """What the batch knows about itself when it logs: its id, inputs and the model version."""

    batch_run_id: str
    as_of: str
    horizon: int
    model: str
    version: str | None
    data_version: str | None
    model_params: dict[str, Any]
    censored_days: int = 0  # sold-out days whose units were replaced by estimated demand
    censored_added_units: float = 0.0  # the estimate's units above what those days sold
    # what the fitted model ran with, defaults included (`run_description.hyperparameters`)
    hyperparameters: dict[str, Any] = field(default_factory=dict)


def holdout_metrics(holdout: pd.DataFrame | None, history: pd.DataFrame) -> dict[str, float]:
    """RMSSE, MASE and bias of the calibration holdout (`unique_id, ds, y, yhat`) against the
    history before it; empty when the model kept no holdout (series too short)."""
    if holdout is None or holdout.empty:
        return {}
    start = holdout.groupby("unique_id")["ds"].transform("min")
    first = dict(zip(holdout["unique_id"], start, strict=True))
    train = history.loc[history["ds"] < history["unique_id"].map(first)]
    train = train.loc[train["unique_id"].isin(first.keys())]
    scored = score(holdout[["unique_id", "ds", "y", "yhat"]], train)
    values = dict(zip(scored["metric"].astype(str), scored["value"].to_numpy(float),
                      strict=True))
    return {f"holdout_{k}": float(v) for k, v in values.items() if math.isfinite(v)}


def busiest_series(history: pd.DataFrame, count: int = PLOTTED_SERIES) -> list[str]:
    """The `count` series that sold the most units: the ones a planner checks first."""
    totals = history.groupby("unique_id")["y"].sum().sort_values(ascending=False, kind="stable")
    return [str(uid) for uid in totals.index[:count]]


def most_sold_out_series(sold_out: pd.DataFrame, history: pd.DataFrame,
                         count: int = PLOTTED_SOLD_OUT_SERIES,
                         days: int = PLOTTED_HISTORY_DAYS) -> list[str]:
    """The `count` series with the most sold-out days in the plotted window (ties: the one
    that sold more): where the estimated demand matters most to the forecast a planner reads."""
    if sold_out.empty:
        return []
    recent = sold_out.loc[sold_out["ds"] > history["ds"].max() - pd.Timedelta(days=days)]
    counts = recent.groupby("unique_id").size().rename("days")
    units = history.loc[history["unique_id"].isin(counts.index)].groupby("unique_id")["y"].sum()
    ranked = pd.concat([counts, units.rename("units")], axis=1).sort_values(
        ["days", "units"], ascending=False, kind="stable")
    return [str(uid) for uid in ranked.index[:count]]


def log_weekly_batch(record: WeeklyBatchRecord, history: pd.DataFrame, forecast: pd.DataFrame,
                     holdout: pd.DataFrame | None, uri: str | None = None,
                     sold_out: pd.DataFrame | None = None,
                     backtest: list[pd.DataFrame] | None = None) -> str:
    """One run in the `weekly-batch` experiment; returns its MLflow run id. `sold_out`
    (`unique_id, ds, y` as recorded on the days flagged sold out) is marked on the plots, and
    the series most often sold out get plots of their own. `backtest`: the summaries of the
    last folds (most recent first), logged as `backtest.<segment>.<metric>` at step = fold."""
    import mlflow

    experiment = experiment_id(WEEKLY_BATCH_EXPERIMENT, uri)
    params: dict[str, Any] = {
        "as_of": record.as_of, "horizon": record.horizon, "model": record.model,
        "version": record.version or "none", "data_version": record.data_version or "none",
        "batch_run_id": record.batch_run_id, **history_scope(history),
        "censored_days": record.censored_days, "backtest_folds": len(backtest or []),
    }
    params.update({f"model.{k}": v for k, v in sorted(record.model_params.items())})
    params["param"] = record.hyperparameters
    run_name = f"weekly {record.as_of} {record.model}"
    with mlflow.start_run(experiment_id=experiment, run_name=run_name) as run:
        log_description(params)
        mlflow.set_tags({"omni.kind": "forecast_weekly", "omni.batch_run_id": record.batch_run_id})
        metrics = holdout_metrics(holdout, history)
        metrics["forecast_units_total"] = float(forecast["yhat"].sum())
        metrics["censored_added_units"] = record.censored_added_units
        mlflow.log_metrics(metrics)
        for fold, summary in enumerate(backtest or [], start=1):
            mlflow.log_metrics(summary_metrics(summary, "backtest"), step=fold)
        plotted = [("forecast", busiest_series(history))]
        if sold_out is not None:
            plotted.append(("sold_out", most_sold_out_series(sold_out, history)))
        with tempfile.TemporaryDirectory() as folder:
            for kind, series in plotted:
                for rank, uid in enumerate(series, start=1):
                    path = Path(folder) / f"{kind}_{rank}_{_file_safe(uid)}.png"
                    forecast_vs_history(history, forecast, [uid], path,
                                        f"{record.model} as of {record.as_of}",
                                        PLOTTED_HISTORY_DAYS, sold_out)
                    mlflow.log_artifact(str(path), artifact_path="plots")
        return str(run.info.run_id)


def summary_metrics(summary: pd.DataFrame, prefix: str) -> dict[str, float]:
    """A realised-accuracy summary (segments x figures) as `<prefix>.<segment>.<figure>`
    metrics; figures that are not finite (no units sold: no WAPE) are left out."""
    return {f"{prefix}.{segment}.{name}": float(value)
            for segment, row in summary.iterrows() for name, value in row.items()
            if value is not None and math.isfinite(float(value))}


def log_realised_accuracy(mlflow_run_id: str, summary: pd.DataFrame, days_after: int,
                          plot: Path | None = None, uri: str | None = None) -> None:
    """Add a weekly run's realised accuracy to its own MLflow run: `realised.<segment>.<metric>`
    at step `days_after` (days since the as-of scored so far), so scoring again as sales arrive
    draws each metric's curve beside the run's holdout metrics; the plot goes under `realised/`."""
    import mlflow

    from experiments.tracking import configure

    configure(uri)
    with mlflow.start_run(run_id=mlflow_run_id):
        mlflow.log_metrics(summary_metrics(summary, "realised"), step=days_after)
        if plot is not None:
            mlflow.log_artifact(str(plot), artifact_path="realised")


def _file_safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
