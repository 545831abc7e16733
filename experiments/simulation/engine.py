"""Replay a season through one sourcing policy and count what it costs and earns.

A day: deliveries land (store trucks ordered yesterday, supplier deliveries to the DCs); stores
on their review day and DCs on theirs order by the forecast-driven order-up-to rule
(`experiments.simulation.replenishment`, the same for every policy); policy (d) plans its
walk-in reservation and prices store stock (`experiments.simulation.protection`); then in each
slot the online orders are sourced by the policy (units leave the chosen nodes at once,
cancelled orders give theirs back at the end of the slot) and walk-in customers buy what is on
the shelf: units they do not find are lost sales.

Click-and-collect from a store's home DC may ride that store's next scheduled delivery (the
`replenishment` lane, `REPLENISHMENT_LANE`), which the network learns from the schedule
(`Node.delivery_epoch`); every policy sources through the same network, so every policy has it.

Money: `fulfilment_cost_pln` counts cash only (parcel prices, each parcel of a split order
priced on its own, picking, click-and-collect transfers), split into shipping / picking /
transfer. The optimizer's non-cash terms are reported beside it, never added in: the split
penalty (`CostWeights.split_pln` per parcel beyond the first) and lateness
(`CostWeights.lateness_pln_per_hour` per line part and hour past the promise).
`margin_pln` = units sold (walk-in and online) x (price - unit cost) - fulfilment cost.
The e-shop shows an item out of stock when no node may promise it (ATP), so a customer whose
basket holds such a line buys the rest (`online_lines_dropped`); an order none of whose lines
can be promised is refused (`online_refused`). `online_refused_margin_pln` is the margin of the
units not sold online that way, which the issue's figure (fulfilment cost + lost walk-in
margin) leaves out; `cost_plus_lost_incl_refused_pln` adds it.
Replenishment transfers are the same rule for every policy and are not charged.

Lost walk-in units by cause, at the moment a customer finds the shelf short: `online` as far
as online orders took that SKU from that store since its last delivery (and no earlier loss
was blamed on them), `dc_out` when the home DC has none either (supply), `replenishment`
otherwise (the store's order-up-to level fell short of demand).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, timedelta

import numpy as np
import pandas as pd

from allocation.errors import OutOfStock
from allocation.model import CostWeights, Decision, Network, Order, network_from_frames
from allocation.planning.reservation import ReservationPolicy
from allocation.promise import hours_late
from data.demo_chain import DemoChain
from experiments.simulation.forecast import SeasonForecast, forecast_season
from experiments.simulation.policies import POLICIES, USES_RESERVATION, Policy, StockView
from experiments.simulation.protection import Protection
from experiments.simulation.replenishment import (
    DC_LEAD_DAYS,
    PICK_WINDOW_DAYS,
    Topology,
    dc_orders,
    reviews_on,
    store_orders,
)
from experiments.simulation.season import SLOT_HOURS, Season
from forecasting.registry import PRODUCTION_MODEL

WEIGHTS = CostWeights()  # the optimizer's defaults: the prices of its non-cash terms
REPLENISHMENT_LANE: dict[str, object] = {
    # Click-and-collect units riding the store's scheduled truck from its home DC: no extra
    # run, only a tote on the delivery note and the handling of each unit; the truck leaves
    # the evening before (10 h before opening). Every policy may use it (`allocation.problem`
    # picks it per source when its cost plus lateness beats the dedicated dc_to_store run).
    "lane": "replenishment", "fixed_cost_pln": 2.0, "cost_per_unit_pln": 0.40,
    "cost_per_km_pln": 0.0, "lead_time_hours": 10, "max_lead_time_hours": 120,
}


@dataclass(frozen=True)
class PolicyResult:
    """The figures of one policy over the season (results.json has one object per policy)."""

    policy: str
    orders: int
    served: int
    cancelled: int
    online_refused: int
    cost_per_order_pln: float
    parcels_per_order: float
    on_time_rate: float
    walkin_units: int
    walkin_lost_units: int
    walkin_lost_pln: float  # lost walk-in sales at the shelf price
    walkin_lost_margin_pln: float
    fulfilment_cost_pln: float
    cost_plus_lost_margin_pln: float  # the figure the optimizer should cut
    margin_pln: float
    seconds: float
    # the decomposition (cash terms add up to fulfilment_cost_pln)
    shipping_pln: float = 0.0
    picking_pln: float = 0.0
    transfer_pln: float = 0.0
    split_parcels: int = 0  # parcels beyond the first of their order
    split_penalty_pln: float = 0.0  # non-cash: split_parcels x CostWeights.split_pln
    late_orders: int = 0
    lateness_pln: float = 0.0  # non-cash: the optimizer's lateness price of the late parts
    online_units_from_stores: int = 0
    online_units_from_dcs: int = 0
    walkin_lost_units_online: int = 0
    walkin_lost_units_replenishment: int = 0
    walkin_lost_units_dc_out: int = 0
    walkin_lost_margin_online_pln: float = 0.0
    walkin_lost_margin_replenishment_pln: float = 0.0
    walkin_lost_margin_dc_out_pln: float = 0.0
    online_lines_dropped: int = 0  # lines shown out of stock online, the rest bought
    online_refused_margin_pln: float = 0.0  # margin of units not sold online (refused/dropped)
    cost_plus_lost_incl_refused_pln: float = 0.0  # the goal's figure + refused online margin

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


@dataclass(frozen=True)
class SimulationConfig:
    """`forecast_model`: the chain's forecasting model (production's by default) behind the
    replenishment and (d)'s protection; `reservation`: (d)'s reservation policy (production's
    default: the newsvendor critical ratio, no knob to tune)."""

    forecast_model: str = PRODUCTION_MODEL
    reservation: ReservationPolicy = field(default_factory=ReservationPolicy)


@dataclass
class _Tally:
    served: int = 0
    cancelled: int = 0
    refused: int = 0
    refused_margin_pln: float = 0.0
    lines_dropped: int = 0
    parcels: int = 0
    split_parcels: int = 0
    on_time: int = 0
    late_orders: int = 0
    lateness_pln: float = 0.0
    shipping_pln: float = 0.0
    picking_pln: float = 0.0
    transfer_pln: float = 0.0
    from_stores: int = 0
    from_dcs: int = 0
    online_margin_pln: float = 0.0
    walkin_units: int = 0
    walkin_margin_pln: float = 0.0
    lost_units: np.ndarray = field(default_factory=lambda: np.zeros(3, np.int64))
    lost_margin: np.ndarray = field(default_factory=lambda: np.zeros(3))
    walkin_lost_pln: float = 0.0

    @property
    def cost_pln(self) -> float:
        return self.shipping_pln + self.picking_pln + self.transfer_pln


class _Chain:
    """Arrays of the chain the simulation works on (network order for nodes)."""

    def __init__(self, chain: DemoChain, season: Season) -> None:
        self.network: Network = network_from_frames(
            _scheduled_nodes(chain, season), chain.skus, chain.parcel_rates,
            _with_replenishment_lane(chain.transfer_rates), chain.lockers, chain.postcode_areas)
        ids = [n.node_id for n in self.network.nodes]
        self.is_dc = np.array([n.kind == "dc" for n in self.network.nodes])
        self.store_rows = np.array([ids.index(s) for s in season.stores])
        skus = chain.skus.set_index("sku").loc[list(season.skus)]
        self.price = skus["price_pln"].to_numpy(float)
        self.margin = np.clip(self.price - skus["unit_cost_pln"].to_numpy(float), 0.0, None)
        stock = chain.stock.pivot_table(index="node_id", columns="sku", values="on_hand",
                                        aggfunc="sum", fill_value=0)
        self.initial = stock.reindex(index=ids, columns=list(season.skus),
                                     fill_value=0).to_numpy(np.int64)
        nodes = chain.nodes.set_index("node_id")
        self.review_days = nodes.loc[list(season.stores), "replenishment_days"].to_numpy(int)
        home = nodes.loc[list(season.stores), "home_dc"].astype(str).tolist()
        self.home_row = np.array([ids.index(h) for h in home])
        self.dc_rows = np.flatnonzero(self.is_dc)
        self.topology = Topology(self.store_rows, self.home_row, self.dc_rows, self.review_days)
        self.sku_col = {s: i for i, s in enumerate(season.skus)}
        self.store_pos = {int(r): i for i, r in enumerate(self.store_rows)}


def _scheduled_nodes(chain: DemoChain, season: Season) -> pd.DataFrame:
    """The nodes with each store's delivery schedule as the replenishment runs it: store s
    reviews on the days d with (d + s) % replenishment_days == 0 and its truck arrives the
    next day."""
    nodes = chain.nodes.copy()
    pos = {s: i for i, s in enumerate(season.stores)}
    epochs: list[date | None] = []
    for node_id, cycle in zip(nodes["node_id"].astype(str), nodes["replenishment_days"],
                              strict=True):
        s = pos.get(node_id)
        epochs.append(None if s is None
                      else season.days[0] + timedelta(days=(1 - s) % int(cycle)))
    nodes["delivery_epoch"] = epochs
    return nodes


def _with_replenishment_lane(rates: pd.DataFrame) -> pd.DataFrame:
    """The chain's lanes plus `REPLENISHMENT_LANE` (when the chain has no such row)."""
    if (rates["lane"] == "replenishment").any():
        return rates
    return pd.concat([rates, pd.DataFrame([REPLENISHMENT_LANE])], ignore_index=True)


