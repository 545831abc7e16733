"""Simulate Black Week on the demo chain: rebalancing plans and the walk-in reservation policy.

Run: ``nice -n 10 .venv/bin/python benchmarks/peak_plan.py [--skus 300] [--timing-skus 5000]``

1. Rebalancing. Forecast per store x SKU of walk-in units over Black Week = last year's Black
   Week (same store, blended half-half with the SKU's chain total split by the store's share of
   the last 12 weeks) x the SKU's year-on-year growth of the last 8 weeks. A DC keeps its
   catchment's online forecast. Three plans, no rebalancing, proportional to forecast (fair
   share) and the optimised flow, are scored on the held-out truth (`future_sales` in the Black
   Week window): units sold = min(demand, stock after transfers), margin net of transfer costs.
   Simplification: stock at the peak start is the `as_of` snapshot (pre-peak sales assumed
   replenished), so only the transfers differ between the plans.
2. Reservation. From the day before Black Week, each store's stock meets online orders of its
   catchment (each day first, up to on hand - safety stock) and walk-in customers; lost walk-in
   sales, online orders refused and margin for no safety stock, a 90% service level and the
   critical ratio.
3. Timing: `plan_transfers` on 120 stores x `--timing-skus` SKUs of synthetic forecasts.
"""

from __future__ import annotations

import argparse
import time
from datetime import date, timedelta

import numpy as np
import pandas as pd

from allocation.planning import (
    RebalanceSettings,
    ReservationPolicy,
    plan_proportional_transfers,
    plan_reservations,
    plan_transfers,
)
from allocation.planning.rebalance import RebalancePlan
from data.demo_chain import DemoChain, generate_chain
from forecasting.calendar import open_days_between, peak_window

DISPERSION = 2.0
ONLINE_FULFILMENT_PLN = 12.0


def window_sales(sales: pd.DataFrame, start: date, end: date, channel: str) -> pd.Series:
    """Demand per node x SKU in [start, end] of one channel, from its sales. A sold-out day
    (`stockout` = 1: the units a lower bound) counts as the series' mean over the window's other
    open days, never below what it sold, as the weekly batch fits such days as estimated
    demand; the demo chain's walk-in spells would otherwise shrink the peak forecast."""
    mask = (sales["date"] >= pd.Timestamp(start)) & (sales["date"] <= pd.Timestamp(end))
    rows = sales.loc[mask & (sales["channel"] == channel)]
    keys = ["node_id", "sku"]
    units = rows.groupby(keys)["units"].sum().astype(float)
    if "stockout" not in rows.columns or not (rows["stockout"] == 1).any():
        return units
    flagged = rows.loc[rows["stockout"] == 1].groupby(keys)["units"].agg(["size", "sum"])
    days = (len(open_days_between(start, end)) if channel == "store"
            else (end - start).days + 1)
    rate = (units.reindex(flagged.index) - flagged["sum"]) / (days - flagged["size"]).clip(
        lower=1)
    estimate = np.maximum(flagged["size"] * rate, flagged["sum"])
    return units.add(estimate - flagged["sum"], fill_value=0.0)


def peak_forecast(chain: DemoChain, channel: str) -> pd.Series:
    """Black Week units per store x SKU from last year's Black Week, scaled by recent growth."""
    last_year = peak_window("black_week", 2025)
    as_of = chain.as_of
    ly = window_sales(chain.sales, last_year.start, last_year.end, channel)
    recent = window_sales(chain.sales, as_of - timedelta(days=55), as_of, channel)
    ly_recent = window_sales(
        chain.sales, as_of - timedelta(days=55 + 364), as_of - timedelta(days=364), channel
    )
    growth = (recent.groupby("sku").sum() + 5) / (ly_recent.groupby("sku").sum() + 5)
    share_base = window_sales(chain.sales, as_of - timedelta(days=83), as_of, channel)
    share = share_base / share_base.groupby("sku").transform("sum")
    stores = chain.nodes.loc[chain.nodes["kind"] == "store", "node_id"]
    index = pd.MultiIndex.from_product([stores, chain.skus["sku"]], names=["node_id", "sku"])
    ly_full = ly.reindex(index, fill_value=0).astype(float)
    sku_total = ly_full.groupby("sku").transform("sum")
    split = share.reindex(index, fill_value=0.0) * sku_total
    blended = 0.5 * ly_full + 0.5 * split
    scale = growth.reindex(index.get_level_values("sku")).fillna(1.0).to_numpy()
    return blended * scale


