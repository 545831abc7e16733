"""Load test of the allocation API: `omni serve` on PostgreSQL, orders from a second process.

1. Creates a fresh PostgreSQL database on the server of OMNI_BENCH_POSTGRES_URL (default:
   OMNI_TEST_POSTGRES_URL, else postgresql+psycopg://postgres@127.0.0.1:5432/test) and runs
   `omni db init --demo` into it.
2. Starts `omni serve --workers N` on a free 127.0.0.1 port.
3. This process sends a realistic order mix, open loop: the k-th order is due at k / rate
   seconds and its latency is measured from that due time, so a slow answer that delays later
   sends (a busy connection, a late event loop) counts against the service (no coordinated
   omission). Mix: 1 line 60 %, 2-3 lines 30 %, 4-8 lines 10 %; home delivery 55 % (a
   postcode), parcel locker 30 % (a locker), click-and-collect 15 % (a store); SKUs drawn in
   proportion to stock on hand. The client is lean on purpose (it shares the 2 cores with the
   server and PostgreSQL): requests are encoded before the run, sent over keep-alive
   connections with asyncio + uvloop, and answers parsed by httptools.
4. Prints latency (p50/p95/p99 from the due time), answered/s, answers by status (409 = not
   enough stock, an answer, not an error), errors (5xx, transport failures, anything else),
   CPU milliseconds per order of the server, of PostgreSQL and of this client (from /proc),
   then checks the database: no stock row with reserved > on hand, and the units held in
   reservations equal the units allocated to open orders and the `reserved` column.
5. Ramps the rate in steps to find the saturation throughput (the highest rate the service
   keeps up with at p99 <= 100 ms, no errors and >= 95 % of the rate answered), and prints it.
   Before every phase the stock's available units are put back to the loaded level (on hand =
   reserved + loaded on hand), so no phase is flattered by cheap out-of-stock answers.

    .venv/bin/python benchmarks/api_load.py [--rate 150] [--seconds 60] [--workers 2] [--quick]

Targets (issue 4): p99 <= 30 ms at 150 orders/s for 60 s, 0 errors, 0 oversold units;
goal >= 300 orders/s at saturation on the 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
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

import httptools
import httpx
import numpy as np
import orjson
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BENCH_KEY = "bench-oms-key-0123456789"
OMNI = str(Path(sys.executable).with_name("omni"))
SATURATION_P99_MS = 100.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


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
    service_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    cpu_ms: dict[str, float] = field(default_factory=dict)

    @property
    def answered(self) -> int:
        return len(self.latencies_ms)

    @property
    def answered_per_s(self) -> float:
        return self.answered / self.wall_s if self.wall_s else 0.0

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")

    def kept_up(self) -> bool:
        return (not self.errors and self.percentile(99) <= SATURATION_P99_MS
                and self.answered_per_s >= 0.95 * self.target_rate)


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
        # `omni db init` ends with ANALYZE of the loaded tables (api.db.load_chain): the orders
        # run on the plans of a database in service, not on plans made for empty tables.
        print(f"demo chain loaded into {name} (and analyzed) in "
              f"{time.perf_counter() - started:.0f} s")
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(url: str, workers: int) -> Iterator[tuple[str, int]]:
    """`omni serve` in its own process; yields (base URL, pid) once every worker answers."""
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
        yield base, process.pid
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


class Restocker:
    """Puts every stock row's available units back to the loaded level before a phase
    (on hand = reserved + loaded on hand), so the phases are alike and none is flattered by
    cheap out-of-stock answers; reservations are untouched, so the checks still hold.

    It also vacuums the stock table, as autovacuum would in service (the stock rows are
    rewritten by every order; the test server may run with autovacuum off, and a phase would
    then read through the dead row versions of all the phases before it)."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        with self.engine.begin() as conn:
            self.loaded = [dict(row) for row in conn.execute(
                text("SELECT node_id, sku, on_hand FROM stock")).mappings()]
            self.autovacuum = conn.execute(text("SHOW autovacuum")).scalar_one()

    def __call__(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                text("UPDATE stock SET on_hand = reserved + :on_hand, version = version + 1 "
                     "WHERE node_id = :node_id AND sku = :sku"),
                self.loaded,
            )
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # An ANALYZE of the still-empty reservations table (before the first phase) would
            # record it as empty, and cached generic plans would then scan it as it grows.
            held = conn.execute(text("SELECT EXISTS (SELECT 1 FROM reservations)")).scalar_one()
            conn.execute(text("VACUUM (ANALYZE) stock, reservations" if held
                              else "VACUUM (ANALYZE) stock"))

    def close(self) -> None:
        self.engine.dispose()


