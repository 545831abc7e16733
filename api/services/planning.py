"""Planning services: read stock and forecasts from the database, call the planning core, write
the plans. Plain functions over an Engine; the CLI (api/cli_plan.py) only formats the result.

Forecasts: the latest forecast run's daily means (`forecasts.yhat`) where they cover the days
asked for; otherwise the walk-in demand rates (`demand_rates`, units per open day), so a fresh
demo database plans before its first forecast batch. Each plan says which (`DemandSource`):
rates miss a peak's uplift and online demand, and a planner should know the plan rests on them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Table, and_, bindparam, insert, select, update

from allocation.geo import great_circle_km
from allocation.planning import (
    PlanningInputError,
    RebalanceSettings,
    ReservationPolicy,
    plan_reservations,
    plan_transfers,
)
from allocation.planning.horizon_sum import sum_days
from allocation.planning.rebalance import RebalancePlan, resolve_peak
from api.db.history import sales_days
from api.db.runs import latest_run_id
from api.db.tables import (
    BatchRun,
    DemandRate,
    Forecast,
    Node,
    SafetyStockPlan,
    ShadowPrice,
    Sku,
    Stock,
    Transfer,
    TransferRate,
)
from api.services.forecast_runs import FORECAST_RUN_KINDS
from api.services.network import REBALANCE_RUN_KIND as REBALANCE_KIND

if TYPE_CHECKING:
    from api.services.network import NetworkCache

ONLINE_FULFILMENT_PLN = 12.0
RESERVATION_KIND = "plan_reservations"
stock_table = cast(Table, Stock.__table__)


@dataclass(frozen=True)
class ReservationSummary:
    plan_id: str
    rows: int
    safety_units: int
    promisable_units: int
    stale_rows: int
    stores_at_risk: pd.DataFrame
    demand_source: str = ""


@dataclass(frozen=True)
class RebalanceSummary:
    plan_id: str
    plan: RebalancePlan
    stores_at_risk: pd.DataFrame
    report_dir: Path | None = None
    shadow_price_rows: int = 0
    demand_source: str = ""


def default_reports_dir() -> Path:
    """Where rebalancing reports go, one folder per run: OMNI_REPORTS_DIR, else `reports/`
    under the project root."""
    from api.settings import get_settings

    return get_settings().reports_dir


def _frame(engine: Engine, query: object) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(query, conn)  # type: ignore[call-overload, no-any-return]


@dataclass(frozen=True)
class DemandSource:
    """Where a plan's daily demand came from: forecast run `run_id`, or, when no succeeded run
    covers the plan's days (`gap` says why), the walk-in demand rates: recent units per open
    day, flat, without a peak's uplift or the weekday shape, and with no online demand."""

    run_id: str | None
    start: date
    end: date
    gap: str | None = None

    def describe(self) -> str:
        """One line for the planner and the plan's record."""
        if self.run_id is not None and self.gap is None:
            return f"forecast run {self.run_id} ({self.start} .. {self.end})"
        return (f"walk-in demand rates, flat, without peak uplift or online demand: {self.gap}; "
                f"a forecast batch whose horizon reaches {self.end} plans with the forecast "
                "(omni batch weekly --horizon DAYS)")


