"""`/v1/stock`: bulk counts from WMS/POS and movements (walk-in sales, receipts)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from api.db import stock as db_stock
from api.http.deps import FeedKey, RuntimeDep, master_data
from api.http.openapi import ALL_PROBLEMS
from api.http.schemas import Movements, MovementsResult, SnapshotResult, StockSnapshot
from api.services import stock_feeds

router = APIRouter(prefix="/v1/stock", tags=["stock"])


@router.put("", response_model=SnapshotResult, responses=ALL_PROBLEMS)
async def put_stock(body: StockSnapshot, runtime: RuntimeDep, _key: FeedKey) -> SnapshotResult:
    """Apply a versioned stock count, all or nothing; an older version than applied is a 409."""
    counts = [db_stock.StockCount(i.node_id, i.sku, i.on_hand, body.version, body.counted_at)
              for i in body.items]
    reserve = [
        db_stock.StockItem(i.node_id, i.sku, i.safety_stock)
        for i in body.items
        if i.safety_stock is not None
    ]
    result = await run_in_threadpool(stock_feeds.apply_snapshot, runtime.engine, counts, reserve)
    return SnapshotResult(
        version=body.version,
        applied=result.updated + result.created,
        unchanged=result.unchanged,
    )


@router.post("/movements", response_model=MovementsResult, responses=ALL_PROBLEMS)
async def post_movements(body: Movements, runtime: RuntimeDep, _key: FeedKey) -> MovementsResult:
    """Apply walk-in sales and receipts, all or nothing; a repeated movement_id is skipped."""
    batch = [
        db_stock.Movement(m.movement_id, m.node_id, m.sku, m.kind, m.qty, m.occurred_at)
        for m in body.movements
    ]
    data = await master_data(runtime)
    result = await run_in_threadpool(
        stock_feeds.apply_movements, runtime.engine, data.catalog, batch
    )
    return MovementsResult(applied=result.applied, duplicates=result.duplicates,
                           already_counted=result.already_counted)
