"""Every error is an RFC 9457 problem document; access needs a key with the right scope."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from api_helpers import ADMIN, OMS, PLANNER, order, settings_for, total_reserved
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from api.http.app import create_app

PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance"}


def assert_problem(answer: object, status: int) -> dict[str, object]:
    from httpx import Response

    assert isinstance(answer, Response)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert PROBLEM_FIELDS <= set(body) and body["status"] == status
    assert "Traceback" not in answer.text
    return dict(body)


def test_bad_input_is_a_422_with_a_pointer_per_bad_field(client: TestClient) -> None:
    body = order("P-1")
    body["lines"] = [{"line_id": "1", "sku": "JACKET", "qty": 0}]
    body["fulfilment"] = "drone"
    problem = assert_problem(client.post("/v1/allocations", json=body, headers=OMS), 422)
    pointers = {e["pointer"] for e in problem["errors"]}  # type: ignore[attr-defined]
    assert pointers == {"#/lines/0/qty", "#/fulfilment"}


def test_a_cross_field_rule_points_at_the_missing_field(client: TestClient) -> None:
    body = {"order_id": "P-2", "fulfilment": "click_and_collect",
            "lines": [{"line_id": "1", "sku": "JACKET", "qty": 1}]}
    problem = assert_problem(client.post("/v1/allocations", json=body, headers=OMS), 422)
    assert problem["errors"] == [
        {"pointer": "#/pickup_store_id", "detail": "click_and_collect needs pickup_store_id"}
    ]


@pytest.mark.parametrize(("fulfilment", "field", "value"), [
    ("home_delivery", "pickup_store_id", "S001"),
    ("home_delivery", "locker_id", "L-1"),
    ("parcel_locker", "pickup_store_id", "S001"),
    ("click_and_collect", "locker_id", "L-1"),
])
def test_a_field_of_another_fulfilment_method_is_refused_not_ignored(
    client: TestClient, loaded_engine: Engine, fulfilment: str, field: str, value: str
) -> None:
    """A home delivery carrying a pickup store was shipped to the address while the customer
    expected it at the store: the order names two places, and only the OMS knows which."""
    body = order("P-MIX", **{field: value, "fulfilment": fulfilment})
    if fulfilment == "click_and_collect":
        body["pickup_store_id"] = "S001"

    problem = assert_problem(client.post("/v1/allocations", json=body, headers=OMS), 422)

    owner = "click_and_collect" if field == "pickup_store_id" else "parcel_locker"
    assert problem["errors"] == [{"pointer": f"#/{field}", "detail": (
        f"{field} belongs to {owner} orders, not {fulfilment}: send one or the other")}]
    assert total_reserved(loaded_engine) == 0


def test_an_unknown_sku_is_a_404_pointing_at_the_line(client: TestClient) -> None:
    problem = assert_problem(
        client.post("/v1/allocations", json=order("P-3", sku="NOSUCH"), headers=OMS), 404
    )
    assert problem["errors"][0]["pointer"] == "#/lines/0/sku"  # type: ignore[index]


def test_a_missing_or_unknown_key_is_a_401_and_a_wrong_scope_a_403(client: TestClient) -> None:
    assert_problem(client.post("/v1/allocations", json=order("P-4")), 401)
    unknown = {"Authorization": "Bearer guess"}
    answer = client.post("/v1/allocations", json=order("P-4"), headers=unknown)
    assert_problem(answer, 401)
    assert answer.headers["www-authenticate"] == "Bearer"
    assert_problem(client.post("/v1/allocations", json=order("P-4"), headers=PLANNER), 403)
    assert client.post("/v1/allocations", json=order("P-4"), headers=ADMIN).status_code == 201


def test_an_unknown_route_is_a_problem_too(client: TestClient) -> None:
    assert_problem(client.get("/v1/nothing-here"), 404)


def test_a_database_that_cannot_be_reached_is_a_503_with_retry_after() -> None:
    # Nothing listens on port 9 of 127.0.0.1: every connection attempt is refused.
    app = create_app(settings_for("postgresql+psycopg://postgres@127.0.0.1:9/none"))
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/healthz").status_code == 200
        answer = client.post("/v1/allocations", json=order("P-5"), headers=OMS)
        assert_problem(answer, 503)
        assert answer.headers["retry-after"] == "1"
        assert_problem(client.get("/readyz"), 503)


def test_a_body_that_is_not_json_is_a_415_naming_the_header(
    client: TestClient, loaded_engine: Engine
) -> None:
    """curl's -d without a Content-Type sends a form: the answer says which header to send."""
    body = json.dumps(order("P-415"))
    form = client.post("/v1/allocations", content=body, headers={
        **OMS, "Content-Type": "application/x-www-form-urlencoded"})
    problem = assert_problem(form, 415)
    assert "Content-Type: application/json" in str(problem["detail"])
    assert "application/x-www-form-urlencoded" in str(problem["detail"])
    text_stock = client.put("/v1/stock", content=b'{"version": 1}',
                            headers={**OMS, "Content-Type": "text/plain"})
    assert_problem(text_stock, 415)
    assert total_reserved(loaded_engine) == 0
    with_charset = client.post("/v1/allocations", content=body, headers={
        **OMS, "Content-Type": "application/json; charset=utf-8"})
    assert with_charset.status_code == 201, with_charset.text
    no_body = client.post("/v1/allocations/P-415/cancel", headers=OMS)  # no body, no type
    assert no_body.status_code == 200, no_body.text


