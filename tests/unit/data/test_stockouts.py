"""Walk-in stock-out spells of the demo chain: realistic, walk-in history only, and nothing
but the spell days differ from the chain drawn without them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from data import stockouts
from data.demo_chain import DemoChain, chain_fingerprint, generate_chain
from data.sales import iter_sales_blocks
from forecasting.calendar import is_store_open

CHAIN = {"seed": 5, "n_stores": 20, "n_skus": 12, "history_days": 730, "future_days": 28}
KEYS = ["date", "node_id", "channel", "sku"]
# The fingerprint tests/unit/data/test_demo_chain.py pinned for its small chain before the
# chain had stock-outs: without spells (and their column) the chain must still be that one.
SMALL = {"seed": 7, "n_stores": 12, "n_skus": 6, "history_days": 420, "future_days": 28}
SMALL_FINGERPRINT_WITHOUT_STOCKOUTS = (
    "82a7468655a9b6cd5b602de1149db72d8ca6fa3951112e0b5723d8dcad5078a0")


@pytest.fixture(scope="module")
def chain() -> DemoChain:
    return generate_chain(**CHAIN)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def uncensored() -> DemoChain:
    return generate_chain(**CHAIN, stockouts=False)  # type: ignore[arg-type]


def _open_days_in_life(chain: DemoChain) -> int:
    """Store x SKU walk-in days on which the SKU could sell: store open, SKU in its life."""
    days = pd.date_range(chain.sales["date"].min(), pd.Timestamp(chain.as_of))
    is_open = np.array([is_store_open(d.date()) for d in days])
    total = 0
    for sku in chain.skus.itertuples():
        alive = (days >= sku.launch_date) & ~(days >= sku.discontinue_date)
        total += int((alive & is_open).sum())
    return total * int((chain.nodes["kind"] == "store").sum())


def test_about_two_percent_of_walk_in_store_sku_days_are_sold_out(chain: DemoChain) -> None:
    share = int(chain.sales["stockout"].sum()) / _open_days_in_life(chain)
    assert 0.01 <= share <= 0.03


def test_only_walk_in_history_sells_out(chain: DemoChain) -> None:
    flagged = chain.sales[chain.sales["stockout"] == 1]
    assert len(flagged) > 0
    assert set(flagged["channel"]) == {"store"}
    assert (chain.future_sales["stockout"] == 0).all()


def test_future_sales_are_the_demand_drawn_without_spells(
    chain: DemoChain, uncensored: DemoChain
) -> None:
    pd.testing.assert_frame_equal(chain.future_sales, uncensored.future_sales)


def test_the_stockout_column_is_int8_in_both_sales_frames(chain: DemoChain) -> None:
    assert chain.sales["stockout"].dtype == np.int8
    assert chain.future_sales["stockout"].dtype == np.int8
    assert set(chain.sales["stockout"].unique()) == {0, 1}


def test_sold_out_days_sell_no_more_than_the_uncensored_draw(
    chain: DemoChain, uncensored: DemoChain
) -> None:
    flagged = chain.sales[chain.sales["stockout"] == 1]
    drawn = flagged[KEYS].merge(uncensored.sales[[*KEYS, "units"]], on=KEYS, how="left")
    demand = drawn["units"].fillna(0).to_numpy()
    assert (flagged["units"].to_numpy() <= demand).all()
    assert flagged["units"].sum() < demand.sum()  # the spells did take sales away


def test_sold_out_days_that_sold_nothing_keep_a_zero_row(chain: DemoChain) -> None:
    zero = chain.sales["units"] == 0
    assert (chain.sales.loc[zero, "stockout"] == 1).all()  # other zero rows stay omitted
    assert zero.sum() > 0.5 * chain.sales["stockout"].sum()  # most spell days sell nothing


def test_rows_outside_spells_are_the_rows_drawn_without_spells(
    chain: DemoChain, uncensored: DemoChain
) -> None:
    spell_keys = chain.sales.loc[chain.sales["stockout"] == 1, KEYS]
    rest = uncensored.sales.merge(spell_keys, on=KEYS, how="left", indicator=True)
    rest = rest[rest["_merge"] == "left_only"].drop(columns="_merge").reset_index(drop=True)
    kept = chain.sales[chain.sales["stockout"] == 0].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, rest)


def test_without_spells_the_chain_is_the_one_drawn_before_stock_outs() -> None:
    chain = generate_chain(**SMALL, stockouts=False)  # type: ignore[arg-type]
    assert (chain.sales["stockout"] == 0).all()
    before = replace(chain, sales=chain.sales.drop(columns="stockout"),
                     future_sales=chain.future_sales.drop(columns="stockout"))
    assert chain_fingerprint(before) == SMALL_FINGERPRINT_WITHOUT_STOCKOUTS


def test_the_same_seed_gives_the_same_spells_and_another_seed_others(chain: DemoChain) -> None:
    stores = chain.nodes[chain.nodes["kind"] == "store"].reset_index(drop=True)
    days = pd.date_range(chain.sales["date"].min(), chain.as_of)

    def spells(seed: int) -> pd.DataFrame:
        rows = pd.concat([b.rows() for b in iter_sales_blocks(seed, stores, chain.skus, days,
                                                              len(days))])
        return rows.loc[rows["stockout"] == 1, KEYS].reset_index(drop=True)

    pd.testing.assert_frame_equal(spells(CHAIN["seed"]), spells(CHAIN["seed"]))
    pd.testing.assert_frame_equal(  # the chain's own spells come from the same draw
        spells(CHAIN["seed"]), chain.sales.loc[chain.sales["stockout"] == 1, KEYS]
        .reset_index(drop=True))
    # Same stores, SKUs and days (so the same open, in-life days), another seed: other spells.
    assert not spells(CHAIN["seed"] + 1).equals(spells(CHAIN["seed"]))


def test_spells_lie_in_the_history_and_last_two_to_fourteen_days() -> None:
    rng = np.random.default_rng(0)
    n_history, n_days = 3000, 3100
    spells = stockouts.spell_days(rng, n_history, n_days, 40, 50)
    assert not spells[n_history:].any()
    series = spells[:n_history].reshape(n_history, -1).T
    edges = np.diff(np.pad(series.astype(np.int8), ((0, 0), (1, 1))), axis=1)
    starts, ends = np.nonzero(edges == 1), np.nonzero(edges == -1)
    lengths = ends[1] - starts[1]
    inner = ends[1] < n_history  # a spell cut by the end of the history may be shorter
    assert lengths[inner].min() >= stockouts.SPELL_DAYS[0]
    assert np.median(lengths) <= stockouts.SPELL_DAYS[1]  # longer only where spells merge
    assert spells.mean() * n_days / n_history == pytest.approx(0.0195, abs=0.002)


def test_a_spell_sells_part_of_its_first_day_and_nothing_after() -> None:
    demand = np.full((6, 1, 2000), 10, dtype=np.int32)
    spells = np.zeros(demand.shape, dtype=bool)
    spells[1:4] = True  # days 1, 2, 3 of every series
    sold = stockouts.sold_units(np.random.default_rng(1), demand, spells)
    assert (sold[[0, 4, 5]] == 10).all()
    assert (sold[[2, 3]] == 0).all()
    first = sold[1]
    assert (first <= 10).all() and 3 < first.mean() < 7  # a uniform share of the day
    assert first.min() == 0 and first.max() == 10
