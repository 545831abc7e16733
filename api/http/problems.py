"""Every error leaves the service as an RFC 9457 problem document, and it is built here only.

Handlers and services raise domain errors (`api.services.errors`); this module maps each kind to
a status, a stable `type` URI and a human `detail`. Validation errors carry `errors`, one entry per
bad field: `pointer` (a JSON pointer into the body, `#/lines/0/qty`) for the body, `parameter` and
`in` for query, path and header parameters. A body that is not JSON at all (empty, cut short,
not UTF-8) is no field's fault: a 400 `malformed-json` saying where the parser stopped. Nothing
internal (tracebacks, SQL) ever leaves.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from allocation.errors import InvalidOrder, NoFeasiblePlan, OutOfStock, UnknownReference
from api.db.engine import DatabaseUnavailable as EngineUnavailable
from api.db.engine import SchemaNotCurrent
from api.db.stock import BelowReserved, StaleSnapshot, UnknownStockItem
from api.services.errors import (
    Conflict,
    DatabaseUnavailable,
    InvalidCommand,
    NotEnoughStock,
    NotFound,
    ShortLine,
    StaleStock,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "/problems/"
RETRY_AFTER_S = 1

log = logging.getLogger(__name__)


class ProblemResponse(Response):
    """An `application/problem+json` body rendered with orjson."""

    media_type = PROBLEM_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class Unauthenticated(Exception):
    """No API key, or one we do not know."""


class Forbidden(Exception):
    """A known key whose scope does not cover the operation."""

    def __init__(self, needed: Sequence[str], scope: str) -> None:
        self.needed, self.scope = tuple(needed), scope
        super().__init__(f"this operation needs scope {' or '.join(needed)}; the key has {scope}")


def problem(
    request: Request,
    status: int,
    slug: str,
    title: str,
    detail: str,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> ProblemResponse:
    """One problem document; `instance` is the request path that failed."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if extra:
        body.update(extra)
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}))


def _validation_entry(error: Mapping[str, Any]) -> dict[str, Any]:
    loc = list(error.get("loc", ()))
    where = str(loc[0]) if loc else "body"
    rest = [str(part) for part in loc[1:]]
    message = str(error.get("msg", "invalid value"))
    if where == "body":
        escaped = (p.replace("~", "~0").replace("/", "~1") for p in rest)
        return {"pointer": "#/" + "/".join(escaped), "detail": message}
    return {"parameter": ".".join(rest), "in": where, "detail": message}


async def _on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    raw = exc.errors()
    invalid = next((e for e in raw if e.get("type") == "json_invalid"), None)
    if invalid is not None:
        return _malformed_json(request, invalid, exc.body)
    if any(_body_missing(e) for e in raw) and await _empty_body(request):
        return _malformed(request, EMPTY_BODY)
    errors = [_validation_entry(e) for e in raw]
    return problem(request, 422, "invalid-input", "Invalid input",
                   f"{len(errors)} field(s) failed validation", {"errors": errors})


def _malformed_json(request: Request, error: Mapping[str, Any], doc: object) -> Response:
    """FastAPI reports a body that does not parse as a validation error at ("body", offset):
    it is no field's fault, and the offset is no JSON pointer, so it is a 400 saying where the
    parser stopped (line and column as editors count them, offset in characters)."""
    text = doc if isinstance(doc, str) else ""
    if not text.strip():
        return _malformed(request, EMPTY_BODY)
    loc = error.get("loc", ())
    offset = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else 0
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    reason = str(error.get("ctx", {}).get("error", "JSON decode error"))
    return _malformed(
        request,
        f"the body is not valid JSON: {reason} at line {line}, column {column} "
        f"(character {offset})",
        {"line": line, "column": column, "offset": offset},
    )


EMPTY_BODY = "the body is empty: this operation takes a JSON document"


