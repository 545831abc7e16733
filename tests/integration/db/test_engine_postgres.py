"""The API's PostgreSQL sessions: settings the hot path depends on (no JIT, generic plans, a
bounded lock wait) and a pool that hands back the connection used last."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from api.db.engine import make_engine

pytestmark = pytest.mark.postgres


def test_server_sessions_run_without_jit_on_generic_plans_with_a_lock_timeout(
    postgres_url: str,
) -> None:
    engine = make_engine(postgres_url, generic_plans=True)
    try:
        with engine.connect() as connection:
            settings = {name: connection.execute(text(f"SHOW {name}")).scalar_one()
                        for name in ("jit", "plan_cache_mode", "lock_timeout")}
    finally:
        engine.dispose()

    assert settings["jit"] == "off"
    assert settings["plan_cache_mode"] == "force_generic_plan"
    assert settings["lock_timeout"] not in ("0", "")


def test_the_pool_hands_out_the_connection_returned_last(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    try:
        first, second = engine.connect(), engine.connect()
        pids = [c.execute(text("SELECT pg_backend_pid()")).scalar_one() for c in (first, second)]
        first.close()
        second.close()  # returned last
        with engine.connect() as again:
            assert again.execute(text("SELECT pg_backend_pid()")).scalar_one() == pids[1]
    finally:
        engine.dispose()
