"""Alembic driven from code: the migrations ship inside the package (api/migrations)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from api.db.engine import DatabaseUnavailable, first_line, redact

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations (and at `engine`, when given)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("version_path_separator", "os")
    if engine is not None:
        config.set_main_option(
            "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
        )
    return config


@lru_cache(maxsize=1)
def head_revision() -> str:
    """The newest packaged migration (read once: the packaged scripts do not change)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "no migrations packaged"
    return head


def schema_problem(conn: Connection) -> str | None:
    """Why this database cannot serve this release (no schema, an older one), or None."""
    revision, head = MigrationContext.configure(conn).get_current_revision(), head_revision()
    if revision == head:
        return None
    if revision is None:
        return "the database has no schema: run `omni db init --demo` or `omni db upgrade`"
    return (f"the database is at schema revision {revision}, this release needs {head}: run "
            "`omni db upgrade`")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` in one transaction (all or nothing)."""
    _run(engine, lambda config: command.upgrade(config, revision))


def downgrade(engine: Engine, revision: str = "base") -> None:
    _run(engine, lambda config: command.downgrade(config, revision))


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None for an empty database)."""
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except DBAPIError as exc:
        raise DatabaseUnavailable(
            f"cannot reach database {redact(engine.url)}: {first_line(exc.orig)}"
        ) from exc


def _run(engine: Engine, step: object) -> None:
    config = alembic_config(engine)
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            step(config)  # type: ignore[operator]
    except DBAPIError as exc:
        raise DatabaseUnavailable(
            f"migrating {redact(engine.url)} failed: {first_line(exc.orig)}"
        ) from exc
