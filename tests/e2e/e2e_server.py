"""Running `omni serve` for the e2e tests, and putting the database back between tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import Engine, bindparam, text

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


def start_server(
    database_url: str, log: Path, workers: int = 1
) -> tuple[subprocess.Popen[bytes], str]:
    """`omni serve` on a free port; returns once /healthz answers (or fails with its log).

    The log goes to a file: an unread pipe fills up and blocks the server mid-request.
    """
    port = free_port()
    env = {**os.environ, "OMNI_DATABASE_URL": database_url, "OMNI_API_KEYS": API_KEYS}
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [OMNI, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
            env=env, stdout=sink, stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = log.read_text(errors="replace")
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
