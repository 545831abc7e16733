"""One order's sourcing problem: its lines, the nodes that may serve them (`Source`, built
lazily: only the few candidates and the greedy rule's nodes pay for promise dates), and the
evaluation of a plan into cost terms, parcels and promises."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from allocation.costs import (
    Bands,
    DistanceBand,
    Part,
    Terms,
    distance_band,
    grosze,
    parcel_price,
    tariff,
)
from allocation.errors import InvalidOrder, UnknownReference
from allocation.geo import haversine_km
from allocation.model import (
    Availability,
    CostWeights,
    Location,
    Method,
    Network,
    Node,
    Order,
)
from allocation.promise import delivered_at, hours_late, ready_at, scheduled_arrival


@dataclass(frozen=True, slots=True)
class LineSpec:
    line_id: str
    sku: str
    qty: int
    unit_weight_g: int


@dataclass(frozen=True, slots=True)
class Source:
    """A node as a source for this order: how it serves, when, and its fixed prices."""

    node: Node
    method: Method
    distance_km: float  # to the door/locker, or to the pickup store for a transfer
    promised_at: datetime
    late_g: int  # lateness cost of one line part served from here
    pick_g: int
    capacity: int  # line parts it can still pick today
    bands: Bands  # parcel tariff at this distance (empty for click-and-collect)
    transfer_fixed_g: int  # click-and-collect from another node: fixed + distance part
    transfer_unit_g: int


@dataclass(frozen=True, slots=True)
class NodeUse:
    """What one node does in a plan."""

    node_index: int
    parts: tuple[Part, ...]
    weight_g: int
    parcels: int
    terms: Terms


@dataclass(frozen=True, slots=True)
class Evaluation:
    parts: tuple[Part, ...]
    total_g: int
    terms: Terms
    parcels: int
    uses: tuple[NodeUse, ...]
    feasible: bool  # ATP, capacity and max parcels hold


@dataclass(eq=False)
class Problem:
    order: Order
    network: Network
    weights: CostWeights
    lines: tuple[LineSpec, ...]
    atp: dict[tuple[str, int], int]  # (sku, node index) -> units
    opp_g: dict[tuple[str, int], int]  # (sku, node index) -> grosze per unit
    atp_by_sku: dict[str, np.ndarray]  # sku -> units per node index (for vectorised scans)
    opp_by_sku: dict[str, np.ndarray]  # sku -> grosze per unit per node index
    capacity: Mapping[str, int]
    distances_km: np.ndarray
    pickup_index: int | None
    _sources: dict[int, Source | None] = field(default_factory=dict)

    @property
    def max_parcels(self) -> int | None:
        return self.order.max_parcels

    def available(self, sku: str) -> int:
        return int(self.atp_by_sku[sku].sum())

    def nodes_with(self, sku: str) -> list[int]:
        return [int(n) for n in np.flatnonzero(self.atp_by_sku[sku] > 0)]

    def source(self, n: int) -> Source | None:
        """The node as a source, or None when it cannot serve (no capacity, never open)."""
        if n not in self._sources:
            self._sources[n] = self._build_source(n)
        return self._sources[n]

    def _build_source(self, n: int) -> Source | None:
        node = self.network.nodes[n]
        order, weights = self.order, self.weights
        capacity = self.capacity.get(node.node_id, node.pick_capacity_per_day)
        if capacity <= 0:
            return None
        pick_hours = weights.store_pick_hours if node.kind == "store" else weights.dc_pick_hours
        distance = float(self.distances_km[n])
        try:
            ready = ready_at(node, order.placed_at, pick_hours)
            bands: Bands = ()
            fixed = unit = 0
            method: Method
            if order.fulfilment == "click_and_collect":
                method = "click_and_collect"
                pickup = self.network.nodes[self.pickup_index or 0]
                promised = ready
                if n != self.pickup_index:
                    lane = "dc_to_store" if node.kind == "dc" else "store_to_store"
                    rate = self.network.transfer_rates[lane]
                    arrives = ready + timedelta(hours=rate.lead_time_hours)
                    promised = ready_at(pickup, arrives, 0.0)
                    fixed = grosze(rate.fixed_cost_pln + rate.cost_per_km_pln * distance)
                    unit = grosze(rate.cost_per_unit_pln)
                    truck = self._scheduled_truck(node, pickup, ready, distance)
                    if truck is not None and self._takes_truck(truck, promised, fixed):
                        promised, fixed, unit = truck
            else:
                band = distance_band(self.network, order.fulfilment, distance)
                bands = band.bands
                promised = delivered_at(ready, band.transit_hours)
                method = "ship_from_store" if node.kind == "store" else order.fulfilment
        except ValueError:
            return None
        return Source(
            node=node,
            method=method,
            distance_km=distance,
            promised_at=promised,
            late_g=self._late_g(promised),
            pick_g=grosze(node.pick_cost_pln),
            capacity=capacity,
            bands=bands,
            transfer_fixed_g=fixed,
            transfer_unit_g=unit,
        )

    def _late_g(self, promised: datetime) -> int:
        late = hours_late(promised, self.order.promise_by)
        return grosze(late * self.weights.lateness_pln_per_hour)

    def _takes_truck(self, truck: tuple[datetime, int, int], run: datetime, run_g: int) -> bool:
        """Service first: the truck when it keeps the promise, or when the dedicated run is
        late too and the truck costs less with its lateness; never a promise broken to save
        money (the lateness weight alone would trade a day late for a dedicated run)."""
        truck_late, run_late = self._late_g(truck[0]), self._late_g(run)
        if truck_late == 0:
            return truck[1] <= run_g or run_late > 0
        return run_late > 0 and truck[1] + truck_late < run_g + run_late

    def _scheduled_truck(
        self, node: Node, pickup: Node, ready: datetime, distance: float
    ) -> tuple[datetime, int, int] | None:
        """(promise, fixed grosze, grosze per unit) of the `replenishment` lane from `node`,
        when it is the pickup store's home DC and the store's delivery schedule is known."""
        rate = self.network.transfer_rates.get("replenishment")
        if rate is None or node.kind != "dc" or node.node_id != pickup.home_dc:
            return None
        arrives = scheduled_arrival(pickup, ready, rate.lead_time_hours)
        if arrives is None:
            return None
        fixed = grosze(rate.fixed_cost_pln + rate.cost_per_km_pln * distance)
        return arrives, fixed, grosze(rate.cost_per_unit_pln)

    def evaluate(self, parts: Iterable[Part]) -> Evaluation:
        """Cost terms, parcels and feasibility of a plan (parts with qty 0 are dropped)."""
        by_node: dict[int, list[Part]] = {}
        for part in parts:
            if part[2] > 0:
                by_node.setdefault(part[1], []).append(part)
        uses: list[NodeUse] = []
        total = Terms()
        parcels = 0
        feasible = True
        taken: dict[tuple[str, int], int] = {}
        for n, node_parts in by_node.items():
            src = self.source(n)
            if src is None:
                feasible = False
                continue
            use = self._node_use(n, src, node_parts, taken)
            feasible = feasible and len(node_parts) <= src.capacity
            uses.append(use)
            parcels += use.parcels
            total.add(use.terms)
        feasible = feasible and all(q <= self.atp.get(k, 0) for k, q in taken.items())
        if self.max_parcels is not None and parcels > self.max_parcels:
            feasible = False
        split = max(parcels - 1, 0) * grosze(self.weights.split_pln)
        total.split = split
        all_parts = tuple(p for use in uses for p in use.parts)
        return Evaluation(all_parts, total.total, total, parcels, tuple(uses), feasible)

    def _node_use(
        self, n: int, src: Source, parts: Sequence[Part], taken: dict[tuple[str, int], int]
    ) -> NodeUse:
        terms = Terms()
        weight = 0
        units = 0
        for line_index, _, qty in parts:
            line = self.lines[line_index]
            key = (line.sku, n)
            taken[key] = taken.get(key, 0) + qty
            weight += line.unit_weight_g * qty
            units += qty
            terms.picking += src.pick_g
            terms.lateness += src.late_g
            terms.opportunity += self.opp_g.get(key, 0) * qty
        parcels = 1
        if src.bands:
            terms.shipping, parcels = parcel_price(src.bands, weight)
        elif src.transfer_fixed_g or src.transfer_unit_g:
            terms.transfer = src.transfer_fixed_g + src.transfer_unit_g * units
        return NodeUse(n, tuple(parts), weight, parcels, terms)


def build_problem(
    order: Order,
    network: Network,
    availability: Iterable[Availability],
    capacity: Mapping[str, int] | None,
    weights: CostWeights,
) -> Problem:
    """Check the order against the network and gather what the solvers read."""
    if not order.lines:
        raise InvalidOrder("/lines", "an order needs at least one line")
    if order.placed_at.tzinfo is None:
        raise InvalidOrder("/placed_at", "placed_at must be timezone-aware")
    if order.promise_by is not None and order.promise_by.tzinfo is None:
        raise InvalidOrder("/promise_by", "promise_by must be timezone-aware")
    if order.promise_by is not None and order.promise_by < order.placed_at:
        raise InvalidOrder(
            "/promise_by",
            f"promise_by {order.promise_by.isoformat()} lies before the order was placed "
            f"({order.placed_at.isoformat()}): every plan would be late",
        )
    if order.max_parcels is not None and order.max_parcels < 1:
        raise InvalidOrder("/max_parcels", "max_parcels must be at least 1")
    lines = []
    seen: set[str] = set()
    for i, line in enumerate(order.lines):
        sku = network.skus.get(line.sku)
        if sku is None:
            raise UnknownReference("sku", line.sku, f"/lines/{i}/sku")
        if line.qty < 1:
            raise InvalidOrder(f"/lines/{i}/qty", "qty must be at least 1")
        if line.line_id in seen:
            raise InvalidOrder(f"/lines/{i}/line_id", f"line_id {line.line_id!r} repeats")
        seen.add(line.line_id)
        lines.append(LineSpec(line.line_id, line.sku, line.qty, int(round(sku.weight_kg * 1000))))
    pickup_index = None
    if order.fulfilment == "click_and_collect":
        if order.pickup_store_id is None:
            raise InvalidOrder("/pickup_store_id", "click-and-collect needs pickup_store_id")
        pickup_index = network.index.get(order.pickup_store_id)
        if pickup_index is None or network.nodes[pickup_index].kind != "store":
            raise UnknownReference("store", order.pickup_store_id, "/pickup_store_id")
        to = network.nodes[pickup_index].location
    else:
        if order.destination is None:
            raise InvalidOrder("/destination", f"{order.fulfilment} needs a destination")
        to = order.destination
    skus = {line.sku for line in lines}
    atp: dict[tuple[str, int], int] = {}
    opp: dict[tuple[str, int], int] = {}
    index = network.index
    for row in availability:
        if row.atp <= 0 or row.sku not in skus:
            continue
        n = index.get(row.node_id)
        if n is None:
            continue
        key = (row.sku, n)
        atp[key] = atp.get(key, 0) + row.atp
        if row.opportunity_cost_pln:
            opp[key] = int(round(row.opportunity_cost_pln * 100.0))
    size = len(network.nodes)
    atp_by_sku = {s: np.zeros(size, dtype=np.int64) for s in skus}
    opp_by_sku = {s: np.zeros(size, dtype=np.int64) for s in skus}
    for (s, n), units in atp.items():
        atp_by_sku[s][n] = units
    for (s, n), cost in opp.items():
        opp_by_sku[s][n] = cost
    distances_km = haversine_km(network.lat_rad, network.lon_rad, to)
    if pickup_index is None:
        _check_reach(network, order.fulfilment, to, distances_km)
        if not order.allow_partial:
            _check_parcel_limit(network, order, lines)
    return Problem(
        order=order,
        network=network,
        weights=weights,
        lines=tuple(lines),
        atp=atp,
        opp_g=opp,
        atp_by_sku=atp_by_sku,
        opp_by_sku=opp_by_sku,
        capacity=capacity or {},
        distances_km=distances_km,
        pickup_index=pickup_index,
    )


def _check_parcel_limit(network: Network, order: Order, lines: Sequence[LineSpec]) -> None:
    """Refuse an order heavier than `max_parcels` of the heaviest parcel the tariff takes.

    No split over nodes helps (each node packs its own parcels), so without this the solvers
    find no plan and the order would be reported short of stock it does not lack."""
    heaviest_g = heaviest_parcel_g(network, order.fulfilment)
    if order.max_parcels is None or heaviest_g is None:
        return
    weight_g = sum(line.unit_weight_g * line.qty for line in lines)
    fewest = -(-weight_g // heaviest_g)
    if fewest > order.max_parcels:
        raise InvalidOrder(
            "/max_parcels",
            f"the order weighs {weight_g / 1000:,.1f} kg: it needs at least {fewest} parcels "
            f"of at most {heaviest_g / 1000:g} kg ({order.fulfilment}), more than max_parcels "
            f"{order.max_parcels} allows",
        )


def heaviest_parcel_g(network: Network, method: str) -> int | None:
    """Grams the heaviest parcel of the method's tariff carries (None: no tariff, as for
    click-and-collect)."""
    table = _tariff(network, method)
    return None if table is None else max(band.bands[-1][0] for band in table)


def _tariff(network: Network, method: str) -> tuple[DistanceBand, ...] | None:
    """The method's tariff (`allocation.costs.tariff`, cached per network), or None."""
    try:
        return tariff(network, method)
    except ValueError:  # no parcel rates for the method
        return None


def _check_reach(network: Network, method: str, to: Location, distances_km: np.ndarray) -> None:
    """Refuse a parcel destination beyond the carrier tariff's farthest band from every node.

    The tariff prices anything past its last band as that band, so a destination on another
    continent (most often latitude and longitude swapped) would otherwise be "delivered" at the
    price and transit time of a domestic parcel."""
    table = _tariff(network, method)
    if table is None or distances_km.size == 0:
        return
    reach = table[-1].max_distance_km
    nearest = float(distances_km.min())
    if nearest > reach:
        raise InvalidOrder(
            "/destination",
            f"destination ({to.lat:.4f}, {to.lon:.4f}) lies {nearest:,.0f} km from the nearest "
            f"node, beyond the {method} tariff's reach of {reach:,.0f} km "
            "(are lat and lon swapped?)",
        )
