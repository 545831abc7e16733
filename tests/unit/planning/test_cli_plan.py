"""`omni plan ...` on a small demo chain in SQLite: plans are written, summaries printed."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api.cli import app


def run(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"OMNI_DATABASE_URL": url})
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("plan") / "omni.db"
    url = f"sqlite:///{path}"
    code, output = run(url, "db", "init", "--demo", "--stores", "4", "--skus", "6")
    assert code == 0, output
    return url


@pytest.mark.slow
def test_reservations_write_safety_stock_never_above_on_hand(demo_db: str) -> None:
    code, output = run(demo_db, "plan", "reservations", "--as-of", "2026-11-22")
    assert code == 0, output
    assert "promisable online" in output
    engine = sa.create_engine(demo_db)
    with engine.connect() as conn:
        over = conn.execute(sa.text("SELECT count(*) FROM stock WHERE safety_stock > on_hand"))
        plans = conn.execute(sa.text("SELECT count(*) FROM safety_stock_plans"))
        assert over.scalar() == 0
        assert (plans.scalar() or 0) > 0


@pytest.mark.slow
def test_rebalance_writes_transfers_that_arrive_before_the_peak(demo_db: str) -> None:
    code, output = run(
        demo_db, "plan", "rebalance", "--peak", "black_week", "--year", "2026",
        "--as-of", "2026-11-08", "--deadline-s", "20",
    )
    assert code == 0, output
    assert "expected gain" in output
    engine = sa.create_engine(demo_db)
    with engine.connect() as conn:
        late = conn.execute(
            sa.text("SELECT count(*) FROM transfers WHERE arrive_by > '2026-11-23'")
        ).scalar()
        runs = conn.execute(
            sa.text("SELECT count(*) FROM batch_runs WHERE kind = 'plan_rebalance'")
        ).scalar()
    assert late == 0
    assert runs == 1


def test_unknown_peak_exits_with_a_message_naming_the_field(tmp_path: Path) -> None:
    code, output = run(
        f"sqlite:///{tmp_path / 'x.db'}", "plan", "rebalance", "--peak", "easter", "--year", "2026"
    )
    assert code == 2
    assert "peak" in output and "easter" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--year", "1999"], "no transfer could arrive before it"),
     (["--year", "2026", "--as-of", "26/11/2026"], "'26/11/2026' is not a date")],
)
def test_a_plan_that_cannot_be_made_exits_2_and_writes_nothing(
    demo_db: str, args: list[str], message: str
) -> None:
    engine = sa.create_engine(demo_db)
    with engine.connect() as conn:
        before = conn.execute(sa.text("SELECT count(*) FROM batch_runs")).scalar()

    code, output = run(demo_db, "plan", "rebalance", "--peak", "christmas", *args)

    assert code == 2
    assert message in output
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM batch_runs")).scalar() == before
