"""`omni experiment forecast|policies` and `omni mlflow-ui`: the data scientists' commands.

MLflow, pandas and the simulator load inside the commands, so `omni --help` stays quick.
Tracking goes to the project's embedded store (`mlruns/mlflow.db`) unless MLFLOW_TRACKING_URI
says otherwise.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

experiment_app = typer.Typer(
    help="Compare forecasting models and allocation policies in MLflow.", no_args_is_help=True)


def _models(raw: str | None) -> list[str] | None:
    return [m.strip() for m in raw.split(",") if m.strip()] if raw else None


@experiment_app.command("forecast")
def forecast_command(
    dataset: Annotated[str, typer.Option(help="demo | m5 | rossmann")] = "demo",
    models: Annotated[str | None, typer.Option(
        help="comma-separated registry names (default: seasonal_naive,auto_ets,theta,tsb,"
             "lgbm,ensemble)")] = None,
    folds: Annotated[int, typer.Option(min=1, help="rolling-origin folds")] = 3,
    register: Annotated[bool | None, typer.Option(
        "--register/--no-register",
        help="register the best model and make it the champion (default: yes, but not with "
             "--small: a quick subset must not replace the champion the weekly batch runs)",
        show_default=False)] = None,
    small: Annotated[bool, typer.Option(help="a quick subset of the data")] = False,
    max_series: Annotated[int | None, typer.Option(help="cap the number of series")] = None,
) -> None:
    """Backtest candidate forecasting models on the same folds; log one MLflow run per model."""
    from experiments.datasets import DatasetUnavailable, load_dataset
    from experiments.forecast_comparison import DEFAULT_MODELS, compare_forecasters
    from experiments.tracking import tracking_uri
    from forecasting.registry import MODEL_NAMES

    chosen = _models(models) or list(DEFAULT_MODELS)
    unknown = [m for m in chosen if m not in MODEL_NAMES]
    if unknown:
        raise typer.BadParameter(f"unknown model(s) {', '.join(unknown)}; "
                                 f"expected from {', '.join(MODEL_NAMES)}", param_hint="--models")
    started = time.perf_counter()
    try:
        data = load_dataset(dataset, small=small, max_series=max_series)
    except (DatasetUnavailable, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"{dataset}: {data.history['unique_id'].nunique()} series, horizon "
               f"{data.horizon} days, {folds} folds; tracking {tracking_uri()}")
    register = not small if register is None else register
    result = compare_forecasters(data, chosen, folds, register=register, echo=typer.echo)
    typer.echo(result.table().round(4).to_string(index=False))
    typer.echo(f"champion: {result.champion} by {result.primary_metric}"
               + (f" (registered version {result.champion_version})"
                  if result.champion_version else
                  " (not registered: --small runs do not replace the champion; pass "
                  "--register to)" if small and not register else "")
               + f"; parent run {result.parent_run_id}; {time.perf_counter() - started:.0f} s")


@experiment_app.command("policies")
def policies_command(
    weeks: Annotated[int, typer.Option(min=1, max=8, help="weeks after the as-of date")] = 8,
    seed: Annotated[int, typer.Option(help="seed of the order stream")] = 0,
    out: Annotated[Path, typer.Option(help="results JSON")] = Path("results.json"),
    stores: Annotated[int, typer.Option(min=1, help="stores in the demo chain")] = 100,
    skus: Annotated[int, typer.Option(min=1, help="SKUs in the demo chain")] = 20,
    order_sample: Annotated[float, typer.Option(
        min=0.01, max=1.0, help="share of online orders replayed (1 = all)")] = 1.0,
    log: Annotated[bool, typer.Option(help="log the comparison to MLflow")] = True,
    forecast_cache: Annotated[bool, typer.Option(
        help="reuse the chain's forecast of an earlier run (mlruns/policy-forecasts)")] = True,
) -> None:
    """Replay a season of the demo chain through four sourcing policies and compare them."""
    from api.settings import project_root
    from experiments.policies import (
        ChainSize,
        goal_check,
        goal_summary,
        log_policies,
        results_frame,
        run_policies,
        summary_tables,
        write_results,
    )
    from experiments.simulation import SimulationConfig

    started = time.perf_counter()
    cache = project_root() / "mlruns" / "policy-forecasts" if forecast_cache else None
    size, config = ChainSize(stores, skus), SimulationConfig()
    results = run_policies(weeks, seed, size=size, order_sample=order_sample, config=config,
                           echo=typer.echo, forecast_cache=cache)
    write_results(results, out)
    for title, table in summary_tables(results_frame(results)):
        typer.echo(f"\n{title}\n{table}")
    typer.echo(f"\n(d) {goal_summary(results)}\ngoal: {goal_check(results)}")
    if log:
        scope = {"weeks": weeks, "seed": seed, "stores": stores, "skus": skus,
                 "chain_seed": size.chain_seed, "order_sample": order_sample}
        run_id = log_policies(results, scope, config=config)
        typer.echo(f"MLflow run {run_id}")
    typer.echo(f"wrote {out}; {time.perf_counter() - started:.0f} s")


def mlflow_ui(
    port: Annotated[int, typer.Option(help="port of the UI")] = 5000,
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
) -> None:
    """Open the MLflow UI on the project's tracking store (same as `mlflow ui
    --backend-store-uri <uri>`)."""
    import subprocess
    import sys

    from experiments.tracking import artifact_root, configure

    uri = configure()
    command = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri,
               "--host", host, "--port", str(port)]
    root = artifact_root(uri)
    if root:
        command += ["--default-artifact-root", root]
    typer.echo(" ".join(command))
    raise typer.Exit(subprocess.call(command))
