"""Initial schema: network, catalogue, stock, demand, orders, planning, bookkeeping.

Generated from api/db/tables.py and reviewed; the same on SQLite and PostgreSQL (batch mode on
SQLite). Column types are plain SQLAlchemy types so the migration never imports the app.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "batch_runs",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=True),
        sa.Column("data_version", sa.String(length=64), nullable=True),
        sa.Column("mlflow_run_id", sa.String(length=64), nullable=True),
        sa.Column("params", JSON_DOCUMENT, nullable=False),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed')", name=op.f("ck_batch_runs_status")
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_batch_runs")),
    )
    with op.batch_alter_table("batch_runs", schema=None) as batch_op:
        batch_op.create_index("ix_batch_runs_kind_started_at", ["kind", "started_at"], unique=False)

    op.create_table(
        "datasets",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("data_version", sa.String(length=64), nullable=False),
        sa.Column("params", JSON_DOCUMENT, nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_datasets")),
    )
    op.create_table(
        "forecasts",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("unique_id", sa.String(length=96), nullable=False),
        sa.Column("ds", sa.Date(), nullable=False),
        sa.Column("node_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("sku", sa.String(length=32), nullable=False),
        sa.Column("yhat", sa.Float(), nullable=False),
        sa.Column("q50", sa.Float(), nullable=True),
        sa.Column("q80", sa.Float(), nullable=True),
        sa.Column("q90", sa.Float(), nullable=True),
        sa.Column("q95", sa.Float(), nullable=True),
        sa.Column("q99", sa.Float(), nullable=True),
        sa.CheckConstraint("channel IN ('store', 'online')", name=op.f("ck_forecasts_channel")),
        sa.PrimaryKeyConstraint("run_id", "unique_id", "ds", name=op.f("pk_forecasts")),
    )
    with op.batch_alter_table("forecasts", schema=None) as batch_op:
        batch_op.create_index("ix_forecasts_node_id_sku_ds", ["node_id", "sku", "ds"], unique=False)

    op.create_table(
        "lockers",
        sa.Column("locker_id", sa.String(length=32), nullable=False),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("locker_id", name=op.f("pk_lockers")),
    )
    op.create_table(
        "nodes",
        sa.Column("node_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("opens_at_hour", sa.SmallInteger(), nullable=False),
        sa.Column("closes_at_hour", sa.SmallInteger(), nullable=False),
        sa.Column(
            "pick_cost_pln", sa.Numeric(precision=12, scale=2, asdecimal=False), nullable=False
        ),
        sa.Column("pick_capacity_per_day", sa.Integer(), nullable=False),
        sa.Column("replenishment_days", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("kind IN ('dc', 'store')", name=op.f("ck_nodes_kind")),
        sa.PrimaryKeyConstraint("node_id", name=op.f("pk_nodes")),
    )
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("fulfilment", sa.String(length=24), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision", JSON_DOCUMENT, nullable=False),
        sa.CheckConstraint(
            "fulfilment IN ('home_delivery', 'parcel_locker', 'click_and_collect')",
            name=op.f("ck_orders_fulfilment"),
        ),
        sa.CheckConstraint(
            "status IN ('allocated', 'partial', 'rejected', 'cancelled', 'shipped', 'expired')",
            name=op.f("ck_orders_status"),
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_orders")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_status_expires_at", ["status", "expires_at"], unique=False)

    op.create_table(
        "parcel_rates",
        sa.Column("method", sa.String(length=24), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("max_weight_kg", sa.Float(), nullable=False),
        sa.Column("max_distance_km", sa.Float(), nullable=False),
        sa.Column("price_pln", sa.Numeric(precision=12, scale=2, asdecimal=False), nullable=False),
        sa.Column("transit_hours", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "method IN ('home_delivery', 'parcel_locker')", name=op.f("ck_parcel_rates_method")
        ),
        sa.PrimaryKeyConstraint("method", "rank", name=op.f("pk_parcel_rates")),
    )
    op.create_table(
        "postcode_areas",
        sa.Column("postcode_prefix", sa.String(length=2), nullable=False),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("postcode_prefix", name=op.f("pk_postcode_areas")),
    )
    op.create_table(
        "sales",
        sa.Column("node_id", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("sku", sa.String(length=32), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("price_pln", sa.Numeric(precision=12, scale=2, asdecimal=False), nullable=False),
        sa.Column("promo", sa.SmallInteger(), server_default="0", nullable=False),
        sa.CheckConstraint("channel IN ('store', 'online')", name=op.f("ck_sales_channel")),
        sa.PrimaryKeyConstraint("node_id", "channel", "sku", "date", name=op.f("pk_sales")),
        sqlite_with_rowid=False,
    )
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.create_index("ix_sales_date", ["date"], unique=False)

    op.create_table(
        "skus",
        sa.Column("sku", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("department", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("size_class", sa.String(length=4), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=False),
        sa.Column("price_pln", sa.Numeric(precision=12, scale=2, asdecimal=False), nullable=False),
        sa.Column(
            "unit_cost_pln", sa.Numeric(precision=12, scale=2, asdecimal=False), nullable=False
        ),
        sa.Column("launch_date", sa.Date(), nullable=True),
        sa.Column("discontinue_date", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("sku", name=op.f("pk_skus")),
    )
    op.create_table(
        "transfer_rates",
        sa.Column("lane", sa.String(length=16), nullable=False),
        sa.Column(
            "fixed_cost_pln", sa.Numeric(precision=12, scale=2, asdecimal=False), nullable=False
        ),
        sa.Column(
            "cost_per_unit_pln", sa.Numeric(precision=12, scale=4, asdecimal=False), nullable=False
        ),
        sa.Column(
            "cost_per_km_pln", sa.Numeric(precision=12, scale=4, asdecimal=False), nullable=False
        ),
        sa.Column("lead_time_hours", sa.Float(), nullable=False),
        sa.CheckConstraint(
            "lane IN ('dc_to_store', 'store_to_store')", name=op.f("ck_transfer_rates_lane")
        ),
        sa.PrimaryKeyConstraint("lane", name=op.f("pk_transfer_rates")),
    )
    op.create_table(
        "demand_rates",
        sa.Column("node_id", sa.String(length=32), nullable=False),
        sa.Column("sku", sa.String(length=32), nullable=False),
        sa.Column("walkin_units_per_day", sa.Float(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "source IN ('recent_sales', 'forecast')", name=op.f("ck_demand_rates_source")
        ),
        sa.CheckConstraint(
            "walkin_units_per_day >= 0", name=op.f("ck_demand_rates_rate_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["node_id"], ["nodes.node_id"], name=op.f("fk_demand_rates_node_id_nodes")
        ),
        sa.ForeignKeyConstraint(["sku"], ["skus.sku"], name=op.f("fk_demand_rates_sku_skus")),
        sa.PrimaryKeyConstraint("node_id", "sku", name=op.f("pk_demand_rates")),
    )
    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("sku", sa.String(length=32), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.CheckConstraint(
            "status IN ('allocated', 'unfulfilled')", name=op.f("ck_order_lines_status")
        ),
        sa.CheckConstraint("qty > 0", name=op.f("ck_order_lines_qty_positive")),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.order_id"],
            name=op.f("fk_order_lines_order_id_orders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["sku"], ["skus.sku"], name=op.f("fk_order_lines_sku_skus")),
        sa.PrimaryKeyConstraint("order_id", "line_id", name=op.f("pk_order_lines")),
    )
    op.create_table(
        "safety_stock_plans",
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("node_id", sa.String(length=32), nullable=False),
        sa.Column("sku", sa.String(length=32), nullable=False),
        sa.Column("peak", sa.String(length=32), nullable=True),
        sa.Column("safety_stock", sa.Integer(), nullable=False),
        sa.Column("service_level", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('proposed', 'approved')", name=op.f("ck_safety_stock_plans_status")
        ),
        sa.CheckConstraint(
            "safety_stock >= 0", name=op.f("ck_safety_stock_plans_safety_stock_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["node_id"], ["nodes.node_id"], name=op.f("fk_safety_stock_plans_node_id_nodes")
        ),
        sa.ForeignKeyConstraint(["sku"], ["skus.sku"], name=op.f("fk_safety_stock_plans_sku_skus")),
        sa.PrimaryKeyConstraint("plan_id", "node_id", "sku", name=op.f("pk_safety_stock_plans")),
    )
    op.create_table(
        "stock",
        sa.Column("node_id", sa.String(length=32), nullable=False),
        sa.Column("sku", sa.String(length=32), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), server_default="0", nullable=False),
        sa.Column("safety_stock", sa.Integer(), server_default="0", nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("feed_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint("on_hand >= 0", name=op.f("ck_stock_on_hand_not_negative")),
        sa.CheckConstraint("reserved <= on_hand", name=op.f("ck_stock_reserved_within_on_hand")),
        sa.CheckConstraint("reserved >= 0", name=op.f("ck_stock_reserved_not_negative")),
        sa.CheckConstraint("safety_stock >= 0", name=op.f("ck_stock_safety_stock_not_negative")),
        sa.ForeignKeyConstraint(
            ["node_id"], ["nodes.node_id"], name=op.f("fk_stock_node_id_nodes")
        ),
        sa.ForeignKeyConstraint(["sku"], ["skus.sku"], name=op.f("fk_stock_sku_skus")),
        sa.PrimaryKeyConstraint("node_id", "sku", name=op.f("pk_stock")),
    )
    with op.batch_alter_table("stock", schema=None) as batch_op:
        batch_op.create_index("ix_stock_sku", ["sku"], unique=False)

    op.create_table(
        "transfers",
        sa.Column("transfer_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("peak", sa.String(length=32), nullable=False),
        sa.Column("from_node", sa.String(length=32), nullable=False),
        sa.Column("to_node", sa.String(length=32), nullable=False),
        sa.Column("sku", sa.String(length=32), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("arrive_by", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cost_pln", sa.Numeric(precision=12, scale=2, asdecimal=False), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint("status IN ('proposed', 'approved')", name=op.f("ck_transfers_status")),
        sa.CheckConstraint("from_node <> to_node", name=op.f("ck_transfers_distinct_nodes")),
        sa.CheckConstraint("qty > 0", name=op.f("ck_transfers_qty_positive")),
        sa.ForeignKeyConstraint(
            ["from_node"], ["nodes.node_id"], name=op.f("fk_transfers_from_node_nodes")
        ),
        sa.ForeignKeyConstraint(["sku"], ["skus.sku"], name=op.f("fk_transfers_sku_skus")),
        sa.ForeignKeyConstraint(
            ["to_node"], ["nodes.node_id"], name=op.f("fk_transfers_to_node_nodes")
        ),
        sa.PrimaryKeyConstraint("transfer_id", name=op.f("pk_transfers")),
    )
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.create_index("ix_transfers_plan_id", ["plan_id"], unique=False)

    op.create_table(
        "allocations",
        sa.Column("allocation_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("line_id", sa.String(length=64), nullable=False),
        sa.Column("node_id", sa.String(length=32), nullable=False),
        sa.Column("sku", sa.String(length=32), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=24), nullable=False),
        sa.Column("promised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cost_pln", sa.Numeric(precision=12, scale=2, asdecimal=False), nullable=False),
        sa.CheckConstraint(
            "method IN ('home_delivery', 'parcel_locker', 'click_and_collect', 'ship_from_store')",
            name=op.f("ck_allocations_method"),
        ),
        sa.CheckConstraint("qty > 0", name=op.f("ck_allocations_qty_positive")),
        sa.ForeignKeyConstraint(
            ["node_id"], ["nodes.node_id"], name=op.f("fk_allocations_node_id_nodes")
        ),
        sa.ForeignKeyConstraint(
            ["order_id", "line_id"],
            ["order_lines.order_id", "order_lines.line_id"],
            name=op.f("fk_allocations_order_id_order_lines"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["sku"], ["skus.sku"], name=op.f("fk_allocations_sku_skus")),
        sa.PrimaryKeyConstraint("allocation_id", name=op.f("pk_allocations")),
    )
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.create_index("ix_allocations_order_id", ["order_id"], unique=False)

    op.create_table(
        "reservations",
        sa.Column("reservation_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(length=64), nullable=False),
        sa.Column("node_id", sa.String(length=32), nullable=False),
        sa.Column("sku", sa.String(length=32), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "state IN ('held', 'shipped', 'released')", name=op.f("ck_reservations_state")
        ),
        sa.CheckConstraint("qty > 0", name=op.f("ck_reservations_qty_positive")),
        sa.ForeignKeyConstraint(
            ["node_id", "sku"],
            ["stock.node_id", "stock.sku"],
            name=op.f("fk_reservations_node_id_stock"),
        ),
        sa.PrimaryKeyConstraint("reservation_id", name=op.f("pk_reservations")),
    )
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.create_index("ix_reservations_order_id", ["order_id"], unique=False)
        batch_op.create_index(
            "ix_reservations_state_expires_at", ["state", "expires_at"], unique=False
        )

    op.create_table(
        "stock_movements",
        sa.Column("movement_id", sa.String(length=64), nullable=False),
        sa.Column("node_id", sa.String(length=32), nullable=False),
        sa.Column("sku", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("qty", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "applied_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint("kind IN ('sale', 'receipt')", name=op.f("ck_stock_movements_kind")),
        sa.CheckConstraint("qty > 0", name=op.f("ck_stock_movements_qty_positive")),
        sa.ForeignKeyConstraint(
            ["node_id", "sku"],
            ["stock.node_id", "stock.sku"],
            name=op.f("fk_stock_movements_node_id_stock"),
        ),
        sa.PrimaryKeyConstraint("movement_id", name=op.f("pk_stock_movements")),
    )


def downgrade() -> None:
    op.drop_table("stock_movements")
    with op.batch_alter_table("reservations", schema=None) as batch_op:
        batch_op.drop_index("ix_reservations_state_expires_at")
        batch_op.drop_index("ix_reservations_order_id")

    op.drop_table("reservations")
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.drop_index("ix_allocations_order_id")

    op.drop_table("allocations")
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.drop_index("ix_transfers_plan_id")

    op.drop_table("transfers")
    with op.batch_alter_table("stock", schema=None) as batch_op:
        batch_op.drop_index("ix_stock_sku")

    op.drop_table("stock")
    op.drop_table("safety_stock_plans")
    op.drop_table("order_lines")
    op.drop_table("demand_rates")
    op.drop_table("transfer_rates")
    op.drop_table("skus")
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_index("ix_sales_date")

    op.drop_table("sales")
    op.drop_table("postcode_areas")
    op.drop_table("parcel_rates")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_status_expires_at")

    op.drop_table("orders")
    op.drop_table("nodes")
    op.drop_table("lockers")
    with op.batch_alter_table("forecasts", schema=None) as batch_op:
        batch_op.drop_index("ix_forecasts_node_id_sku_ds")

    op.drop_table("forecasts")
    op.drop_table("datasets")
    with op.batch_alter_table("batch_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_batch_runs_kind_started_at")

    op.drop_table("batch_runs")