def _daily_walkin(
    engine: Engine, start: date, end: date, stores: pd.Series, channel: str = "store"
) -> tuple[pd.DataFrame, DemandSource]:
    """Daily means per store x SKU over [start, end] of a channel: the latest forecasts (with
    each day's `dispersion`, NaN where the run stored none) when they cover every day, else
    (walk-in only) the demand rates; an online channel without forecasts is empty. With where
    the figures came from."""
    run_id = _latest_forecast_run(engine)
    forecast = _frame(
        engine,
        select(Forecast.node_id, Forecast.sku, Forecast.ds, Forecast.yhat,
               Forecast.dispersion).where(
            Forecast.run_id == run_id,
            Forecast.channel == channel,
            Forecast.ds >= start,
            Forecast.ds <= end,
        ),
    )
    days = pd.to_datetime(forecast["ds"])
    if len(forecast) and days.min() <= pd.Timestamp(start) and days.max() >= pd.Timestamp(end):
        forecast["dispersion"] = pd.to_numeric(forecast["dispersion"], errors="coerce")
        frame = forecast.rename(columns={"node_id": "store", "ds": "date", "yhat": "mean"})
        return frame, DemandSource(run_id, start, end)
    if run_id is None:
        gap = "no forecast run has succeeded yet"
    elif len(forecast):
        gap = (f"the latest forecast run {run_id} covers only {days.min().date()} .. "
               f"{days.max().date()} of these days")
    else:
        gap = f"the latest forecast run {run_id} holds none of these days"
    source = DemandSource(run_id, start, end, gap)
    if channel != "store":
        return pd.DataFrame(columns=["store", "sku", "date", "mean"]), source
    rates = _frame(
        engine, select(DemandRate.node_id, DemandRate.sku, DemandRate.walkin_units_per_day)
    )
    rates = rates[rates["node_id"].isin(stores)]
    dates = pd.date_range(start, end, freq="D")
    frame = pd.DataFrame(
        {
            "store": np.repeat(rates["node_id"].to_numpy(), len(dates)),
            "sku": np.repeat(rates["sku"].to_numpy(), len(dates)),
            "date": np.tile(dates, len(rates)),
            "mean": np.repeat(rates["walkin_units_per_day"].to_numpy(), len(dates)),
        }
    )
    return frame, source


def _latest_forecast_run(engine: Engine) -> str | None:
    """The newest succeeded forecast run, from `omni batch weekly` or the console's button
    (run ids of the two kinds do not sort by time against each other)."""
    with engine.connect() as conn:
        return latest_run_id(conn, FORECAST_RUN_KINDS)


def _latest_level_shock(engine: Engine) -> float:
    """psi recorded by the latest forecast run (0 for runs from before it was recorded)."""
    query = select(BatchRun.params).where(BatchRun.run_id == _latest_forecast_run(engine))
    with engine.connect() as conn:
        params = conn.execute(query).scalar()
    shock = (params or {}).get("level_shock", 0.0)
    return float(shock) if isinstance(shock, int | float) and shock >= 0 else 0.0


def store_reservations(
    engine: Engine, as_of: date, policy: ReservationPolicy | None = None
) -> tuple[pd.DataFrame, DemandSource]:
    """The reservation plan per store x SKU (`allocation.planning.plan_reservations`'s columns
    and the stock row's `version`) from the database: units on hand less those reserved for
    orders, the latest forecast run's walk-in means with their dispersion and level shock (else
    the demand rates). One reading for the CLI, which applies it, and the console, which
    proposes it. With where the walk-in demand came from.

    An `as_of` before the last day with recorded sales is refused (PlanningInputError): the
    stock on hand already reflects those sales, so such a plan would set today's safety stock
    from demand of days already past."""
    with engine.connect() as conn:
        recorded_days = sales_days(conn)
    if recorded_days is not None and as_of < (last := recorded_days[1]):
        raise PlanningInputError("as_of",
            f"{as_of} lies before the last day with recorded sales ({last}): the stock "
            f"on hand already reflects them, and a plan as of {as_of} would keep it back for "
            f"demand of days already past. Plan as of {last} or later")
    nodes = _frame(engine, select(Node.node_id, Node.kind, Node.replenishment_days))
    stores = nodes.loc[nodes["kind"] == "store"]
    skus = _frame(engine, select(Sku.sku, Sku.category, Sku.price_pln, Sku.unit_cost_pln))
    stock = _frame(
        engine, select(Stock.node_id, Stock.sku, Stock.on_hand, Stock.reserved, Stock.version)
    )
    stock = stock.merge(stores[["node_id", "replenishment_days"]], on="node_id")
    stock = stock.merge(skus, on="sku").rename(columns={"node_id": "store"})
    stock["on_hand"] = (stock["on_hand"] - stock["reserved"]).clip(lower=0)
    stock["walkin_margin_pln"] = stock["price_pln"] - stock["unit_cost_pln"]
    stock["online_margin_pln"] = stock["walkin_margin_pln"]
    stock["fulfilment_cost_pln"] = ONLINE_FULFILMENT_PLN
    horizon_end = as_of + timedelta(days=int(stock["replenishment_days"].max() or 0))
    forecast, source = _daily_walkin(engine, as_of + timedelta(days=1), horizon_end,
                                     stores["node_id"])
    if "dispersion" in forecast.columns:  # read from a forecast run, not the demand rates
        forecast["level_shock"] = _latest_level_shock(engine)
    plan = plan_reservations(stock, as_of, forecast, policy)
    return plan.merge(stock[["store", "sku", "version"]], on=["store", "sku"]), source


