"""The demo chain: deterministic, in the contract's shape, and shaped like real retail."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from data.demo_chain import DEMO_AS_OF, DemoChain, chain_fingerprint, generate_chain
from data.sales import iter_sales_blocks
from forecasting.calendar import black_friday, is_store_open

SMALL = {"seed": 7, "n_stores": 12, "n_skus": 6, "history_days": 420, "future_days": 28}
# sha256 of the small chain; changes only when the generator's output changes on purpose.
# (Last: a shelf sold out on the as-of day holds 0, here S009 x F00002, 3 units before.)
SMALL_FINGERPRINT = "58cfc556cbe691558797d3c5fa7bc54d981e32f66adca95a331aca2e83723753"

CONTRACT_COLUMNS = {
    "nodes": ["node_id", "kind", "name", "city", "lat", "lon", "format", "opens_at_hour",
              "closes_at_hour", "pick_cost_pln", "pick_capacity_per_day", "replenishment_days"],
    "skus": ["sku", "name", "department", "category", "size_class", "weight_kg", "price_pln",
             "unit_cost_pln", "launch_date", "discontinue_date"],
    "stock": ["node_id", "sku", "on_hand"],
    "postcode_areas": ["postcode_prefix", "city", "lat", "lon"],
    "parcel_rates": ["method", "max_weight_kg", "max_distance_km", "price_pln", "transit_hours"],
    "transfer_rates": ["lane", "fixed_cost_pln", "cost_per_unit_pln", "cost_per_km_pln",
                       "lead_time_hours"],
    "lockers": ["locker_id", "city", "lat", "lon"],
    "sales": ["date", "node_id", "channel", "sku", "units", "price_pln", "promo", "stockout"],
    "future_sales": ["date", "node_id", "channel", "sku", "units", "price_pln", "promo",
                     "stockout"],
}


@pytest.fixture(scope="module")
def small() -> DemoChain:
    return generate_chain(**SMALL)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def medium() -> DemoChain:
    """Enough stores and SKUs for aggregate shapes; covers Black Week 2024 and 2025."""
    return generate_chain(seed=3, n_stores=30, n_skus=24, history_days=800, future_days=14)


def test_same_arguments_give_a_byte_identical_chain(small: DemoChain) -> None:
    again = generate_chain(**SMALL)  # type: ignore[arg-type]
    assert chain_fingerprint(again) == chain_fingerprint(small)
    for name, frame in small.frames().items():
        pd.testing.assert_frame_equal(frame, again.frames()[name])


def test_small_chain_fingerprint_is_pinned(small: DemoChain) -> None:
    assert chain_fingerprint(small) == SMALL_FINGERPRINT


def test_a_different_seed_gives_a_different_chain(small: DemoChain) -> None:
    other = generate_chain(**{**SMALL, "seed": 8})  # type: ignore[arg-type]
    assert chain_fingerprint(other) != chain_fingerprint(small)


def test_every_frame_has_the_contract_columns(small: DemoChain) -> None:
    frames = small.frames()
    for name, columns in CONTRACT_COLUMNS.items():
        assert list(frames[name].columns[: len(columns)]) == columns, name
        assert frames[name].index.equals(pd.RangeIndex(len(frames[name]))), name


def test_default_chain_has_three_dcs_and_at_least_100_stores() -> None:
    chain = generate_chain(n_skus=1, history_days=7, future_days=0)
    kinds = chain.nodes["kind"].value_counts()
    assert kinds["dc"] == 3
    assert kinds["store"] >= 100
    assert chain.nodes["node_id"].is_unique
    assert set(chain.nodes.loc[chain.nodes["kind"] == "store", "format"]) == {
        "mall", "high_street", "outlet"}
    assert chain.nodes["city"].value_counts().max() >= 3  # several stores in big cities
    assert (chain.sales["date"] <= pd.Timestamp(DEMO_AS_OF)).all()


def test_every_coordinate_lies_in_poland(small: DemoChain) -> None:
    for frame in (small.nodes, small.lockers, small.postcode_areas):
        assert frame["lat"].between(49.0, 54.9).all()
        assert frame["lon"].between(14.1, 24.2).all()


def test_postcode_areas_cover_every_two_digit_prefix(small: DemoChain) -> None:
    assert list(small.postcode_areas["postcode_prefix"]) == [f"{p:02d}" for p in range(100)]
    assert small.postcode_areas.loc[0, "city"] == "Warszawa"


def test_walk_in_sales_are_zero_on_closed_days_and_online_sales_go_on(
    medium: DemoChain,
) -> None:
    sales = medium.sales
    open_day = {d: is_store_open(d.date()) for d in sales["date"].unique()}
    closed = ~sales["date"].map(open_day)
    assert (sales.loc[closed & (sales["channel"] == "store"), "units"] == 0).all()
    assert not (closed & (sales["channel"] == "store")).any()  # zero rows are omitted
    online_closed = sales[closed & (sales["channel"] == "online")]
    assert online_closed["date"].nunique() == sum(not v for v in open_day.values())
    assert online_closed["units"].sum() > 0


def test_online_sales_rise_on_non_trading_sundays(medium: DemoChain) -> None:
    online = medium.sales[medium.sales["channel"] == "online"]
    daily = online.groupby("date")["units"].sum()
    weekday = pd.DatetimeIndex(daily.index).dayofweek
    sundays = daily[weekday == 6]
    fridays = daily[weekday == 4]
    assert sundays.mean() > fridays.mean()


@pytest.mark.parametrize("year", [2024, 2025])
def test_black_friday_sells_far_more_than_an_ordinary_friday(medium: DemoChain, year: int) -> None:
    daily = medium.sales.groupby(["date", "channel"])["units"].sum().unstack(fill_value=0)
    friday = pd.Timestamp(black_friday(year))
    before = [friday - pd.Timedelta(weeks=w) for w in (2, 3)]  # 4 weeks before: 1 Nov 2024
    rows = daily.index.get_indexer(pd.DatetimeIndex([friday, *before]))
    uplift = {}
    for channel in ("store", "online"):
        units = daily[channel].to_numpy(dtype=float)[rows]
        uplift[channel] = units[0] / units[1:].mean()
    assert uplift["store"] > 1.5
    assert uplift["online"] > uplift["store"]


def test_december_sells_more_than_october(medium: DemoChain) -> None:
    sales = medium.sales[medium.sales["date"].dt.year == 2024]
    by_month = sales.groupby(sales["date"].dt.month)["units"].sum()
    assert by_month[12] > by_month[10]


def test_skus_sell_only_within_their_life(small: DemoChain) -> None:
    both = pd.concat([small.sales, small.future_sales])
    life = both.merge(small.skus[["sku", "launch_date", "discontinue_date"]], on="sku")
    assert (life["date"] >= life["launch_date"]).all()
    ended = life["discontinue_date"].notna()
    assert (life.loc[ended, "date"] < life.loc[ended, "discontinue_date"]).all()


def test_catalogue_has_new_and_discontinued_skus() -> None:
    chain = generate_chain(n_stores=1, n_skus=200, history_days=30, future_days=0)
    skus = chain.skus
    start = pd.Timestamp(DEMO_AS_OF - timedelta(days=29))
    assert (skus["launch_date"] > start).any()
    assert skus["discontinue_date"].notna().any()
    assert set(skus["size_class"]) == {"S", "M", "L", "XL"}
    margin = 1 - skus["unit_cost_pln"] / skus["price_pln"]
    fashion = skus["department"] == "fashion"
    assert margin[fashion].between(0.40, 0.65).all()
    assert margin[~fashion].between(0.15, 0.30).all()


def test_promotions_sell_below_list_price(small: DemoChain) -> None:
    sales = small.sales.merge(small.skus[["sku", "price_pln"]], on="sku", suffixes=("", "_list"))
    promo = sales[sales["promo"] == 1]
    assert len(promo) > 0
    assert (promo["price_pln"] < promo["price_pln_list"] + 0.01).all()
    assert promo["price_pln"].sum() < promo["price_pln_list"].sum()


def test_future_sales_are_after_as_of_and_history_is_not(small: DemoChain) -> None:
    as_of = pd.Timestamp(small.as_of)
    assert (small.sales["date"] <= as_of).all()
    assert (small.future_sales["date"] > as_of).all()
    assert small.future_sales["date"].max() == as_of + pd.Timedelta(days=SMALL["future_days"])
    assert ((small.sales["units"] > 0) | (small.sales["stockout"] == 1)).all()


def test_stock_covers_every_node_and_sku_and_is_never_negative(small: DemoChain) -> None:
    assert len(small.stock) == len(small.nodes) * len(small.skus)
    assert (small.stock["on_hand"] >= 0).all()
    dc = small.stock["node_id"].str.startswith("DC-")
    assert small.stock.loc[dc, "on_hand"].sum() > small.stock.loc[~dc, "on_hand"].sum() / 10


def test_parcel_rates_are_realistic_and_slower_with_distance(small: DemoChain) -> None:
    rates = small.parcel_rates
    locker = rates[rates["method"] == "parcel_locker"]
    courier = rates[rates["method"] == "home_delivery"]
    assert locker["price_pln"].between(10, 16).all()
    assert courier["price_pln"].between(14, 25).all()
    assert locker["max_weight_kg"].max() <= 25
    for _, group in rates.groupby(["method", "max_weight_kg"]):
        assert group["transit_hours"].is_monotonic_increasing
        assert group["price_pln"].is_monotonic_increasing


def test_transfer_lead_times_are_one_to_three_days(small: DemoChain) -> None:
    rates = small.transfer_rates.set_index("lane")
    assert set(rates.index) == {"dc_to_store", "store_to_store"}
    assert rates["lead_time_hours"].between(24, 72).all()
    fixed = rates["fixed_cost_pln"].astype(float)
    assert fixed["store_to_store"] > fixed["dc_to_store"]


def test_generation_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    generate_chain(n_stores=2, n_skus=2, history_days=10, future_days=2)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        generate_chain(n_stores=0)


def test_as_of_moves_the_history(small: DemoChain) -> None:
    chain = generate_chain(n_stores=2, n_skus=2, as_of=date(2025, 3, 1), history_days=40,
                           future_days=0)
    assert chain.sales["date"].max() <= pd.Timestamp(2025, 3, 1)
    assert chain.future_sales.empty
    assert pd.api.types.is_datetime64_dtype(chain.sales["date"])


def test_progress_bar_does_not_change_the_chain() -> None:
    tiny = {"n_stores": 2, "n_skus": 3, "history_days": 20, "future_days": 3}
    quiet = generate_chain(**tiny)  # type: ignore[arg-type]
    shown = generate_chain(**tiny, progress=True)  # type: ignore[arg-type]
    assert chain_fingerprint(quiet) == chain_fingerprint(shown)


def test_sales_blocks_stream_the_same_rows_as_the_chain(small: DemoChain) -> None:
    stores = small.nodes[small.nodes["kind"] == "store"].reset_index(drop=True)
    days = pd.date_range(small.as_of - timedelta(days=SMALL["history_days"] - 1),
                         small.as_of + timedelta(days=SMALL["future_days"]))
    blocks = list(iter_sales_blocks(SMALL["seed"], stores, small.skus, days,
                                    SMALL["history_days"]))
    streamed = pd.concat([b.rows() for b in blocks], ignore_index=True)
    whole = pd.concat([small.sales, small.future_sales], ignore_index=True)
    assert len(blocks) == 1  # the small chain fits one block
    pd.testing.assert_frame_equal(streamed, whole)


def test_many_sku_blocks_merge_into_date_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("data.demand.CELLS_PER_BLOCK", 2_000)  # one SKU per block
    chain = generate_chain(n_stores=4, n_skus=5, history_days=60, future_days=0)
    sales = chain.sales
    assert sales["sku"].nunique() > 1
    assert sales["date"].is_monotonic_increasing
    first_day = sales[sales["date"] == sales["date"].min()]
    assert list(first_day["node_id"]) == sorted(first_day["node_id"])


def test_online_share_grows_from_year_to_year(medium: DemoChain) -> None:
    sales = medium.sales[medium.sales["date"].dt.month <= 10]
    by_year = sales.groupby([sales["date"].dt.year, "channel"])["units"].sum().unstack()
    share = by_year["online"] / by_year.sum(axis=1)
    assert share[2026] > share[2025]


def test_slow_movers_sell_on_few_days(small: DemoChain) -> None:
    days = small.sales["date"].nunique()
    selling_days = small.sales.groupby(["node_id", "channel", "sku"])["date"].nunique()
    assert (selling_days < days / 2).mean() > 0.5
