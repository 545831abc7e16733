"""JSON bodies rendered with orjson: the hot path returns plain dicts built by the services."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response


class JsonBody(Response):
    """`application/json` via orjson (dataclasses, aware datetimes and numpy scalars included)."""

    media_type = "application/json"

    def __init__(self, content: Any, status_code: int = 200) -> None:
        super().__init__(content, status_code=status_code)

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)
