"""Load test of the allocation API: `omni serve` on PostgreSQL, orders from a second process.

1. Creates a fresh PostgreSQL database on the server of OMNI_BENCH_POSTGRES_URL (default:
   OMNI_TEST_POSTGRES_URL, else postgresql+psycopg://postgres@127.0.0.1:5432/test) and runs
   `omni db init --demo` into it.
2. Starts `omni serve --workers N` on a free 127.0.0.1 port.
3. This process (asyncio + httpx, open loop: requests leave on schedule whether or not earlier
   ones have answered, at most --max-in-flight at once) sends a realistic order mix: 1 line 60 %,
   2-3 lines 30 %, 4-8 lines 10 %; home delivery 55 % (a postcode), parcel locker 30 % (a
   locker), click-and-collect 15 % (a store); SKUs drawn in proportion to stock on hand.
4. Prints p50/p90/p99 latency, throughput, answers by status (409 = not enough stock, an
   answer, not an error), errors (5xx, transport failures, anything else), then checks the
   database: no stock row with reserved > on hand, and the units held in reservations equal the
   units allocated to open orders and the `reserved` column.
5. Ramps the rate in steps to find the saturation throughput (the highest rate the service
   keeps up with at p99 <= 100 ms and no errors), and prints it.

    .venv/bin/python benchmarks/api_load.py [--rate 150] [--seconds 60] [--workers 2] [--quick]

Targets (issue 4): p99 <= 30 ms at 150 orders/s for 60 s, 0 errors, 0 oversold units;
goal >= 300 orders/s at saturation on the 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_KEY = "bench-oms-key-0123456789"
OMNI = str(Path(sys.executable).with_name("omni"))
SATURATION_P99_MS = 100.0


@dataclass
class Catalogue:
    """What the order generator draws from, read from the loaded database."""

    skus: list[str]
    sku_weights: np.ndarray
    postcodes: list[str]
    lockers: list[str]
    stores: list[str]


@dataclass
class Run:
    target_rate: float
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def answered(self) -> int:
        return len(self.latencies_ms)

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")


# --- Setting up: database and server -------------------------------------------------------


def server_url() -> str:
    return os.environ.get(
        "OMNI_BENCH_POSTGRES_URL", os.environ.get("OMNI_TEST_POSTGRES_URL", DEFAULT_SERVER)
    )


@contextmanager
def fresh_database(stores: int, skus: int | None) -> Iterator[str]:
    """A new database with the demo chain (`omni db init --demo`), dropped afterwards."""
    import psycopg

    base = make_url(server_url())
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"omni_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = base.set(drivername="postgresql+psycopg", database=name).render_as_string(
        hide_password=False
    )
    try:
        command = [OMNI, "db", "init", "--demo", "--stores", str(stores)]
        if skus:
            command += ["--skus", str(skus)]
        started = time.perf_counter()
        subprocess.run(command, env={**os.environ, "OMNI_DATABASE_URL": url}, check=True,
                       stdout=subprocess.DEVNULL)
        print(f"demo chain loaded into {name} in {time.perf_counter() - started:.0f} s")
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(url: str, workers: int) -> Iterator[str]:
    """`omni serve` in its own process; yields the base URL once every worker answers."""
    port = free_port()
    env = {**os.environ, "OMNI_DATABASE_URL": url, "OMNI_API_KEYS": f"{BENCH_KEY}:oms",
           "OMNI_ENVIRONMENT": "production"}
    log = Path(tempfile.mkstemp(prefix="omni-bench-serve-", suffix=".log")[1])
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [OMNI, "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(workers)],
            env=env, stdout=sink, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"omni serve exited:\n{log.read_text()}")
            try:
                if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        else:
            raise RuntimeError("omni serve did not become ready in 300 s")
        time.sleep(3.0 * workers)  # let every worker finish start-up, not just the first
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.unlink(missing_ok=True)


def read_catalogue(url: str) -> Catalogue:
    engine = create_engine(url)
    with engine.connect() as conn:
        weights = conn.execute(text(
            "SELECT sku, SUM(on_hand) FROM stock GROUP BY sku HAVING SUM(on_hand) > 0 ORDER BY sku"
        )).all()
        postcodes = [f"{p}-{random.randint(0, 999):03d}" for (p,) in conn.execute(
            text("SELECT postcode_prefix FROM postcode_areas ORDER BY 1"))]
        lockers = list(conn.execute(text("SELECT locker_id FROM lockers ORDER BY 1")).scalars())
        stores = list(conn.execute(
            text("SELECT node_id FROM nodes WHERE kind = 'store' ORDER BY 1")).scalars())
    engine.dispose()
    w = np.array([float(units) for _, units in weights])
    return Catalogue([s for s, _ in weights], w / w.sum(), postcodes, lockers, stores)


# --- The order mix ---------------------------------------------------------------------------


def make_order(rng: np.random.Generator, catalogue: Catalogue, order_id: str) -> dict[str, Any]:
    n_lines = int(rng.choice([1, 2, 3, 4, 5, 6, 8], p=[0.6, 0.18, 0.12, 0.04, 0.03, 0.02, 0.01]))
    skus = rng.choice(catalogue.skus, size=n_lines, replace=False, p=catalogue.sku_weights)
    lines = [{"line_id": str(k + 1), "sku": str(sku), "qty": int(rng.choice([1, 1, 1, 2]))}
             for k, sku in enumerate(skus)]
    body: dict[str, Any] = {"order_id": order_id, "lines": lines}
    kind = rng.random()
    if kind < 0.55 or not catalogue.lockers:
        body["fulfilment"] = "home_delivery"
        body["destination"] = {"postcode": str(rng.choice(catalogue.postcodes))}
    elif kind < 0.85:
        body["fulfilment"] = "parcel_locker"
        body["locker_id"] = str(rng.choice(catalogue.lockers))
    else:
        body["fulfilment"] = "click_and_collect"
        body["pickup_store_id"] = str(rng.choice(catalogue.stores))
    return body


# --- Sending ---------------------------------------------------------------------------------


async def send_at_rate(
    base: str, catalogue: Catalogue, rate: float, seconds: float, max_in_flight: int, seed: int,
    prefix: str,
) -> Run:
    """Open loop: the k-th order leaves at k / rate seconds, answered or not (bounded)."""
    rng = np.random.default_rng(seed)
    run = Run(rate, seconds)
    total = int(rate * seconds)
    bodies = [make_order(rng, catalogue, f"{prefix}-{k}") for k in range(total)]
    gate = asyncio.Semaphore(max_in_flight)
    limits = httpx.Limits(max_connections=max_in_flight, max_keepalive_connections=max_in_flight)
    headers = {"Authorization": f"Bearer {BENCH_KEY}"}

    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30, limits=limits) as c:

        async def one(body: dict[str, Any]) -> None:
            async with gate:
                started = time.perf_counter()
                try:
                    answer = await c.post("/v1/allocations", json=body)
                except httpx.HTTPError as exc:
                    run.errors.append(type(exc).__name__)
                    return
                run.latencies_ms.append((time.perf_counter() - started) * 1000)
                run.statuses[str(answer.status_code)] += 1
                if answer.status_code not in (200, 201, 409):
                    run.errors.append(f"{answer.status_code}: {answer.text[:200]}")

        tasks = []
        began = time.perf_counter()
        for k, body in enumerate(bodies):
            delay = began + k / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(body)))
        await asyncio.gather(*tasks)
        run.wall_s = time.perf_counter() - began
    return run


def report(run: Run, label: str) -> None:
    achieved = run.answered / run.wall_s if run.wall_s else 0.0
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(run.statuses.items()))
    print(f"{label}: target {run.target_rate:.0f}/s for {run.seconds:.0f} s -> "
          f"{run.answered} answered in {run.wall_s:.1f} s ({achieved:.0f}/s); "
          f"p50 {run.percentile(50):.1f} ms, p90 {run.percentile(90):.1f} ms, "
          f"p99 {run.percentile(99):.1f} ms, max {max(run.latencies_ms, default=0):.0f} ms; "
          f"statuses {statuses}; errors {len(run.errors)}")
    for error in Counter(run.errors).most_common(3):
        print(f"    error x{error[1]}: {error[0]}")


# --- Checking the database afterwards --------------------------------------------------------


def check_stock(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        figures = {
            "oversold_units": conn.execute(text(
                "SELECT COALESCE(SUM(reserved - on_hand), 0) FROM stock WHERE reserved > on_hand"
            )).scalar_one(),
            "reserved_column": conn.execute(
                text("SELECT COALESCE(SUM(reserved), 0) FROM stock")).scalar_one(),
            "held_reservations": conn.execute(text(
                "SELECT COALESCE(SUM(qty), 0) FROM reservations WHERE state = 'held'"
            )).scalar_one(),
            "allocated_open_orders": conn.execute(text(
                "SELECT COALESCE(SUM(a.qty), 0) FROM allocations a JOIN orders o "
                "ON o.order_id = a.order_id WHERE o.status IN ('allocated', 'partial')"
            )).scalar_one(),
            "orders": conn.execute(text("SELECT COUNT(*) FROM orders")).scalar_one(),
        }
    engine.dispose()
    return {k: int(v) for k, v in figures.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=150.0, help="orders per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stores", type=int, default=100)
    parser.add_argument("--skus", type=int, default=None)
    parser.add_argument("--max-in-flight", type=int, default=256)
    parser.add_argument("--ramp", type=str, default="200,300,400,500,650,800",
                        help="rates (orders/s) of the saturation ramp")
    parser.add_argument("--ramp-seconds", type=float, default=15.0)
    parser.add_argument("--quick", action="store_true",
                        help="15 s at the target rate, 5 s ramp steps")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.ramp_seconds = min(args.seconds, 15.0), 5.0

    with fresh_database(args.stores, args.skus) as url, serving(url, args.workers) as base:
        catalogue = read_catalogue(url)
        print(f"serving {base} with {args.workers} workers; {len(catalogue.skus)} SKUs in stock, "
              f"{len(catalogue.stores)} stores, {len(catalogue.lockers)} lockers")
        asyncio.run(send_at_rate(base, catalogue, 20, 3, args.max_in_flight, 0, "warm"))
        main_run = asyncio.run(send_at_rate(
            base, catalogue, args.rate, args.seconds, args.max_in_flight, 1, "main"))
        report(main_run, "steady")
        stock = check_stock(url)
        print("database after the steady run: " + ", ".join(f"{k} {v}" for k, v in stock.items()))
        consistent = (stock["oversold_units"] == 0
                      and stock["reserved_column"] == stock["held_reservations"]
                      == stock["allocated_open_orders"])
        print(f"oversold units: {stock['oversold_units']}; reservations consistent: {consistent}")

        kept_up: float | None = None
        best = 0.0
        for step, rate in enumerate(float(r) for r in args.ramp.split(",")):
            run = asyncio.run(send_at_rate(
                base, catalogue, rate, args.ramp_seconds, args.max_in_flight, 10 + step,
                f"ramp{step}"))
            report(run, f"ramp {rate:.0f}/s")
            achieved = run.answered / run.wall_s
            best = max(best, achieved)
            if run.errors or run.percentile(99) > SATURATION_P99_MS or achieved < 0.95 * rate:
                break
            kept_up = rate
        stock = check_stock(url)
        print(f"after the ramp: oversold units {stock['oversold_units']}, reserved column "
              f"{stock['reserved_column']} = held {stock['held_reservations']} = allocated "
              f"{stock['allocated_open_orders']}")
        print(f"saturation: highest rate kept up with (p99 <= {SATURATION_P99_MS:.0f} ms, no "
              f"errors, >= 95 % of the rate answered): "
              f"{'none of the ramp' if kept_up is None else f'{kept_up:.0f} orders/s'}; "
              f"highest throughput achieved: {best:.0f} orders/s")


if __name__ == "__main__":
    main()
