"""A real `omni serve` in a subprocess on a free 127.0.0.1 port, against a temporary SQLite
database and, when OMNI_TEST_POSTGRES_URL is set (required in CI), a fresh PostgreSQL database.

One server per database kind for the whole session (start-up imports the scientific stack);
`live` puts the small chain's stock back and forgets all orders before each test.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_server import Server, prepared_database, reset_stock, start_server, stop_server
from sqlalchemy import Engine
from sqlalchemy.engine import make_url


def _admin_url(server_url: str) -> str:
    return make_url(server_url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def e2e_postgres_url(_postgres_server: str) -> Iterator[str]:
    """A fresh PostgreSQL database for this module, dropped afterwards."""
    import psycopg

    name = f"omni_e2e_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_admin_url(_postgres_server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(_postgres_server).set(drivername="postgresql+psycopg", database=name)
    yield url.render_as_string(hide_password=False)
    with psycopg.connect(_admin_url(_postgres_server), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'omni.db'}"
    engine = prepared_database(url)
    yield url, engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_database(e2e_postgres_url: str) -> Iterator[tuple[str, Engine]]:
    engine = prepared_database(e2e_postgres_url)
    yield e2e_postgres_url, engine
    engine.dispose()


def _serve(url: str, engine: Engine, workers: int = 1) -> Iterator[Server]:
    log = Path(tempfile.mkstemp(prefix="omni-serve-", suffix=".log")[1])
    process, base_url = start_server(url, log, workers)
    try:
        yield Server(base_url, engine, url)
    finally:
        stop_server(process)
        log.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def sqlite_server(sqlite_database: tuple[str, Engine]) -> Iterator[Server]:
    yield from _serve(*sqlite_database)


@pytest.fixture(scope="session")
def postgres_server(postgres_database: tuple[str, Engine]) -> Iterator[Server]:
    yield from _serve(*postgres_database)


@pytest.fixture(scope="session")
def postgres_two_workers(postgres_database: tuple[str, Engine]) -> Iterator[Server]:
    """`omni serve --workers 2`: two processes, each with its own pool, one database."""
    yield from _serve(*postgres_database, workers=2)


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def server(request: pytest.FixtureRequest) -> Server:
    """The server on each database kind."""
    found: Server = request.getfixturevalue(f"{request.param}_server")
    return found


@pytest.fixture
def live(server: Server) -> Server:
    reset_stock(server.engine)
    return server
