"""The first orders after `omni serve` starts: are they decided within the OMS's deadline?

A server process pays one-off costs somewhere: the holiday calendar, the tariff tables,
CP-SAT's first model. This starts `omni serve` (one worker) on the demo chain in a temporary
SQLite database several times and, after each start, sends the same few orders one at a time,
timing each answer at the client. The baseline is the same run's warm orders (the 6th to 10th
of each start): the first order's time is printed beside them and as a ratio.

    .venv/bin/python benchmarks/cold_start.py [--starts 3] [--orders 10] [--database-url URL]
        [--omni PATH]   (another build's `omni`, to compare releases on one database)

The server's log goes to a file; the orders are home deliveries of one unit to Warsaw, each of
a SKU in stock at a DC, with the default deadline (50 ms unless OMNI_ALLOCATION_DEADLINE_MS).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

OMNI = str(Path(sys.executable).with_name("omni"))
KEY = "bench-oms-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(url: str | None, omni: str) -> str:
    """A database with the demo chain: `url`, or a new SQLite file (omni db init --demo)."""
    if url:
        return url
    path = Path(tempfile.mkdtemp(prefix="omni-cold-")) / "omni.db"
    url = f"sqlite:///{path}"
    subprocess.run([omni, "db", "init", "--demo", "--stores", "30"], check=True,
                   env={**os.environ, "OMNI_DATABASE_URL": url}, stdout=subprocess.DEVNULL)
    return url


def skus_in_stock(url: str, count: int) -> list[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT stock.sku FROM stock JOIN nodes ON nodes.node_id = stock.node_id "
            "WHERE nodes.kind = 'dc' AND stock.on_hand - stock.reserved > :n "
            "GROUP BY stock.sku ORDER BY stock.sku"), {"n": 50}).scalars().all()
    engine.dispose()
    if not rows:
        raise SystemExit("no SKU with stock at a DC in that database")
    return [rows[k % len(rows)] for k in range(count)]


def one_start(url: str, skus: list[str], omni: str) -> tuple[float, list[float], list[str]]:
    """(seconds until /healthz answered, client ms per order in sending order, statuses)."""
    port = free_port()
    env = {**os.environ, "OMNI_DATABASE_URL": url, "OMNI_API_KEYS": f"{KEY}:oms"}
    log = Path(tempfile.mkstemp(prefix="omni-cold-", suffix=".log")[1])
    started = time.perf_counter()
    with log.open("wb") as sink:
        server = subprocess.Popen([omni, "serve", "--host", "127.0.0.1", "--port", str(port)],
                                  env=env, stdout=sink, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            while True:
                if server.poll() is not None:
                    raise SystemExit(f"omni serve exited:\n{log.read_text(errors='replace')}")
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            up_s = time.perf_counter() - started
            times, statuses = [], []
            for sku in skus:
                body = {"order_id": f"cold-{uuid.uuid4().hex[:12]}", "fulfilment": "home_delivery",
                        "destination": {"postcode": "00-950"},
                        "lines": [{"line_id": "1", "sku": sku, "qty": 1}]}
                sent = time.perf_counter()
                answer = client.post("/v1/allocations", json=body,
                                     headers={"Authorization": f"Bearer {KEY}"})
                times.append((time.perf_counter() - sent) * 1000.0)
                statuses.append(str(answer.json().get("status", answer.status_code))
                                if answer.status_code == 201 else str(answer.status_code))
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.unlink(missing_ok=True)
    return up_s, times, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=3)
    parser.add_argument("--orders", type=int, default=10, help="orders after each start (>= 6)")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--omni", default=OMNI, help="the omni command (default: beside python)")
    args = parser.parse_args()
    url = prepare(args.database_url, args.omni)
    skus = skus_in_stock(url, max(args.orders, 6))
    firsts, warm, ups = [], [], []
    for k in range(args.starts):
        up_s, times, statuses = one_start(url, skus, args.omni)
        ups.append(up_s)
        firsts.append(times[0])
        warm += times[5:]
        print(f"start {k + 1}: up in {up_s:.1f} s; orders (ms): "
              + ", ".join(f"{t:.1f}" for t in times) + f"; status {statuses[0]} ... "
              f"{statuses[-1]}", flush=True)
    print(f"\nfirst order after a start: median {statistics.median(firsts):.1f} ms, max "
          f"{max(firsts):.1f} ms; warm orders (6th on): median {statistics.median(warm):.1f} ms; "
          f"first / warm median {statistics.median(firsts) / statistics.median(warm):.1f} x; "
          f"start-up median {statistics.median(ups):.1f} s")


if __name__ == "__main__":
    main()