JSON = {**OMS, "Content-Type": "application/json"}


def test_a_body_over_the_endpoints_limit_is_a_413_before_it_is_read(
    client: TestClient, loaded_engine: Engine
) -> None:
    """An order of 100 lines is a few kB: a 2 MB one is refused by its declared length, not
    read and parsed in full first; other writes take up to 32 MiB (a stock snapshot of
    100,000 rows)."""
    padded = {**order("P-413"), "note": "x" * (2 * 2**20)}
    answer = client.post("/v1/allocations", content=json.dumps(padded), headers=JSON)
    problem = assert_problem(answer, 413)
    assert problem["type"] == "/problems/body-too-large"
    assert problem["limit_bytes"] == 2**20 and "at most 1,048,576" in str(problem["detail"])
    assert total_reserved(loaded_engine) == 0
    snapshot = {"version": 7, "items": [{"node_id": "S001", "sku": "SCARF", "on_hand": 12}]}
    three_mib = json.dumps(snapshot) + " " * (3 * 2**20)  # trailing blanks: still that JSON
    stocked = client.put("/v1/stock", content=three_mib, headers=JSON)
    assert stocked.status_code == 200, stocked.text


def test_a_body_that_does_not_parse_is_a_400_saying_where_the_parser_stopped(
    client: TestClient, loaded_engine: Engine
) -> None:
    """It was a 422 with the character offset dressed as a JSON pointer (`#/34`) and "1 field(s)
    failed validation": no field is wrong, the document is."""
    cut = json.dumps(order("P-400"), indent=1)[:-3]  # the closing brackets lost in transit
    answer = client.post("/v1/allocations", content=cut, headers=JSON)
    problem = assert_problem(answer, 400)
    assert problem["type"] == "/problems/malformed-json"
    assert "errors" not in problem
    with pytest.raises(json.JSONDecodeError) as parser:  # where Python's own parser stops
        json.loads(cut)
    where = parser.value
    assert where.lineno > 1 and where.colno > 1
    assert (problem["line"], problem["column"], problem["offset"]) == (
        where.lineno, where.colno, where.pos)
    assert problem["detail"] == (f"the body is not valid JSON: {where.msg} at line "
                                 f"{where.lineno}, column {where.colno} (character {where.pos})")
    stock = client.put("/v1/stock", content=b'{"version": ', headers=JSON)
    assert assert_problem(stock, 400)["type"] == "/problems/malformed-json"
    assert total_reserved(loaded_engine) == 0


@pytest.mark.parametrize(("body", "headers"), [
    (b"", JSON), (b" \n", JSON), (None, OMS),
], ids=["empty", "blank", "none-without-content-type"])
def test_an_empty_body_is_a_400_saying_so(
    client: TestClient, body: bytes | None, headers: dict[str, str]
) -> None:
    problem = assert_problem(client.post("/v1/allocations", content=body, headers=headers), 400)
    assert problem["type"] == "/problems/malformed-json"
    assert problem["detail"] == "the body is empty: this operation takes a JSON document"


def test_a_body_that_is_not_utf8_is_a_400_malformed_json(client: TestClient) -> None:
    answer = client.post("/v1/allocations", content=b'{"order_id": "\xc5\x81\xff"}',
                         headers=JSON)
    problem = assert_problem(answer, 400)
    assert problem["type"] == "/problems/malformed-json"
    assert problem["detail"] == "the body is not valid JSON: byte 16 is not utf-8 text"


