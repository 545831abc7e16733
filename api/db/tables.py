"""The database schema (SQLAlchemy 2 typed declarative). Rows stay in api/db: services turn them
into plain values before calling the core (allocation/, forecasting/).

Groups: the network and catalogue (nodes, postcode_areas, lockers, skus, rates); the one source of
truth for stock (stock, reservations, stock_movements); demand (sales history, demand_rates,
forecasts); orders and their decisions (orders, order_lines, allocations); planning (transfers,
safety_stock_plans, shadow_prices); bookkeeping (batch_runs, datasets). The Alembic migrations in
api/migrations/versions create exactly this; a test compares them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from api.db.types import UtcDateTime, json_document, money, rate

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

NODE_ID = String(32)
SKU = String(32)
ORDER_ID = String(64)
RUN_ID = String(64)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


metadata = Base.metadata


def _now() -> Any:
    return func.now()


# --- The network and the catalogue -------------------------------------------------------------


class Node(Base):
    """A place stock sits and ships from: a distribution centre or a store."""

    __tablename__ = "nodes"
    __table_args__ = (CheckConstraint("kind IN ('dc', 'store')", name="kind"),)

    node_id: Mapped[str] = mapped_column(NODE_ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(128))
    city: Mapped[str] = mapped_column(String(64))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    format: Mapped[str] = mapped_column(String(16))
    opens_at_hour: Mapped[int] = mapped_column(SmallInteger)
    closes_at_hour: Mapped[int] = mapped_column(SmallInteger)
    pick_cost_pln: Mapped[float] = mapped_column(money())
    pick_capacity_per_day: Mapped[int] = mapped_column(Integer)
    replenishment_days: Mapped[int] = mapped_column(SmallInteger)


class PostcodeArea(Base):
    """A two-digit Polish postcode area with the coordinates of its centroid."""

    __tablename__ = "postcode_areas"

    postcode_prefix: Mapped[str] = mapped_column(String(2), primary_key=True)
    city: Mapped[str] = mapped_column(String(64))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)


class Locker(Base):
    __tablename__ = "lockers"

    locker_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    city: Mapped[str] = mapped_column(String(64))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)


class Sku(Base):
    __tablename__ = "skus"

    sku: Mapped[str] = mapped_column(SKU, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    department: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(64))
    size_class: Mapped[str] = mapped_column(String(4))
    weight_kg: Mapped[float] = mapped_column(Float)
    price_pln: Mapped[float] = mapped_column(money())
    unit_cost_pln: Mapped[float] = mapped_column(money())
    launch_date: Mapped[date | None] = mapped_column(Date)
    discontinue_date: Mapped[date | None] = mapped_column(Date)


class ParcelRate(Base):
    """Courier and locker price bands; `rank` keeps the table's order (first matching row wins)."""

    __tablename__ = "parcel_rates"
    __table_args__ = (
        CheckConstraint("method IN ('home_delivery', 'parcel_locker')", name="method"),
    )

    method: Mapped[str] = mapped_column(String(24), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    max_weight_kg: Mapped[float] = mapped_column(Float)
    max_distance_km: Mapped[float] = mapped_column(Float)
    price_pln: Mapped[float] = mapped_column(money())
    transit_hours: Mapped[float] = mapped_column(Float)


class TransferRate(Base):
    __tablename__ = "transfer_rates"
    __table_args__ = (CheckConstraint("lane IN ('dc_to_store', 'store_to_store')", name="lane"),)

    lane: Mapped[str] = mapped_column(String(16), primary_key=True)
    fixed_cost_pln: Mapped[float] = mapped_column(money())
    cost_per_unit_pln: Mapped[float] = mapped_column(rate())
    cost_per_km_pln: Mapped[float] = mapped_column(rate())
    lead_time_hours: Mapped[float] = mapped_column(Float)


# --- Stock: the one source of truth ------------------------------------------------------------


class Stock(Base):
    """Units per node × SKU. ATP = on_hand − reserved − safety_stock (see api/db/stock.py).

    `version` goes up by one on every change of the row (reservations included), so a reader can
    tell whether what it decided on is still current. `feed_version` is the version of the last
    WMS/POS snapshot applied; an older snapshot is stale and refused.

    On PostgreSQL the table has `fillfactor = 30` (migration r0005): its rows are rewritten by
    every order, and the free room keeps those updates on their page (HOT, no index entries).
    """

    __tablename__ = "stock"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
        CheckConstraint("safety_stock >= 0", name="safety_stock_not_negative"),
        Index("ix_stock_sku", "sku"),
    )

    node_id: Mapped[str] = mapped_column(ForeignKey("nodes.node_id"), primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("skus.sku"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer)
    reserved: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    safety_stock: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    feed_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=_now())
    # When the last count applied was taken, if its feed said (r0008): movements from before
    # it are inside the count, movements after it are added to it.
    counted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Reservation(Base):
    """Units held for an order at one node until shipped, released or expired."""

    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("state IN ('held', 'shipped', 'released')", name="state"),
        ForeignKeyConstraint(["node_id", "sku"], ["stock.node_id", "stock.sku"]),
        Index("ix_reservations_order_id", "order_id"),
        # r0008: a count that says when it was taken takes off what shipped after it
        Index(
            "ix_reservations_shipped_node_id_sku_updated_at",
            "node_id",
            "sku",
            "updated_at",
            postgresql_where=text("state = 'shipped'"),
            sqlite_where=text("state = 'shipped'"),
        ),
        # Only holds that can expire (click-and-collect): see migration r0005.
        Index(
            "ix_reservations_state_expires_at",
            "state",
            "expires_at",
            postgresql_where=text("expires_at IS NOT NULL"),
            sqlite_where=text("expires_at IS NOT NULL"),
        ),
    )

    reservation_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ORDER_ID)
    node_id: Mapped[str] = mapped_column(NODE_ID)
    sku: Mapped[str] = mapped_column(SKU)
    qty: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(8))
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=_now())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=_now())


