"""Write requests to `/v1/` carry JSON of a bounded size, checked before routing: any other
body is a 415 problem, a declared length over the endpoint's limit a 413.

Without this, a body sent as `text/plain` or as a form (curl's `-d` without a Content-Type)
reached the handlers unparsed and came back as a 422 "Input should be a valid dictionary",
which does not tell the integrator that only the header is wrong; and a 20 MB order was read
and parsed in full before a 422. A chunked body declares no length and is bounded by the
schemas' list limits instead.
"""

from __future__ import annotations

from typing import NamedTuple

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from api.http.problems import problem

WRITES = frozenset({"POST", "PUT", "PATCH"})
MAX_BODY_BYTES = 32 * 2**20  # a stock snapshot of 100,000 rows (the schema's most) fits
MAX_ORDER_BYTES = 2**20  # an order of 100 lines, the most it may have, is a few kB


class Refusal(NamedTuple):
    """A problem document to answer instead of routing the request."""

    status: int
    kind: str
    title: str
    detail: str
    extra: dict[str, object]


def body_refusal(scope: Scope) -> Refusal | None:
    """Why a `/v1/` write's body is refused before routing, as (status, type, title, detail,
    extension members): 415 for a body not sent as JSON, 413 for a declared length over the
    endpoint's limit; None when the request is fine, has no body or is no `/v1/` write. One
    reading of the headers for both: every order passes here."""
    if scope["type"] != "http" or scope["method"] not in WRITES:
        return None
    path = str(scope["path"])
    if not path.startswith("/v1/"):
        return None
    headers = dict(scope["headers"])
    media_type = _wrong_media_type(headers)
    if media_type is not None:
        return Refusal(415, "unsupported-media-type", "Unsupported media type",
                f"the body must be JSON: send Content-Type: application/json "
                f"(got {media_type})", {"accepted": ["application/json"]})
    limit = MAX_ORDER_BYTES if path.startswith("/v1/allocations") else MAX_BODY_BYTES
    length = _declared_length(headers)
    if length is not None and length > limit:
        return Refusal(413, "body-too-large", "Body too large",
                f"the body is {length:,} bytes; this endpoint takes at most {limit:,}",
                {"limit_bytes": limit})
    return None


def _wrong_media_type(headers: dict[bytes, bytes]) -> str | None:
    """The media type of a body that is not JSON (`"none"` when unnamed); None when it is JSON
    or there is no body."""
    length = headers.get(b"content-length")
    if length is not None and length.strip() in (b"", b"0"):
        return None
    if length is None and b"transfer-encoding" not in headers:
        return None
    media_type = base_type(headers.get(b"content-type", b"").decode("latin-1"))
    if media_type == "application/json" or media_type.endswith("+json"):
        return None
    return media_type or "none"


def _declared_length(headers: dict[bytes, bytes]) -> int | None:
    """Content-Length as a number; None when absent or malformed (the server refuses the
    latter itself)."""
    raw = headers.get(b"content-length")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def base_type(content_type: str) -> str:
    """`application/json; charset=utf-8` -> `application/json`."""
    return content_type.split(";", 1)[0].strip().lower()


async def refuse(scope: Scope, receive: Receive, send: Send,
                 refusal: Refusal) -> None:
    """Answer the refusal with its problem document, without reading the body."""
    response = problem(Request(scope, receive), *refusal)
    await response(scope, receive, send)
