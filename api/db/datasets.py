"""Which data the database holds, as one version a run can record.

The demo load writes its `datasets` row (`load_chain`). Sales imported afterwards
(`omni sales import`, `POST /v1/sales`) change what the weekly batch learns from, so each import
chains a new version onto the one before it: sha256(previous version : digest of the imported
rows), kept in the `sales_feed` row. A forecast run then records a version that changes with
every import, not the demo chain's. A full reload (`omni db init --force`) empties `datasets`,
and the chain starts again from the loaded chain's version.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite

from api.db.load_chain import DEMO_DATASET
from api.db.tables import Dataset

SALES_FEED_DATASET = "sales_feed"


def rows_digest(rows: pd.DataFrame) -> str:
    """A content hash of `rows` (values and column order, not the index)."""
    hashed = pd.util.hash_pandas_object(rows, index=False).to_numpy()
    columns = ",".join(map(str, rows.columns)).encode()
    return hashlib.sha256(columns + hashed.tobytes()).hexdigest()


def record_sales_import(conn: Connection, digest: str, params: dict[str, Any]) -> str:
    """Chain this import onto the current version, in the import's own transaction (a refused
    or rolled-back import leaves the version as it was); returns the new version. The feed's
    row is created from the loaded chain's version if absent, then read under a row lock, so
    two concurrent imports on PostgreSQL chain one after the other instead of forking."""
    now = datetime.now(UTC)
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    seed = conn.execute(select(Dataset.data_version).where(
        Dataset.name == DEMO_DATASET)).scalar_one_or_none()
    conn.execute(dialect.insert(Dataset).values(
        name=SALES_FEED_DATASET, data_version=seed or "", params={}, loaded_at=now,
    ).on_conflict_do_nothing(index_elements=[Dataset.name]))
    previous = conn.execute(select(Dataset.data_version).where(
        Dataset.name == SALES_FEED_DATASET).with_for_update()).scalar_one()
    new_version = hashlib.sha256(f"{previous}:{digest}".encode()).hexdigest()
    conn.execute(update(Dataset).where(Dataset.name == SALES_FEED_DATASET).values(
        data_version=new_version, params=params, loaded_at=now))
    return new_version


def current_data_version(engine: Engine) -> str | None:
    """The version a run over the database's data records: the latest sales import's, else
    the loaded chain's; None for a database that holds neither."""
    with engine.connect() as conn:
        rows = dict(conn.execute(select(Dataset.name, Dataset.data_version).where(
            Dataset.name.in_((SALES_FEED_DATASET, DEMO_DATASET)))).tuples().all())
    return rows.get(SALES_FEED_DATASET) or rows.get(DEMO_DATASET)
