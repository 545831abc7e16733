"""Stock rows remember when their last count was taken.

A WMS/POS count says what was on the shelf at one moment; walk-in sales and receipts reach us
on their own feed, some before the count is applied and some after, in any order. Without the
count's moment a sale already inside the count was subtracted again when it arrived late, and
a sale after the count was lost when the count arrived late. `stock.counted_at` (NULL: a count
sent without one, or none yet) lets a snapshot add the movements recorded after its moment and
lets a movement from before it be recorded without being applied twice. Orders and transfers
shipped after the moment are taken off too (their units were on the counted shelf). Indexes on
the movements and on the shipped holds by node, SKU and moment serve that sum.
Plain SQLAlchemy types so the migration never imports the app.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("stock", sa.Column("counted_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_stock_movements_node_id_sku_occurred_at", "stock_movements",
                    ["node_id", "sku", "occurred_at"])
    op.create_index("ix_reservations_shipped_node_id_sku_updated_at", "reservations",
                    ["node_id", "sku", "updated_at"],
                    postgresql_where=sa.text("state = 'shipped'"),
                    sqlite_where=sa.text("state = 'shipped'"))


def downgrade() -> None:
    op.drop_index("ix_reservations_shipped_node_id_sku_updated_at", table_name="reservations")
    op.drop_index("ix_stock_movements_node_id_sku_occurred_at", table_name="stock_movements")
    with op.batch_alter_table("stock", schema=None) as batch_op:
        batch_op.drop_column("counted_at")
