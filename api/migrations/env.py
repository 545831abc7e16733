"""Alembic environment. The config is built in code (api/db/migrate.py), never from a cwd
alembic.ini, so `omni db upgrade` works from an installed package. The caller hands over an open
connection in ``config.attributes["connection"]``; the whole upgrade runs in one transaction on
both databases (SQLite DDL is transactional once BEGIN is ours, see api/db/engine.py)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from api.db.engine import make_engine
from api.db.tables import metadata

config = context.config


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as conn:
            _configure(conn)
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