class StockMovement(Base):
    """A walk-in sale or a receipt already applied to stock, kept so a retried feed is a no-op."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        CheckConstraint("kind IN ('sale', 'receipt')", name="kind"),
        CheckConstraint("qty > 0", name="qty_positive"),
        ForeignKeyConstraint(["node_id", "sku"], ["stock.node_id", "stock.sku"]),
        # r0008: a count that says when it was taken adds the movements after that moment
        Index("ix_stock_movements_node_id_sku_occurred_at", "node_id", "sku", "occurred_at"),
    )

    movement_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    node_id: Mapped[str] = mapped_column(NODE_ID)
    sku: Mapped[str] = mapped_column(SKU)
    kind: Mapped[str] = mapped_column(String(8))
    qty: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    applied_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=_now())


# --- Demand ----------------------------------------------------------------------------------


class Sale(Base):
    """Daily sales history per store × channel × SKU (zero days may be absent).

    No foreign keys: it is the biggest table, bulk-loaded, and history may name retired SKUs.
    The primary key (node, channel, sku, date) is the index for loading a store's series
    (and on SQLite the table itself is stored in that order).
    """

    __tablename__ = "sales"
    __table_args__ = (
        CheckConstraint("channel IN ('store', 'online')", name="channel"),
        Index("ix_sales_date", "date"),
        {"sqlite_with_rowid": False},  # clustered by the key: one B-tree less to fill
    )

    node_id: Mapped[str] = mapped_column(NODE_ID, primary_key=True)
    channel: Mapped[str] = mapped_column(String(8), primary_key=True)
    sku: Mapped[str] = mapped_column(SKU, primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    units: Mapped[int] = mapped_column(Integer)
    price_pln: Mapped[float] = mapped_column(money())
    promo: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    # 1: the day sold out, so `units` is a lower bound on demand (migration 0007)
    stockout: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")


class DemandRate(Base):
    """Expected walk-in units per open day at a store: the allocator's opportunity-cost input."""

    __tablename__ = "demand_rates"
    __table_args__ = (
        CheckConstraint("source IN ('recent_sales', 'forecast')", name="source"),
        CheckConstraint("walkin_units_per_day >= 0", name="rate_not_negative"),
    )

    node_id: Mapped[str] = mapped_column(ForeignKey("nodes.node_id"), primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("skus.sku"), primary_key=True)
    walkin_units_per_day: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=_now())


