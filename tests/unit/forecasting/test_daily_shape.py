from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecasting.daily_shape import (
    aggregate_shares,
    blend,
    horizon_shares,
    lgbm_shares,
    profile_shares,
    ratio_to_moving_average,
    reshape,
)

DAYS = pd.date_range("2025-03-03", periods=14)
GROUP_OF = pd.Series({"a1": "A", "a2": "A", "a3": "A", "b1": "B", "b2": "B"})


def _forecast(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [(u, d, rng.uniform(0.1, 3.0)) for u in GROUP_OF.index for d in DAYS]
    return pd.DataFrame(rows, columns=["unique_id", "ds", "yhat"])


def _target(seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    raw = pd.DataFrame(rng.uniform(0.5, 1.5, (len(DAYS), 2)), index=DAYS, columns=["A", "B"])
    return raw / raw.sum()


def _sums(frame: pd.DataFrame, values: np.ndarray) -> pd.Series:
    return pd.Series(values, index=frame.index).groupby(frame["unique_id"]).sum()


def test_reshape_keeps_every_series_horizon_sum() -> None:
    frame = _forecast()
    out = reshape(frame, GROUP_OF, _target())
    np.testing.assert_allclose(_sums(frame, out), frame.groupby("unique_id")["yhat"].sum())


def test_reshape_gives_each_group_the_target_daily_shares() -> None:
    frame = _forecast()
    target = _target()
    out = frame.assign(yhat=reshape(frame, GROUP_OF, target))
    np.testing.assert_allclose(horizon_shares(out, GROUP_OF), target, atol=1e-6)


def test_reshape_keeps_a_closed_day_at_zero_and_moves_its_share_to_open_days() -> None:
    frame = _forecast()
    closed = DAYS[4]
    frame.loc[frame["unique_id"].str.startswith("a") & (frame["ds"] == closed), "yhat"] = 0.0
    out = frame.assign(yhat=reshape(frame, GROUP_OF, _target()))
    on_closed = out.loc[out["unique_id"].str.startswith("a") & (out["ds"] == closed), "yhat"]
    assert (on_closed == 0.0).all()
    np.testing.assert_allclose(_sums(frame, out["yhat"].to_numpy()),
                               frame.groupby("unique_id")["yhat"].sum())
    shares = horizon_shares(out, GROUP_OF)["A"]
    assert shares.sum() == pytest.approx(1.0)
    # the other days keep the target's proportions among themselves
    expected = _target()["A"].drop(closed)
    np.testing.assert_allclose(shares.drop(closed), expected / expected.sum(), atol=1e-6)


def test_reshape_leaves_an_all_zero_series_at_zero() -> None:
    frame = _forecast()
    frame.loc[frame["unique_id"] == "b2", "yhat"] = 0.0
    out = reshape(frame, GROUP_OF, _target())
    assert (out[(frame["unique_id"] == "b2").to_numpy()] == 0.0).all()


def test_reshape_to_the_own_shares_changes_nothing() -> None:
    frame = _forecast()
    out = reshape(frame, GROUP_OF, horizon_shares(frame, GROUP_OF))
    np.testing.assert_allclose(out, frame["yhat"])


def test_horizon_shares_sum_to_one_per_group() -> None:
    shares = horizon_shares(_forecast(), GROUP_OF)
    np.testing.assert_allclose(shares.sum(), 1.0)
    assert list(shares.columns) == ["A", "B"]


def test_blend_is_a_normalised_weighted_mean() -> None:
    own, model = _target(1), _target(2)
    np.testing.assert_allclose(blend(own, model, 0.0), own)
    np.testing.assert_allclose(blend(own, model, 1.0), model)
    half = blend(own, model, 0.5)
    np.testing.assert_allclose(half.sum(), 1.0)
    np.testing.assert_allclose(half, (own + model) / 2)
    with pytest.raises(ValueError):
        blend(own, model, 1.5)


def test_ratio_to_moving_average_is_one_on_a_flat_series_and_nan_at_the_ends() -> None:
    ratio = ratio_to_moving_average(pd.Series(5.0, index=pd.date_range("2025-01-01", periods=60)))
    assert ratio.iloc[:14].isna().all() and ratio.iloc[-13:].isna().all()
    np.testing.assert_allclose(ratio.dropna(), 1.0)


EVENT_DAYS = pd.to_datetime(["2023-07-04", "2024-07-04", "2025-07-04"])


def _aggregates() -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Two groups with a weekend peak (Saturday x1.5) and a reference that sells double on an
    event day each year; calendar with the event and a SNAP-like flag."""
    rng = np.random.default_rng(3)
    days = pd.date_range("2023-01-01", "2025-06-30")
    weekday = np.where(days.dayofweek == 5, 1.5, 1.0)
    history = pd.DataFrame({"A": rng.poisson(80 * weekday), "B": rng.poisson(40 * weekday)},
                           index=days).astype(float)
    every = pd.date_range("2023-01-01", "2025-08-31")
    event = pd.Series("", index=every).where(~every.isin(EVENT_DAYS), "Independence")
    calendar = pd.DataFrame({"event": event, "snap": (every.day <= 10).astype(float)})
    reference = pd.Series(rng.poisson(3000 * np.where(every.dayofweek == 5, 1.5, 1.0)),
                          index=every).astype(float)
    reference[reference.index.isin(EVENT_DAYS[:2])] *= 2.0
    return history, calendar, reference.loc[:"2025-06-30"]


def test_aggregate_shares_sum_to_one_and_carry_the_weekday_pattern() -> None:
    history, calendar, reference = _aggregates()
    days = pd.date_range("2025-07-01", periods=28)
    shares = aggregate_shares(history, calendar, days, reference)
    assert list(shares.index) == list(days) and list(shares.columns) == ["A", "B"]
    np.testing.assert_allclose(shares.sum(), 1.0)
    assert (shares > 0).all().all()
    saturday = shares[days.dayofweek == 5].mean()
    weekday = shares[(days.dayofweek < 5) & ~days.isin(EVENT_DAYS)].mean()
    assert (saturday > 1.3 * weekday).all()


def test_profile_shares_learn_an_event_from_the_reference() -> None:
    history, calendar, reference = _aggregates()
    days = pd.date_range("2025-07-01", periods=28)
    shares = profile_shares(history, calendar, days, reference)
    same_weekday = days[(days.dayofweek == EVENT_DAYS[2].dayofweek) & (days != EVENT_DAYS[2])]
    assert (shares.loc[EVENT_DAYS[2]] > 1.3 * shares.loc[same_weekday].mean()).all()


def test_lgbm_shares_are_deterministic() -> None:
    history, calendar, reference = _aggregates()
    days = pd.date_range("2025-07-01", periods=28)
    first = lgbm_shares(history, calendar, days, reference, seeds=(0,), rounds=30)
    second = lgbm_shares(history, calendar, days, reference, seeds=(0,), rounds=30)
    pd.testing.assert_frame_equal(first, second)
    np.testing.assert_allclose(first.sum(), 1.0)
