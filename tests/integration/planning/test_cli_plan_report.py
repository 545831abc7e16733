"""`omni plan rebalance` prints where the planner's report of the run went."""

from __future__ import annotations

from pathlib import Path

from planning_setup import PEAK, PLAN_AS_OF, YEAR
from sqlalchemy import Engine
from typer.testing import CliRunner

from api.cli import app


def test_rebalance_prints_the_report_folder_of_its_run(
    loaded_engine: Engine, db_url: str, tmp_path: Path
) -> None:
    args = ["plan", "rebalance", "--peak", PEAK, "--year", str(YEAR), "--deadline-s", "10",
            "--as-of", PLAN_AS_OF.isoformat(), "--reports-dir", str(tmp_path)]
    result = CliRunner().invoke(app, args, env={"OMNI_DATABASE_URL": db_url})
    assert result.exit_code == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("report: "))
    report = Path(line.removeprefix("report: ").strip())
    assert report.parent == tmp_path and report.name.startswith(f"rebalance-{PEAK}-{YEAR}-")
    assert (report / "transfers_map.png").stat().st_size > 0
    assert "shadow prices written" in result.stdout
