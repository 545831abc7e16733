from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from api.db.engine import make_engine, reader
from api.db.migrate import current_revision, downgrade, head_revision, upgrade
from api.db.tables import metadata


def _migrations_round_trip(url: str) -> None:
    engine = make_engine(url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
        downgrade(engine, "base")
        assert current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)  # and up again from base
        assert set(metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrations_build_the_whole_schema_on_sqlite_and_tear_it_down(sqlite_url: str) -> None:
    _migrations_round_trip(sqlite_url)


@pytest.mark.postgres
def test_migrations_build_the_whole_schema_on_postgres_and_tear_it_down(
    empty_postgres_url: str,
) -> None:
    _migrations_round_trip(empty_postgres_url)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
    engine.dispose()


def test_readers_do_not_queue_behind_a_sqlite_writer(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine)
    with engine.begin() as writer:
        writer.exec_driver_sql("INSERT INTO datasets VALUES ('x', 'v', '{}', '2026-01-01')")
        # While the write transaction is open, a reader sees the last committed state at once.
        with reader(engine).connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM datasets").scalar() == 0
    with reader(engine).connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM datasets").scalar() == 1
    engine.dispose()


def test_r0003_keeps_the_runs_it_finds_and_a_running_one_without_heartbeat_is_reaped(
    sqlite_url: str,
) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import text

    from api.db.runs import reap_abandoned_runs

    engine = make_engine(sqlite_url)
    try:
        upgrade(engine, "0002")
        started = datetime.now(UTC) - timedelta(hours=3)
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO batch_runs (run_id, kind, started_at, status, params) VALUES "
                "('old', 'forecast', :at, 'running', '{}'), "
                "('done', 'forecast', :at, 'succeeded', '{}')"
            ), {"at": started.replace(tzinfo=None)})
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.begin() as conn:
            assert reap_abandoned_runs(conn) == ["old"]
            rows = dict(conn.execute(text("SELECT run_id, status FROM batch_runs")).all())
        assert rows == {"old": "failed", "done": "succeeded"}
    finally:
        engine.dispose()