# --- CPU accounting from /proc ---------------------------------------------------------------


def _proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def _processes() -> list[tuple[int, int, str]]:
    """(pid, parent pid, command name) of every process."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                head, tail = (entry / "stat").read_text().rsplit(")", 1)
            except OSError:
                continue
            found.append((int(entry.name), int(tail.split()[1]), head.split("(", 1)[1]))
    return found


class CpuMeter:
    """CPU seconds of the server (its process tree), of PostgreSQL (every `postgres` process:
    other users of the same server count too) and of this client, between two readings."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid

    def read(self) -> dict[str, float]:
        processes = _processes()
        children: dict[int, list[int]] = {}
        for pid, parent, _ in processes:
            children.setdefault(parent, []).append(pid)
        server = 0.0
        if self.server_pid is not None:
            stack = [self.server_pid]
            while stack:
                pid = stack.pop()
                server += _proc_cpu_s(pid)
                stack += children.get(pid, [])
        postgres = sum(_proc_cpu_s(pid) for pid, _, name in processes if name == "postgres")
        usage = resource.getrusage(resource.RUSAGE_SELF)
        machine = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        busy = sum(int(x) for x in machine) - int(machine[3]) - int(machine[4])  # - idle, iowait
        return {"server": server, "postgres": postgres,
                "client": usage.ru_utime + usage.ru_stime, "machine": busy / CLOCK_TICKS}


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


# --- A lean HTTP/1.1 client ------------------------------------------------------------------


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time; answers parsed by httptools."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.chunks: list[bytes] = []
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(exc or ConnectionResetError("connection closed by the server"))

    def on_message_begin(self) -> None:
        self.chunks = []

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        if not self.parser.should_keep_alive():
            self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((self.parser.get_status_code(), b"".join(self.chunks)))

    def _fail(self, exc: BaseException) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)

    async def send(self, request: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter


class Client:
    """A pool of at most `max_connections` keep-alive connections to one host."""

    def __init__(self, host: str, port: int, max_connections: int) -> None:
        self.host, self.port = host, port
        self.gate = asyncio.Semaphore(max_connections)
        self.idle: list[_Connection] = []

    async def send(self, request: bytes) -> tuple[int, bytes]:
        async with self.gate:
            while self.idle and self.idle[-1].closed:  # the server closed it while idle
                self.idle.pop()
            if self.idle:
                connection = self.idle.pop()
            else:
                _, connection = await asyncio.get_running_loop().create_connection(
                    _Connection, self.host, self.port)
            try:
                return await connection.send(request)
            finally:
                if connection.closed:
                    if connection.transport is not None:
                        connection.transport.close()
                else:
                    self.idle.append(connection)

    def close(self) -> None:
        for connection in self.idle:
            if connection.transport is not None:
                connection.transport.close()
        self.idle.clear()


def encode(host: str, body: dict[str, Any]) -> bytes:
    payload = orjson.dumps(body)
    return (f"POST /v1/allocations HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer {BENCH_KEY}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload


async def send_at_rate(
    base: str, catalogue: Catalogue, rate: float, seconds: float, max_in_flight: int, seed: int,
    prefix: str, meter: CpuMeter | None = None,
) -> Run:
    """Open loop: the k-th order is due at k / rate seconds and timed from then, answered or
    not; at most `max_in_flight` connections (a request waiting for one is still on the clock)."""
    rng = np.random.default_rng(seed)
    run = Run(rate, seconds)
    url = httptools.parse_url(base.encode())
    host, port = url.host.decode(), int(url.port or 80)
    requests = [encode(f"{host}:{port}", make_order(rng, catalogue, f"{prefix}-{k}"))
                for k in range(int(rate * seconds))]
    client = Client(host, port, max_in_flight)

    async def one(request: bytes, due: float) -> None:
        sent = time.perf_counter()
        try:
            status, answer = await client.send(request)
        except OSError as exc:
            run.errors.append(f"{type(exc).__name__}: {exc}")
            return
        done = time.perf_counter()
        run.latencies_ms.append((done - due) * 1000)
        run.service_ms.append((done - sent) * 1000)
        run.statuses[str(status)] += 1
        if status not in (200, 201, 409):
            run.errors.append(f"{status}: {answer[:200].decode(errors='replace')}")

    before = meter.read() if meter else {}
    tasks = []
    # time.perf_counter, not loop.time(): uvloop's clock ticks in whole milliseconds.
    began = time.perf_counter() + 0.01
    for k, request in enumerate(requests):
        due = began + k / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(request, due)))
    await asyncio.gather(*tasks)
    run.wall_s = time.perf_counter() - began
    client.close()
    if meter:
        after = meter.read()
        run.cpu_ms = {k: (after[k] - before[k]) * 1000 for k in after}
    return run