def _malformed(request: Request, detail: str, extra: Mapping[str, Any] | None = None) -> Response:
    return problem(request, 400, "malformed-json", "Malformed JSON", detail, extra)


def _body_missing(error: Mapping[str, Any]) -> bool:
    return error.get("type") == "missing" and tuple(error.get("loc", ())) == ("body",)


async def _empty_body(request: Request) -> bool:
    """Whether the request came without a body (or with blanks only): FastAPI reports that as
    the whole body missing, as it does a JSON `null`, which is no 400."""
    try:
        return not (await request.body()).strip()
    except RuntimeError:  # the stream was read by another Request: cannot tell
        return False


def _locate(where: str, detail: str) -> dict[str, Any]:
    """`#/...` is a pointer into the body; anything else names a query parameter."""
    if where.startswith("#"):
        return {"pointer": where, "detail": detail}
    return {"parameter": where, "in": "query", "detail": detail}


async def _on_invalid_command(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InvalidCommand)
    return problem(request, 422, "invalid-input", "Invalid input", exc.detail,
                   {"errors": [_locate(exc.pointer, exc.detail)]})


async def _on_not_found(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotFound)
    extra: dict[str, Any] = {"kind": exc.kind, "key": exc.key}
    if exc.field:
        extra["errors"] = [_locate(exc.field, str(exc))]
    return problem(request, 404, f"unknown-{exc.kind.replace(' ', '-')}",
                   f"Unknown {exc.kind}", str(exc), extra)


async def _on_not_enough_stock(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotEnoughStock)
    short = [{"line_id": s.line_id, "sku": s.sku, "qty": s.qty, "available": s.available}
             for s in exc.short]
    return problem(request, 409, "out-of-stock", "Not enough stock", str(exc),
                   {"order_id": exc.order_id, "short_lines": short})


async def _on_out_of_stock(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OutOfStock)
    return await _on_not_enough_stock(request, NotEnoughStock(
        exc.order_id, [ShortLine(s.line_id, s.sku, s.qty, s.available) for s in exc.short_lines]
    ))


async def _on_no_feasible_plan(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NoFeasiblePlan)
    return problem(request, 409, "no-feasible-plan", "No plan within the order's limits",
                   str(exc), {"order_id": exc.order_id, "max_parcels": exc.max_parcels,
                              "nodes_with_stock": exc.nodes_with_stock})


async def _on_unknown_reference(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, UnknownReference)
    return await _on_not_found(request, NotFound(exc.kind, exc.key, "#" + exc.field))


async def _on_invalid_order(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InvalidOrder)
    return await _on_invalid_command(request, InvalidCommand("#" + exc.field, exc.detail))


async def _on_stale_snapshot(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StaleSnapshot)
    rows = [{"node_id": n, "sku": s, "version": v, "applied_version": c}
            for n, s, v, c in exc.rows[:100]]
    return problem(request, 409, "stale-snapshot", "Stale stock snapshot", str(exc),
                   {"stale_rows": rows, "stale_count": len(exc.rows)})


async def _on_below_reserved(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BelowReserved)
    rows = []
    for n, s, h, r in exc.rows[:100]:
        names, holds = exc.held_by.get((n, s), ((), 0))
        rows.append({"node_id": n, "sku": s, "on_hand": h, "reserved": r,
                     "held_by": list(names), "holds": holds})
    return problem(request, 409, "below-reserved", "Stock would fall below reservations",
                   str(exc), {"rows": rows})


async def _on_unknown_stock_item(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, UnknownStockItem)
    items = [{"node_id": n, "sku": s} for n, s in exc.keys[:100]]
    return problem(request, 404, "unknown-stock-item", "Unknown node or SKU", str(exc),
                   {"items": items})


async def _on_stale(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StaleStock)
    return problem(request, 409, "stale-stock", "Stock kept changing", str(exc),
                   {"order_id": exc.order_id, "attempts": exc.attempts},
                   {"Retry-After": str(RETRY_AFTER_S)})


