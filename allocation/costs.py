"""The cost model of one order: every term in grosze, a plan evaluated the same way by the
exact search, the CP-SAT model, the greedy rule and the explanation.

A plan is a list of parts `(line_index, node_index, qty)`. Terms:
- shipping: per shipping node one parcel priced by the tariff row of its weight band and its
  distance band to the destination (heavier than the top band: full top-band parcels plus one
  for the rest);
- picking: the node's pick cost per line part;
- split: `CostWeights.split_pln` per parcel (or transfer) beyond the first;
- lateness: `lateness_pln_per_hour` x hours past `promise_by`, per line part;
- opportunity: ATP row's walk-in opportunity cost per unit taken from a store;
- transfer (click-and-collect from another node): fixed + per unit + per km of the lane.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from allocation.model import CostBreakdown, Network

Part = tuple[int, int, int]  # (line index, node index, qty)
Bands = tuple[tuple[int, int], ...]  # (max weight in grams, price in grosze), lightest first


def grosze(pln: float) -> int:
    return int(round(pln * 100.0))


@dataclass(frozen=True, slots=True)
class DistanceBand:
    max_distance_km: float
    transit_hours: float
    bands: Bands


@lru_cache(maxsize=16)
def tariff(network: Network, method: str) -> tuple[DistanceBand, ...]:
    """The method's rows grouped by distance band (nearest first), weight bands inside."""
    by_distance: dict[float, list[tuple[float, float, float]]] = {}
    for rate in network.parcel_rates:
        if rate.method == method:
            by_distance.setdefault(rate.max_distance_km, []).append(
                (rate.max_weight_kg, rate.price_pln, rate.transit_hours)
            )
    out = []
    for max_km in sorted(by_distance):
        rows = sorted(by_distance[max_km])
        out.append(
            DistanceBand(
                max_distance_km=max_km,
                transit_hours=rows[0][2],
                bands=tuple((int(round(w * 1000)), grosze(p)) for w, p, _ in rows),
            )
        )
    if not out:
        raise ValueError(f"no parcel rates for {method}")
    return tuple(out)


def distance_band(network: Network, method: str, distance_km: float) -> DistanceBand:
    """The first distance band that holds (the farthest one beyond the table's reach)."""
    table = tariff(network, method)
    for band in table:
        if distance_km <= band.max_distance_km:
            return band
    return table[-1]


def parcel_price(bands: Bands, weight_g: int) -> tuple[int, int]:
    """(price in grosze, number of parcels) for `weight_g` grams shipped from one node."""
    top_weight, top_price = bands[-1]
    full = 0
    if weight_g > top_weight:
        full = (weight_g - 1) // top_weight
        weight_g -= full * top_weight
    for max_weight, price in bands:
        if weight_g <= max_weight:
            return full * top_price + price, full + 1
    return (full + 1) * top_price, full + 1  # unreachable: weight_g <= top_weight here


@dataclass(slots=True)
class Terms:
    """Mutable accumulator of the objective's terms, in grosze."""

    shipping: int = 0
    picking: int = 0
    split: int = 0
    lateness: int = 0
    opportunity: int = 0
    transfer: int = 0

    @property
    def total(self) -> int:
        return (
            self.shipping + self.picking + self.split + self.lateness + self.opportunity
            + self.transfer
        )

    def add(self, other: Terms, share: float = 1.0) -> None:
        self.shipping += int(round(other.shipping * share))
        self.picking += int(round(other.picking * share))
        self.split += int(round(other.split * share))
        self.lateness += int(round(other.lateness * share))
        self.opportunity += int(round(other.opportunity * share))
        self.transfer += int(round(other.transfer * share))

    def breakdown(self) -> CostBreakdown:
        return CostBreakdown(
            shipping_pln=self.shipping / 100.0,
            picking_pln=self.picking / 100.0,
            split_pln=self.split / 100.0,
            lateness_pln=self.lateness / 100.0,
            opportunity_pln=self.opportunity / 100.0,
            transfer_pln=self.transfer / 100.0,
        )


def sum_terms(terms: Sequence[Terms]) -> Terms:
    total = Terms()
    for t in terms:
        total.add(t)
    return total