def simulate(chain: DemoChain, season: Season, policy: str,
             config: SimulationConfig | None = None,
             forecast: SeasonForecast | None = None) -> PolicyResult:
    """Replay `season` through `policy` (one of `POLICIES`). `forecast`: the chain's forecast
    (`forecast_season`), computed here when not given; pass one to share it between policies."""
    started = time.perf_counter()
    config = config or SimulationConfig()
    fc = forecast or forecast_season(chain, season, config.forecast_model)
    c = _Chain(chain, season)
    decide = POLICIES[policy]
    protect = (Protection(fc, season.days, season.stores, season.skus, c.store_rows,
                          c.review_days, c.margin, config.reservation)
               if policy in USES_RESERVATION else None)
    on_hand = c.initial.copy()
    n_nodes, n_skus = on_hand.shape
    arrivals: dict[int, np.ndarray] = {}
    picked_hist: deque[np.ndarray] = deque(maxlen=PICK_WINDOW_DAYS)
    picked_since = np.zeros((len(season.stores), n_skus), np.int64)  # since the last truck
    tally = _Tally()
    for d in range(len(season.days)):
        on_hand += arrivals.pop(d, 0)
        picked_since[reviews_on(c.review_days, d - 1)] = 0  # yesterday's trucks landed
        in_transit = sum(arrivals.values(), np.zeros_like(on_hand))
        picked_rate = (np.sum(picked_hist, axis=0) / PICK_WINDOW_DAYS if picked_hist
                       else np.zeros_like(picked_since, dtype=float))
        delivery = store_orders(c.topology, fc, d, on_hand, in_transit, picked_rate)
        arrivals[d + 1] = arrivals.get(d + 1, np.zeros_like(on_hand)) + delivery
        supply = dc_orders(c.topology, fc, d, on_hand, in_transit + delivery)
        if supply is not None:
            at = d + DC_LEAD_DAYS
            arrivals[at] = arrivals.get(at, np.zeros_like(on_hand)) + supply
        view = StockView(c.network, season.skus, on_hand, np.zeros_like(on_hand),
                         np.zeros((n_nodes, n_skus)), {}, c.is_dc)
        rates = np.zeros(0)
        if protect is not None:
            rates = protect.rates(d)
            view.safety = protect.safety(d, on_hand)
            view.opportunity_pln = protect.opportunity(d, on_hand, rates)
        picked_today = np.zeros_like(picked_since)
        picked_day = np.zeros_like(picked_since)  # the window below counts days, not slots
        moved = np.zeros(len(season.stores), bool)  # stores whose shelf moved since priced
        for slot in range(len(SLOT_HOURS)):
            returns: list[Decision] = []
            for sim in (o for o in season.orders[d] if o.slot == slot):
                decisions = _decide(c, decide, sim.order, view, tally)
                if decisions is None:
                    continue
                _take(c, decisions, on_hand, view.capacity, picked_today, sign=1)
                if protect is not None:
                    moved[_stores_of(c, decisions)] = True
                if sim.cancelled:
                    tally.cancelled += 1
                    returns.extend(decisions)
                    continue
                _count_order(c, sim.order, decisions, tally)
                if protect is not None:
                    protect.refresh(d, on_hand, rates, view.opportunity_pln, moved)
                    moved[:] = False
            for decision in returns:
                _take(c, [decision], on_hand, None, picked_today, sign=-1)
            moved[:] = True  # returns and the walk-in sales below move every store's shelf
            picked_since += picked_today
            picked_day += picked_today
            picked_today[:] = 0
            _walk_in(c, season.walkin[d, slot], on_hand, picked_since, tally)
        picked_hist.append(picked_day)
    return _result(policy, season, tally, time.perf_counter() - started)


