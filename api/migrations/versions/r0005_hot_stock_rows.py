"""Stock rows keep room for their own updates; expiry indexes hold only expiring rows; order
rows keep their answer uncompressed.

Every order rewrites its stock rows (reserved, version), and the DC rows of popular SKUs are
rewritten many times a second. PostgreSQL can update a row in place on its page (a HOT update:
no new entries in `pk_stock` and `ix_stock_sku`) only while the page has free space; with the
default fillfactor of 100 the loaded pages are full, and about a third of the updates went to
another page with new index entries, so the two stock indexes grew with every order until a
vacuum (twice their size after 20 000 orders) and each availability read walked more of them.
`fillfactor = 30` leaves 70 % of each page for new row versions: on a load test every update
was HOT and the indexes kept their size. The stock table is small (a few thousand rows), so the
extra pages cost nothing that matters. Existing pages get the room when the table is rewritten
(`VACUUM FULL stock` in a quiet moment); `omni db init` loads into the new setting.

`ix_orders_status_expires_at` and `ix_reservations_state_expires_at` serve one query, the
expiry of click-and-collect holds (`expires_at IS NOT NULL AND expires_at <= now`): they now
index only the rows that can expire (`WHERE expires_at IS NOT NULL`, about a sixth of orders),
so the other orders' inserts skip two index insertions.
`orders.toast_tuple_target = 4080`: an order row carries its answer (`decision`, 2-4 kB of
JSONB), and above the default target of ~2 kB PostgreSQL compressed every one of them with
pglz on insert, inside the transaction that holds the order's stock rows (pglz_compress was
the largest single function in a profile of PostgreSQL under the load test, 2 % of its CPU).
Rows up to 4 kB now stay inline uncompressed: a larger table, less CPU per order.
Plain SQLAlchemy types so the migration never imports the app.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXPIRING = "expires_at IS NOT NULL"
STOCK_FILLFACTOR = 30
ORDERS_TOAST_TUPLE_TARGET = 4080
INDEXES = (
    ("ix_orders_status_expires_at", "orders", ["status", "expires_at"]),
    ("ix_reservations_state_expires_at", "reservations", ["state", "expires_at"]),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE stock SET (fillfactor = {STOCK_FILLFACTOR})")
        op.execute(f"ALTER TABLE orders SET (toast_tuple_target = {ORDERS_TOAST_TUPLE_TARGET})")
    for name, table, columns in INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(
            name,
            table,
            columns,
            postgresql_where=sa.text(EXPIRING),
            sqlite_where=sa.text(EXPIRING),
        )


def downgrade() -> None:
    for name, table, columns in INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE stock RESET (fillfactor)")
        op.execute("ALTER TABLE orders RESET (toast_tuple_target)")