def positions_frame(chain: DemoChain) -> pd.DataFrame:
    """Node x SKU positions: stores with walk-in forecasts, DCs with their catchment's online."""
    skus = chain.skus.set_index("sku")
    margin = (skus["price_pln"] - skus["unit_cost_pln"]).rename("margin_pln")
    walkin = peak_forecast(chain, "store").rename("demand_mean").reset_index()
    online = peak_forecast(chain, "online").rename("online").reset_index()
    home = chain.nodes.set_index("node_id")["home_dc"]
    online["node_id"] = online["node_id"].map(home)
    dc_demand = online.groupby(["node_id", "sku"])["online"].sum().rename("demand_mean")
    demand = pd.concat([walkin, dc_demand.reset_index()], ignore_index=True)
    pos = chain.stock.merge(demand, on=["node_id", "sku"], how="left").fillna({"demand_mean": 0})
    pos = pos.merge(margin, left_on="sku", right_index=True)
    online_margin = pos["margin_pln"] - ONLINE_FULFILMENT_PLN
    is_dc = pos["node_id"].isin(chain.nodes.loc[chain.nodes["kind"] == "dc", "node_id"])
    pos["margin_pln"] = np.where(is_dc, online_margin.clip(lower=0), pos["margin_pln"])
    pos["dispersion"] = DISPERSION
    return pos


def realised(chain: DemoChain, pos: pd.DataFrame, plan: RebalancePlan | None) -> dict:
    """Fill rate and margin of a plan against the held-out Black Week demand."""
    bw = peak_window("black_week", 2026)
    walk = window_sales(chain.future_sales, bw.start, bw.end, "store")
    online = window_sales(chain.future_sales, bw.start, bw.end, "online").reset_index()
    online["node_id"] = online["node_id"].map(chain.nodes.set_index("node_id")["home_dc"])
    online_demand = online.groupby(["node_id", "sku"])["units"].sum()
    demand = pd.concat([walk, online_demand])
    stock = pos.set_index(["node_id", "sku"])["on_hand"].astype(float)
    cost = 0.0
    if plan is not None and len(plan.transfers):
        t = plan.transfers
        out = t.groupby(["from_node", "sku"])["qty"].sum().rename_axis(["node_id", "sku"])
        into = t.groupby(["to_node", "sku"])["qty"].sum().rename_axis(["node_id", "sku"])
        stock = stock.sub(out, fill_value=0).add(into, fill_value=0)
        cost = plan.transfer_cost_pln
    d = demand.reindex(stock.index, fill_value=0).astype(float)
    sold = np.minimum(d, stock)
    margin = pos.set_index(["node_id", "sku"])["margin_pln"].reindex(stock.index)
    is_store = ~stock.index.get_level_values("node_id").str.startswith("DC")
    return {
        "walkin_fill": sold[is_store].sum() / max(d[is_store].sum(), 1),
        "online_fill": sold[~is_store].sum() / max(d[~is_store].sum(), 1),
        "margin_pln": float((sold * margin).sum()) - cost,
        "transfer_cost_pln": cost,
        "units_moved": plan.units_moved if plan else 0,
        "expected_gain_pln": plan.expected_gain_pln if plan else 0.0,
        "solve_s": plan.solve_seconds if plan else 0.0,
        "status": plan.status if plan else "-",
    }


def rebalancing_table(chain: DemoChain) -> pd.DataFrame:
    pos = positions_frame(chain)
    bw = peak_window("black_week", 2026)
    settings = RebalanceSettings(min_transfer_qty=2, deadline_s=60.0)
    args = (pos, chain.nodes, chain.transfer_rates, bw, chain.as_of, settings)
    rows = {
        "no rebalancing": realised(chain, pos, None),
        "proportional to forecast": realised(chain, pos, plan_proportional_transfers(*args)),
        "optimised (min-cost flow)": realised(chain, pos, plan_transfers(*args)),
    }
    return pd.DataFrame(rows).T


