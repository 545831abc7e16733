"""In-process benchmark of the allocation service on PostgreSQL, without HTTP.

Calls `api.services.allocations.allocate_order` directly, one order at a time, on a fresh
database with the demo chain (`omni db init --demo`, as benchmarks/api_load.py), and prints per
order: p50/p90/p99 latency and database round trips (statements + BEGIN + COMMIT/ROLLBACK +
pool pings), for two paths, alternating in blocks so the noisy shared machine hits both alike:

- `per-row` (the old path, the baseline): pool pre-ping on every checkout, a savepoint around
  the reservation, one conditional UPDATE per stock row, one INSERT per table;
- `batched` (the current path): no pre-ping, no savepoint, one statement reserving every row and
  writing the holds, one statement writing the order, its lines and allocations.

    .venv/bin/python benchmarks/allocation_service.py [--orders 1000] [--block 50] [--stores 100]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, event

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_load import Catalogue, fresh_database, make_order, read_catalogue  # noqa: E402

from api.db import stock as db_stock  # noqa: E402
from api.db.engine import make_engine  # noqa: E402
from api.services.allocations import AllocationPolicy, allocate_order  # noqa: E402
from api.services.commands import AllocateOrder, LineCommand, payload_hash  # noqa: E402
from api.services.errors import NotEnoughStock, StaleStock  # noqa: E402
from api.services.network import MasterData, load_master_data  # noqa: E402
from api.settings import Settings  # noqa: E402


class RoundTrips:
    """Counts the client/server round trips an engine makes (psycopg sends BEGIN on its own)."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._one)
        for name in ("begin", "commit", "rollback"):
            event.listen(engine, name, self._one)
        ping = engine.dialect.do_ping

        def counted_ping(dbapi_connection: Any) -> bool:
            self.count += 1
            return bool(ping(dbapi_connection))

        engine.dialect.do_ping = counted_ping  # type: ignore[method-assign]

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


@contextmanager
def old_path(engine: Engine) -> Iterator[None]:
    """The per-row path with a pre-ping on checkout, as before the batched writes."""
    batched = db_stock.batched_writes
    db_stock.batched_writes = lambda conn: False  # type: ignore[assignment]
    engine.pool._pre_ping = True  # type: ignore[attr-defined]
    try:
        yield
    finally:
        db_stock.batched_writes = batched  # type: ignore[assignment]
        engine.pool._pre_ping = False  # type: ignore[attr-defined]


@contextmanager
def new_path(engine: Engine) -> Iterator[None]:
    yield


def run_block(
    engine: Engine, data: MasterData, commands: list[AllocateOrder], policy: AllocationPolicy,
    trips: RoundTrips, latencies: list[float], round_trips: list[int], outcomes: Counter[str],
) -> None:
    for command in commands:
        before = trips.count
        started = time.perf_counter()
        try:
            outcome = allocate_order(engine, data, command, policy)
            outcomes["created" if outcome.created else "replayed"] += 1
        except (NotEnoughStock, StaleStock) as exc:
            outcomes[type(exc).__name__] += 1
        latencies.append((time.perf_counter() - started) * 1000)
        round_trips.append(trips.count - before)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000, help="orders per path")
    parser.add_argument("--block", type=int, default=50, help="orders per alternation block")
    parser.add_argument("--stores", type=int, default=100)
    args = parser.parse_args()

    with fresh_database(args.stores, None) as url:
        settings = Settings()
        engine = make_engine(url, settings)
        trips = RoundTrips(engine)
        data = load_master_data(engine)
        catalogue: Catalogue = read_catalogue(url)
        policy = AllocationPolicy(
            deadline_ms=settings.allocation_deadline_ms,
            hold_hours=settings.click_and_collect_hold_hours,
            max_parcels_default=settings.max_parcels_default,
        )
        rng = np.random.default_rng(7)
        paths: dict[str, Callable[[Engine], Any]] = {"per-row": old_path, "batched": new_path}
        orders = {
            name: [to_command(make_order(rng, catalogue, f"{name}-{k}"), policy.max_parcels_default)
                   for k in range(args.orders)]
            for name in paths
        }
        # Warm up both paths (statement caches, pool, master data).
        for name, path in paths.items():
            with path(engine):
                warm = [to_command(make_order(rng, catalogue, f"warm-{name}-{k}"),
                                   policy.max_parcels_default) for k in range(20)]
                run_block(engine, data, warm, policy, trips, [], [], Counter())
        latencies: dict[str, list[float]] = {name: [] for name in paths}
        round_trips: dict[str, list[int]] = {name: [] for name in paths}
        outcomes: dict[str, Counter[str]] = {name: Counter() for name in paths}
        began = datetime.now()
        for start in range(0, args.orders, args.block):
            for name, path in paths.items():
                with path(engine):
                    run_block(engine, data, orders[name][start:start + args.block], policy, trips,
                              latencies[name], round_trips[name], outcomes[name])
        engine.dispose()
        print(f"{args.orders} orders per path, alternating blocks of {args.block}, "
              f"{(datetime.now() - began).total_seconds():.0f} s")
        p50 = {}
        for name in paths:
            lat = np.array(latencies[name])
            p50[name] = float(np.percentile(lat, 50))
            print(f"{name:8s}: p50 {p50[name]:.2f} ms, p90 {np.percentile(lat, 90):.2f} ms, "
                  f"p99 {np.percentile(lat, 99):.2f} ms; round trips per order: mean "
                  f"{np.mean(round_trips[name]):.2f}, median {np.median(round_trips[name]):.0f}; "
                  f"outcomes {dict(outcomes[name])}")
        print(f"batched / per-row p50: {p50['batched'] / p50['per-row']:.2f}; round trips: "
              f"{np.mean(round_trips['batched']) / np.mean(round_trips['per-row']):.2f}")


if __name__ == "__main__":
    main()
