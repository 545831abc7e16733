"""Fixtures of the forecasting tests (data from forecasting_samples)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from forecasting_samples import DAYS, START, make_history


@pytest.fixture
def history() -> pd.DataFrame:
    return make_history()


@pytest.fixture
def promo_history() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    ds = pd.date_range(START, periods=DAYS, freq="D")
    frames = []
    for uid in ("A", "B"):
        promo = rng.integers(0, 2, DAYS)
        frames.append(pd.DataFrame({"unique_id": uid, "ds": ds,
                                    "y": rng.poisson(3 + 4 * promo), "promo": promo}))
    return pd.concat(frames, ignore_index=True)
