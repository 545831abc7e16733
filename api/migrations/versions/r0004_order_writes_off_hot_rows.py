"""Order writes no longer lock the catalogue's hot rows.

Every order line and allocation used to reference `skus` (and allocations `nodes`) by foreign
key, so each order took a KEY SHARE lock on the same few SKU and DC rows; under concurrent
orders PostgreSQL turns those shared locks into multixacts, a cost that grows with the number
of orders in flight. Now an allocation references the stock row it was reserved from
(`(node_id, sku)` -> `stock`), which the order's own write has already locked FOR UPDATE, so
integrity is kept (a stock row implies its node and SKU) at no extra locking. An order line's
SKU is checked by the service (404 for an unknown SKU) before anything is written, and SKUs
are never deleted outside a full reload, which empties the orders too.
Plain SQLAlchemy types so the migration never imports the app; batch mode for SQLite.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.drop_constraint("fk_allocations_node_id_nodes", type_="foreignkey")
        batch_op.drop_constraint("fk_allocations_sku_skus", type_="foreignkey")
        batch_op.create_foreign_key(
            "fk_allocations_node_id_stock", "stock", ["node_id", "sku"], ["node_id", "sku"]
        )
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.drop_constraint("fk_order_lines_sku_skus", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("order_lines", schema=None) as batch_op:
        batch_op.create_foreign_key("fk_order_lines_sku_skus", "skus", ["sku"], ["sku"])
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.drop_constraint("fk_allocations_node_id_stock", type_="foreignkey")
        batch_op.create_foreign_key("fk_allocations_sku_skus", "skus", ["sku"], ["sku"])
        batch_op.create_foreign_key(
            "fk_allocations_node_id_nodes", "nodes", ["node_id"], ["node_id"]
        )
