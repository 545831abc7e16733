"""Forecast rows carry the spread of their day's demand.

The safety-stock and rebalancing plans model summed demand as a negative binomial and used one
default variance-to-mean ratio (1.5) for every store and SKU, whatever the forecast had learnt
about that series. `forecasts.dispersion` holds each day's ratio (1 + phi * yhat, phi fitted
on the model's holdout); rows written before this revision stay NULL and get the default.
Plain SQLAlchemy types so the migration never imports the app; batch mode for SQLite.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("forecasts", sa.Column("dispersion", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("forecasts", schema=None) as batch_op:
        batch_op.drop_column("dispersion")