class Forecast(Base):
    """One forecast point with its quantiles; `run_id` names the batch run (batch_runs)."""

    __tablename__ = "forecasts"
    __table_args__ = (
        CheckConstraint("channel IN ('store', 'online')", name="channel"),
        Index("ix_forecasts_node_id_sku_ds", "node_id", "sku", "ds"),
    )

    run_id: Mapped[str] = mapped_column(RUN_ID, primary_key=True)
    unique_id: Mapped[str] = mapped_column(String(96), primary_key=True)
    ds: Mapped[date] = mapped_column(Date, primary_key=True)
    node_id: Mapped[str] = mapped_column(NODE_ID)
    channel: Mapped[str] = mapped_column(String(8))
    sku: Mapped[str] = mapped_column(SKU)
    yhat: Mapped[float] = mapped_column(Float)
    q50: Mapped[float | None] = mapped_column(Float)
    q80: Mapped[float | None] = mapped_column(Float)
    q90: Mapped[float | None] = mapped_column(Float)
    q95: Mapped[float | None] = mapped_column(Float)
    q99: Mapped[float | None] = mapped_column(Float)
    # Variance-to-mean ratio of the day's demand (1 + phi * yhat under the model's fitted
    # negative binomial): the safety-stock and rebalancing plans sum days with it. NULL: unknown,
    # the planners' default applies.
    dispersion: Mapped[float | None] = mapped_column(Float)


# --- Orders and decisions ----------------------------------------------------------------------


