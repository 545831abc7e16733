"""The words of sourcing: nodes, SKUs, tariffs, orders, availability and the decision.

Small frozen values. The API builds a `Network` once per process (`network_from_frames`, from
the frames of docs/CONTRACTS.md), an `Order` and the `Availability` rows per request, and calls
`allocation.sourcing.source_order`, which returns a `Decision` or raises an `AllocationError`.
Money is PLN (float) here; the solver works in grosze.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from forecasting.calendar import is_public_holiday, is_store_open

NodeKind = Literal["dc", "store"]
Fulfilment = Literal["home_delivery", "parcel_locker", "click_and_collect"]
Method = Literal["home_delivery", "parcel_locker", "click_and_collect", "ship_from_store"]
Lane = Literal["dc_to_store", "store_to_store", "replenishment"]
Status = Literal["optimal", "feasible", "fallback"]


@dataclass(frozen=True, slots=True)
class Location:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Node:
    """A place stock sits and ships from. Hours are local (Europe/Warsaw) whole hours."""

    node_id: str
    kind: NodeKind
    location: Location
    pick_cost_pln: float
    pick_capacity_per_day: int
    opens_at_hour: int = 0
    closes_at_hour: int = 24
    replenishment_days: int = 7
    name: str = ""
    city: str = ""
    home_dc: str = ""  # the DC whose scheduled truck delivers to this store
    delivery_epoch: date | None = None  # a day a scheduled delivery arrived (then every
    # `replenishment_days` days); None: the schedule is unknown, no `replenishment` lane

    def is_open(self, day: date) -> bool:
        """Stores follow the retail calendar (holidays, the Sunday trading ban). DCs work
        every day except Polish public holidays: the ban covers shops, not warehouses."""
        if self.kind == "store":
            return is_store_open(day)
        return not is_public_holiday(day)


@dataclass(frozen=True, slots=True)
class Sku:
    sku: str
    weight_kg: float
    price_pln: float
    unit_cost_pln: float

    @property
    def margin_pln(self) -> float:
        return max(self.price_pln - self.unit_cost_pln, 0.0)


@dataclass(frozen=True, slots=True)
class ParcelRate:
    """One weight band x distance band of a courier or locker tariff."""

    method: Literal["home_delivery", "parcel_locker"]
    max_weight_kg: float
    max_distance_km: float
    price_pln: float
    transit_hours: float


@dataclass(frozen=True, slots=True)
class TransferRate:
    """Cost and lead time of moving units to a store for click-and-collect. Lanes:
    `dc_to_store` (a dedicated run, any DC), `store_to_store`, and the optional `replenishment`
    lane: units from the store's home DC ride its next scheduled delivery (`lead_time_hours`:
    the truck leaves that long before it arrives at opening), cheap but only as fast as the
    schedule."""

    lane: Lane
    fixed_cost_pln: float
    cost_per_unit_pln: float
    cost_per_km_pln: float
    lead_time_hours: float


@dataclass(frozen=True, slots=True)
class Locker:
    locker_id: str
    city: str
    location: Location


@dataclass(frozen=True, slots=True)
class OrderLine:
    line_id: str
    sku: str
    qty: int


@dataclass(frozen=True, slots=True)
class Order:
    """What the OMS asks for. `destination` is the door or the locker (home delivery, parcel
    locker); `pickup_store_id` the chosen store (click-and-collect). `placed_at` is tz-aware."""

    order_id: str
    fulfilment: Fulfilment
    lines: tuple[OrderLine, ...]
    placed_at: datetime
    destination: Location | None = None
    pickup_store_id: str | None = None
    promise_by: datetime | None = None
    max_parcels: int | None = None
    allow_partial: bool = False


@dataclass(frozen=True, slots=True)
class Availability:
    """Units a node may promise of a SKU now (on hand - reserved - safety stock), and the
    expected walk-in margin lost per unit taken (0 for DCs; see `allocation.opportunity`)."""

    node_id: str
    sku: str
    atp: int
    opportunity_cost_pln: float = 0.0


@dataclass(frozen=True, slots=True)
class CostWeights:
    """The tunable prices of the objective that are policy, not tariff."""

    split_pln: float = 6.0  # per parcel (or transfer) beyond the first
    lateness_pln_per_hour: float = 2.0  # per order-line part promised after `promise_by`
    store_pick_hours: float = 2.0  # from start of picking to ready to hand over
    dc_pick_hours: float = 4.0  # DC waves: picking, packing, hand-over to the courier


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """Every term of the objective, in PLN."""

    shipping_pln: float = 0.0
    picking_pln: float = 0.0
    split_pln: float = 0.0
    lateness_pln: float = 0.0
    opportunity_pln: float = 0.0
    transfer_pln: float = 0.0

    @property
    def total_pln(self) -> float:
        return round(
            self.shipping_pln + self.picking_pln + self.split_pln + self.lateness_pln
            + self.opportunity_pln + self.transfer_pln,
            2,
        )


@dataclass(frozen=True, slots=True)
class LineDecision:
    """Units of one order line served from one node (a line split over nodes gives several)."""

    line_id: str
    sku: str
    qty: int
    node_id: str
    method: Method
    promised_at: datetime
    cost_pln: float
    costs: CostBreakdown


@dataclass(frozen=True, slots=True)
class UnfulfilledLine:
    """Units of a line nobody can serve (only with `allow_partial`)."""

    line_id: str
    sku: str
    qty: int
    available: int


@dataclass(frozen=True, slots=True)
class Parcel:
    """One consignment from a node: parcels to the customer, or a transfer into the pickup
    store (or the pickup store's own shelf for click-and-collect). `boxes` is how many physical
    parcels it ships in (each within the carrier's heaviest weight band); `weight_kg` and
    `price_pln` are theirs together."""

    node_id: str
    method: Method
    weight_kg: float
    distance_km: float
    price_pln: float
    line_ids: tuple[str, ...]
    promised_at: datetime
    boxes: int = 1


@dataclass(frozen=True, slots=True)
class Plan:
    """A candidate plan in the explanation: who serves what, and what it costs."""

    assignments: tuple[tuple[str, str, int], ...]  # (line_id, node_id, qty)
    cost_pln: float
    costs: CostBreakdown


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why these nodes: the runner-up (best plan using another node for some line) and the
    greedy "nearest node with stock" plan, each with its cost difference to the decision."""

    runner_up: Plan | None
    runner_up_delta_pln: float | None
    greedy: Plan | None
    greedy_delta_pln: float | None
    candidates_considered: int
    text: str


@dataclass(frozen=True, slots=True)
class Decision:
    order_id: str
    status: Status
    lines: tuple[LineDecision, ...]
    unfulfilled: tuple[UnfulfilledLine, ...]
    parcels: tuple[Parcel, ...]
    total_cost_pln: float
    costs: CostBreakdown
    solve_ms: float
    explanation: Explanation


@dataclass(frozen=True, eq=False)
class Network:
    """Master data the solver reads on every order; build it once (`network_from_frames`).

    `walkin_units_per_day` (node_id, sku) -> mean walk-in units a day, the input of
    `allocation.opportunity` until the forecasts land.
    """

    nodes: tuple[Node, ...]
    skus: Mapping[str, Sku]
    parcel_rates: tuple[ParcelRate, ...]
    transfer_rates: Mapping[str, TransferRate]
    lockers: Mapping[str, Locker] = field(default_factory=dict)
    postcode_areas: Mapping[str, Location] = field(default_factory=dict)
    walkin_units_per_day: Mapping[tuple[str, str], float] = field(default_factory=dict)
    by_id: Mapping[str, Node] = field(init=False, repr=False)
    index: Mapping[str, int] = field(init=False, repr=False)
    lat_rad: np.ndarray = field(init=False, repr=False)
    lon_rad: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {n.node_id: n for n in self.nodes})
        object.__setattr__(self, "index", {n.node_id: i for i, n in enumerate(self.nodes)})
        object.__setattr__(
            self, "lat_rad", np.radians([n.location.lat for n in self.nodes], dtype=float)
        )
        object.__setattr__(
            self, "lon_rad", np.radians([n.location.lon for n in self.nodes], dtype=float)
        )

    def node(self, node_id: str) -> Node:
        return self.by_id[node_id]

    def is_open(self, node: Node, day: date) -> bool:
        return node.is_open(day)

    def locate_postcode(self, postcode: str) -> Location | None:
        """The centre of a Polish postcode's area (`00-950` -> area `00`), if known."""
        digits = "".join(ch for ch in postcode if ch.isdigit())
        return self.postcode_areas.get(digits[:2]) if len(digits) >= 2 else None

    def locate_locker(self, locker_id: str) -> Location | None:
        locker = self.lockers.get(locker_id)
        return locker.location if locker is not None else None


def _location(row: Mapping[Any, Any]) -> Location:
    return Location(float(row["lat"]), float(row["lon"]))


def _int(value: object, default: int) -> int:
    """An int from a frame cell, `default` for a missing one (None, NaN)."""
    if value is None or (isinstance(value, float) and value != value):
        return default
    return int(value)  # type: ignore[call-overload]


def _lane(name: str) -> Lane:
    if name == "dc_to_store":
        return "dc_to_store"
    return "replenishment" if name == "replenishment" else "store_to_store"


def _str(value: object) -> str:
    """A str from a frame cell, "" for a missing one (None, NaN)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _date(value: object) -> date | None:
    """A date from a frame cell (date, datetime, Timestamp or ISO text), None when missing."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def network_from_frames(
    nodes: pd.DataFrame,
    skus: pd.DataFrame,
    parcel_rates: pd.DataFrame,
    transfer_rates: pd.DataFrame,
    lockers: pd.DataFrame | None = None,
    postcode_areas: pd.DataFrame | None = None,
    demand_rates: pd.DataFrame | None = None,
) -> Network:
    """A `Network` from the demo-chain frames (or the same columns read from the database).

    `parcel_rates` keeps its row order per method: the first row whose bounds hold is the price.
    `demand_rates` (optional): `node_id`, `sku`, `walkin_units_per_day`.
    """
    node_values = tuple(
        Node(
            node_id=str(r["node_id"]),
            kind="dc" if r["kind"] == "dc" else "store",
            location=_location(r),
            pick_cost_pln=float(r["pick_cost_pln"]),
            pick_capacity_per_day=int(r["pick_capacity_per_day"]),
            opens_at_hour=_int(r.get("opens_at_hour"), 0),
            closes_at_hour=_int(r.get("closes_at_hour"), 24),
            replenishment_days=_int(r.get("replenishment_days"), 7),
            name=str(r.get("name") or ""),
            city=str(r.get("city") or ""),
            home_dc=_str(r.get("home_dc")),
            delivery_epoch=_date(r.get("delivery_epoch")),
        )
        for r in nodes.to_dict("records")
    )
    sku_values = {
        str(r["sku"]): Sku(
            sku=str(r["sku"]),
            weight_kg=float(r["weight_kg"]),
            price_pln=float(r["price_pln"]),
            unit_cost_pln=float(r["unit_cost_pln"]),
        )
        for r in skus.to_dict("records")
    }
    rates = tuple(
        ParcelRate(
            method="parcel_locker" if r["method"] == "parcel_locker" else "home_delivery",
            max_weight_kg=float(r["max_weight_kg"]),
            max_distance_km=float(r["max_distance_km"]),
            price_pln=float(r["price_pln"]),
            transit_hours=float(r["transit_hours"]),
        )
        for r in parcel_rates.to_dict("records")
    )
    transfers = {
        str(r["lane"]): TransferRate(
            lane=_lane(str(r["lane"])),
            fixed_cost_pln=float(r["fixed_cost_pln"]),
            cost_per_unit_pln=float(r["cost_per_unit_pln"]),
            cost_per_km_pln=float(r["cost_per_km_pln"]),
            lead_time_hours=float(r["lead_time_hours"]),
        )
        for r in transfer_rates.to_dict("records")
    }
    locker_values = {
        str(r["locker_id"]): Locker(str(r["locker_id"]), str(r.get("city", "")), _location(r))
        for r in (lockers.to_dict("records") if lockers is not None else [])
    }
    areas = {
        str(r["postcode_prefix"]).zfill(2): _location(r)
        for r in (postcode_areas.to_dict("records") if postcode_areas is not None else [])
    }
    walkin = {
        (str(r["node_id"]), str(r["sku"])): float(r["walkin_units_per_day"])
        for r in (demand_rates.to_dict("records") if demand_rates is not None else [])
    }
    return Network(
        nodes=node_values,
        skus=sku_values,
        parcel_rates=rates,
        transfer_rates=transfers,
        lockers=locker_values,
        postcode_areas=areas,
        walkin_units_per_day=walkin,
    )
