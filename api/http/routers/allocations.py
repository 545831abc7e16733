"""`/v1/allocations`: source and reserve an order, read it, cancel it, ship it.

`POST /v1/allocations` is the hot path (every order of the e-shop): well-formed orders reach
`allocate` through `api.http.lane`, everything else through `create_allocation` below.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from functools import partial

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from starlette.status import HTTP_200_OK, HTTP_201_CREATED

from allocation.errors import InvalidOrder
from api.http.deps import OmsKey, RuntimeDep, allowed_scopes, master_data
from api.http.openapi import ALL_PROBLEMS
from api.http.runtime import Runtime
from api.http.schemas import MAX_PARCELS, AllocationCreate, AllocationOut
from api.http.wire import JsonBody
from api.services import lifecycle
from api.services.allocations import AllocationPolicy, allocate_order
from api.services.commands import AllocateOrder, LineCommand, payload_hash
from api.services.errors import InvalidCommand

router = APIRouter(prefix="/v1/allocations", tags=["allocations"])

PROBLEMS = ALL_PROBLEMS


def to_command(body: AllocationCreate, max_parcels_default: int) -> AllocateOrder:
    """The service command; cross-field rules that need a pointer are checked here."""
    if body.fulfilment == "click_and_collect" and body.pickup_store_id is None:
        raise InvalidCommand("#/pickup_store_id", "click_and_collect needs pickup_store_id")
    if body.fulfilment == "home_delivery" and body.destination is None:
        raise InvalidCommand("#/destination", "home_delivery needs a destination")
    if body.fulfilment == "parcel_locker" and body.locker_id is None and body.destination is None:
        raise InvalidCommand("#/locker_id", "parcel_locker needs locker_id or a destination")
    # A field of another method is a client bug (a form sent with the wrong method): the
    # order would go to the address while the customer expects it at the store or locker.
    if body.pickup_store_id is not None and body.fulfilment != "click_and_collect":
        raise InvalidCommand("#/pickup_store_id", f"pickup_store_id belongs to click_and_collect "
                             f"orders, not {body.fulfilment}: send one or the other")
    if body.locker_id is not None and body.fulfilment != "parcel_locker":
        raise InvalidCommand("#/locker_id", f"locker_id belongs to parcel_locker orders, not "
                             f"{body.fulfilment}: send one or the other")
    seen: set[str] = set()
    for index, line in enumerate(body.lines):
        if line.line_id in seen:
            raise InvalidCommand(f"#/lines/{index}/line_id", "line_id repeats within the order")
        seen.add(line.line_id)
    destination = body.destination
    return AllocateOrder(
        order_id=body.order_id,
        fulfilment=body.fulfilment,
        lines=tuple(LineCommand(line.line_id, line.sku, line.qty) for line in body.lines),
        request_hash=order_hash(body, max_parcels_default),
        postcode=destination.postcode if destination else None,
        lat=destination.lat if destination else None,
        lon=destination.lon if destination else None,
        pickup_store_id=body.pickup_store_id,
        locker_id=body.locker_id,
        promise_by=body.promise_by,
        max_parcels=body.max_parcels,
        allow_partial=body.allow_partial,
        deadline_ms=body.deadline_ms,
    )


def order_hash(body: AllocationCreate, max_parcels_default: int) -> str:
    """What makes two requests under one order_id the same order: the body with the service's
    defaults as if left out (`max_parcels` sent as the default it would get; absent, null and
    default fields are alike already), without `deadline_ms` (how long to search, not what).
    A retry must replay however its client spells a default."""
    payload = body.model_dump(mode="json", exclude={"deadline_ms"})
    if payload["max_parcels"] == max_parcels_default:
        payload["max_parcels"] = None
    return payload_hash(payload)


@router.post(
    "",
    status_code=HTTP_201_CREATED,
    response_model=AllocationOut,
    responses={200: {"model": AllocationOut, "description": "A repeat of a recorded order"},
               **PROBLEMS},
)
async def create_allocation(
    body: AllocationCreate, runtime: RuntimeDep, _key: OmsKey
) -> Response:
    """Source an order and reserve its stock (201); the same order again replays it (200)."""
    return await allocate(body, runtime)


async def allocate(body: AllocationCreate, runtime: Runtime) -> Response:
    """The order in `body`, sourced and reserved (in one hop to an allocator thread: the work
    blocks on the database)."""
    settings = runtime.settings
    command = to_command(body, settings.max_parcels_default)
    data = await master_data(runtime)
    policy = AllocationPolicy(
        deadline_ms=settings.allocation_deadline_ms,
        hold_hours=settings.click_and_collect_hold_hours,
        max_parcels_default=settings.max_parcels_default,
    )
    defaulted = command.max_parcels is None
    if defaulted:
        command = _with_max_parcels(command, policy.max_parcels_default)
    work = partial(allocate_order, runtime.engine, data, command, policy, None, runtime.decide)
    try:
        if runtime.allocators is None:
            outcome = await run_in_threadpool(work)
        else:
            outcome = await asyncio.get_running_loop().run_in_executor(runtime.allocators, work)
    except InvalidOrder as exc:
        if defaulted and exc.field == "/max_parcels":
            raise InvalidOrder(exc.field, f"{exc.detail} (max_parcels was not sent: the "
                               f"service's default is {policy.max_parcels_default}; an order "
                               f"may send up to {MAX_PARCELS})") from exc
        raise
    return JsonBody(outcome.body, HTTP_201_CREATED if outcome.created else HTTP_200_OK)


OMS_SCOPES = allowed_scopes("oms")
"""The scopes `OmsKey` admits (for `api.http.lane`, which checks the key the same way)."""


def _with_max_parcels(command: AllocateOrder, default: int) -> AllocateOrder:
    return replace(command, max_parcels=default)


@router.get("/{order_id}", response_model=AllocationOut, responses=PROBLEMS)
async def read_allocation(order_id: str, runtime: RuntimeDep, _key: OmsKey) -> Response:
    """The recorded decision and the order's current state."""
    return JsonBody(await run_in_threadpool(lifecycle.get_order, runtime.engine, order_id))


@router.post("/{order_id}/cancel", response_model=AllocationOut, responses=PROBLEMS)
async def cancel_allocation(order_id: str, runtime: RuntimeDep, _key: OmsKey) -> Response:
    """Release the order's held units (repeat-safe)."""
    return JsonBody(await run_in_threadpool(lifecycle.cancel_order, runtime.engine, order_id))


@router.post("/{order_id}/ship", response_model=AllocationOut, responses=PROBLEMS)
async def ship_allocation(order_id: str, runtime: RuntimeDep, _key: OmsKey) -> Response:
    """Consume the order's held units: on hand and reserved go down (repeat-safe)."""
    return JsonBody(await run_in_threadpool(lifecycle.ship_order, runtime.engine, order_id))