def reservation_table(chain: DemoChain) -> pd.DataFrame:
    """Day-by-day horizon simulation of online orders vs walk-in customers at each store."""
    as_of = peak_window("black_week", 2026).start - timedelta(days=1)
    stores = chain.nodes[chain.nodes["kind"] == "store"][["node_id", "replenishment_days"]]
    skus = chain.skus.set_index("sku")
    stock = chain.stock.merge(stores, on="node_id").rename(columns={"node_id": "store"})
    stock["walkin_margin_pln"] = stock["sku"].map(skus["price_pln"] - skus["unit_cost_pln"])
    stock["online_margin_pln"] = stock["walkin_margin_pln"]
    stock["fulfilment_cost_pln"] = ONLINE_FULFILMENT_PLN
    stock["category"] = stock["sku"].map(skus["category"])
    horizon = int(stores["replenishment_days"].max())
    days = [as_of + timedelta(days=k) for k in range(1, horizon + 1)]
    # Forecast: last year's same days relative to Black Friday, scaled like the peak forecast.
    ly_shift = peak_window("black_week", 2026).start - peak_window("black_week", 2025).start
    ly_days = [d - ly_shift for d in days]
    walk_ly = chain.sales[(chain.sales["channel"] == "store")]
    walk_ly = walk_ly[walk_ly["date"].isin(pd.to_datetime(ly_days))]
    last_year = peak_window("black_week", 2025)
    ly_peak = window_sales(chain.sales, last_year.start, last_year.end, "store")
    growth = peak_forecast(chain, "store").groupby("sku").sum() / ly_peak.groupby("sku").sum().clip(
        lower=1
    )
    forecast = walk_ly.assign(
        store=walk_ly["node_id"],
        date=walk_ly["date"] + pd.Timedelta(days=ly_shift.days),
        mean=walk_ly["units"] * walk_ly["sku"].map(growth).fillna(1.0),
        dispersion=DISPERSION,
    )[["store", "sku", "date", "mean", "dispersion"]]
    truth = chain.future_sales[chain.future_sales["date"].isin(pd.to_datetime(days))]
    policies = {
        "no safety stock": None,
        "service level 90%": ReservationPolicy(kind="service_level", default_service_level=0.9),
        "critical ratio": ReservationPolicy(kind="critical_ratio"),
    }
    rows = {}
    for name, policy in policies.items():
        if policy is None:
            safety = stock[["store", "sku"]].assign(safety_stock=0)
        else:
            safety = plan_reservations(stock, as_of, forecast, policy)[
                ["store", "sku", "safety_stock"]
            ]
        rows[name] = _simulate_horizon(stock, safety, truth, days)
    return pd.DataFrame(rows).T


def _simulate_horizon(
    stock: pd.DataFrame, safety: pd.DataFrame, truth: pd.DataFrame, days: list[date]
) -> dict:
    frame = stock.merge(safety, on=["store", "sku"])
    key = ["node_id", "sku"]
    left = frame["on_hand"].to_numpy(dtype=float)
    keep = frame["safety_stock"].to_numpy(dtype=float)
    index = pd.MultiIndex.from_frame(frame[["store", "sku"]].set_axis(key, axis=1))
    walk_margin = frame["walkin_margin_pln"].to_numpy()
    online_margin = walk_margin - ONLINE_FULFILMENT_PLN
    totals = dict.fromkeys(["walkin_lost", "walkin_demand", "online_refused", "online_demand"], 0.0)
    margin = 0.0
    for day in days:
        today = truth[truth["date"] == pd.Timestamp(day)]
        units = today.groupby(["channel", *key])["units"].sum()
        online = units.get("online", pd.Series(dtype=float)).reindex(index, fill_value=0).to_numpy()
        walk = units.get("store", pd.Series(dtype=float)).reindex(index, fill_value=0).to_numpy()
        promised = np.minimum(online, np.maximum(left - keep, 0))
        left -= promised
        sold = np.minimum(walk, left)
        left -= sold
        margin += float((promised * online_margin).sum() + (sold * walk_margin).sum())
        totals["online_refused"] += float((online - promised).sum())
        totals["online_demand"] += float(online.sum())
        totals["walkin_lost"] += float((walk - sold).sum())
        totals["walkin_demand"] += float(walk.sum())
    return totals | {"safety_units": float(keep.sum()), "margin_pln": margin}