def run_phase(*args: Any, **kwargs: Any) -> Run:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        return asyncio.run(send_at_rate(*args, **kwargs))
    return uvloop.run(send_at_rate(*args, **kwargs))


def report(run: Run, label: str) -> None:
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(run.statuses.items()))
    print(f"{label}: {run.target_rate:.0f}/s for {run.seconds:.0f} s -> {run.answered} answered "
          f"in {run.wall_s:.1f} s ({run.answered_per_s:.0f}/s); from the due time p50 "
          f"{run.percentile(50):.1f} ms, p95 {run.percentile(95):.1f} ms, p99 "
          f"{run.percentile(99):.1f} ms, max {max(run.latencies_ms, default=0):.0f} ms "
          f"(service time p99 {np.percentile(run.service_ms, 99) if run.service_ms else 0:.1f} "
          f"ms); statuses {statuses}; errors {len(run.errors)}")
    if run.cpu_ms and run.answered:
        per = {k: v / run.answered for k, v in run.cpu_ms.items()}
        print(f"    CPU ms per order: server {per['server']:.2f}, postgres {per['postgres']:.2f}, "
              f"client {per['client']:.2f}; whole machine {per['machine']:.2f} (other work "
              f"included); cores busy {run.cpu_ms['machine'] / 1000 / run.wall_s:.2f}")
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


def consistent(stock: dict[str, int]) -> bool:
    return (stock["oversold_units"] == 0 and stock["reserved_column"]
            == stock["held_reservations"] == stock["allocated_open_orders"])


