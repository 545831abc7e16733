"""Compare sourcing policies on one season of the demo chain and log it to MLflow.

One parent run (chain size, weeks, seed, the results table, `results.json`, a comparison
chart and the goals as `goal.*` metrics), a child run per policy with the same scope, its
settings as `param.*` and its figures as metrics. The simulation itself is pure
(`experiments.simulation`); this module only runs it and records it.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.plots import markdown_table, policy_comparison
from experiments.run_description import log_description
from experiments.simulation import (
    POLICY_NAMES,
    PolicyResult,
    SimulationConfig,
    build_season,
    forecast_season,
    simulate,
)
from experiments.simulation.policies import NEAREST_STORES, SETTINGS, USES_RESERVATION
from experiments.tracking import experiment_id

EXPERIMENT = "allocation-policies"
RULE_POLICIES: tuple[str, ...] = ("nearest", "dc_first")
GOAL_CUT = 0.05  # (d)'s cost + lost walk-in margin: at least this share below the best rule
RESULT_KEYS: tuple[str, ...] = ("policy", "orders", "cost_per_order_pln", "parcels_per_order",
                                "on_time_rate", "walkin_lost_units", "walkin_lost_pln",
                                "online_refused", "margin_pln")


@dataclass(frozen=True)
class ChainSize:
    """The demo chain to replay (defaults: the default demo chain)."""

    stores: int = 100
    skus: int = 20
    chain_seed: int = 7


def run_policies(weeks: int = 8, seed: int = 0, *, size: ChainSize | None = None,
                 policies: Sequence[str] = POLICY_NAMES, order_sample: float = 1.0,
                 config: SimulationConfig | None = None,
                 echo: Callable[[str], None] | None = None,
                 forecast_cache: Path | None = None) -> list[PolicyResult]:
    """Replay `weeks` weeks after the demo chain's as-of date through each policy. The
    chain's forecast (fitted once, shared by every policy) is read from `forecast_cache` when
    the same chain and season were forecast before."""
    from data.demo_chain import generate_chain

    size = size or ChainSize()
    config = config or SimulationConfig()
    chain = generate_chain(seed=size.chain_seed, n_stores=size.stores, n_skus=size.skus,
                           future_days=7 * weeks)
    season = build_season(chain, weeks=weeks, seed=seed, order_sample=order_sample)
    if echo:
        echo(f"season {season.days[0]} .. {season.days[-1]}: {season.n_orders} online orders, "
             f"{int(season.walkin.sum())} walk-in units, {len(season.stores)} stores")
    started = time.perf_counter()
    forecast = forecast_season(chain, season, config.forecast_model, cache_dir=forecast_cache)
    if echo:
        issued = len(forecast.issue_days)
        echo(f"forecast ({config.forecast_model}, issued weekly: {issued} "
             f"run{'s' if issued != 1 else ''}): {time.perf_counter() - started:.0f} s")
    results = []
    for name in policies:
        result = simulate(chain, season, name, config, forecast)
        results.append(result)
        if echo:
            echo(f"{name:>20}: margin {result.margin_pln:,.0f} PLN, cost/order "
                 f"{result.cost_per_order_pln:.2f}, walk-in lost {result.walkin_lost_units} "
                 f"units, on time {result.on_time_rate:.3f} ({result.seconds:.0f} s)")
    return results


def results_frame(results: Sequence[PolicyResult]) -> pd.DataFrame:
    return pd.DataFrame([r.as_dict() for r in results])


SUMMARY_COLUMNS: tuple[str, ...] = (
    "policy", "orders", "cost_per_order_pln", "parcels_per_order", "on_time_rate",
    "walkin_lost_units", "walkin_lost_pln", "online_refused", "margin_pln",
    "cost_plus_lost_margin_pln")
COST_COLUMNS: tuple[str, ...] = (
    "policy", "shipping_pln", "picking_pln", "transfer_pln", "fulfilment_cost_pln",
    "walkin_lost_margin_pln", "cost_plus_lost_margin_pln", "split_parcels", "split_penalty_pln",
    "late_orders", "lateness_pln", "online_units_from_stores", "online_units_from_dcs")
LOSS_COLUMNS: tuple[str, ...] = (
    "policy", "walkin_units", "walkin_lost_units", "walkin_lost_units_online",
    "walkin_lost_units_replenishment", "walkin_lost_units_dc_out",
    "walkin_lost_margin_online_pln", "walkin_lost_margin_replenishment_pln",
    "walkin_lost_margin_dc_out_pln", "online_refused", "online_lines_dropped",
    "online_refused_margin_pln",
    "cost_plus_lost_incl_refused_pln")


def summary_tables(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """The per-policy table and its decomposition (cash terms; walk-in losses by cause)."""
    return [(title, frame[list(cols)].round(4).to_string(index=False)) for title, cols in (
        ("results", SUMMARY_COLUMNS),
        ("fulfilment cost (cash: shipping + picking + transfer) and non-cash terms, PLN",
         COST_COLUMNS),
        ("lost sales: walk-in by cause, refused online orders", LOSS_COLUMNS))]


def write_results(results: Sequence[PolicyResult], path: Path) -> Path:
    """`results.json`: a list with one object per policy (the RESULT_KEYS and a few more)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([_plain(r) for r in results], indent=2) + "\n")
    return path


def _plain(result: PolicyResult) -> dict[str, float | int | str]:
    return {k: (v if isinstance(v, str | int) else float(v)) for k, v in result.as_dict().items()}


