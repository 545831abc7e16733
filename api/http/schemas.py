"""Request and response bodies of the public API (pydantic), apart from the ORM rows.

Field names are the external contract the OMS codes against (issue 4); extend, never rename.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from api.services import sales_feed

Fulfilment = Literal["home_delivery", "parcel_locker", "click_and_collect"]
Method = Literal["home_delivery", "parcel_locker", "click_and_collect", "ship_from_store"]
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$")]
Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._:\-]+$")]
POSTCODE_PATTERN = r"^\d{2}-?\d{3}$"
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
MAX_UNITS = 1_000_000_000  # fits a 32-bit INTEGER column with room to spare
MAX_VERSION = 2**63 - 1  # a BIGINT
MAX_PARCELS = 20  # per order, the most an OMS may allow
MAX_SALES_ROWS = 10_000  # a POS day of a big store fits; history goes through `omni sales import`


def _this_century(value: datetime) -> datetime:
    """Instants far outside trading history are typos (and overflow on conversion to UTC)."""
    if not EARLIEST <= value <= LATEST:
        raise ValueError("must lie between 2000-01-01 and 2100-01-01")
    return value


Instant = Annotated[AwareDatetime, AfterValidator(_this_century)]
CLOCK_SKEW = timedelta(days=1)  # a till's clock or time zone set wrong by hours still passes


def _not_ahead(value: datetime) -> datetime:
    """What a till or a warehouse reports has happened: an instant well in the future is a
    clock or typing error, and would date the movement after the counts that follow it."""
    if value > datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError("lies in the future: a movement reports what has happened")
    return value


PastInstant = Annotated[AwareDatetime, AfterValidator(_this_century), AfterValidator(_not_ahead)]


class Strict(BaseModel):
    """Request bodies refuse unknown fields: a typo should be a 422, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Destination(Strict):
    """Where the parcel goes: a Polish postcode, coordinates, or both (coordinates win).
    A point beyond the carrier tariff's reach from every node is refused (422)."""

    postcode: str | None = Field(default=None, pattern=POSTCODE_PATTERN, examples=["00-950"])
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @model_validator(mode="after")
    def _postcode_or_coordinates(self) -> Self:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        if self.postcode is None and self.lat is None:
            raise ValueError("give a postcode or lat and lon")
        return self


class LineIn(Strict):
    line_id: Identifier
    sku: Code
    qty: int = Field(ge=1, le=10_000)


class AllocationCreate(Strict):
    """An order the OMS wants sourced and reserved."""

    order_id: Identifier
    fulfilment: Fulfilment
    destination: Destination | None = None
    pickup_store_id: Code | None = Field(default=None, description=(
        "The store a click_and_collect order is picked up at (required there; refused with "
        "any other method)"))
    locker_id: Code | None = Field(default=None, description=(
        "The parcel locker of a parcel_locker order (else its destination is used; refused "
        "with any other method)"))
    lines: list[LineIn] = Field(min_length=1, max_length=100)
    promise_by: Instant | None = Field(default=None, description=(
        "the latest delivery the customer was promised; each hour past it is charged as "
        "lateness. One before the order is placed is refused (422)"))
    max_parcels: int | None = Field(default=None, ge=1, le=MAX_PARCELS)
    allow_partial: bool = False
    deadline_ms: int | None = Field(default=None, ge=1, le=5_000)


class AllocatedLine(BaseModel):
    """One line (or part of it, when split over nodes) with where it ships from and its cost."""

    line_id: str
    sku: str
    qty: int
    node_id: str | None
    method: Method | None
    promised_at: datetime | None
    cost_pln: float
    status: Literal["allocated", "unfulfilled"] = "allocated"
    costs: dict[str, float] | None = None
    available: int | None = None


class Parcel(BaseModel):
    """One consignment from a node; `weight_kg` and `price_pln` are its boxes' together."""

    node_id: str
    method: Method
    weight_kg: float
    distance_km: float
    price_pln: float
    line_ids: list[str]
    promised_at: datetime
    boxes: int = Field(default=1, ge=1, description="physical parcels the consignment ships "
                       "in, each within the carrier's heaviest weight band (1 for decisions "
                       "recorded before this was reported)")


