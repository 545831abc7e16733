"""Planning against a real database: the API tests' small chain (one DC, three stores), the DC
out of jackets so Christmas can only be served by moving store stock (positive shadow prices
for the jacket at every store), and a TestClient of the app on it."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))

from api_chain import small_chain  # noqa: E402
from api_helpers import settings_for  # noqa: E402

from api.db.load_chain import load_chain  # noqa: E402
from api.db.tables import Stock  # noqa: E402


@pytest.fixture
def loaded_engine(db_engine: Engine) -> Engine:
    load_chain(db_engine, small_chain(), data_version="small", params={"small": True})
    with db_engine.begin() as conn:
        conn.execute(
            update(Stock)
            .where(Stock.node_id == "DC-STRYKOW", Stock.sku == "JACKET")
            .values(on_hand=0)
        )
    return db_engine


@pytest.fixture
def client(loaded_engine: Engine, db_url: str) -> Iterator[TestClient]:
    from api.http.app import create_app

    with TestClient(create_app(settings_for(db_url)), raise_server_exceptions=False) as test:
        yield test
