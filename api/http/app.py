"""The app factory and its lifespan: the one place the HTTP service is wired.

Nothing happens at import: `create_app(settings)` builds the app; the lifespan builds the engine,
the cached network and the background task that expires click-and-collect holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from allocation.sourcing import source_order
from allocation.warmup import warm_up
from api.console import mount_console
from api.db.engine import make_engine
from api.http import lane
from api.http import media_type as media
from api.http.middleware import LatencyMiddleware
from api.http.problems import install_problem_handlers
from api.http.routers import (
    allocations,
    availability,
    forecasts,
    health,
    plans,
    sales,
    stock,
    transfers,
)
from api.http.runtime import Runtime
from api.services.allocations import Decide
from api.services.lifecycle import expire_due_holds
from api.services.network import NetworkCache
from api.services.transfer_holds import hold_due_transfers
from api.settings import Settings, get_settings

log = logging.getLogger(__name__)

API_VERSION = "1.0.0"


def create_app(
    settings: Settings,
    *,
    hold_expiry_interval_s: float = 30.0,
    decide: Decide = source_order,
) -> FastAPI:
    """The FastAPI app for `settings`; the database is first touched in the lifespan.

    `decide` is the sourcing core (a stand-in only in tests of the HTTP layer itself).
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings=settings, generic_plans=True)
        network = NetworkCache(engine)
        allocators = ThreadPoolExecutor(settings.db_pool_size, thread_name_prefix="allocate")
        app.state.runtime = Runtime(settings, engine, network, decide, allocators)
        with contextlib.suppress(Exception):  # a database down at start is a 503 later, not a crash
            data = await run_in_threadpool(network.get)
            # The first order would pay ~0.9 s of one-off costs (holiday calendar, caches,
            # CP-SAT's first model) and learn CP-SAT's pace on this machine: paid here.
            if decide is source_order:
                await run_in_threadpool(warm_up, data.network)
        # Everything loaded so far (the scientific stack, the network) lives as long as the
        # process: freezing it keeps the cyclic GC from walking ~200k objects in a full
        # collection (0.1-0.2 s, every in-flight request stalled) while serving.
        gc.collect()
        gc.freeze()
        expiry = asyncio.create_task(
            _expire_holds_forever(app.state.runtime, hold_expiry_interval_s)
        )
        try:
            yield
        finally:
            expiry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await expiry
            allocators.shutdown(wait=True)
            engine.dispose()

    app = OmniApp(
        title="omni allocation API",
        version=API_VERSION,
        summary="Sources and reserves every omnichannel order; stock feeds; availability.",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.add_middleware(LatencyMiddleware)
    app.include_router(health.router)
    app.include_router(allocations.router)
    app.include_router(stock.router)
    app.include_router(sales.router)
    app.include_router(availability.router)
    app.include_router(plans.router)
    app.include_router(forecasts.router)
    app.include_router(transfers.router)
    mount_console(app)
    return app


class OmniApp(FastAPI):
    """FastAPI, with the e-shop's orders (`POST /v1/allocations`) taken by `api.http.lane`
    once the lifespan has wired the runtime (see there: same checks, same answers, a fraction
    of the framework's CPU per order)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (refusal := media.body_refusal(scope)) is not None:
            await media.refuse(scope, receive, send, refusal)
            return
        runtime: Runtime | None = getattr(self.state, "runtime", None)
        if runtime is not None and lane.takes(scope):
            await lane.allocation_lane(scope, receive, send, runtime, super().__call__)
            return
        await super().__call__(scope, receive, send)


def app_from_environment() -> FastAPI:
    """The uvicorn factory `omni serve` names: settings from OMNI_* variables."""
    return create_app(get_settings())


async def _expire_holds_forever(runtime: Runtime, interval_s: float) -> None:
    """Release click-and-collect and transfer holds past their time (reads also expire them,
    belt and braces), and hold the units of approved transfers whose hold window opened."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            released = await run_in_threadpool(expire_due_holds, runtime.engine)
            if released:
                log.info("expired %d click-and-collect holds", released)
            held = await run_in_threadpool(hold_due_transfers, runtime.engine)
            if held:
                log.info("held %d units for approved transfers due to leave", held)
        except Exception:  # the loop must survive a database blip
            log.warning("hold expiry failed; will retry", exc_info=True)