def _decide(c: _Chain, decide: Policy, order: Order, view: StockView,
            tally: _Tally) -> Sequence[Decision] | None:
    """The policy's decision; lines no node may promise are left out of the basket (shown out
    of stock) and the rest decided again; None when nothing of the order can be promised."""
    try:
        return decide(order, view)
    except OutOfStock as short:
        missing = {line.line_id for line in short.short_lines}
        kept = tuple(ln for ln in order.lines if ln.line_id not in missing)
        lost = [ln for ln in order.lines if ln.line_id in missing] if kept else order.lines
        tally.refused_margin_pln += sum(c.margin[c.sku_col[ln.sku]] * ln.qty for ln in lost)
        if kept and missing:
            try:
                decisions = decide(replace(order, lines=kept), view)
            except OutOfStock:
                tally.refused_margin_pln += sum(c.margin[c.sku_col[ln.sku]] * ln.qty
                                                for ln in kept)
            else:
                tally.lines_dropped += len(missing)
                return decisions
        tally.refused += 1
        return None


def _take(c: _Chain, decisions: Sequence[Decision], on_hand: np.ndarray,
          capacity: dict[str, int] | None, picked: np.ndarray, sign: int) -> None:
    index = c.network.index
    for decision in decisions:
        for line in decision.lines:
            n = index[line.node_id]
            on_hand[n, c.sku_col[line.sku]] -= sign * line.qty
            if n in c.store_pos:
                picked[c.store_pos[n], c.sku_col[line.sku]] += sign * line.qty
            if capacity is not None:
                node = c.network.nodes[n]
                capacity[line.node_id] = capacity.get(line.node_id,
                                                      node.pick_capacity_per_day) - 1
    if (on_hand < 0).any():
        raise AssertionError("a policy took more units than a node holds")


