"""Compare forecasting models on the same rolling-origin folds, logged to MLflow.

One parent run per comparison (dataset, folds, horizon, the metrics table as CSV and markdown),
a child run per model (its effective hyperparameters as `param.*`, the data scope and code
version of `experiments.run_description`, every metric averaged over the folds, fit and predict
seconds, a forecast-vs-actual plot of a few series). The best model by the dataset's primary
metric (lower is better) is registered as the champion (`experiments.champion`).
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from experiments.datasets import Dataset
from experiments.forecast_metrics import rmspe, wrmsse
from experiments.plots import forecast_vs_actual, markdown_table
from experiments.run_description import history_scope, hyperparameters, log_description
from experiments.tracking import experiment_id
from forecasting.backtest import BacktestResult, backtest
from forecasting.estimator import Forecaster
from forecasting.registry import make_model

EXPERIMENT = "forecast-comparison"
DEFAULT_MODELS: tuple[str, ...] = ("seasonal_naive", "auto_ets", "theta", "tsb", "lgbm",
                                   "ensemble")
PLOTTED_SERIES = 4


@dataclass(frozen=True)
class ModelScore:
    model: str
    params: dict[str, Any]
    metrics: dict[str, float]
    fit_seconds: float
    predict_seconds: float
    run_id: str


@dataclass(frozen=True)
class Comparison:
    """The outcome: the parent run, one score per model, the champion (and its registry
    version when registered)."""

    dataset: str
    parent_run_id: str
    scores: tuple[ModelScore, ...]
    primary_metric: str
    champion: str
    champion_version: str | None

    def table(self) -> pd.DataFrame:
        rows = [{"model": s.model, **s.metrics, "fit_seconds": s.fit_seconds,
                 "predict_seconds": s.predict_seconds} for s in self.scores]
        return pd.DataFrame(rows).sort_values(self.primary_metric).reset_index(drop=True)


class _Timed:
    """A forecaster that adds up the seconds its fit and predict take (the backtest refits a
    fresh model per fold, so the shared totals cover every fold)."""

    def __init__(self, model: Forecaster, totals: dict[str, float]) -> None:
        self.model, self.totals = model, totals

    def fit(self, history: pd.DataFrame) -> _Timed:
        t = time.perf_counter()
        self.model.fit(history)
        self.totals["fit"] += time.perf_counter() - t
        return self

    def predict(self, horizon: int, future: pd.DataFrame | None = None) -> pd.DataFrame:
        t = time.perf_counter()
        out = self.model.predict(horizon, future)
        self.totals["predict"] += time.perf_counter() - t
        return out


def compare_forecasters(
    dataset: Dataset,
    models: Sequence[str] = DEFAULT_MODELS,
    folds: int = 3,
    *,
    model_params: Mapping[str, Mapping[str, Any]] | None = None,
    register: bool = True,
    uri: str | None = None,
    experiment: str = EXPERIMENT,
    echo: Any = None,
) -> Comparison:
    """Backtest every model on the same folds, log parent + child runs, register the best."""
    import mlflow

    from experiments.champion import register_champion

    exp = experiment_id(experiment, uri)
    scores: list[ModelScore] = []
    scope = data_scope(dataset, folds)
    with mlflow.start_run(experiment_id=exp, run_name=f"{dataset.name}-comparison") as parent:
        log_description({**scope, "models": ",".join(models)})
        for name in models:
            params = dict((model_params or {}).get(name, {}))
            score = _run_model(dataset, name, params, scope, parent.info)
            scores.append(score)
            if echo is not None:
                echo(f"{name:>15}: {dataset.primary_metric}="
                     f"{score.metrics.get(dataset.primary_metric, float('nan')):.4f} "
                     f"fit {score.fit_seconds:.1f}s predict {score.predict_seconds:.1f}s")
        best = min(scores, key=lambda s: _key(s, dataset.primary_metric))
        comparison = Comparison(dataset.name, parent.info.run_id, tuple(scores),
                                dataset.primary_metric, best.model, None)
        table = comparison.table()
        with tempfile.TemporaryDirectory() as tmp:
            table.to_csv(Path(tmp) / "metrics.csv", index=False)
            (Path(tmp) / "metrics.md").write_text(markdown_table(table))
            mlflow.log_artifacts(tmp, artifact_path="comparison")
        mlflow.set_tag("champion_model", best.model)
        mlflow.log_metric(f"best_{dataset.primary_metric}", best.metrics[dataset.primary_metric])
    version = None
    if register:
        version = register_champion(best.run_id, best.model, best.params, dataset.horizon,
                                    dataset.country, best.metrics, uri=uri,
                                    scope=champion_scope(scope, best.metrics))
    return Comparison(dataset.name, parent.info.run_id, tuple(scores), dataset.primary_metric,
                      best.model, version)


def data_scope(dataset: Dataset, folds: int) -> dict[str, Any]:
    """What a comparison's runs were measured on: logged on the parent and on every child, so
    a child compares with a run of another comparison without its parent."""
    return {"dataset": dataset.name, "folds": folds, "horizon": dataset.horizon,
            "country": dataset.country, "primary_metric": dataset.primary_metric,
            "small": dataset.small, "max_series": dataset.max_series,
            **history_scope(dataset.history)}


def champion_scope(scope: Mapping[str, Any], metrics: Mapping[str, float]) -> dict[str, Any]:
    """The scope a champion was chosen on and its value of the deciding metric: a champion
    picked on a quick subset must say so where the weekly batch resolves it."""
    metric = str(scope["primary_metric"])
    return {**scope, "chosen_by": metric, "chosen_by_value": metrics.get(metric, float("nan"))}


def _key(score: ModelScore, metric: str) -> float:
    value = score.metrics.get(metric, float("nan"))
    return value if np.isfinite(value) else float("inf")


def _run_model(dataset: Dataset, name: str, params: dict[str, Any], scope: dict[str, Any],
               parent: Any) -> ModelScore:
    import mlflow

    totals = {"fit": 0.0, "predict": 0.0}
    folds = int(scope["folds"])
    effective = hyperparameters(make_model(name, country=dataset.country,  # type: ignore[arg-type]
                                           **params))

    def factory() -> Forecaster:
        model = make_model(name, country=dataset.country, **params)  # type: ignore[arg-type]
        return cast(Forecaster, _Timed(model, totals))

    with mlflow.start_run(run_name=name, nested=True, experiment_id=parent.experiment_id,
                          tags={"mlflow.parentRunId": parent.run_id}) as child:
        log_description({"model": name, **scope, "param": effective,
                         "model_args": json.dumps(params, sort_keys=True, default=str)})
        result = backtest(factory, dataset.history, dataset.horizon, folds=folds)
        metrics = _metrics(dataset, result)
        metrics = {k: v for k, v in metrics.items() if np.isfinite(v)}
        mlflow.log_metrics({**metrics, "fit_seconds": totals["fit"],
                            "predict_seconds": totals["predict"]})
        for fold, group in result.metrics.groupby("fold"):
            mlflow.log_metrics({f"fold_{k}": float(v) for k, v in
                                zip(group["metric"], group["value"], strict=True)
                                if np.isfinite(v)}, step=int(cast(int, fold)))
        with tempfile.TemporaryDirectory() as tmp:
            last = result.forecasts.loc[result.forecasts["fold"] == result.forecasts["fold"].max()]
            forecast_vs_actual(last, dataset.history, _sample(last), Path(tmp) / f"{name}.png",
                               f"{dataset.name}: {name}, last fold")
            mlflow.log_artifact(str(Path(tmp) / f"{name}.png"), artifact_path="plots")
    return ModelScore(name, params, metrics, round(totals["fit"], 3),
                      round(totals["predict"], 3), child.info.run_id)


def _metrics(dataset: Dataset, result: BacktestResult) -> dict[str, float]:
    """The backtest's metrics averaged over folds, plus WRMSSE (M5) or RMSPE (Rossmann)."""
    metrics = {str(k): float(v) for k, v in result.summary().items()}
    extra: list[dict[str, float]] = []
    for _, fold in result.forecasts.groupby("fold"):
        cutoff = fold["cutoff"].iloc[0]
        train = dataset.history.loc[dataset.history["ds"] <= cutoff]
        row: dict[str, float] = {}
        if dataset.weights is not None:
            row.update(wrmsse(fold, train, dataset.weights, dataset.groups))
        if dataset.primary_metric == "rmspe":
            open_days = fold
            if "open" in dataset.history.columns:
                flags = dataset.history[["unique_id", "ds", "open"]]
                open_days = fold.merge(flags, on=["unique_id", "ds"])
                open_days = open_days.loc[open_days["open"] > 0]
            row["rmspe"] = rmspe(open_days)
        extra.append(row)
    if extra and extra[0]:
        metrics.update({str(k): float(v) for k, v in pd.DataFrame(extra).mean().items()})
    return metrics


def _sample(forecasts: pd.DataFrame) -> list[str]:
    """The busiest series (highest actual volume), so the plots show real demand."""
    volume = forecasts.groupby("unique_id")["y"].sum().sort_values(ascending=False, kind="stable")
    return [str(u) for u in volume.index[:PLOTTED_SERIES]]
