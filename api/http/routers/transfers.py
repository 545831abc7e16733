"""`/v1/transfers`: the sender's warehouse confirms that an approved transfer left.

An approved transfer holds its units at the sender from a week before it leaves
(api.services.transfer_holds); the dispatch confirmation takes them off the sender's shelf, as
shipping an order does. The
receiver books them in through its own receipt feed (`POST /v1/stock/movements`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.http.deps import FeedKey, RuntimeDep
from api.http.openapi import problems
from api.services.transfer_holds import ship_transfer

router = APIRouter(prefix="/v1/transfers", tags=["transfers"])


class TransferShipped(BaseModel):
    transfer_id: int
    from_node: str
    to_node: str
    sku: str
    qty: int
    state: Literal["shipped"] = Field(description="the units left the sender's on hand")


@router.post("/{transfer_id}/ship", response_model=TransferShipped,
             responses=problems(401, 403, 404, 409, 503))
async def ship(
    transfer_id: Annotated[int, Path(ge=1, le=2**31 - 1)], runtime: RuntimeDep, _key: FeedKey
) -> TransferShipped:
    """The transfer left its sender: its units leave on hand and reserved (held or not: an
    early dispatch, or one after its hold lapsed, holds and ships at once). A repeat answers
    the same; a transfer not approved, or whose sender's book stock lacks the units, is a 409."""
    done = await run_in_threadpool(ship_transfer, runtime.engine, transfer_id)
    return TransferShipped(transfer_id=done.transfer_id, from_node=done.from_node,
                           to_node=done.to_node, sku=done.sku, qty=done.qty, state="shipped")