@contextmanager
def target(args: argparse.Namespace) -> Iterator[tuple[str, str, int | None]]:
    """(database URL, base URL, server pid): fresh ones, or those named on the command line."""
    if args.database_url and args.base_url:
        yield args.database_url, args.base_url, args.server_pid
        return
    if args.database_url:
        with serving(args.database_url, args.workers) as (base, pid):
            yield args.database_url, base, pid
        return
    with fresh_database(args.stores, args.skus) as url, serving(url, args.workers) as (base, pid):
        yield url, base, pid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=150.0, help="orders per second")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--stores", type=int, default=100)
    parser.add_argument("--skus", type=int, default=None)
    parser.add_argument("--max-in-flight", type=int, default=256)
    parser.add_argument("--ramp", type=str, default="200,250,300,350,400,500,650,800",
                        help="rates (orders/s) of the saturation ramp; empty to skip it")
    parser.add_argument("--ramp-seconds", type=float, default=15.0)
    parser.add_argument("--quick", action="store_true",
                        help="15 s at the target rate, 5 s ramp steps")
    parser.add_argument("--database-url", default=None,
                        help="an existing database with the demo chain (its stock is topped up "
                        "and orders are added) instead of a fresh one")
    parser.add_argument("--base-url", default=None,
                        help="with --database-url: an `omni serve` already running on it")
    parser.add_argument("--server-pid", type=int, default=None,
                        help="with --base-url: its process id, for the CPU figures")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.ramp_seconds = min(args.seconds, 15.0), 5.0

    with target(args) as (url, base, pid):
        catalogue = read_catalogue(url)
        restock = Restocker(url)
        meter = CpuMeter(pid)
        print(f"serving {base} with {args.workers} workers; {len(catalogue.skus)} SKUs in stock, "
              f"{len(catalogue.stores)} stores, {len(catalogue.lockers)} lockers; cores "
              f"{os.cpu_count()}, load average {os.getloadavg()[0]:.1f} before the run; "
              f"server autovacuum {restock.autovacuum} (stock vacuumed before each phase)")
        run_phase(base, catalogue, 20, 3, args.max_in_flight, 0, f"warm{uuid.uuid4().hex[:6]}")
        restock()
        tag = uuid.uuid4().hex[:6]
        steady = run_phase(base, catalogue, args.rate, args.seconds, args.max_in_flight, 1,
                           f"main{tag}", meter)
        report(steady, "steady")
        stock = check_stock(url)
        print("database after the steady run: " + ", ".join(f"{k} {v}" for k, v in stock.items()))
        steady_ok = consistent(stock)
        print(f"oversold units: {stock['oversold_units']}; reservations consistent: {steady_ok}")

        kept_up: float | None = None
        best = 0.0
        for step, rate in enumerate(float(r) for r in args.ramp.split(",") if r.strip()):
            restock()
            run = run_phase(base, catalogue, rate, args.ramp_seconds, args.max_in_flight,
                            10 + step, f"ramp{tag}{step}", meter)
            report(run, f"ramp {rate:.0f}/s")
            best = max(best, run.answered_per_s)
            if not run.kept_up():
                break
            kept_up = rate
        after = check_stock(url)
        restock.close()
        print(f"after the ramp: oversold units {after['oversold_units']}, reserved column "
              f"{after['reserved_column']} = held {after['held_reservations']} = allocated "
              f"{after['allocated_open_orders']}: {consistent(after)}")
        saturation = "none of the ramp" if kept_up is None else f"{kept_up:.0f} orders/s"
        print()
        print("summary (issue 4 targets: p99 <= 30 ms at 150/s for 60 s, 0 errors, 0 oversold; "
              "saturation >= 300/s)")
        rows = [
            ("rate (orders/s)", f"{steady.target_rate:.0f}"),
            ("duration (s)", f"{steady.seconds:.0f}"),
            ("answered/s", f"{steady.answered_per_s:.1f}"),
            ("p50 / p95 / p99 (ms)", f"{steady.percentile(50):.1f} / {steady.percentile(95):.1f}"
             f" / {steady.percentile(99):.1f}"),
            ("errors", str(len(steady.errors))),
            ("oversold units", str(max(stock["oversold_units"], after["oversold_units"]))),
            ("reservations consistent", str(steady_ok and consistent(after))),
            ("CPU ms/order server / postgres / client",
             " / ".join(f"{steady.cpu_ms.get(k, 0) / max(steady.answered, 1):.2f}"
                        for k in ("server", "postgres", "client"))),
            (f"saturation (p99 <= {SATURATION_P99_MS:.0f} ms, 0 errors, >= 95 % answered)",
             saturation),
            ("highest throughput answered (orders/s)", f"{best:.0f}"),
        ]
        width = max(len(name) for name, _ in rows)
        for name, value in rows:
            print(f"  {name:<{width}}  {value}")


if __name__ == "__main__":
    main()