def planned_service_level(plan: pd.DataFrame) -> pd.Series:
    """The service level each row of a reservation plan was set at, as recorded with it: the
    critical ratio where the policy computed one, else the policy's fixed level."""
    return plan["critical_ratio"].fillna(plan["service_level"])


def reservation_plan_id(as_of: date) -> str:
    """`reservations-<as-of day>-<random>`: named by the day it plans from, whether the CLI
    applies it or the console proposes it."""
    return f"reservations-{as_of:%Y%m%d}-{uuid.uuid4().hex[:8]}"


def plan_store_reservations(
    engine: Engine, as_of: date, policy: ReservationPolicy | None = None
) -> ReservationSummary:
    """Safety stock per store x SKU written to `safety_stock_plans` and `stock.safety_stock`.

    A row whose stock version moved since it was read (a feed or sale in between) is not
    written: its plan would rest on stale stock. The run is recorded in `batch_runs` (its policy
    in `params`), under the plan id."""
    started = datetime.now(UTC)
    plan, source = store_reservations(engine, as_of, policy)
    plan_id = reservation_plan_id(as_of)
    level = planned_service_level(plan).tolist()
    keys = list(zip(plan["store"].tolist(), plan["sku"].tolist(), strict=True))
    units = [int(u) for u in plan["safety_stock"].tolist()]
    rows = [
        {"b_node": node, "b_sku": sku, "b_units": n, "b_version": int(version)}
        for (node, sku), n, version in zip(keys, units, plan["version"].tolist(), strict=True)
    ]
    with engine.begin() as conn:
        written = 0
        if rows:
            result = conn.execute(
                update(stock_table)
                .where(
                    and_(
                        stock_table.c.node_id == bindparam("b_node"),
                        stock_table.c.sku == bindparam("b_sku"),
                        stock_table.c.version == bindparam("b_version"),
                    )
                )
                .values(
                    safety_stock=bindparam("b_units"),
                    version=stock_table.c.version + 1,
                    updated_at=datetime.now(UTC),
                ),
                rows,
            )
            written = result.rowcount
            records = [
                {
                    "plan_id": plan_id,
                    "node_id": node,
                    "sku": sku,
                    "peak": None,
                    "safety_stock": n,
                    "service_level": float(lv),
                    "status": "approved",
                    "created_at": started,  # not the server's: SQLite's has whole seconds
                }
                for (node, sku), n, lv in zip(keys, units, level, strict=True)
            ]
            conn.execute(insert(SafetyStockPlan), records)
        policy_kind = str(plan["policy"].iloc[0]) if len(plan) else None
        conn.execute(
            insert(BatchRun),
            {
                "run_id": plan_id,
                "kind": RESERVATION_KIND,
                "started_at": started,
                "finished_at": datetime.now(UTC),
                "status": "succeeded",
                "model": policy_kind,
                "params": {"as_of": as_of.isoformat(), "policy": policy_kind, "rows": len(plan),
                           "demand_source": source.describe()},
            },
        )
    at_risk = plan.assign(short=plan["horizon_demand_mean"] > plan["on_hand"])
    risk = (
        at_risk.groupby("store")
        .agg(skus_short=("short", "sum"), safety_units=("safety_stock", "sum"))
        .nlargest(5, "skus_short")
        .reset_index()
    )
    return ReservationSummary(
        plan_id=plan_id,
        rows=len(plan),
        safety_units=int(plan["safety_stock"].sum()),
        promisable_units=int(plan["promisable_online"].sum()),
        stale_rows=len(rows) - written,
        stores_at_risk=risk,
        demand_source=source.describe(),
    )


