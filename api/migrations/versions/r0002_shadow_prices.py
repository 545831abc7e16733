"""Planning look-ahead: `shadow_prices` per plan × node × SKU, and `transfers.ship_by`.

The rebalancing LP's shadow prices are the allocator's opportunity cost of store stock during a
peak; `ship_by` is when a transfer must leave its sender to arrive before the peak starts.
Plain SQLAlchemy types so the migration never imports the app; batch mode for SQLite.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shadow_prices",
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("node_id", sa.String(length=32), nullable=False),
        sa.Column("sku", sa.String(length=32), nullable=False),
        sa.Column("peak", sa.String(length=32), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.Column(
            "shadow_price_pln", sa.Numeric(precision=12, scale=2, asdecimal=False), nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "shadow_price_pln >= 0", name=op.f("ck_shadow_prices_price_not_negative")
        ),
        sa.CheckConstraint("valid_from <= valid_to", name=op.f("ck_shadow_prices_window")),
        sa.ForeignKeyConstraint(
            ["node_id"], ["nodes.node_id"], name=op.f("fk_shadow_prices_node_id_nodes")
        ),
        sa.ForeignKeyConstraint(["sku"], ["skus.sku"], name=op.f("fk_shadow_prices_sku_skus")),
        sa.PrimaryKeyConstraint("plan_id", "node_id", "sku", name=op.f("pk_shadow_prices")),
    )
    with op.batch_alter_table("shadow_prices", schema=None) as batch_op:
        batch_op.create_index("ix_shadow_prices_valid_to", ["valid_to"], unique=False)
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ship_by", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transfers", schema=None) as batch_op:
        batch_op.drop_column("ship_by")
    with op.batch_alter_table("shadow_prices", schema=None) as batch_op:
        batch_op.drop_index("ix_shadow_prices_valid_to")
    op.drop_table("shadow_prices")
