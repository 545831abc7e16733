"""Database fixtures shared by every test suite.

- `sqlite_url`: a SQLite file in the test's tmp dir (empty, not migrated).
- `postgres_url` (session): a fresh, empty PostgreSQL database created on the server named by
  OMNI_TEST_POSTGRES_URL and dropped after the session. Skipped when the variable is unset or the
  server unreachable, unless OMNI_REQUIRE_POSTGRES=1 (CI), where that is a failure.
- `empty_postgres_url`: a fresh, empty database for one test (migration tests).
- `db_url`: parametrized over SQLite and PostgreSQL: migrated to head and emptied for each test.
- `db_engine`: an engine on `db_url`, disposed after the test.

Property tests (hypothesis) draw the same examples on every run under CI (CI=true, which
`.ci/run` sets): a red CI must be reproducible and not depend on the day's random draw.
Elsewhere they explore fresh random examples each run; a failure prints the seed to replay.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI", "").lower() in ("1", "true") else "explore")

POSTGRES_ENV = "OMNI_TEST_POSTGRES_URL"
REQUIRE_ENV = "OMNI_REQUIRE_POSTGRES"
REPORTS_ENV = "OMNI_REPORTS_DIR"


@pytest.fixture(scope="session", autouse=True)
def reports_outside_the_checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Planner reports (the console's rebalancing, omni batch accuracy) written by any test,
    in process or by a server it starts, go to a temporary folder, not the checkout's
    reports/."""
    before = os.environ.get(REPORTS_ENV)
    folder = tmp_path_factory.mktemp("reports")
    os.environ[REPORTS_ENV] = str(folder)
    yield folder
    if before is None:
        os.environ.pop(REPORTS_ENV, None)
    else:
        os.environ[REPORTS_ENV] = before


def _postgres_required() -> bool:
    return os.environ.get(REQUIRE_ENV) == "1"


def _unavailable(reason: str) -> None:
    if _postgres_required():
        pytest.fail(f"PostgreSQL required ({REQUIRE_ENV}=1) but {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


def _libpq(url: str) -> str:
    """The SQLAlchemy URL as a libpq connection string for psycopg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _postgres_server() -> str:
    import psycopg

    raw = os.environ.get(POSTGRES_ENV)
    if not raw:
        _unavailable(f"{POSTGRES_ENV} is not set")
        raise AssertionError("unreachable")
    try:
        with psycopg.connect(_libpq(raw), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        _unavailable(f"cannot connect to {make_url(raw).render_as_string()}: {exc}".strip())
    return raw


def _create_database(server_url: str, prefix: str) -> str:
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(server_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(database=name)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _drop_database(server_url: str, url: str) -> None:
    import psycopg

    name = make_url(url).database
    with psycopg.connect(_libpq(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url(_postgres_server: str) -> Iterator[str]:
    url = _create_database(_postgres_server, "omni_test")
    yield url
    _drop_database(_postgres_server, url)


@pytest.fixture
def empty_postgres_url(_postgres_server: str) -> Iterator[str]:
    url = _create_database(_postgres_server, "omni_empty")
    yield url
    _drop_database(_postgres_server, url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'omni.db'}"


@pytest.fixture(scope="session")
def _migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from api.db.engine import make_engine
    from api.db.migrate import upgrade

    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # closing the last connection checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(scope="session")
def _migrated_postgres_url(postgres_url: str) -> str:
    from api.db.engine import make_engine
    from api.db.migrate import upgrade

    engine = make_engine(postgres_url)
    upgrade(engine)
    engine.dispose()
    return postgres_url


def _empty_all_tables(url: str) -> None:
    from api.db.engine import make_engine
    from api.db.tables import metadata

    engine = make_engine(url)
    with engine.begin() as conn:  # DELETE beats TRUNCATE on the few rows a test leaves
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("_migrated_sqlite_template")
        target = tmp_path / "omni.db"
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("_migrated_postgres_url")
    _empty_all_tables(url)
    return url


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    from api.db.engine import make_engine

    engine = make_engine(db_url)
    yield engine
    engine.dispose()
