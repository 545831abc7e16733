"""In-process benchmark of the allocation service on PostgreSQL, without HTTP.

Calls `api.services.allocations` directly, one order at a time, on a fresh database with the
demo chain (`omni db init --demo`, as benchmarks/api_load.py), and prints per order: p50/p90/p99
latency, client round trips, CPU milliseconds of this process and of the PostgreSQL backend
serving it, for two paths, alternating in blocks so the noisy shared machine hits both alike:

- `transaction` (the path before, still the one on SQLite): BEGIN, read, one statement
  reserving the rows and writing the holds, one statement writing the order, its lines and
  allocations, COMMIT, all through SQLAlchemy;
- `one-statement` (PostgreSQL now): on one pooled connection in autocommit mode, the read, then
  ONE statement that reserves, writes holds, order, lines and allocations and commits; bare
  psycopg, prepared statements with generic plans (as `omni serve` runs them).

    .venv/bin/python benchmarks/allocation_service.py [--orders 1000] [--block 50] [--stores 100]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from sqlalchemy import Engine, event, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_load import Catalogue, fresh_database, make_order, read_catalogue  # noqa: E402

from allocation.errors import InvalidOrder, OutOfStock  # noqa: E402
from allocation.sourcing import source_order  # noqa: E402
from api.db.engine import make_engine  # noqa: E402
from api.services import allocations as service  # noqa: E402
from api.services.commands import AllocateOrder, LineCommand, payload_hash  # noqa: E402
from api.services.errors import NotEnoughStock, StaleStock  # noqa: E402
from api.services.network import MasterData, load_master_data  # noqa: E402
from api.settings import Settings  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class RoundTrips:
    """Counts client/server round trips: SQLAlchemy statements, BEGIN, COMMIT and ROLLBACK on
    `engine`, and statements sent through bare psycopg connections (each one round trip in
    autocommit mode once prepared; the one-off PREPARE per connection is not counted)."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._one)
        for name in ("begin", "commit", "rollback"):
            event.listen(engine, name, self._one)
        execute = psycopg.Connection.execute
        trips = self

        def counted(connection: Any, *args: Any, **kwargs: Any) -> Any:
            trips.count += 1
            return execute(connection, *args, **kwargs)

        psycopg.Connection.execute = counted  # type: ignore[method-assign]

    def _one(self, *_args: Any, **_kwargs: Any) -> None:
        self.count += 1


def to_command(body: dict[str, Any], max_parcels: int) -> AllocateOrder:
    destination = body.get("destination") or {}
    return AllocateOrder(
        order_id=body["order_id"],
        fulfilment=body["fulfilment"],
        lines=tuple(LineCommand(x["line_id"], x["sku"], x["qty"]) for x in body["lines"]),
        request_hash=payload_hash(body),
        postcode=destination.get("postcode"),
        pickup_store_id=body.get("pickup_store_id"),
        locker_id=body.get("locker_id"),
        max_parcels=max_parcels,
    )


Path_ = Callable[[Engine, MasterData, AllocateOrder, service.AllocationPolicy], Any]


def transaction_path(
    engine: Engine, data: MasterData, command: AllocateOrder, policy: service.AllocationPolicy
) -> Any:
    at = datetime.now(UTC)
    order = service.to_core_order(command, data, at)
    return service._allocate_in_transactions(engine, data, command, order, policy, at,
                                             source_order)


def one_statement_path(
    engine: Engine, data: MasterData, command: AllocateOrder, policy: service.AllocationPolicy
) -> Any:
    return service.allocate_order(engine, data, command, policy)