async def _on_conflict(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Conflict)
    return problem(request, 409, exc.reason, "Conflict", exc.detail, exc.extra)


async def _on_unauthenticated(request: Request, exc: Exception) -> Response:
    return problem(request, 401, "unauthenticated", "Missing or unknown API key",
                   "send `Authorization: Bearer <key>` with a key from OMNI_API_KEYS",
                   headers={"WWW-Authenticate": "Bearer"})


async def _on_forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Forbidden)
    return problem(request, 403, "forbidden", "Scope does not allow this", str(exc),
                   {"needed_scopes": list(exc.needed), "scope": exc.scope})


async def _on_database_down(request: Request, exc: Exception) -> Response:
    if isinstance(exc, DBAPIError) and not isinstance(exc, OperationalError):
        if not exc.connection_invalidated:
            return await _on_anything(request, exc)
    log.warning("database unavailable on %s: %s", request.url.path, type(exc).__name__)
    return problem(request, 503, "database-unavailable", "Database unavailable",
                   "the database cannot be reached; nothing was changed, retry later",
                   headers={"Retry-After": str(RETRY_AFTER_S)})


async def _on_schema_not_current(request: Request, exc: Exception) -> Response:
    log.warning("not ready on %s: %s", request.url.path, exc)
    return problem(request, 503, "schema-not-current", "Database schema not current", str(exc))


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    cause = exc.__cause__
    if exc.status_code == 400 and isinstance(cause, UnicodeDecodeError):
        # FastAPI's "There was an error parsing the body" for bytes that are not text
        return _malformed(request, f"the body is not valid JSON: byte {cause.start} is not "
                          f"{cause.encoding} text")
    titles = {404: "Not found", 405: "Method not allowed"}
    return problem(request, exc.status_code, f"http-{exc.status_code}",
                   titles.get(exc.status_code, "HTTP error"), str(exc.detail),
                   headers=exc.headers)


async def _on_anything(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem(request, 500, "internal-error", "Internal error",
                   "the service failed to handle this request; it has been logged")


_HANDLERS: dict[type[Exception], Callable[[Request, Exception], Awaitable[Response]]] = {
    RequestValidationError: _on_validation,
    InvalidCommand: _on_invalid_command,
    NotFound: _on_not_found,
    NotEnoughStock: _on_not_enough_stock,
    StaleStock: _on_stale,
    OutOfStock: _on_out_of_stock,
    NoFeasiblePlan: _on_no_feasible_plan,
    UnknownReference: _on_unknown_reference,
    InvalidOrder: _on_invalid_order,
    StaleSnapshot: _on_stale_snapshot,
    BelowReserved: _on_below_reserved,
    UnknownStockItem: _on_unknown_stock_item,
    Conflict: _on_conflict,
    Unauthenticated: _on_unauthenticated,
    Forbidden: _on_forbidden,
    DatabaseUnavailable: _on_database_down,
    SchemaNotCurrent: _on_schema_not_current,
    EngineUnavailable: _on_database_down,
    OperationalError: _on_database_down,
    PoolTimeout: _on_database_down,
    DBAPIError: _on_database_down,
    StarletteHTTPException: _on_http,
    Exception: _on_anything,
}


def install_problem_handlers(app: FastAPI) -> None:
    """Register the one mapping from errors to problem documents on `app`."""
    for kind, handler in _HANDLERS.items():
        app.add_exception_handler(kind, handler)


async def problem_for(request: Request, exc: Exception) -> Response:
    """The problem document for `exc`, by the same mapping (nearest class first), for code that
    answers outside FastAPI's exception handling (`api.http.lane`)."""
    for kind in type(exc).__mro__:
        handler = _HANDLERS.get(kind)
        if handler is not None:
            return await handler(request, exc)
    return await _on_anything(request, exc)  # pragma: no cover - Exception is in the table
