"""The rebalancing plan's shadow prices reach the real-time allocator as the opportunity cost
of store stock during the peak, and only during it."""

from __future__ import annotations

from pathlib import Path

from planning_setup import BEFORE_PEAK, IN_PEAK, PEAK, PLAN_AS_OF, YEAR
from sqlalchemy import Engine, select

from api.db.tables import BatchRun, ShadowPrice
from api.services.network import NetworkCache
from api.services.opportunity import opportunity_costs_pln
from api.services.planning import plan_peak_transfers
from forecasting.calendar import peak_window

ROWS = [("S001", "JACKET", 6), ("S002", "JACKET", 4), ("S001", "SCARF", 10), ("DC-STRYKOW",
        "PHONE", 80)]


def _costs(cache: NetworkCache, day: object) -> list[float]:
    data = cache.get()
    return opportunity_costs_pln(data.network, ROWS, day, data.shadow_prices)  # type: ignore[arg-type]


def test_a_peak_plan_raises_the_opportunity_cost_of_store_stock_inside_the_peak_only(
    loaded_engine: Engine, tmp_path: Path
) -> None:
    cache = NetworkCache(loaded_engine)
    before_in_peak, before_peak = _costs(cache, IN_PEAK), _costs(cache, BEFORE_PEAK)
    summary = plan_peak_transfers(loaded_engine, PEAK, YEAR, PLAN_AS_OF, 10.0,
                                  reports_dir=tmp_path, network=cache)
    with loaded_engine.connect() as conn:
        rows = conn.execute(
            select(ShadowPrice.__table__).where(ShadowPrice.plan_id == summary.plan_id)
        ).all()
    stored = {(r.node_id, r.sku): r for r in rows}
    window = peak_window(PEAK, YEAR)
    jacket = stored[("S001", "JACKET")]
    assert jacket.shadow_price_pln > 0
    assert (jacket.valid_from, jacket.valid_to) == (window.start, window.end)
    assert all(r.shadow_price_pln > 0 for r in stored.values())  # zero is never stored
    after_in_peak = _costs(cache, IN_PEAK)
    # Walk-in jacket demand over the whole peak is worth more than the Poisson rule's week.
    assert after_in_peak[0] > before_in_peak[0]
    assert after_in_peak[0] == jacket.shadow_price_pln
    # S002 has no walk-in jacket demand of its own, but the plan values its jackets for S001.
    assert before_in_peak[1] == 0.0 < after_in_peak[1]
    assert after_in_peak[2:] == before_in_peak[2:]  # no shadow price: the rule alone; DCs 0
    assert _costs(cache, BEFORE_PEAK) == before_peak  # outside the window nothing changes


def test_a_plan_written_by_another_process_is_picked_up_and_the_newest_plan_wins(
    loaded_engine: Engine, tmp_path: Path
) -> None:
    cache = NetworkCache(loaded_engine, refresh_s=0.0)
    assert cache.get().shadow_prices.version is None
    first = plan_peak_transfers(loaded_engine, PEAK, YEAR, PLAN_AS_OF, 10.0, reports_dir=tmp_path)
    assert cache.get().shadow_prices.version == first.plan_id
    assert cache.get().shadow_prices.at("S001", "JACKET", IN_PEAK) > 0
    second = plan_peak_transfers(loaded_engine, PEAK, YEAR, PLAN_AS_OF, 10.0, reports_dir=tmp_path)
    prices = cache.get().shadow_prices
    assert prices.version == second.plan_id
    assert all(len(windows) == 1 for windows in prices.windows.values())  # not both plans
    with loaded_engine.connect() as conn:
        params = conn.execute(
            select(BatchRun.params).where(BatchRun.run_id == second.plan_id)
        ).scalar_one()
    report = Path(params["report_dir"])
    assert report == tmp_path / second.plan_id
    assert {p.name for p in report.iterdir()} == {
        "stock_vs_forecast.png", "transfers_map.png", "top_lanes.csv"
    }
    assert params["shadow_price_rows"] == second.shadow_price_rows > 0
