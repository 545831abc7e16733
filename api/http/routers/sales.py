"""`/v1/sales`: daily sales from POS and the e-shop, the history the weekly forecast learns from."""

from __future__ import annotations

import pandas as pd
from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from api.http.deps import FeedKey, RuntimeDep
from api.http.openapi import problems
from api.http.schemas import SalesBatch, SalesImportResult
from api.services import sales_feed

router = APIRouter(prefix="/v1/sales", tags=["sales"])


@router.post("", response_model=SalesImportResult,
             responses=problems(401, 403, 404, 415, 422, 503))
async def post_sales(body: SalesBatch, runtime: RuntimeDep, _key: FeedKey) -> SalesImportResult:
    """Record daily sales, all or nothing; a day already recorded is replaced."""
    frame = pd.DataFrame([row.model_dump() for row in body.sales],
                         columns=list(sales_feed.SALES_COLUMNS))
    result = await run_in_threadpool(sales_feed.import_sales, runtime.engine, frame)
    return SalesImportResult(inserted=result.inserted, replaced=result.replaced,
                             first_date=result.first_date, last_date=result.last_date,
                             data_version=result.data_version, sold_out=result.sold_out)
