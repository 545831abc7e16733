"""What the lifespan wires once per process and every request shares."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import Engine

from allocation.sourcing import source_order
from api.services.allocations import Decide
from api.services.network import NetworkCache
from api.settings import Settings


@dataclass(frozen=True)
class Runtime:
    """Settings, the engine (and its pool), the network cached at startup, the allocators.

    The network (nodes, SKUs, rates, distances) changes only with a new demo load or a master-data
    import, so it is read once per process; stock is read fresh on every decision.
    """

    settings: Settings
    engine: Engine
    network: NetworkCache
    decide: Decide = field(default=source_order)
    allocators: ThreadPoolExecutor | None = None
    """The threads allocations run in (blocking DB work): as many as the pool has connections,
    so each always has one, and orders beyond that wait in line in the event loop rather than
    in the pool's checkout. None: Starlette's shared thread pool."""
