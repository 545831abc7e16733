"""The planner's report: PNG plots and a lane table are written for a plan."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from planning_chains import nodes, positions, rates

from allocation.planning import plan_transfers
from api.reports.planning_plots import transfers_table, write_planning_report
from forecasting.calendar import peak_window


def test_report_writes_plots_and_the_busiest_lanes(tmp_path: Path) -> None:
    pos = positions(5, 6, seed=2)
    peak = peak_window("black_week", 2026)
    plan = plan_transfers(pos, nodes(5), rates(), peak, date(2026, 11, 10))
    written = write_planning_report(plan, pos, nodes(5), tmp_path)
    names = [p.name for p in written]
    assert names == ["stock_vs_forecast.png", "transfers_map.png", "top_lanes.csv"]
    assert all(p.stat().st_size > 1000 for p in written[:2])
    assert written[0].read_bytes()[:4] == b"\x89PNG"
    table = transfers_table(plan.transfers)
    assert table["qty"].sum() <= plan.units_moved
    assert list(table["qty"]) == sorted(table["qty"], reverse=True)
