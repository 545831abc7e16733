"""A season of demand to replay: online orders and walk-in units, the same for every policy.

The demo chain's held-out `future_sales` is the truth. Online units of one store catchment and
day are shuffled into baskets of 1-3 lines (the mix of a fashion/electronics e-shop) and placed
in one of the day's four slots; each basket gets a fulfilment method (courier, parcel locker,
click-and-collect at the catchment's store) and a destination in the store's postcode area or
a nearby locker. Walk-in units are split over the same slots. A few orders are cancelled.
Everything is drawn from one seeded generator, so every policy sees identical demand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from allocation.model import Fulfilment, Location, Order, OrderLine
from data.demo_chain import DemoChain
from forecasting.vocabulary import WARSAW

SLOT_HOURS: tuple[int, ...] = (9, 12, 15, 18)  # local hour at which each slot starts
BASKET_LINES = (1, 2, 3)
BASKET_SHARES = (0.65, 0.25, 0.10)
FULFILMENT_SHARES: dict[Fulfilment, float] = {
    "home_delivery": 0.55,
    "parcel_locker": 0.30,
    "click_and_collect": 0.15,
}
CANCEL_RATE = 0.03
PROMISE_DAYS = 2  # the e-shop promises delivery by 22:00 on the second day after the order


@dataclass(frozen=True)
class SimOrder:
    """An online order placed in slot `slot` of day `day`; `cancelled` ones release their units."""

    order: Order
    store: str  # the catchment the customer lives in
    day: int
    slot: int
    cancelled: bool


@dataclass(frozen=True)
class Season:
    """`days`: the replayed dates; `walkin[d, s, store, sku]`: walk-in units per day and slot;
    `orders[d]`: the orders of day d in arrival order; `stores`, `skus`: the axes' ids."""

    days: tuple[date, ...]
    stores: tuple[str, ...]
    skus: tuple[str, ...]
    walkin: np.ndarray
    orders: tuple[tuple[SimOrder, ...], ...]

    @property
    def n_orders(self) -> int:
        return sum(len(day) for day in self.orders)


def build_season(chain: DemoChain, weeks: int = 8, seed: int = 0,
                 order_sample: float = 1.0) -> Season:
    """The first `weeks` weeks after `chain.as_of`. `order_sample` < 1 keeps that share of the
    online baskets (for quick runs); walk-in demand is always complete."""
    rng = np.random.default_rng([seed, 11])
    start = chain.as_of + timedelta(days=1)
    days = tuple(start + timedelta(days=k) for k in range(7 * weeks))
    stores = tuple(chain.nodes.loc[chain.nodes["kind"] == "store", "node_id"].astype(str))
    skus = tuple(chain.skus["sku"].astype(str))
    future = chain.future_sales
    future = future.loc[(future["date"] >= pd.Timestamp(days[0]))
                        & (future["date"] <= pd.Timestamp(days[-1]))]
    walkin = _walkin_slots(future.loc[future["channel"] == "store"], days, stores, skus, rng)
    places = _places(chain)
    online = future.loc[future["channel"] == "online"]
    orders = _orders(online, days, places, rng, order_sample)
    return Season(days, stores, skus, walkin, orders)


def _walkin_slots(rows: pd.DataFrame, days: tuple[date, ...], stores: tuple[str, ...],
                  skus: tuple[str, ...], rng: np.random.Generator) -> np.ndarray:
    daily = np.zeros((len(days), len(stores), len(skus)), dtype=np.int64)
    d = (rows["date"] - pd.Timestamp(days[0])).dt.days.to_numpy()
    s = pd.Index(stores).get_indexer(pd.Index(rows["node_id"].astype(str)))
    k = pd.Index(skus).get_indexer(pd.Index(rows["sku"].astype(str)))
    np.add.at(daily, (d, s, k), rows["units"].to_numpy(np.int64))
    slots = len(SLOT_HOURS)
    share = np.full(slots, 1.0 / slots)
    split = rng.multinomial(daily, share)  # (days, stores, skus, slots)
    return np.moveaxis(split, -1, 1).astype(np.int64)