class Order(Base):
    """An OMS order as we answered it; `request_hash` makes a retried order_id idempotent."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(
            "fulfilment IN ('home_delivery', 'parcel_locker', 'click_and_collect')",
            name="fulfilment",
        ),
        CheckConstraint(
            "status IN ('allocated', 'partial', 'rejected', 'cancelled', 'shipped', 'expired')",
            name="status",
        ),
        # Only orders that can expire (click-and-collect): see migration r0005.
        Index(
            "ix_orders_status_expires_at",
            "status",
            "expires_at",
            postgresql_where=text("expires_at IS NOT NULL"),
            sqlite_where=text("expires_at IS NOT NULL"),
        ),
    )

    order_id: Mapped[str] = mapped_column(ORDER_ID, primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))
    fulfilment: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=_now())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=_now())
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decision: Mapped[dict[str, Any]] = mapped_column(json_document())


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("status IN ('allocated', 'unfulfilled')", name="status"),
    )

    order_id: Mapped[str] = mapped_column(
        ForeignKey("orders.order_id", ondelete="CASCADE"), primary_key=True
    )
    line_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # No foreign key to skus (r0004): it locked the hot SKU rows on every order; the service
    # refuses an unknown SKU before writing.
    sku: Mapped[str] = mapped_column(SKU)
    qty: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))


class Allocation(Base):
    """Which node serves (part of) an order line, how, when and at what cost."""

    __tablename__ = "allocations"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint(
            "method IN ('home_delivery', 'parcel_locker', 'click_and_collect', 'ship_from_store')",
            name="method",
        ),
        ForeignKeyConstraint(
            ["order_id", "line_id"],
            ["order_lines.order_id", "order_lines.line_id"],
            ondelete="CASCADE",
        ),
        # The stock row it was reserved from, already locked by the order's write (r0004):
        # separate keys to nodes and skus locked the hot catalogue rows on every order.
        ForeignKeyConstraint(["node_id", "sku"], ["stock.node_id", "stock.sku"]),
        Index("ix_allocations_order_id", "order_id"),
    )

    allocation_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ORDER_ID)
    line_id: Mapped[str] = mapped_column(String(64))
    node_id: Mapped[str] = mapped_column(NODE_ID)
    sku: Mapped[str] = mapped_column(SKU)
    qty: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(24))
    promised_at: Mapped[datetime] = mapped_column(UtcDateTime())
    cost_pln: Mapped[float] = mapped_column(money())


# --- Planning ----------------------------------------------------------------------------------


class Transfer(Base):
    """A proposed or approved move of units between nodes before a peak."""

    __tablename__ = "transfers"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("status IN ('proposed', 'approved')", name="status"),
        CheckConstraint("from_node <> to_node", name="distinct_nodes"),
        Index("ix_transfers_plan_id", "plan_id"),
    )

    transfer_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(RUN_ID)
    peak: Mapped[str] = mapped_column(String(32))
    from_node: Mapped[str] = mapped_column(ForeignKey("nodes.node_id"))
    to_node: Mapped[str] = mapped_column(ForeignKey("nodes.node_id"))
    sku: Mapped[str] = mapped_column(ForeignKey("skus.sku"))
    qty: Mapped[int] = mapped_column(Integer)
    arrive_by: Mapped[datetime] = mapped_column(UtcDateTime())
    cost_pln: Mapped[float] = mapped_column(money())
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=_now())
    ship_by: Mapped[datetime | None] = mapped_column(UtcDateTime())  # r0002; NULL before it


class SafetyStockPlan(Base):
    """A planned walk-in reserve per store × SKU; approving a plan sets stock.safety_stock."""

    __tablename__ = "safety_stock_plans"
    __table_args__ = (
        CheckConstraint("safety_stock >= 0", name="safety_stock_not_negative"),
        CheckConstraint("status IN ('proposed', 'approved')", name="status"),
    )

    plan_id: Mapped[str] = mapped_column(RUN_ID, primary_key=True)
    node_id: Mapped[str] = mapped_column(ForeignKey("nodes.node_id"), primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("skus.sku"), primary_key=True)
    peak: Mapped[str | None] = mapped_column(String(32))
    safety_stock: Mapped[int] = mapped_column(Integer)
    service_level: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=_now())


class ShadowPrice(Base):
    """The rebalancing LP's value of one more unit at a node during a peak (PLN), per plan.

    The real-time allocator charges it as the opportunity cost of store stock for orders dated
    inside [valid_from, valid_to] (the peak window) while its plan is the newest for that peak.
    Only positive prices are stored: an absent row means zero.
    """

    __tablename__ = "shadow_prices"
    __table_args__ = (
        CheckConstraint("shadow_price_pln >= 0", name="price_not_negative"),
        CheckConstraint("valid_from <= valid_to", name="window"),
        Index("ix_shadow_prices_valid_to", "valid_to"),
    )

    plan_id: Mapped[str] = mapped_column(RUN_ID, primary_key=True)
    node_id: Mapped[str] = mapped_column(ForeignKey("nodes.node_id"), primary_key=True)
    sku: Mapped[str] = mapped_column(ForeignKey("skus.sku"), primary_key=True)
    peak: Mapped[str] = mapped_column(String(32))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    shadow_price_pln: Mapped[float] = mapped_column(money())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), server_default=_now())


# --- Bookkeeping -------------------------------------------------------------------------------


class BatchRun(Base):
    """One run of a batch job (forecast, plan, load) with what it ran on and where it logged."""

    __tablename__ = "batch_runs"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'succeeded', 'failed')", name="status"),
        Index("ix_batch_runs_kind_started_at", "kind", "started_at"),
    )

    run_id: Mapped[str] = mapped_column(RUN_ID, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # r0003
    status: Mapped[str] = mapped_column(String(10))
    model: Mapped[str | None] = mapped_column(String(128))
    data_version: Mapped[str | None] = mapped_column(String(64))
    mlflow_run_id: Mapped[str | None] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(json_document(), default=dict)


class Dataset(Base):
    """What data the database holds (the demo chain's parameters), so a re-run can skip."""

    __tablename__ = "datasets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    data_version: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(json_document())
    loaded_at: Mapped[datetime] = mapped_column(UtcDateTime())