def plan_peak_transfers(
    engine: Engine,
    peak: str,
    year: int,
    as_of: date,
    deadline_s: float = 60.0,
    *,
    reports_dir: Path | None = None,
    network: NetworkCache | None = None,
) -> RebalanceSummary:
    """Transfers before `peak` written to `transfers` (status proposed) with a batch run, the
    LP's positive shadow prices to `shadow_prices` (valid over the peak window), and the
    planner's report (PNGs + CSV) into `<reports_dir>/<plan_id>/` (default `reports/` under the
    project root; its path in the run's params). `network`: this process's cache, told to re-read
    the shadow prices at once (other processes pick them up within their refresh interval)."""
    window = resolve_peak(peak, year)
    started = datetime.now(UTC)
    nodes = _frame(engine, select(Node.node_id, Node.kind, Node.lat, Node.lon))
    skus = _frame(engine, select(Sku.sku, Sku.price_pln, Sku.unit_cost_pln))
    stock = _frame(engine, select(Stock.node_id, Stock.sku, Stock.on_hand, Stock.reserved))
    rates = _frame(engine, select(TransferRate.__table__))
    stores = nodes.loc[nodes["kind"] == "store", "node_id"]
    walkin, source = _daily_walkin(engine, window.start, window.end, stores)
    online, _ = _daily_walkin(engine, window.start, window.end, stores, channel="online")
    # A DC keeps the online demand of the stores it is nearest to (its own forecast).
    online = online.assign(store=online["store"].map(nearest_dc(nodes)))
    frames = [f for f in (walkin, online) if len(f)]
    demand = _summed_demand(frames)
    pos = stock.assign(on_hand=(stock["on_hand"] - stock["reserved"]).clip(lower=0))
    pos = pos.merge(demand, on=["node_id", "sku"], how="left")
    pos = pos.merge(skus, on="sku")
    pos["demand_mean"] = pos["demand_mean"].fillna(0.0)
    pos["margin_pln"] = (pos["price_pln"] - pos["unit_cost_pln"]).clip(lower=0)
    pos = pos[["node_id", "sku", "on_hand", "demand_mean", "margin_pln", "dispersion"]]
    settings = RebalanceSettings(deadline_s=deadline_s, min_transfer_qty=2)
    plan = plan_transfers(pos, nodes, rates, window, as_of, settings)
    plan_id = f"rebalance-{window.name}-{year}-{uuid.uuid4().hex[:8]}"
    from api.reports.planning_plots import write_planning_report  # matplotlib: only when planning

    report_dir = (reports_dir or default_reports_dir()) / plan_id
    write_planning_report(plan, pos, nodes, report_dir)
    prices = _shadow_price_rows(plan, plan_id, started)
    with engine.begin() as conn:
        if len(plan.transfers):
            conn.execute(insert(Transfer), _transfer_rows(plan, plan_id))
        if prices:
            conn.execute(insert(ShadowPrice), prices)
        conn.execute(
            insert(BatchRun),
            {
                "run_id": plan_id,
                "kind": REBALANCE_KIND,
                "started_at": started,
                "finished_at": datetime.now(UTC),
                "status": "succeeded",
                "model": f"min_cost_flow/{plan.status}",
                "params": {
                    "peak": window.name,
                    "year": year,
                    "as_of": as_of.isoformat(),
                    "units_moved": plan.units_moved,
                    "expected_gain_pln": round(plan.expected_gain_pln, 2),
                    "transfer_cost_pln": round(plan.transfer_cost_pln, 2),
                    "window_start": window.start.isoformat(),
                    "window_end": window.end.isoformat(),
                    "shadow_price_rows": len(prices),
                    "report_dir": str(report_dir),
                    "demand_source": source.describe(),
                },
            },
        )
    if network is not None:
        network.reload_shadow_prices()
    by_node = plan.shadow_prices.merge(nodes[["node_id", "kind"]], on="node_id")
    risk = (
        by_node[by_node["kind"] == "store"]
        .groupby("node_id")["shadow_price_pln"]
        .sum()
        .nlargest(5)
        .rename("shadow_value_pln")
        .reset_index()
    )
    return RebalanceSummary(
        plan_id=plan_id,
        plan=plan,
        stores_at_risk=risk,
        report_dir=report_dir,
        shadow_price_rows=len(prices),
        demand_source=source.describe(),
    )