@dataclass(frozen=True)
class _Place:
    home: Location
    lockers: tuple[Location, ...]


def _places(chain: DemoChain) -> dict[str, _Place]:
    """Per store: the centre of the nearest postcode area and the three nearest lockers."""
    stores = chain.nodes.loc[chain.nodes["kind"] == "store"]
    areas = chain.postcode_areas[["lat", "lon"]].to_numpy(float)
    lockers = chain.lockers[["lat", "lon"]].to_numpy(float)
    out: dict[str, _Place] = {}
    for row in stores.itertuples():
        here = np.array([row.lat, row.lon], dtype=float)
        area = areas[np.argmin(((areas - here) ** 2).sum(axis=1))]
        near = lockers[np.argsort(((lockers - here) ** 2).sum(axis=1), kind="stable")[:3]]
        out[str(row.node_id)] = _Place(
            Location(float(area[0]), float(area[1])),
            tuple(Location(float(a), float(b)) for a, b in near),
        )
    return out


def _orders(rows: pd.DataFrame, days: tuple[date, ...], places: dict[str, _Place],
            rng: np.random.Generator, sample: float) -> tuple[tuple[SimOrder, ...], ...]:
    methods = list(FULFILMENT_SHARES)
    method_p = np.array(list(FULFILMENT_SHARES.values()))
    by_day: list[list[SimOrder]] = [[] for _ in days]
    rows = rows.sort_values(["date", "node_id", "sku"], kind="stable")
    for (day_ts, store), group in rows.groupby(["date", "node_id"], sort=True):
        d = (pd.Timestamp(str(day_ts)).date() - days[0]).days
        tokens = np.repeat(group["sku"].astype(str).to_numpy(), group["units"].to_numpy(int))
        tokens = tokens[rng.permutation(len(tokens))]
        at = 0
        while at < len(tokens):
            n = int(rng.choice(BASKET_LINES, p=BASKET_SHARES))
            basket, at = tokens[at:at + n], at + n
            slot = int(rng.integers(len(SLOT_HOURS)))
            minute = int(rng.integers(180))
            method = methods[int(rng.choice(len(methods), p=method_p))]
            locker = int(rng.integers(3))
            cancelled = bool(rng.random() < CANCEL_RATE)
            keep = bool(rng.random() < sample)
            if not keep:
                continue
            order_id = f"{days[d].isoformat()}-{store}-{len(by_day[d]):04d}"
            order = _order(order_id, basket, days[d], slot, minute, method, str(store),
                           places[str(store)], locker)
            by_day[d].append(SimOrder(order, str(store), d, slot, cancelled))
    return tuple(tuple(sorted(day, key=lambda o: (o.slot, o.order.placed_at))) for day in by_day)


def _order(order_id: str, basket: np.ndarray, day: date, slot: int, minute: int,
           method: Fulfilment, store: str, place: _Place, locker: int) -> Order:
    skus, qty = np.unique(basket, return_counts=True)
    lines = tuple(OrderLine(f"L{i + 1}", str(s), int(q)) for i, (s, q) in
                  enumerate(zip(skus, qty, strict=True)))
    placed = datetime(day.year, day.month, day.day, SLOT_HOURS[slot], tzinfo=WARSAW) + timedelta(
        minutes=minute)
    promise = datetime(day.year, day.month, day.day, 22, tzinfo=WARSAW) + timedelta(
        days=PROMISE_DAYS)
    if method == "click_and_collect":
        return Order(order_id, method, lines, placed, pickup_store_id=store, promise_by=promise,
                     max_parcels=3)
    destination = place.home if method == "home_delivery" else place.lockers[locker]
    return Order(order_id, method, lines, placed, destination=destination, promise_by=promise,
                 max_parcels=3)