def synthetic_timing(n_stores: int, n_skus: int, deadline_s: float = 60.0) -> None:
    """plan_transfers on a synthetic chain with the demo chain's lanes, wall and CPU time."""
    rng = np.random.default_rng(11)
    nodes = pd.DataFrame(
        {
            "node_id": ["DC-A", "DC-B", "DC-C"] + [f"S{i:03d}" for i in range(n_stores)],
            "kind": ["dc"] * 3 + ["store"] * n_stores,
            "lat": np.r_[51.9, 52.4, 52.2, rng.uniform(49.5, 54.4, n_stores)],
            "lon": np.r_[19.6, 16.8, 20.6, rng.uniform(14.6, 23.4, n_stores)],
        }
    )
    n = len(nodes)
    popularity = rng.gamma(0.6, 3.0, n_skus)
    size = np.r_[np.zeros(3), rng.lognormal(0, 0.5, n_stores)]
    mean = np.outer(popularity, size).ravel()
    is_dc = np.tile(nodes["kind"].to_numpy() == "dc", n_skus)
    dc_stock = rng.poisson(np.repeat(popularity, n) * n_stores * 0.25)
    on_hand = np.where(is_dc, dc_stock, rng.poisson(mean * rng.lognormal(-0.3, 0.6, mean.size)))
    pos = pd.DataFrame(
        {
            "node_id": np.tile(nodes["node_id"].to_numpy(), n_skus),
            "sku": np.repeat([f"K{k:05d}" for k in range(n_skus)], n),
            "on_hand": on_hand,
            "demand_mean": mean,
            "margin_pln": np.repeat(rng.uniform(10, 120, n_skus), n),
        }
    )
    rates = generate_chain(n_stores=2, n_skus=1, history_days=30, future_days=0).transfer_rates
    bw = peak_window("black_week", 2026)
    wall, cpu = time.perf_counter(), time.process_time()
    settings = RebalanceSettings(min_transfer_qty=2, deadline_s=deadline_s)
    plan = plan_transfers(pos, nodes, rates, bw, date(2026, 11, 8), settings)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"\nTiming: {n_stores} stores x {n_skus} SKUs ({len(pos):,} node x SKU rows), "
        f"deadline {deadline_s:.0f} s: "
        f"wall {wall:.1f} s, CPU {cpu:.1f} s, status {plan.status}, "
        f"{plan.units_moved:,} units in {len(plan.transfers):,} transfers, "
        f"expected gain {plan.expected_gain_pln:,.0f} PLN; notes: {'; '.join(plan.notes) or '-'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skus", type=int, default=300)
    parser.add_argument("--stores", type=int, default=100)
    parser.add_argument("--timing-skus", type=int, default=5000)
    parser.add_argument("--timing-stores", type=int, default=120)
    parser.add_argument("--timing-deadline-s", type=float, nargs="+", default=[60.0, 600.0])
    parser.add_argument("--timing-only", action="store_true")
    args = parser.parse_args()
    pd.set_option("display.width", 200)
    if args.timing_only:
        for deadline in args.timing_deadline_s:
            synthetic_timing(args.timing_stores, args.timing_skus, deadline)
        return
    tic = time.perf_counter()
    chain = generate_chain(n_stores=args.stores, n_skus=args.skus)
    took = time.perf_counter() - tic
    print(f"Demo chain: {args.stores} stores x {args.skus} SKUs in {took:.0f} s")
    print("\nBlack Week 2026 rebalancing, scored on the held-out demand:")
    print(rebalancing_table(chain).to_string(float_format=lambda v: f"{v:,.3f}"))
    print("\nReservation policy, each store's protection horizon from the day before Black Week:")
    print(reservation_table(chain).to_string(float_format=lambda v: f"{v:,.0f}"))
    if args.timing_skus:
        for deadline in args.timing_deadline_s:
            synthetic_timing(args.timing_stores, args.timing_skus, deadline)


if __name__ == "__main__":
    main()
