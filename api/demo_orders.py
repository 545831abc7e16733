"""A day of OMS orders sent through the real HTTP API: the last step of `omni demo`.

The orders come from the demo chain's held-out online demand for the first day after `as_of`
(the same customers the forecasts never saw): each online sale of a store's catchment becomes an
order line, lines of one catchment are grouped into orders of one to three lines, and the
fulfilment mix follows a Polish e-shop (courier, parcel locker, click & collect at the
customer's store). The API runs in-process under uvicorn on a free loopback port and the orders
go over real HTTP, so the summary shows what the OMS would see.
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from api.db.tables import Stock
from api.settings import Settings

FULFILMENT_MIX = {"home_delivery": 0.55, "parcel_locker": 0.27, "click_and_collect": 0.18}


@dataclass
class OrderDayReport:
    orders: int = 0
    http_status: Counter[int] = field(default_factory=Counter)
    solver_status: Counter[str] = field(default_factory=Counter)
    methods: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    total_cost_pln: float = 0.0
    units_reserved: int = 0
    oversold_rows: int = 0

    def lines(self) -> list[str]:
        lat = sorted(self.latencies_ms) or [0.0]
        p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
        allocated = self.http_status.get(201, 0)
        return [
            f"orders sent: {self.orders}; HTTP {dict(sorted(self.http_status.items()))}",
            f"solver status: {dict(self.solver_status)}; lines by method: {dict(self.methods)}",
            f"fulfilment cost: {self.total_cost_pln:,.2f} PLN "
            f"({self.total_cost_pln / max(allocated, 1):.2f} PLN per allocated order)",
            f"latency over HTTP: median {statistics.median(lat):.1f} ms, p99 {p99:.1f} ms",
            f"units reserved: {self.units_reserved}; stock rows oversold: {self.oversold_rows}",
        ]


def day_of_orders(
    chain: Any, rng: np.random.Generator, run_tag: str, max_orders: int = 400
) -> list[dict[str, Any]]:
    """Order payloads for the first held-out day, in arrival order (deterministic for `rng`).

    `run_tag` goes into every order id: a second demo run sends new orders (another day's
    trade on the remaining stock) instead of idempotent repeats of the first run's."""
    day = pd.Timestamp(chain.as_of + timedelta(days=1))
    sales = chain.future_sales
    online = sales[(sales["date"] == day) & (sales["channel"] == "online")]
    stores = chain.nodes.set_index("node_id")
    lockers = chain.lockers
    orders: list[dict[str, Any]] = []
    for node_id, rows in online.groupby("node_id", sort=True):
        units = rows.loc[rows.index.repeat(rows["units"].clip(upper=3)), "sku"].tolist()
        rng.shuffle(units)
        while units and len(orders) < max_orders:
            size = int(min(len(units), rng.choice([1, 1, 1, 2, 2, 3])))
            basket = Counter(units[:size])
            units = units[size:]
            store = stores.loc[node_id]
            orders.append(
                _payload(f"{run_tag}-{len(orders):05d}", str(node_id), store, basket, lockers, rng)
            )
    order = rng.permutation(len(orders))
    return [orders[i] for i in order]


def _payload(
    order_id: str, node_id: str, store: pd.Series, basket: Counter[str],
    lockers: pd.DataFrame, rng: np.random.Generator,
) -> dict[str, Any]:
    fulfilment = str(rng.choice(list(FULFILMENT_MIX), p=list(FULFILMENT_MIX.values())))
    lat = float(store["lat"]) + float(rng.normal(0, 0.05))
    lon = float(store["lon"]) + float(rng.normal(0, 0.08))
    payload: dict[str, Any] = {
        "order_id": order_id,
        "fulfilment": fulfilment,
        "lines": [
            {"line_id": f"L{k + 1}", "sku": sku, "qty": qty}
            for k, (sku, qty) in enumerate(sorted(basket.items()))
        ],
        "allow_partial": True,
    }
    if fulfilment == "click_and_collect":
        payload["pickup_store_id"] = node_id
    elif fulfilment == "parcel_locker":
        distance = (lockers["lat"] - lat) ** 2 + (lockers["lon"] - lon) ** 2
        payload["locker_id"] = str(lockers["locker_id"].iloc[int(np.argmin(distance.to_numpy()))])
    else:
        payload["destination"] = {"lat": round(lat, 5), "lon": round(lon, 5)}
    return payload


def send_orders(
    settings: Settings, engine: Engine, payloads: list[dict[str, Any]]
) -> OrderDayReport:
    """Serve the API on a loopback port and send every order over HTTP, one after another."""
    key = next(k for k, scope in settings.api_keys.items() if scope in ("oms", "admin"))
    report = OrderDayReport()
    with _served(settings) as base_url, httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as client:
        for payload in payloads:
            t0 = time.perf_counter()
            response = client.post("/v1/allocations", json=payload)
            report.latencies_ms.append((time.perf_counter() - t0) * 1000)
            report.orders += 1
            report.http_status[response.status_code] += 1
            if response.status_code in (200, 201):
                body = response.json()
                report.solver_status[body["status"]] += 1
                report.total_cost_pln += float(body["total_cost_pln"])
                for line in body["lines"]:
                    if line.get("method"):
                        report.methods[line["method"]] += 1
    with engine.connect() as conn:
        report.units_reserved = int(conn.execute(select(func.sum(Stock.reserved))).scalar() or 0)
        report.oversold_rows = int(
            conn.execute(
                select(func.count()).where(Stock.reserved > Stock.on_hand)
            ).scalar_one()
        )
    return report


@contextmanager
def _served(settings: Settings) -> Iterator[str]:
    """uvicorn in a background thread on a free 127.0.0.1 port, stopped on exit."""
    import uvicorn

    from api.http.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
