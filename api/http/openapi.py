"""How the problem documents appear in the OpenAPI schema (media type application/problem+json)."""

from __future__ import annotations

from typing import Any

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "pointer": {"type": "string"},
                    "parameter": {"type": "string"},
                    "in": {"type": "string"},
                    "detail": {"type": "string"},
                },
            },
        },
    },
}

_TEXT = {
    400: ("The body is not JSON (empty, cut short, not UTF-8); `detail` says where the parser "
          "stopped"),
    401: "Missing or unknown API key",
    403: "The key's scope does not allow this",
    404: "Unknown order, SKU, node or locker",
    409: ("Conflict: not enough stock, no plan within the order's limits (max_parcels, pick "
          "capacity), a reused order or movement id, a stale snapshot, an illegal transition; "
          "`stale-stock` (the order's stock rows kept changing under other orders while it was "
          "decided) is the one to retry, after `Retry-After` seconds: nothing was reserved"),
    413: ("The body's declared length is over the endpoint's limit (1 MiB for an order, 32 MiB "
          "otherwise); `limit_bytes` says which"),
    415: "The body is not JSON: send Content-Type: application/json",
    422: "Invalid input; `errors` holds a pointer per bad field",
    503: "Database unavailable; retry after `Retry-After` seconds",
}


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries documenting `codes` as problem documents. A route that takes a body
    (and so lists 415, a body that is not sent as JSON) also answers 400 for one that does not
    parse and 413 for one too long: documented with it, so that no body route can forget them."""
    if 415 in codes:
        codes = tuple(sorted({*codes, 400, 413}))
    return {
        code: {
            "description": _TEXT[code],
            "content": {"application/problem+json": {"schema": PROBLEM_SCHEMA}},
        }
        for code in codes
    }


ALL_PROBLEMS = problems(401, 403, 404, 409, 415, 422, 503)
