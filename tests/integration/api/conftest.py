"""The API under test: a migrated database of each kind with the small chain loaded, and a
TestClient running the app's lifespan against it.

These tests pin the HTTP and database layer (reservation, idempotency, life cycle, problems), so
the sourcing core is replaced by a greedy stand-in (`api_greedy`); tests/e2e run the real core.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from api_chain import small_chain
from api_greedy import greedy_source
from api_helpers import settings_for
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.db.load_chain import load_chain
from api.http.app import create_app


@pytest.fixture
def loaded_engine(db_engine: Engine) -> Engine:
    load_chain(db_engine, small_chain(), data_version="small", params={"small": True})
    return db_engine


@pytest.fixture
def client(loaded_engine: Engine, db_url: str) -> Iterator[TestClient]:
    app = create_app(settings_for(db_url), decide=greedy_source)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client

