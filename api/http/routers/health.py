"""Open endpoints for orchestrators and scrapers: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy import text

from api.db.engine import SchemaNotCurrent
from api.db.migrate import schema_problem
from api.http.deps import RuntimeDep
from api.metrics import render_latest

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is up (does not touch the database)."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health,
            responses={503: {"description": "DB unreachable, or without this release's schema"}})
def readyz(runtime: RuntimeDep) -> Health:
    """The database answers and holds the schema this release needs; a 503 problem otherwise
    (with Retry-After when it cannot be reached; naming the migration to run when the schema
    is missing or older)."""
    with runtime.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        problem = schema_problem(conn)
    if problem is not None:
        raise SchemaNotCurrent(problem)
    return Health(status="ready")


@router.get("/metrics", response_class=Response, include_in_schema=False)
def metrics() -> Response:
    """Prometheus exposition: request latency histogram and decisions by status."""
    body, content_type = render_latest()
    return Response(body, media_type=content_type)