def _summed_demand(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Per node x SKU: `demand_mean` (units over the window) and `dispersion`, the variance-to-
    mean ratio of that sum (days independent: the mean-weighted average of the daily ratios;
    NaN where no day has one, so the planner's default applies)."""
    if not frames:
        return pd.DataFrame(columns=["node_id", "sku", "demand_mean", "dispersion"])
    summed = sum_days(pd.concat(frames, ignore_index=True), ["store", "sku"], None)
    return summed.rename(columns={"store": "node_id", "mean": "demand_mean"})[
        ["node_id", "sku", "demand_mean", "dispersion"]]


def _shadow_price_rows(
    plan: RebalancePlan, plan_id: str, created_at: datetime
) -> list[dict[str, object]]:
    """The LP's shadow prices that round to at least 1 grosz (absent means zero)."""
    sp = plan.shadow_prices
    price = sp["shadow_price_pln"].astype(float).round(2)
    keep = sp[price > 0]
    return [
        {
            "plan_id": plan_id,
            "node_id": node_id,
            "sku": sku,
            "peak": plan.peak.name,
            "valid_from": plan.peak.start,
            "valid_to": plan.peak.end,
            "shadow_price_pln": value,
            "created_at": created_at,
        }
        for node_id, sku, value in zip(
            keep["node_id"].tolist(), keep["sku"].tolist(), price[price > 0].tolist(), strict=True
        )
    ]


def _transfer_rows(plan: RebalancePlan, plan_id: str) -> list[dict[str, object]]:
    t = plan.transfers
    arrive = pd.DatetimeIndex(t["arrive_by"]).to_pydatetime()
    ship = pd.DatetimeIndex(t["ship_by"]).to_pydatetime()
    columns = zip(
        t["from_node"].tolist(),
        t["to_node"].tolist(),
        t["sku"].tolist(),
        t["qty"].tolist(),
        list(arrive),
        list(ship),
        t["cost_pln"].tolist(),
        strict=True,
    )
    return [
        {
            "plan_id": plan_id,
            "peak": plan.peak.name,
            "from_node": from_node,
            "to_node": to_node,
            "sku": sku,
            "qty": int(qty),
            "arrive_by": arrive_by,
            "ship_by": ship_by,
            "cost_pln": float(cost),
            "status": "proposed",
        }
        for from_node, to_node, sku, qty, arrive_by, ship_by, cost in columns
    ]


def nearest_dc(nodes: pd.DataFrame) -> pd.Series:
    """Each store's nearest DC (for attributing online demand to DC stock)."""
    dcs = nodes[nodes["kind"] == "dc"]
    dist = great_circle_km(
        nodes["lat"].to_numpy()[:, None],
        nodes["lon"].to_numpy()[:, None],
        dcs["lat"].to_numpy()[None, :],
        dcs["lon"].to_numpy()[None, :],
    )
    return pd.Series(dcs["node_id"].to_numpy()[dist.argmin(axis=1)], index=nodes["node_id"])
