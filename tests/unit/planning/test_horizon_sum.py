"""Summing daily forecasts over a horizon: the mean, and the ratio of the sum, with a default."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from allocation.planning.horizon_sum import sum_days


def test_a_day_without_a_ratio_counts_with_the_default_when_one_is_given() -> None:
    days = pd.DataFrame({"store": "S1", "sku": "K1", "mean": [2.0, 6.0, 2.0],
                         "dispersion": [1.5, 3.5, np.nan]})

    summed = sum_days(days, ["store", "sku"], default_ratio=2.0).iloc[0]

    # variances 2 * 1.5 + 6 * 3.5 + 2 * 2.0 = 28 over 10 units
    assert summed["mean"] == pytest.approx(10.0)
    assert summed["dispersion"] == pytest.approx(2.8)


def test_groups_with_no_demand_or_no_ratio_fall_back_to_the_default() -> None:
    days = pd.DataFrame({"store": ["S1", "S2"], "sku": "K1", "mean": [0.0, 3.0]})

    with_default = sum_days(days, ["store", "sku"], default_ratio=1.5).set_index("store")
    without = sum_days(days, ["store", "sku"], default_ratio=None).set_index("store")

    assert with_default["dispersion"].tolist() == [1.5, 1.5]
    assert without["dispersion"].isna().all()
    assert without["mean"].tolist() == [0.0, 3.0]