def policy_params(policy: str, config: SimulationConfig) -> dict[str, Any]:
    """A policy's effective settings: how it calls the sourcing core (solver, deadline, cost
    weights, ATP rule), the stores it is offered, the forecast behind replenishment and, for
    (d), the reservation policy."""
    params: dict[str, Any] = {**dataclasses.asdict(SETTINGS[policy]),
                              "nearest_stores": NEAREST_STORES,
                              "forecast_model": config.forecast_model}
    if policy in USES_RESERVATION:
        params["reservation"] = config.reservation
    return params


def log_policies(results: Sequence[PolicyResult], params: Mapping[str, object],
                 uri: str | None = None, experiment: str = EXPERIMENT,
                 config: SimulationConfig | None = None) -> str:
    """Log the comparison (parent run + a child per policy); returns the parent run id.
    `params` is the run's scope (weeks, seed, stores, skus...): every child logs it too, with
    its policy's settings as `param.*`, so a child compares without its parent."""
    import mlflow

    config = config or SimulationConfig()
    exp = experiment_id(experiment, uri)
    frame = results_frame(results)
    with mlflow.start_run(experiment_id=exp, run_name="policy-comparison") as parent:
        log_description({**params, "forecast_model": config.forecast_model,
                         "policies": ",".join(r.policy for r in results)})
        for r in results:
            with mlflow.start_run(run_name=r.policy, nested=True, experiment_id=exp):
                log_description({"policy": r.policy, **params,
                                 "param": policy_params(r.policy, config)})
                mlflow.log_metrics({k: float(v) for k, v in r.as_dict().items()
                                    if k != "policy"})
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write_results(results, folder / "results.json")
            frame.to_csv(folder / "results.csv", index=False)
            (folder / "results.md").write_text(markdown_table(frame))
            policy_comparison(frame, folder / "policy_comparison.png")
            mlflow.log_artifacts(tmp, artifact_path="comparison")
        # metrics, not tags: runs sort and plot by them (booleans as 1 or 0)
        mlflow.log_metrics({f"goal.{k}": float(v) for k, v in goal_check(results).items()})
    return str(parent.info.run_id)


def _rules(by: Mapping[str, PolicyResult]) -> list[PolicyResult]:
    return [by[p] for p in RULE_POLICIES if p in by]


def _best_rule(by: Mapping[str, PolicyResult]) -> PolicyResult | None:
    """The rule-based policy with the lowest fulfilment cost + lost walk-in margin."""
    rules = _rules(by)
    return min(rules, key=lambda r: r.cost_plus_lost_margin_pln) if rules else None


def goal_check(results: Sequence[PolicyResult],
               ours: str = "optimizer_reserved") -> dict[str, float | bool]:
    """The issue's goal: ours has the highest margin, fulfilment cost + lost walk-in margin at
    least 5% below the best rule-based policy, and an on-time rate no lower."""
    by = {r.policy: r for r in results}
    best_rule = _best_rule(by)
    if ours not in by or best_rule is None:
        return {}
    rules = _rules(by)
    mine = by[ours]
    cut = 1.0 - mine.cost_plus_lost_margin_pln / max(best_rule.cost_plus_lost_margin_pln, 1e-9)
    # The same comparison with the margin of refused online orders added on both sides: a
    # policy must not look better by refusing orders (the issue's figure does not count them).
    best_full = min(r.cost_plus_lost_incl_refused_pln for r in rules)
    cut_full = 1.0 - mine.cost_plus_lost_incl_refused_pln / max(best_full, 1e-9)
    return {
        "highest_margin": bool(mine.margin_pln >= max(r.margin_pln for r in results)),
        "cost_plus_lost_cut_vs_best_rule": round(float(cut), 4),
        "cut_at_least_5pct": bool(cut >= GOAL_CUT),
        "on_time_not_lower": bool(mine.on_time_rate >= best_rule.on_time_rate),
        "cut_incl_refused_online_margin": round(float(cut_full), 4),
    }


def goal_summary(results: Sequence[PolicyResult], ours: str = "optimizer_reserved") -> str:
    """The goal in words: which side of the comparison is better and by how much (a cost
    that grew is "higher (worse)", never a negative "lower"), and whether each goal is met."""
    by = {r.policy: r for r in results}
    best_rule, goal = _best_rule(by), goal_check(results, ours)
    if best_rule is None or not goal:
        return f"goal: not checked ({ours} and a rule-based policy are both needed)"
    mine, theirs = by[ours].cost_plus_lost_margin_pln, best_rule.cost_plus_lost_margin_pln
    cut = float(goal["cost_plus_lost_cut_vs_best_rule"])
    change = (f"{100 * cut:.2f}% lower (better)" if cut > 0 else
              f"{-100 * cut:.2f}% higher (worse)" if cut < 0 else "the same")
    return (f"{ours} vs the best rule, {best_rule.policy}: cost + lost walk-in margin "
            f"{mine:,.0f} PLN vs {theirs:,.0f} PLN, {change}; goal (at least "
            f"{100 * GOAL_CUT:.0f}% lower): {_met(goal['cut_at_least_5pct'])}. Highest margin: "
            f"{_met(goal['highest_margin'])}. On-time rate no lower: "
            f"{_met(goal['on_time_not_lower'])}.")


def _met(flag: float | bool) -> str:
    return "met" if flag else "not met"


def timed(fn: Callable[[], list[PolicyResult]]) -> tuple[list[PolicyResult], float]:
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started
