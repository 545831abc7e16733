"""Write requests to `/v1/` carry JSON of a bounded size, checked before routing: any other
body is a 415 problem, a declared length over the endpoint's limit a 413.

Without this, a body sent as `text/plain` or as a form (curl's `-d` without a Content-Type)
reached the handlers unparsed and came back as a 422 "Input should be a valid dictionary",
which does not tell the integrator that only the header is wrong; and a 20 MB order was read
and parsed in full before a 422. A chunked body declares no length and is bounded by the
schemas' list limits instead.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from api.http.problems import problem

WRITES = frozenset({"POST", "PUT", "PATCH"})
MAX_BODY_BYTES = 32 * 2**20  # a stock snapshot of 100,000 rows (the schema's most) fits
MAX_ORDER_BYTES = 2**20  # an order of 100 lines, the most it may have, is a few kB


def wrong_media_type(scope: Scope) -> str | None:
    """The media type of a `/v1/` write's body when it is not JSON (`"none"` when unnamed);
    None when the request is fine or has no body."""
    if scope["type"] != "http" or scope["method"] not in WRITES:
        return None
    if not str(scope["path"]).startswith("/v1/"):
        return None
    headers = dict(scope["headers"])
    length = headers.get(b"content-length")
    if length is not None and length.strip() in (b"", b"0"):
        return None
    if length is None and b"transfer-encoding" not in headers:
        return None
    media_type = base_type(headers.get(b"content-type", b"").decode("latin-1"))
    if media_type == "application/json" or media_type.endswith("+json"):
        return None
    return media_type or "none"


def base_type(content_type: str) -> str:
    """`application/json; charset=utf-8` -> `application/json`."""
    return content_type.split(";", 1)[0].strip().lower()


async def refuse(scope: Scope, receive: Receive, send: Send, media_type: str) -> None:
    """Answer 415 with a problem document naming the header to send."""
    response = problem(Request(scope, receive), 415, "unsupported-media-type",
                       "Unsupported media type",
                       f"the body must be JSON: send Content-Type: application/json "
                       f"(got {media_type})", {"accepted": ["application/json"]})
    await response(scope, receive, send)


def oversized(scope: Scope) -> tuple[int, int] | None:
    """(declared length, limit) of a `/v1/` write whose Content-Length exceeds its endpoint's
    limit; None otherwise (no or a malformed length: the server refuses the latter)."""
    if scope["type"] != "http" or scope["method"] not in WRITES:
        return None
    path = str(scope["path"])
    if not path.startswith("/v1/"):
        return None
    raw = dict(scope["headers"]).get(b"content-length")
    try:
        length = int(raw) if raw is not None else None
    except ValueError:
        return None
    limit = MAX_ORDER_BYTES if path.startswith("/v1/allocations") else MAX_BODY_BYTES
    return (length, limit) if length is not None and length > limit else None


async def refuse_size(scope: Scope, receive: Receive, send: Send, length: int,
                      limit: int) -> None:
    """Answer 413 with a problem document naming both sizes, without reading the body."""
    response = problem(Request(scope, receive), 413, "body-too-large", "Body too large",
                       f"the body is {length:,} bytes; this endpoint takes at most "
                       f"{limit:,}", {"limit_bytes": limit})
    await response(scope, receive, send)
