"""Safety stock kept for walk-in customers: bounded by stock, calendar-aware, margin-driven."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocation.planning import PlanningInputError, ReservationPolicy, plan_reservations
from allocation.planning.reservation import protection_horizon

AS_OF = date(2026, 10, 5)  # a Monday in a quiet season


def daily_forecast(store: str, sku: str, start: date, days: int, mean: float) -> pd.DataFrame:
    dates = pd.date_range(start, periods=days, freq="D")
    return pd.DataFrame({"store": store, "sku": sku, "date": dates, "mean": mean})


def stock_row(on_hand: int, online: float = 20.0, walkin: float = 40.0, days: int = 7) -> dict:
    return {
        "store": "S01",
        "sku": "K1",
        "on_hand": on_hand,
        "replenishment_days": days,
        "walkin_margin_pln": walkin,
        "online_margin_pln": online,
        "fulfilment_cost_pln": 5.0,
        "category": "shoes",
    }


@settings(max_examples=40, deadline=None)
@given(
    on_hand=st.integers(0, 60),
    mean=st.floats(0.0, 20.0),
    online=st.floats(-10.0, 80.0),
    walkin=st.floats(0.0, 80.0),
    days=st.integers(0, 21),
)
def test_safety_stock_never_exceeds_on_hand(
    on_hand: int, mean: float, online: float, walkin: float, days: int
) -> None:
    stock = pd.DataFrame([stock_row(on_hand, online, walkin, days)])
    forecast = daily_forecast("S01", "K1", date(2026, 10, 6), 21, mean)
    plan = plan_reservations(stock, AS_OF, forecast)
    row = plan.iloc[0]
    assert 0 <= row["safety_stock"] <= on_hand
    assert row["promisable_online"] == on_hand - row["safety_stock"]


def test_a_non_trading_sunday_adds_no_walk_in_demand() -> None:
    saturday = date(2026, 10, 10)
    across_sunday = protection_horizon(saturday, 2)  # Sunday 11 Oct (closed), Monday 12 Oct
    weekdays = protection_horizon(date(2026, 10, 12), 2)  # Tuesday, Wednesday
    assert len(across_sunday) == 1 and len(weekdays) == 2
    stock = pd.DataFrame([stock_row(30, days=2)])
    forecast = daily_forecast("S01", "K1", date(2026, 10, 11), 2, 3.0)  # even if fed a Sunday
    plan = plan_reservations(stock, saturday, forecast)
    assert plan.iloc[0]["horizon_open_days"] == 1
    assert plan.iloc[0]["horizon_demand_mean"] == pytest.approx(3.0)


def test_higher_online_margin_keeps_less_safety_stock() -> None:
    forecast = daily_forecast("S01", "K1", date(2026, 10, 6), 14, 2.0)
    kept = [
        plan_reservations(pd.DataFrame([stock_row(40, online=o)]), AS_OF, forecast).iloc[0]
        for o in (10.0, 25.0, 40.0)
    ]
    safety = [row["safety_stock"] for row in kept]
    assert safety[0] > safety[1] > safety[2]
    assert kept[0]["policy"] == "critical_ratio"
    assert kept[0]["critical_ratio"] == pytest.approx(1 - (10.0 - 5.0) / 40.0)


def test_online_sale_worth_more_than_walk_in_keeps_nothing() -> None:
    forecast = daily_forecast("S01", "K1", date(2026, 10, 6), 14, 2.0)
    stock = pd.DataFrame([stock_row(10, online=60.0, walkin=40.0)])
    assert plan_reservations(stock, AS_OF, forecast).iloc[0]["safety_stock"] == 0


def test_service_level_policy_keeps_more_for_a_stricter_category() -> None:
    forecast = daily_forecast("S01", "K1", date(2026, 10, 6), 14, 2.0)
    stock = pd.DataFrame([stock_row(40)])
    loose = ReservationPolicy(kind="service_level", service_level_by_category={"shoes": 0.5})
    strict = ReservationPolicy(kind="service_level", service_level_by_category={"shoes": 0.99})
    low = plan_reservations(stock, AS_OF, forecast, loose).iloc[0]
    high = plan_reservations(stock, AS_OF, forecast, strict).iloc[0]
    assert high["safety_stock"] > low["safety_stock"]
    assert high["policy"] == "service_level" and high["service_level"] == 0.99


def test_peak_multiplier_protects_more_before_black_week() -> None:
    as_of = date(2026, 11, 20)  # Black Week 2026 starts 23 November
    forecast = daily_forecast("S01", "K1", date(2026, 11, 21), 14, 2.0)
    stock = pd.DataFrame([stock_row(60)])
    plain = plan_reservations(stock, as_of, forecast).iloc[0]["safety_stock"]
    policy = ReservationPolicy(peak_multiplier=1.5)
    boosted = plan_reservations(stock, as_of, forecast, policy).iloc[0]["safety_stock"]
    assert boosted > plain


def test_given_horizon_quantiles_are_interpolated_between_levels() -> None:
    stock = pd.DataFrame([stock_row(100)])
    quantiles = pd.DataFrame({"store": ["S01"], "sku": ["K1"], "q50": [10.0], "q90": [20.0]})
    policy = ReservationPolicy(kind="service_level", default_service_level=0.7)
    plan = plan_reservations(stock.drop(columns="category"), AS_OF, None, policy, quantiles)
    assert plan.iloc[0]["safety_stock"] == 15


def test_negative_stock_is_refused_naming_the_field() -> None:
    forecast = daily_forecast("S01", "K1", date(2026, 10, 6), 7, 1.0)
    with pytest.raises(PlanningInputError, match="stock.on_hand") as error:
        plan_reservations(pd.DataFrame([stock_row(-1)]), AS_OF, forecast)
    assert isinstance(error.value, ValueError)


def test_many_stores_and_skus_in_one_call_keep_their_own_rows() -> None:
    rows = [stock_row(n) | {"store": f"S{n:02d}"} for n in range(5)]
    forecast = pd.concat(
        [daily_forecast(f"S{n:02d}", "K1", date(2026, 10, 6), 7, float(n)) for n in range(5)]
    )
    plan = plan_reservations(pd.DataFrame(rows), AS_OF, forecast)
    assert list(plan["store"]) == [f"S{n:02d}" for n in range(5)]
    assert np.all(np.diff(plan["horizon_demand_mean"].to_numpy()) > 0)


def test_the_forecast_days_dispersion_sets_the_spread_and_a_missing_one_takes_the_default() -> None:
    # a walk-in sale worth far more than an online one: keep stock to the 0.875 quantile
    stock = pd.DataFrame([stock_row(60, online=10.0, walkin=40.0, days=7)])
    forecast = daily_forecast("S01", "K1", date(2026, 10, 6), 7, 3.0)
    policy = ReservationPolicy(default_dispersion=2.5)

    default = plan_reservations(stock, AS_OF, forecast, policy).iloc[0]
    unknown = plan_reservations(stock, AS_OF, forecast.assign(dispersion=np.nan), policy).iloc[0]
    poisson = plan_reservations(stock, AS_OF, forecast.assign(dispersion=1.0), policy).iloc[0]
    noisy = plan_reservations(stock, AS_OF, forecast.assign(dispersion=6.0), policy).iloc[0]

    assert unknown["safety_stock"] == default["safety_stock"]
    assert poisson["safety_stock"] < default["safety_stock"] < noisy["safety_stock"]


def test_a_level_shock_shared_by_the_days_widens_the_sum_and_a_negative_one_is_refused() -> None:
    stock = pd.DataFrame([stock_row(60, online=10.0, walkin=40.0, days=7)])
    forecast = daily_forecast("S01", "K1", date(2026, 10, 6), 7, 3.0).assign(dispersion=1.2)

    plain = plan_reservations(stock, AS_OF, forecast).iloc[0]
    none = plan_reservations(stock, AS_OF, forecast.assign(level_shock=0.0)).iloc[0]
    shocked = plan_reservations(stock, AS_OF, forecast.assign(level_shock=0.2)).iloc[0]

    # psi = 0.2 on a sum of 18: variance 18 * 1.2 + 0.2 * 18**2 = 86.4 instead of 21.6
    assert none["safety_stock"] == plain["safety_stock"]
    assert shocked["safety_stock"] >= plain["safety_stock"] + 5
    with pytest.raises(PlanningInputError, match="walkin_forecast.level_shock"):
        plan_reservations(stock, AS_OF, forecast.assign(level_shock=-0.1))
