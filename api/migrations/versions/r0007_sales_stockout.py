"""Sales rows say whether the day ran out of stock.

A day whose shelf (or the store's online allocation) ran empty sold what there was, not what
customers wanted: its units are a lower bound on demand. `sales.stockout` = 1 marks such days
(from the POS/WMS feed or `omni sales import`); the weekly batch replaces their units by an
estimate of demand before fitting (`forecasting.censoring`) so sold-out weeks do not teach the
model that nobody wants the item. Existing rows get 0: they were recorded as plain demand.
Plain SQLAlchemy types so the migration never imports the app.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("sales", sa.Column("stockout", sa.SmallInteger(), nullable=False,
                                     server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_column("stockout")
