"""Replay a season through one sourcing policy and count what it costs and earns.

A day: replenishment that was shipped arrives; stores on their review day order up to a target
from their home DC (the `dc_to_store` lane: it arrives the next day); DCs order from suppliers
weekly (three days' lead time); then in each slot the online orders are sourced by the policy
(units leave the chosen nodes at once, cancelled orders give theirs back at the end of the slot)
and walk-in customers buy what is on the shelf: units they do not find are lost sales.

Store targets cover `replenishment_days + STORE_COVER_DAYS` of the store's trailing outbound
(walk-in demand plus units shipped from the store); DC targets cover `DC_COVER_DAYS` of their
stores' trailing demand. Both use the last `RATE_WINDOW_DAYS` days, so they follow the peak
with a lag, as a real replenishment system does.

Click-and-collect from a store's home DC may ride that store's next scheduled delivery (the
`replenishment` lane, `REPLENISHMENT_LANE`), which the network learns from the schedule above
(`Node.delivery_epoch`); every policy sources through the same network, so every policy has it.

Money: `fulfilment_cost_pln` counts cash only (parcel prices, picking, click-and-collect
transfers), not the optimizer's shadow terms (split penalty, lateness, opportunity).
`margin_pln` = units sold (walk-in and online) x (price - unit cost) - fulfilment cost.
Replenishment transfers are the same rule for every policy and are not charged.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
from scipy.special import pdtrc

from allocation.errors import OutOfStock
from allocation.model import Decision, Network, Order, network_from_frames
from data.demo_chain import DemoChain
from experiments.simulation.policies import POLICIES, USES_RESERVATION, StockView
from experiments.simulation.season import SLOT_HOURS, Season
from forecasting.calendar import is_store_open

RATE_WINDOW_DAYS = 28
OPPORTUNITY_WINDOW_DAYS = 14
STORE_COVER_DAYS = 3
DC_COVER_DAYS = 21
DC_REVIEW_DAYS = 7
DC_LEAD_DAYS = 3
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

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


@dataclass(frozen=True)
class SimulationConfig:
    """Reservation settings of the reserving policy: safety stock covers the walk-in demand
    until the next delivery at `service_level` (planning's negative-binomial quantile). On the
    default chain (8 weeks, seed 0, truck lane on), levels 0.0 / 0.3 / 0.5 / 0.8 gave
    fulfilment cost + lost walk-in margin of 1.6437 / 1.6436 / 1.6445 / 1.6574 M PLN: the
    opportunity cost does the work, and 0.5 keeps a reservation without paying much for it."""

    service_level: float = 0.5
    dispersion: float = 1.5


@dataclass
class _Tally:
    served: int = 0
    cancelled: int = 0
    refused: int = 0
    parcels: int = 0
    on_time: int = 0
    cost_pln: float = 0.0
    online_margin_pln: float = 0.0
    walkin_units: int = 0
    walkin_lost_units: int = 0
    walkin_lost_pln: float = 0.0
    walkin_lost_margin_pln: float = 0.0
    walkin_margin_pln: float = 0.0


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
        self.walkin_hist, self.online_hist = _history(chain, season)


def _scheduled_nodes(chain: DemoChain, season: Season) -> pd.DataFrame:
    """The nodes with each store's delivery schedule as `_replenish` runs it: store s reviews
    on the days d with (d + s) % replenishment_days == 0 and its truck arrives the next day."""
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


def _history(chain: DemoChain, season: Season) -> tuple[np.ndarray, np.ndarray]:
    """Last RATE_WINDOW_DAYS days of walk-in and online demand per day x store x SKU."""
    first = pd.Timestamp(chain.as_of) - pd.Timedelta(days=RATE_WINDOW_DAYS - 1)
    rows = chain.sales.loc[chain.sales["date"] >= first]
    out = []
    for channel in ("store", "online"):
        part = rows.loc[rows["channel"] == channel]
        arr = np.zeros((RATE_WINDOW_DAYS, len(season.stores), len(season.skus)), np.int64)
        d = (part["date"] - first).dt.days.to_numpy()
        s = pd.Index(season.stores).get_indexer(pd.Index(part["node_id"].astype(str)))
        k = pd.Index(season.skus).get_indexer(pd.Index(part["sku"].astype(str)))
        ok = (s >= 0) & (k >= 0)
        np.add.at(arr, (d[ok], s[ok], k[ok]), part["units"].to_numpy(np.int64)[ok])
        out.append(arr)
    return out[0], out[1]


def simulate(chain: DemoChain, season: Season, policy: str,
             config: SimulationConfig | None = None) -> PolicyResult:
    """Replay `season` through `policy` (one of `POLICIES`)."""
    started = time.perf_counter()
    config = config or SimulationConfig()
    c = _Chain(chain, season)
    decide = POLICIES[policy]
    reserved = policy in USES_RESERVATION
    on_hand = c.initial.copy()
    n_nodes, n_skus = on_hand.shape
    arrivals: dict[int, np.ndarray] = {}
    walkin_hist = deque(list(c.walkin_hist), maxlen=RATE_WINDOW_DAYS)
    online_hist = deque(list(c.online_hist), maxlen=RATE_WINDOW_DAYS)
    shipped_hist: deque[np.ndarray] = deque(maxlen=RATE_WINDOW_DAYS)
    tally = _Tally()
    for d, day in enumerate(season.days):
        on_hand += arrivals.pop(d, 0)
        in_transit = sum(arrivals.values(), np.zeros_like(on_hand))
        _replenish(c, d, on_hand, in_transit, arrivals, walkin_hist, online_hist, shipped_hist)
        view = StockView(c.network, season.skus, on_hand, np.zeros_like(on_hand),
                         np.zeros((n_nodes, n_skus)), {}, c.is_dc)
        walkin_mean = _walkin_mean(c, d, day, walkin_hist)
        if reserved:
            view.safety = _safety(c, walkin_mean, on_hand, config)
            view.opportunity_pln = _opportunity(c, walkin_mean, on_hand)
        shipped_today = np.zeros((len(season.stores), n_skus), np.int64)
        walkin_today = season.walkin[d].sum(axis=0)
        for slot in range(len(SLOT_HOURS)):
            returns: list[Decision] = []
            for sim in (o for o in season.orders[d] if o.slot == slot):
                try:
                    decisions = decide(sim.order, view)
                except OutOfStock:
                    tally.refused += 1
                    continue
                _take(c, season, decisions, on_hand, view.capacity, shipped_today, sign=1)
                if sim.cancelled:
                    tally.cancelled += 1
                    returns.extend(decisions)
                    continue
                _count_order(c, season, sim.order, decisions, tally)
                if reserved:
                    view.opportunity_pln = _opportunity(c, walkin_mean, on_hand)
            for decision in returns:
                _take(c, season, [decision], on_hand, None, shipped_today, sign=-1)
            _walk_in(c, season.walkin[d, slot], on_hand, tally)
        walkin_hist.append(walkin_today)
        online_hist.append(np.zeros_like(walkin_today) + _online_units(season, d))
        shipped_hist.append(shipped_today)
    return _result(policy, season, tally, time.perf_counter() - started)


def _take(c: _Chain, season: Season, decisions: Sequence[Decision],
          on_hand: np.ndarray, capacity: dict[str, int] | None, shipped: np.ndarray,
          sign: int) -> None:
    index = c.network.index
    sku_col = {s: i for i, s in enumerate(season.skus)}
    store_pos = {int(r): i for i, r in enumerate(c.store_rows)}
    for decision in decisions:
        for line in decision.lines:
            n = index[line.node_id]
            on_hand[n, sku_col[line.sku]] -= sign * line.qty
            if n in store_pos:
                shipped[store_pos[n], sku_col[line.sku]] += sign * line.qty
            if capacity is not None:
                node = c.network.nodes[n]
                capacity[line.node_id] = capacity.get(line.node_id,
                                                      node.pick_capacity_per_day) - 1
    if (on_hand < 0).any():
        raise AssertionError("a policy took more units than a node holds")


def _count_order(c: _Chain, season: Season, order: Order, decisions: Sequence[Decision],
                 tally: _Tally) -> None:
    sku_col = {s: i for i, s in enumerate(season.skus)}
    cash = 0.0
    parcels = 0
    on_time = True
    promise_by = order.promise_by
    for decision in decisions:
        cash += (decision.costs.shipping_pln + decision.costs.picking_pln
                 + decision.costs.transfer_pln)
        parcels += len(decision.parcels)
        for line in decision.lines:
            tally.online_margin_pln += c.margin[sku_col[line.sku]] * line.qty
            on_time = on_time and (promise_by is None or line.promised_at <= promise_by)
    tally.served += 1
    tally.cost_pln += cash
    tally.parcels += parcels
    tally.on_time += int(on_time)


def _walk_in(c: _Chain, demand: np.ndarray, on_hand: np.ndarray, tally: _Tally) -> None:
    shelf = on_hand[c.store_rows]
    sold = np.minimum(demand, shelf)
    lost = demand - sold
    on_hand[c.store_rows] = shelf - sold
    tally.walkin_units += int(demand.sum())
    tally.walkin_lost_units += int(lost.sum())
    tally.walkin_lost_pln += float((lost * c.price).sum())
    tally.walkin_lost_margin_pln += float((lost * c.margin).sum())
    tally.walkin_margin_pln += float((sold * c.margin).sum())


def _online_units(season: Season, d: int) -> np.ndarray:
    out = np.zeros((len(season.stores), len(season.skus)), np.int64)
    pos = {s: i for i, s in enumerate(season.stores)}
    col = {s: i for i, s in enumerate(season.skus)}
    for sim in season.orders[d]:
        for line in sim.order.lines:
            out[pos[sim.store], col[line.sku]] += line.qty
    return out


def _replenish(c: _Chain, d: int, on_hand: np.ndarray, in_transit: np.ndarray,
               arrivals: dict[int, np.ndarray], walkin_hist: deque[np.ndarray],
               online_hist: deque[np.ndarray], shipped_hist: deque[np.ndarray]) -> None:
    """Stores on their review day order up to target from their home DC; DCs weekly from
    suppliers. Stores are staggered over their review cycle by their position."""
    walkin_rate = np.mean(np.stack(walkin_hist), axis=0)
    shipped_rate = (np.mean(np.stack(shipped_hist), axis=0) * len(shipped_hist)
                    / RATE_WINDOW_DAYS) if shipped_hist else 0.0
    outbound = walkin_rate + shipped_rate
    reviewing = (d + np.arange(len(c.store_rows))) % c.review_days == 0
    delivery = np.zeros_like(on_hand)
    for s in np.flatnonzero(reviewing):
        row, dc = c.store_rows[s], c.home_row[s]
        target = np.ceil(outbound[s] * (c.review_days[s] + STORE_COVER_DAYS)).astype(np.int64)
        need = np.maximum(target - on_hand[row] - in_transit[row], 0)
        qty = np.minimum(need, on_hand[dc])
        on_hand[dc] -= qty
        delivery[row] += qty
    if delivery.any():
        arrivals[d + 1] = arrivals.get(d + 1, np.zeros_like(on_hand)) + delivery
    if d % DC_REVIEW_DAYS == 0:
        demand_rate = walkin_rate + np.mean(np.stack(online_hist), axis=0)
        supply = np.zeros_like(on_hand)
        for dc in c.dc_rows:
            served = demand_rate[c.home_row == dc].sum(axis=0)
            target = np.ceil(served * DC_COVER_DAYS).astype(np.int64)
            supply[dc] = np.maximum(target - on_hand[dc] - in_transit[dc], 0)
        arrivals[d + DC_LEAD_DAYS] = arrivals.get(d + DC_LEAD_DAYS,
                                                  np.zeros_like(on_hand)) + supply


def _horizon_days(c: _Chain, d: int, day: date) -> np.ndarray:
    """Open days from today until each store's next delivery arrives (today included)."""
    wait = (-(d + np.arange(len(c.store_rows)))) % c.review_days
    wait = np.where(wait == 0, c.review_days, wait) + 1
    opens = np.array([is_store_open(day + timedelta(days=k)) for k in range(int(wait.max()))])
    return np.array([opens[:w].sum() for w in wait], dtype=float)


def _walkin_mean(c: _Chain, d: int, day: date, walkin_hist: deque[np.ndarray]) -> np.ndarray:
    recent = np.stack(list(walkin_hist)[-OPPORTUNITY_WINDOW_DAYS:])
    rate = recent.mean(axis=0) * 7.0 / 6.0  # per open day (about one closed day a week)
    return rate * _horizon_days(c, d, day)[:, None]


def _opportunity(c: _Chain, mean: np.ndarray, on_hand: np.ndarray) -> np.ndarray:
    """Expected walk-in margin lost per unit taken from a store: margin x P(walk-in demand
    before the next delivery reaches the unit on top of the shelf) (Poisson). DCs cost
    nothing: in the replay 99.7% of lost walk-in units fall while the home DC holds the SKU
    (a DC term, margin x P(its stores' demand until the supplier delivery exceeds its stock),
    raised cost/order by 1 PLN and cut no lost sales)."""
    shelf = on_hand[c.store_rows]
    p = np.where(shelf > 0, pdtrc(np.maximum(shelf - 1, 0), np.maximum(mean, 1e-9)), 0.0)
    out = np.zeros(on_hand.shape)
    out[c.store_rows] = p * c.margin[None, :]
    return out


def _safety(c: _Chain, mean: np.ndarray, on_hand: np.ndarray,
            config: SimulationConfig) -> np.ndarray:
    """Safety stock per node x SKU for today (stores only; never more than on hand)."""
    safety = np.zeros_like(on_hand)
    safety[c.store_rows] = np.minimum(_safety_units(mean, config), on_hand[c.store_rows])
    return safety


def _safety_units(mean: np.ndarray, config: SimulationConfig) -> np.ndarray:
    """Units covering walk-in demand to the next delivery at the service level: planning's
    negative-binomial quantile when the planning package is there, else Poisson's."""
    try:
        from allocation.planning.demand import demand_quantile
    except ImportError:  # pragma: no cover - planning not installed
        from scipy.stats import poisson

        return np.asarray(poisson.ppf(config.service_level, np.maximum(mean, 1e-9)), np.int64)
    return np.asarray(demand_quantile(mean, config.dispersion, config.service_level), np.int64)


def _result(policy: str, season: Season, t: _Tally, seconds: float) -> PolicyResult:
    shipped = max(t.served, 1)
    margin = float(t.walkin_margin_pln + t.online_margin_pln - t.cost_pln)
    return PolicyResult(
        policy=policy,
        orders=season.n_orders,
        served=t.served,
        cancelled=t.cancelled,
        online_refused=t.refused,
        cost_per_order_pln=round(t.cost_pln / shipped, 4),
        parcels_per_order=round(t.parcels / shipped, 4),
        on_time_rate=round(t.on_time / shipped, 4),
        walkin_units=t.walkin_units,
        walkin_lost_units=t.walkin_lost_units,
        walkin_lost_pln=round(t.walkin_lost_pln, 2),
        walkin_lost_margin_pln=round(t.walkin_lost_margin_pln, 2),
        fulfilment_cost_pln=round(t.cost_pln, 2),
        cost_plus_lost_margin_pln=round(t.cost_pln + t.walkin_lost_margin_pln, 2),
        margin_pln=round(margin, 2),
        seconds=round(seconds, 2),
    )