def _stores_of(c: _Chain, decisions: Sequence[Decision]) -> list[int]:
    """Store positions (rows of the store arrays) the decisions take units from."""
    index = c.network.index
    return [c.store_pos[index[line.node_id]] for decision in decisions
            for line in decision.lines if index[line.node_id] in c.store_pos]


def _count_order(c: _Chain, order: Order, decisions: Sequence[Decision],
                 tally: _Tally) -> None:
    parcels = 0
    late_hours = 0.0
    for decision in decisions:
        tally.shipping_pln += decision.costs.shipping_pln
        tally.picking_pln += decision.costs.picking_pln
        tally.transfer_pln += decision.costs.transfer_pln
        parcels += len(decision.parcels)
        for line in decision.lines:
            tally.online_margin_pln += c.margin[c.sku_col[line.sku]] * line.qty
            late_hours += hours_late(line.promised_at, order.promise_by)
            if c.is_dc[c.network.index[line.node_id]]:
                tally.from_dcs += line.qty
            else:
                tally.from_stores += line.qty
    tally.served += 1
    tally.parcels += parcels
    tally.split_parcels += max(parcels - 1, 0)
    tally.on_time += int(late_hours == 0.0)
    tally.late_orders += int(late_hours > 0.0)
    tally.lateness_pln += late_hours * WEIGHTS.lateness_pln_per_hour


