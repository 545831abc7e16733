"""Engines for the two supported databases, and the errors a caller can act on.

SQLite is the embedded default: WAL journal, a busy timeout (a writer waits for the lock instead
of failing), foreign keys enforced, and transactions opened with ``BEGIN IMMEDIATE`` so writers
serialize at BEGIN. That is what makes a read-then-write transaction safe on SQLite: pysqlite's
own deferred BEGIN would let two transactions read the same snapshot and then fail
(``SQLITE_BUSY_SNAPSHOT``) on the upgrade to a write lock. Code that only reads can use
`reader(engine)`, whose transactions begin DEFERRED and, in WAL mode, never wait for a writer.

PostgreSQL (``postgresql+psycopg://``) is the real deployment: a bounded pool, a connect timeout
so an unreachable server fails fast, and a lock timeout so a request never waits on a row lock
for long. Pooled connections are NOT pinged on checkout (a ``SELECT 1`` round trip per request,
a tenth of an order's database time): they are recycled after `POSTGRES_POOL_RECYCLE_S`, and a
connection the server dropped fails its first statement with a disconnect error, which
SQLAlchemy turns into a pool invalidation (every pooled connection is replaced) and the HTTP
layer into a 503 the client may retry.

The allocation hot path talks to PostgreSQL through `autocommit(engine)`: a connection from the
same pool, used as a bare psycopg connection in autocommit mode. Each statement is then its own
transaction (committed, durably, when it ends), so a write done in ONE statement costs one round
trip instead of three (BEGIN, statement, COMMIT), and SQLAlchemy's per-statement execution layer
(about 0.15 ms of CPU each) is skipped. Statements there are prepared on first use.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from api.settings import Settings, get_settings

SUPPORTED_DRIVERS = ("sqlite", "sqlite+pysqlite", "postgresql+psycopg")
SQLITE_DEFERRED_OPTION = "omni_sqlite_deferred"
POSTGRES_POOL_RECYCLE_S = 600
"""Seconds after which a pooled PostgreSQL connection is replaced (before idle timeouts of
servers, proxies and firewalls drop it)."""


class DatabaseError(Exception):
    """A problem with the database a user can fix (bad URL, server down); message is one line."""


class DatabaseUrlError(DatabaseError):
    """The database URL cannot be parsed or names a driver we do not support."""


class DatabaseUnavailable(DatabaseError):
    """The database cannot be reached or opened."""


class SchemaNotCurrent(DatabaseError):
    """The database has no schema yet, or an older one than this release needs."""


def redact(url: URL) -> str:
    """The URL as safe to print: password hidden."""
    return url.render_as_string(hide_password=True)


def parse_database_url(raw: str) -> URL:
    """Parse and check a database URL; plain ``postgresql://`` means psycopg 3 (the one we ship)."""
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise DatabaseUrlError(f"cannot parse database URL {raw!r}") from exc
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.drivername not in SUPPORTED_DRIVERS:
        raise DatabaseUrlError(
            f"unsupported database driver {url.drivername!r} in {redact(url)}; "
            "use sqlite:///path or postgresql+psycopg://user@host/db"
        )
    return url


def make_engine(
    url: str | URL | None = None,
    settings: Settings | None = None,
    *,
    generic_plans: bool = False,
) -> Engine:
    """Build the engine for `url` (default: the settings' database_url). Connects lazily.

    `generic_plans` (PostgreSQL; the API server sets it): prepared statements run their generic
    plan instead of being planned again for each set of values. The server's statements are
    short OLTP ones on keys, whose plan does not depend on the values; re-planning the
    allocation's one-statement write each time cost a third of PostgreSQL's CPU per order.
    """
    settings = settings or get_settings()
    parsed = parse_database_url(str(url) if isinstance(url, URL) else url or settings.database_url)
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed, settings)
        return _postgres_engine(parsed, settings, generic_plans)
    except NoSuchModuleError as exc:  # pragma: no cover - drivers are checked above
        raise DatabaseUrlError(f"no driver installed for {redact(parsed)}") from exc


def _postgres_engine(url: URL, settings: Settings, generic_plans: bool) -> Engine:
    # No JIT: every statement here is a short index-driven OLTP one; compiling one costs
    # more than it could save.
    options = f"-c lock_timeout={settings.db_lock_timeout_ms} -c jit=off"
    if generic_plans:
        options += " -c plan_cache_mode=force_generic_plan"
    return create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_s,
        pool_pre_ping=False,
        pool_recycle=POSTGRES_POOL_RECYCLE_S,
        # Hand out the connection returned last: at a steady rate one or two server backends
        # stay hot (caches, prepared plans) instead of all of them taking turns.
        pool_use_lifo=True,
        # READ COMMITTED is what api/db/stock.py's conditional updates are designed for.
        isolation_level="READ COMMITTED",
        connect_args={
            "connect_timeout": settings.db_connect_timeout_s,
            # Waiting for a row lock is bounded, like SQLite's busy timeout.
            "options": options,
        },
    )


def _sqlite_engine(url: URL, settings: Settings) -> Engine:
    engine = create_engine(
        url,
        pool_pre_ping=True,
        connect_args={
            "timeout": settings.sqlite_busy_timeout_ms / 1000,
            "check_same_thread": False,
        },
    )
    busy_timeout_ms = settings.sqlite_busy_timeout_ms

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Take transaction control away from pysqlite; we emit BEGIN ourselves below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        deferred = connection.get_execution_options().get(SQLITE_DEFERRED_OPTION, False)
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

    return engine


@contextmanager
def autocommit(engine: Engine) -> Iterator[psycopg.Connection[Any]]:
    """A pooled PostgreSQL connection as a bare psycopg connection in autocommit mode.

    Every statement commits on its own: use it only for statements that are complete
    transactions by themselves (one read, or one write that is all-or-nothing). A connection
    that failed (server gone, connection dropped) is thrown out of the pool and the failure
    surfaces as `DatabaseUnavailable` (503); a failure to check one out is SQLAlchemy's
    `OperationalError` (also 503).
    """
    pooled = engine.raw_connection()
    connection = pooled.driver_connection
    if not isinstance(connection, psycopg.Connection):
        pooled.close()
        raise TypeError(f"autocommit() needs PostgreSQL, not {engine.dialect.name}")
    try:
        connection.autocommit = True  # client-side: psycopg simply stops sending BEGIN
        try:
            yield connection
        finally:
            if not connection.closed:
                connection.autocommit = False
    except psycopg.OperationalError as exc:  # also a lock timeout: 503, as on the ORM path
        if connection.closed:  # broken, not just a failed statement
            pooled.invalidate(exc)
        raise DatabaseUnavailable(
            f"database {redact(engine.url)} failed: {first_line(exc)}"
        ) from exc
    finally:
        pooled.close()


def reader(engine: Engine) -> Engine:
    """The same engine (and pool) for read-only work: on SQLite its transactions begin DEFERRED,
    so they read a snapshot without queueing behind writers. Do not write through it."""
    return engine.execution_options(**{SQLITE_DEFERRED_OPTION: True})


def check_connection(engine: Engine) -> None:
    """Raise DatabaseUnavailable (one line, password hidden) unless a trivial query succeeds."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        raise DatabaseUnavailable(
            f"cannot reach database {redact(engine.url)}: {first_line(exc.orig)}"
        ) from exc


def first_line(error: BaseException | None) -> str:
    """The first non-empty line of a driver error, for one-line messages."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
