"""The weekly forecast batch as one MLflow run: what ran, how well it did lately, what it says.

Planners look a run up by the id recorded in `batch_runs.mlflow_run_id`. The metrics come from
the model's own calibration holdout (its last 28 days, refitted without them), so logging costs
no extra fit. MLflow is imported inside the functions so that `omni --help` stays fast.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.tracking import experiment_id
from forecasting.backtest import score

WEEKLY_BATCH_EXPERIMENT = "weekly-batch"
PLOTTED_SERIES = 4
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


def plot_forecast_vs_history(history: pd.DataFrame, forecast: pd.DataFrame, series: list[str],
                             path: Path, title: str,
                             history_days: int = PLOTTED_HISTORY_DAYS) -> Path:
    """Last `history_days` of sales, then the forecast mean with its q80 and q95 bands."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(series), 1, figsize=(8, 1.9 * len(series)), squeeze=False)
    for ax, uid in zip(axes[:, 0], series, strict=True):
        past = history.loc[history["unique_id"] == uid].sort_values("ds")
        past = past.loc[past["ds"] > past["ds"].max() - pd.Timedelta(days=history_days)]
        ahead = forecast.loc[forecast["unique_id"] == uid].sort_values("ds")
        ax.plot(past["ds"], past["y"], color="0.4", lw=0.8, label="sales")
        ax.plot(ahead["ds"], ahead["yhat"], color="tab:blue", lw=1.2, label="forecast")
        if "q95" in ahead.columns:
            ax.fill_between(ahead["ds"], 0, ahead["q95"], color="tab:blue", alpha=0.12,
                            label="q95")
        if "q80" in ahead.columns:
            ax.fill_between(ahead["ds"], 0, ahead["q80"], color="tab:blue", alpha=0.2,
                            label="q80")
        ax.set_title(uid, fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=7, loc="upper left")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def log_weekly_batch(record: WeeklyBatchRecord, history: pd.DataFrame, forecast: pd.DataFrame,
                     holdout: pd.DataFrame | None, uri: str | None = None) -> str:
    """One run in the `weekly-batch` experiment; returns its MLflow run id."""
    import mlflow

    experiment = experiment_id(WEEKLY_BATCH_EXPERIMENT, uri)
    params: dict[str, Any] = {
        "as_of": record.as_of, "horizon": record.horizon, "model": record.model,
        "version": record.version or "none", "data_version": record.data_version or "none",
        "series": int(history["unique_id"].nunique()), "batch_run_id": record.batch_run_id,
    }
    params.update({f"model.{k}": v for k, v in sorted(record.model_params.items())})
    run_name = f"weekly {record.as_of} {record.model}"
    with mlflow.start_run(experiment_id=experiment, run_name=run_name) as run:
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        mlflow.set_tags({"omni.kind": "forecast_weekly", "omni.batch_run_id": record.batch_run_id})
        metrics = holdout_metrics(holdout, history)
        metrics["forecast_units_total"] = float(forecast["yhat"].sum())
        mlflow.log_metrics(metrics)
        with tempfile.TemporaryDirectory() as folder:
            for rank, uid in enumerate(busiest_series(history), start=1):
                path = Path(folder) / f"forecast_{rank}_{_file_safe(uid)}.png"
                plot_forecast_vs_history(history, forecast, [uid], path,
                                         f"{record.model} as of {record.as_of}")
                mlflow.log_artifact(str(path), artifact_path="plots")
        return str(run.info.run_id)


def _file_safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
