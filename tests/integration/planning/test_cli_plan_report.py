"""`omni plan`: where the planner's report of a run went; the business day plans default to."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from planning_setup import PEAK, PLAN_AS_OF, YEAR
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from api.cli import app
from api.db.tables import SafetyStockPlan


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


def test_plans_default_to_the_business_day_and_refuse_one_before_the_last_sales(
    loaded_engine: Engine, db_url: str
) -> None:
    """Without --as-of the reservation plan is made as of OMNI_BUSINESS_DATE (else today);
    a day before the last recorded sales would overwrite today's safety stock from demand
    already past: exit 2, nothing written."""
    runner = CliRunner()
    day_before = (PLAN_AS_OF - timedelta(days=1)).isoformat()
    refused = runner.invoke(app, ["plan", "reservations"],
                            env={"OMNI_DATABASE_URL": db_url, "OMNI_BUSINESS_DATE": day_before})
    assert refused.exit_code == 2
    assert f"as_of: {day_before} lies before the last day with recorded sales" in refused.stderr
    planned = runner.invoke(app, ["plan", "reservations"], env={
        "OMNI_DATABASE_URL": db_url, "OMNI_BUSINESS_DATE": PLAN_AS_OF.isoformat()})
    assert planned.exit_code == 0, planned.stderr
    assert f"plan reservations-{PLAN_AS_OF:%Y%m%d}-" in planned.stdout
    with loaded_engine.connect() as conn:
        plans = conn.execute(select(func.count(func.distinct(SafetyStockPlan.plan_id)))).scalar()
    assert plans == 1
