"""Plain commands the HTTP layer hands to the services (no pydantic, no HTTP)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import orjson


@dataclass(frozen=True)
class LineCommand:
    line_id: str
    sku: str
    qty: int


@dataclass(frozen=True)
class AllocateOrder:
    """An order to source and reserve. `request_hash` identifies the payload for idempotency."""

    order_id: str
    fulfilment: str
    lines: tuple[LineCommand, ...]
    request_hash: str
    postcode: str | None = None
    lat: float | None = None
    lon: float | None = None
    pickup_store_id: str | None = None
    locker_id: str | None = None
    promise_by: datetime | None = None
    max_parcels: int | None = None
    allow_partial: bool = False
    deadline_ms: int | None = None


def payload_hash(payload: object) -> str:
    """A stable digest of a JSON-able payload (keys sorted), to recognise a repeated request."""
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()