@pytest.mark.parametrize("body", [b"null", b"[1, 2]", b'"order"'])
def test_json_that_is_not_an_object_stays_a_422_pointing_at_the_body(
    client: TestClient, body: bytes
) -> None:
    problem = assert_problem(client.post("/v1/allocations", content=body, headers=JSON), 422)
    assert problem["type"] == "/problems/invalid-input"
    assert [e["pointer"] for e in problem["errors"]] == ["#/"]  # type: ignore[attr-defined]


def test_the_openapi_schema_lists_the_400_on_the_routes_that_take_a_body(
    client: TestClient,
) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path, method in (("/v1/allocations", "post"), ("/v1/stock", "put"),
                         ("/v1/stock/movements", "post"), ("/v1/sales", "post")):
        answers = paths[path][method]["responses"]
        assert "application/problem+json" in answers["400"]["content"], (path, method)


def test_a_database_without_this_releases_schema_is_not_ready(sqlite_url: str) -> None:
    """It answers SELECT 1, yet every order would fail: the orchestrator must keep traffic
    away and the operator learn which migration to run."""
    from api.db.engine import make_engine
    from api.db.migrate import head_revision, upgrade

    app = create_app(settings_for(sqlite_url))
    with TestClient(app, raise_server_exceptions=False) as client:
        empty = assert_problem(client.get("/readyz"), 503)
        assert empty["type"] == "/problems/schema-not-current"
        assert "no schema" in str(empty["detail"]) and "omni db init" in str(empty["detail"])
        engine = make_engine(sqlite_url)
        upgrade(engine, "0006")
        older = assert_problem(client.get("/readyz"), 503)
        assert f"revision 0006, this release needs {head_revision()}" in str(older["detail"])
        upgrade(engine)
        engine.dispose()
        assert client.get("/readyz").status_code == 200


def test_a_database_failure_mid_request_leaves_no_partial_reservation(
    client: TestClient, loaded_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    if loaded_engine.dialect.name == "postgresql":
        pytest.skip("PostgreSQL writes in one statement: see the killed-connection test below")
    # The boundary we break: recording the order, after the stock was reserved in the same
    # transaction. The connection "drops" there; the whole transaction must roll back.
    import api.services.allocations as service

    def drop(*_: object, **__: object) -> None:
        raise OperationalError("INSERT INTO orders", {}, Exception("server closed the connection"))

    monkeypatch.setattr(service, "_record", drop)
    answer = client.post("/v1/allocations", json=order("P-6", qty=2), headers=OMS)
    assert_problem(answer, 503)
    assert total_reserved(loaded_engine) == 0
    monkeypatch.undo()
    assert client.post("/v1/allocations", json=order("P-6", qty=2), headers=OMS).status_code == 201
    assert total_reserved(loaded_engine) == 2


def test_a_connection_killed_inside_the_write_leaves_nothing_reserved_and_answers_503(
    client: TestClient, loaded_engine: Engine
) -> None:
    """PostgreSQL: the order's one write statement waits on a stock row another transaction
    holds; its server process is killed right there. Nothing of the order may remain, the
    API answers 503, and the next request gets a fresh connection and succeeds."""
    if loaded_engine.dialect.name != "postgresql":
        pytest.skip("the one-statement write is PostgreSQL's")
    import psycopg

    url = loaded_engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as blocker, psycopg.connect(url, autocommit=True) as admin:
        blocker.execute("SELECT 1 FROM stock WHERE sku = 'JACKET' FOR UPDATE")
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(
                client.post, "/v1/allocations", json=order("P-6", qty=2), headers=OMS
            )
            waiting = None
            for _ in range(200):  # up to 10 s, well inside the 5 s lock timeout per attempt
                waiting = admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database() AND query LIKE '%%WITH prior AS%%'"
                ).fetchone()
                if waiting or answer.done():
                    break
                time.sleep(0.05)
            assert waiting is not None, "the write never waited on the locked row"
            admin.execute("SELECT pg_terminate_backend(%s)", waiting)
            assert_problem(answer.result(timeout=30), 503)
        blocker.rollback()
    assert total_reserved(loaded_engine) == 0
    with loaded_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM orders")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM reservations")).scalar_one() == 0
    assert client.post("/v1/allocations", json=order("P-6", qty=2), headers=OMS).status_code == 201
    assert total_reserved(loaded_engine) == 2


def test_an_unexpected_error_is_a_500_problem_without_internals(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.services.allocations as service

    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(service, "_record", boom)  # SQLite's write
    monkeypatch.setattr(service, "_reserve_and_record", boom)  # PostgreSQL's
    problem = assert_problem(client.post("/v1/allocations", json=order("P-7"), headers=OMS), 500)
    assert "secret" not in str(problem)
