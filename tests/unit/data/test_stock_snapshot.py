"""The demo chain's stock at as-of agrees with its history: a shelf a stock-out spell left
empty on the as-of day holds nothing, and every other row is the stock drawn without spells."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from data.demo_chain import (
    DEFAULT_FUTURE_DAYS,
    DEFAULT_HISTORY_DAYS,
    DEMO_AS_OF,
    DemoChain,
    generate_chain,
)
from data.sales import iter_sales_blocks
from forecasting.calendar import is_store_open

SATURDAY = DEMO_AS_OF - timedelta(days=1)  # a trading day: its sold-out shelves are flagged
CELL = ["node_id", "sku"]


@pytest.fixture(scope="module")
def default() -> DemoChain:
    return generate_chain()


@pytest.fixture(scope="module")
def default_without_spells() -> DemoChain:
    return generate_chain(stockouts=False)


def _sold_out_last_day(chain: DemoChain, seed: int = 7) -> pd.DataFrame:
    """Store x SKU cells the sales stream says sit in a spell on the as-of day."""
    stores = chain.nodes[chain.nodes["kind"] == "store"].reset_index(drop=True)
    days = pd.date_range(chain.as_of - timedelta(days=DEFAULT_HISTORY_DAYS - 1),
                         chain.as_of + timedelta(days=DEFAULT_FUTURE_DAYS))
    blocks = iter_sales_blocks(seed, stores, chain.skus, days, DEFAULT_HISTORY_DAYS)
    mask = np.concatenate([b.sold_out_last_day for b in blocks], axis=1)
    store, sku = np.nonzero(mask)
    return pd.DataFrame({"node_id": stores["node_id"].to_numpy()[store],
                         "sku": chain.skus["sku"].to_numpy()[sku]})


def _assert_only_sold_out_cells_emptied(with_spells: pd.DataFrame, without: pd.DataFrame,
                                        sold_out: pd.DataFrame) -> None:
    """Sold-out cells hold 0; at least one of them held stock without spells (so the check
    can fail); every other row, DCs included, is the stock without spells."""
    both = with_spells.merge(without, on=CELL, suffixes=("", "_without"), validate="1:1")
    assert len(both) == len(with_spells) == len(without)
    hit = both.merge(sold_out, on=CELL, how="left", validate="1:1", indicator="sold_out")
    hit["sold_out"] = hit["sold_out"] == "both"
    assert hit["sold_out"].sum() == len(sold_out) > 0
    assert (hit.loc[hit["sold_out"], "on_hand"] == 0).all()
    assert (hit.loc[hit["sold_out"], "on_hand_without"] > 0).any()
    rest = hit[~hit["sold_out"]]
    assert (rest["on_hand"] == rest["on_hand_without"]).all()


def test_shelves_flagged_sold_out_on_a_trading_as_of_hold_nothing() -> None:
    chain = generate_chain(as_of=SATURDAY)
    without = generate_chain(as_of=SATURDAY, stockouts=False)
    sales = chain.sales
    flagged = sales.loc[(sales["date"] == pd.Timestamp(SATURDAY)) & (sales["stockout"] == 1),
                        CELL].reset_index(drop=True)
    _assert_only_sold_out_cells_emptied(chain.stock, without.stock, flagged)
    # The stream's mask is the history's flags when the as-of day trades.
    pd.testing.assert_frame_equal(_sold_out_last_day(chain), flagged)


def test_a_spell_running_into_a_closed_as_of_still_empties_the_shelf(
    default: DemoChain, default_without_spells: DemoChain
) -> None:
    assert not is_store_open(DEMO_AS_OF)  # a non-trading Sunday: no walk-in row flags it
    _assert_only_sold_out_cells_emptied(default.stock, default_without_spells.stock,
                                        _sold_out_last_day(default))


def test_only_spells_sell_out_a_shelf_on_the_last_day(default: DemoChain) -> None:
    stores = default.nodes[default.nodes["kind"] == "store"].reset_index(drop=True)
    days = pd.date_range(date(2026, 1, 1), DEMO_AS_OF)

    def sold_out(spells: bool) -> int:
        return sum(int(b.sold_out_last_day.sum()) for b in iter_sales_blocks(
            7, stores, default.skus, days, len(days), stockout_spells=spells))

    assert sold_out(True) > 0
    assert sold_out(False) == 0
