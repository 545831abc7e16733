"""The constants in data.calibration still match what the public data says.

Marked ``shared_data``: skipped, with the reason printed, when ../shared/data is absent.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data import calibration as cal
from data.measurements import (
    christmas_runup,
    month_profile,
    promo_uplift,
    rossmann_normalised,
    weekday_profile_online,
    weekday_profile_store,
)
from data.public import has_shared_data, load_m5_level1, load_rossmann_train, shared_data_dir

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def rossmann() -> pd.DataFrame:
    if not has_shared_data():
        pytest.skip(f"shared data not found at {shared_data_dir()} (set OMNI_SHARED_DATA)")
    return rossmann_normalised(load_rossmann_train())


@pytest.fixture(scope="module")
def m5_level1() -> pd.DataFrame:
    if not has_shared_data():
        pytest.skip(f"shared data not found at {shared_data_dir()} (set OMNI_SHARED_DATA)")
    return load_m5_level1()


def test_walk_in_weekday_profile_is_the_rossmann_one(rossmann: pd.DataFrame) -> None:
    measured = weekday_profile_store(rossmann)
    np.testing.assert_allclose(measured, cal.WEEKDAY_PROFILE_STORE, atol=0.002)


def test_christmas_run_up_and_promo_uplift_are_the_rossmann_ones(rossmann: pd.DataFrame) -> None:
    measured = list(christmas_runup(rossmann).values())
    np.testing.assert_allclose(measured, cal.CHRISTMAS_RUNUP_BY_WEEK, atol=0.002)
    assert promo_uplift(rossmann) == pytest.approx(
        cal.PROMO_UPLIFT_MEASURED, abs=0.002)


def test_online_weekday_and_month_profiles_are_the_m5_ones(m5_level1: pd.DataFrame) -> None:
    np.testing.assert_allclose(weekday_profile_online(m5_level1),
                               cal.WEEKDAY_PROFILE_ONLINE, atol=0.002)
    np.testing.assert_allclose(month_profile(m5_level1),
                               cal.MONTH_PROFILE, atol=0.002)


def test_elasticity_reproduces_the_measured_promo_uplift() -> None:
    uplift = (1 - cal.REFERENCE_PROMO_DISCOUNT) ** -cal.PRICE_ELASTICITY_BASE
    assert uplift == pytest.approx(cal.PROMO_UPLIFT_MEASURED, abs=0.005)