def _walk_in(c: _Chain, demand: np.ndarray, on_hand: np.ndarray, picked_since: np.ndarray,
             tally: _Tally) -> None:
    shelf = on_hand[c.store_rows]
    sold = np.minimum(demand, shelf)
    lost = demand - sold
    on_hand[c.store_rows] = shelf - sold
    tally.walkin_units += int(demand.sum())
    tally.walkin_margin_pln += float((sold * c.margin).sum())
    if not lost.any():
        return
    online = np.minimum(lost, np.maximum(picked_since, 0))
    picked_since -= online  # each picked unit is blamed for one lost sale at most
    rest = lost - online
    dc_empty = on_hand[c.home_row] == 0
    dc_out = np.where(dc_empty, rest, 0)
    causes = np.stack([online, rest - dc_out, dc_out])  # online, replenishment, dc_out
    tally.lost_units += causes.sum(axis=(1, 2))
    tally.lost_margin += (causes * c.margin).sum(axis=(1, 2))
    tally.walkin_lost_pln += float((lost * c.price).sum())


def _result(policy: str, season: Season, t: _Tally, seconds: float) -> PolicyResult:
    shipped = max(t.served, 1)
    cost = t.cost_pln
    lost_margin = float(t.lost_margin.sum())
    margin = float(t.walkin_margin_pln + t.online_margin_pln - cost)
    return PolicyResult(
        policy=policy,
        orders=season.n_orders,
        served=t.served,
        cancelled=t.cancelled,
        online_refused=t.refused,
        cost_per_order_pln=round(cost / shipped, 4),
        parcels_per_order=round(t.parcels / shipped, 4),
        on_time_rate=round(t.on_time / shipped, 4),
        walkin_units=t.walkin_units,
        walkin_lost_units=int(t.lost_units.sum()),
        walkin_lost_pln=round(t.walkin_lost_pln, 2),
        walkin_lost_margin_pln=round(lost_margin, 2),
        fulfilment_cost_pln=round(cost, 2),
        cost_plus_lost_margin_pln=round(cost + lost_margin, 2),
        margin_pln=round(margin, 2),
        seconds=round(seconds, 2),
        shipping_pln=round(t.shipping_pln, 2),
        picking_pln=round(t.picking_pln, 2),
        transfer_pln=round(t.transfer_pln, 2),
        split_parcels=t.split_parcels,
        split_penalty_pln=round(t.split_parcels * WEIGHTS.split_pln, 2),
        late_orders=t.late_orders,
        lateness_pln=round(t.lateness_pln, 2),
        online_units_from_stores=t.from_stores,
        online_units_from_dcs=t.from_dcs,
        walkin_lost_units_online=int(t.lost_units[0]),
        walkin_lost_units_replenishment=int(t.lost_units[1]),
        walkin_lost_units_dc_out=int(t.lost_units[2]),
        walkin_lost_margin_online_pln=round(float(t.lost_margin[0]), 2),
        walkin_lost_margin_replenishment_pln=round(float(t.lost_margin[1]), 2),
        walkin_lost_margin_dc_out_pln=round(float(t.lost_margin[2]), 2),
        online_lines_dropped=t.lines_dropped,
        online_refused_margin_pln=round(t.refused_margin_pln, 2),
        cost_plus_lost_incl_refused_pln=round(cost + lost_margin + t.refused_margin_pln, 2),
    )