class AllocationOut(BaseModel):
    """The decision: `status` is the solver's (optimal, feasible, fallback); `state` the order's."""

    order_id: str
    status: str = Field(description=(
        "optimal: no plan that ships each line whole from one node costs less, over every node "
        "of the network (when a line must be split, because no node holds it whole, or the "
        "order is served in part: none over the candidate nodes the explanation names); "
        "feasible: a valid plan found within the deadline whose optimality was not proven; "
        "fallback: the solvers having found none in time, the greedy rule's plan (each line "
        "from the nearest node holding it), or when that breaks max_parcels, the fewest nodes "
        "holding the lines"))
    state: Literal["allocated", "partial", "cancelled", "shipped", "expired"]
    fulfilment: Fulfilment
    locker_id: str | None = Field(default=None, description=(
        "the parcel locker it goes to: the one sent, or for a parcel_locker order sent with "
        "only a destination, the locker nearest it"))
    lines: list[AllocatedLine]
    parcels: list[Parcel]
    total_cost_pln: float
    costs: dict[str, float]
    solve_ms: float
    explanation: dict[str, Any]
    expires_at: datetime | None = None


class StockItem(Strict):
    node_id: Code
    sku: Code
    on_hand: int = Field(ge=0, le=MAX_UNITS)
    safety_stock: int | None = Field(default=None, ge=0, le=MAX_UNITS)


class StockSnapshot(Strict):
    """A bulk stock count from WMS/POS; `version` must exceed the last applied one per row."""

    version: int = Field(ge=1, le=MAX_VERSION)
    counted_at: PastInstant | None = Field(default=None, description=(
        "when the units were counted. Given, each row's on hand becomes the count plus the "
        "sales and receipts recorded after that moment, and movements from before it that "
        "arrive later are recorded without being applied again (the count holds them). "
        "Left out, the count is taken as it stands and every movement is applied"))
    items: list[StockItem] = Field(min_length=1, max_length=100_000)


class SnapshotResult(BaseModel):
    version: int
    applied: int
    unchanged: int


class MovementIn(Strict):
    """A walk-in sale (on hand down) or a receipt (on hand up); the id makes a retry harmless."""

    movement_id: Identifier
    node_id: Code
    sku: Code
    kind: Literal["sale", "receipt"]
    qty: int = Field(ge=1, le=1_000_000)
    occurred_at: PastInstant


class Movements(Strict):
    movements: list[MovementIn] = Field(min_length=1, max_length=10_000)


class MovementsResult(BaseModel):
    applied: int
    duplicates: int
    already_counted: int = Field(description=(
        "movements recorded but not applied: they happened before the row's last count, "
        "which holds them (see `counted_at` of PUT /v1/stock)"))


Day = Annotated[date, Field(description="ISO date, from 2000-01-01 to today in Warsaw")]
Flag = Annotated[int, Field(ge=0, le=1)]


class SaleIn(Strict):
    """One day of sales of one store × channel × SKU. Online sales count at the store whose
    catchment the customer lives in; `stockout` 1 says the day sold out (units are then a lower
    bound on demand). A missing price is the SKU's list price."""

    date: Day
    node_id: Code
    channel: Literal["store", "online"]
    sku: Code
    units: int = Field(ge=0, le=sales_feed.MAX_UNITS)
    price_pln: float | None = Field(default=None, ge=0, le=sales_feed.MAX_PRICE_PLN,
                                    allow_inf_nan=False)
    promo: Flag = 0
    stockout: Flag = 0


class SalesBatch(Strict):
    """Daily sales from POS or the e-shop, all or nothing; a day already recorded is replaced
    (a correction re-sends the day), a day twice in one batch is refused."""

    sales: list[SaleIn] = Field(min_length=1, max_length=MAX_SALES_ROWS)


class SalesImportResult(BaseModel):
    inserted: int = Field(description="rows new to the sales history")
    replaced: int = Field(description="rows that replaced a day already recorded")
    first_date: date
    last_date: date
    data_version: str = Field(description="the data version forecast runs record from now on "
                              "(a new one per import)")
    sold_out: int = Field(description="rows flagged stockout = 1: the weekly batch fits them "
                          "as estimated demand, not as recorded")


class StoreAvailability(BaseModel):
    node_id: str
    name: str
    city: str
    distance_km: float
    atp: int
    open_now: bool


class AvailabilityOut(BaseModel):
    """The e-shop's "available in a store near you": nearest stores with stock, nearest first."""

    sku: str
    near: dict[str, float]
    stores: list[StoreAvailability]