def backend_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000, help="orders per path")
    parser.add_argument("--block", type=int, default=50, help="orders per alternation block")
    parser.add_argument("--stores", type=int, default=100)
    args = parser.parse_args()

    with fresh_database(args.stores, None) as url:
        settings = Settings(db_pool_size=1, db_max_overflow=0)
        engine = make_engine(url, settings, generic_plans=True)
        with engine.connect() as conn:  # one pooled connection: one backend to measure
            backend = int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
        comm = Path(f"/proc/{backend}/comm")
        local = comm.exists() and comm.read_text().strip() == "postgres"  # a server on this box
        trips = RoundTrips(engine)
        data = load_master_data(engine)
        catalogue: Catalogue = read_catalogue(url)
        policy = service.AllocationPolicy(
            deadline_ms=settings.allocation_deadline_ms,
            hold_hours=settings.click_and_collect_hold_hours,
            max_parcels_default=settings.max_parcels_default,
        )
        rng = np.random.default_rng(7)
        paths: dict[str, Path_] = {"transaction": transaction_path,
                                   "one-statement": one_statement_path}
        orders = {
            name: [to_command(make_order(rng, catalogue, f"{name}-{k}"), policy.max_parcels_default)
                   for k in range(args.orders)]
            for name in paths
        }
        latencies: dict[str, list[float]] = {name: [] for name in paths}
        round_trips: dict[str, list[int]] = {name: [] for name in paths}
        outcomes: dict[str, Counter[str]] = {name: Counter() for name in paths}
        cpu = {name: [0.0, 0.0] for name in paths}  # this process, the backend
        for name, path in paths.items():  # warm up: statement caches, pool, derived values
            for k in range(20):
                body = make_order(rng, catalogue, f"warm-{name}-{k}")
                _run(path, engine, data, to_command(body, 3), policy, Counter())
        began = time.perf_counter()
        for start in range(0, args.orders, args.block):
            for name, path in paths.items():
                own, server = time.process_time(), backend_cpu_s(backend) if local else 0.0
                for command in orders[name][start:start + args.block]:
                    before = trips.count
                    started = time.perf_counter()
                    _run(path, engine, data, command, policy, outcomes[name])
                    latencies[name].append((time.perf_counter() - started) * 1000)
                    round_trips[name].append(trips.count - before)
                cpu[name][0] += time.process_time() - own
                if local:
                    cpu[name][1] += backend_cpu_s(backend) - server
        engine.dispose()
        print(f"{args.orders} orders per path, alternating blocks of {args.block}, "
              f"{time.perf_counter() - began:.0f} s")
        p50 = {}
        for name in paths:
            lat = np.array(latencies[name])
            p50[name] = float(np.percentile(lat, 50))
            print(f"{name:13s}: p50 {p50[name]:.2f} ms, p90 {np.percentile(lat, 90):.2f} ms, "
                  f"p99 {np.percentile(lat, 99):.2f} ms; round trips per order: mean "
                  f"{np.mean(round_trips[name]):.2f}, median {np.median(round_trips[name]):.0f}; "
                  f"CPU ms per order: this process {cpu[name][0] * 1000 / args.orders:.2f}, "
                  f"PostgreSQL backend {cpu[name][1] * 1000 / args.orders:.2f}; "
                  f"outcomes {dict(outcomes[name])}")
        new, old = "one-statement", "transaction"
        print(f"{new} / {old}: p50 {p50[new] / p50[old]:.2f}, round trips "
              f"{np.mean(round_trips[new]) / np.mean(round_trips[old]):.2f}, CPU "
              f"{cpu[new][0] / cpu[old][0]:.2f} (this process), "
              f"{cpu[new][1] / max(cpu[old][1], 1e-9):.2f} (backend)")


def _run(path: Path_, engine: Engine, data: MasterData, command: AllocateOrder,
         policy: service.AllocationPolicy, outcomes: Counter[str]) -> None:
    try:
        outcome = path(engine, data, command, policy)
        outcomes["created" if outcome.created else "replayed"] += 1
    except (OutOfStock, NotEnoughStock, StaleStock, InvalidOrder) as exc:
        outcomes[type(exc).__name__] += 1


if __name__ == "__main__":
    main()
