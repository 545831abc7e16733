"""A real `omni serve` in a subprocess on a free 127.0.0.1 port, against a temporary SQLite
database and, when OMNI_TEST_POSTGRES_URL is set (required in CI), a fresh PostgreSQL database.

One server per database kind for the whole session (start-up imports the scientific stack);
`fresh_stock` puts the small chain's stock back and forgets all orders before each test.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, bindparam, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "api"))

from api_chain import small_chain  # noqa: E402
from api_helpers import API_KEYS  # noqa: E402

from api.db.engine import make_engine  # noqa: E402
from api.db.load_chain import load_chain  # noqa: E402
from api.db.migrate import upgrade  # noqa: E402

OMNI = str(Path(sys.executable).with_name("omni"))
START_TIMEOUT_S = 180  # a loaded 2-core CI box needs tens of seconds to import the stack


@dataclass(frozen=True)
class Server:
    base_url: str
    engine: Engine
    database_url: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(database_url: str, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    """`omni serve` on a free port; returns once /healthz answers (or fails with its output)."""
    port = free_port()
    env = {**os.environ, "OMNI_DATABASE_URL": database_url, "OMNI_API_KEYS": API_KEYS}
    process = subprocess.Popen(
        [OMNI, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            raise RuntimeError(f"omni serve exited with {process.returncode}:\n{output}")
        try:
            if httpx.get(base_url + "/healthz", timeout=1).status_code == 200:
                return process, base_url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    stop_server(process)
    raise RuntimeError(f"omni serve did not answer within {START_TIMEOUT_S} s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def prepared_database(url: str) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    load_chain(engine, small_chain(), data_version="small", params={"small": True})
    return engine


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
    process, base_url = start_server(url, workers)
    try:
        yield Server(base_url, engine, url)
    finally:
        stop_server(process)


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


def reset_stock(engine: Engine) -> None:
    """Forget every order and put the chain's stock back as loaded."""
    stock = small_chain().stock
    with engine.begin() as conn:
        for table in ("allocations", "order_lines", "orders", "reservations", "stock_movements"):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(
            text("UPDATE stock SET on_hand = :on_hand, reserved = 0, safety_stock = 0 "
                 "WHERE node_id = :node_id AND sku = :sku")
            .bindparams(bindparam("on_hand"), bindparam("node_id"), bindparam("sku")),
            stock.to_dict("records"),
        )


@pytest.fixture
def live(server: Server) -> Server:
    reset_stock(server.engine)
    return server
