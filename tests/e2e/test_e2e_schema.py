"""schemathesis against the served OpenAPI schema: no 5xx, and every 4xx is a problem document.

Bounded: a few positive and negative examples per operation against the SQLite server, with an
admin key so generated bodies reach the handlers (401/403 are pinned in tests/integration/api).
The operations are driven from a plain test (schemathesis' `from_fixture` does not run under
pytest 9), one hypothesis run per operation and generation mode.
"""

from __future__ import annotations

import pytest
import schemathesis
from api_helpers import ADMIN
from e2e_server import Server, reset_stock
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

pytestmark = pytest.mark.slow

EXAMPLES_PER_OPERATION = 8
PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance"}


def check(case: schemathesis.Case) -> None:
    response = case.call(headers=ADMIN, timeout=30)
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
    if response.status_code >= 400:
        content_type = response.headers["content-type"]  # schemathesis: a list per header
        assert content_type == ["application/problem+json"], response.text
        body = response.json()
        assert PROBLEM_FIELDS <= set(body), body
        assert body["status"] == response.status_code


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors_and_every_4xx_is_a_problem_document(
    sqlite_server: Server, mode: GenerationMode
) -> None:
    reset_stock(sqlite_server.engine)
    schema = schemathesis.openapi.from_url(sqlite_server.base_url + "/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/v1/allocations", "/v1/stock", "/v1/availability",
                                              "/v1/sales"}
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case: schemathesis.Case) -> None:
            check(case)

        try:
            run()
        except Unsatisfiable:
            continue  # nothing to make invalid (an operation without inputs, negative mode)
