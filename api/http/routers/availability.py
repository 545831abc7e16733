"""`/v1/availability`: the e-shop's "available in a store near you"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from api.http.deps import ReadKey, RuntimeDep, master_data
from api.http.openapi import ALL_PROBLEMS
from api.http.schemas import AvailabilityOut, StoreAvailability
from api.services.availability import availability_near

router = APIRouter(prefix="/v1", tags=["availability"])


@router.get("/availability", response_model=AvailabilityOut, responses=ALL_PROBLEMS)
async def get_availability(
    sku: Annotated[str, Query(min_length=1, max_length=32)],
    near: Annotated[str, Query(min_length=2, max_length=64,
                               description="a postcode (00-950) or lat,lon (52.23,21.01)")],
    runtime: RuntimeDep,
    _key: ReadKey,
    limit: Annotated[int, Query(ge=1, le=50)] = 5,
) -> AvailabilityOut:
    """Nearest stores with stock of `sku` to promise, nearest first."""
    data = await master_data(runtime)
    (lat, lon), stores = await run_in_threadpool(
        availability_near, runtime.engine, data.catalog, sku, near, limit
    )
    return AvailabilityOut(
        sku=sku,
        near={"lat": lat, "lon": lon},
        stores=[StoreAvailability(**vars(s)) for s in stores],
    )
