"""Batch runs carry a heartbeat: `batch_runs.heartbeat_at`.

A run started from the console works on a background thread; if its process dies the row
would stay `running` for ever. The worker touches `heartbeat_at` while it works, so a run
whose heartbeat went quiet can be told apart from a slow one and marked failed.
Plain SQLAlchemy types so the migration never imports the app; batch mode for SQLite.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("batch_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("batch_runs", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")
