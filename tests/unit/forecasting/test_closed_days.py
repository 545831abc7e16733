from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from forecasting_samples import FAST_LGBM, future_of

from forecasting.calendar import is_store_open
from forecasting.closed_days import channel_of, closed_mask
from forecasting.quantiles import QUANTILE_COLUMNS
from forecasting.registry import make_model

HORIZON = 21  # covers three Sundays after 30 April 2025 (non-trading) and 1 and 3 May holidays


@pytest.mark.parametrize("name", ["lgbm", "auto_ets", "seasonal_naive"])
def test_walk_in_forecast_is_exactly_zero_on_days_the_store_is_closed(
    name: str, history: pd.DataFrame
) -> None:
    params = FAST_LGBM if name == "lgbm" else {}
    forecast = make_model(name, country="PL", **params).fit(history).predict(HORIZON)
    walk_in = forecast[forecast["unique_id"].str.contains("|store|", regex=False)]
    closed = ~walk_in["ds"].dt.date.map(lambda d: is_store_open(d, "PL")).astype(bool)

    assert closed.sum() >= 3
    assert (walk_in.loc[closed, ["yhat", *QUANTILE_COLUMNS]] == 0).all().all()
    assert walk_in.loc[~closed, "yhat"].mean() > 1.0


def test_online_forecast_goes_on_when_stores_close(history: pd.DataFrame) -> None:
    forecast = make_model("lgbm", country="PL", **FAST_LGBM).fit(history).predict(HORIZON)
    online = forecast[forecast["unique_id"].str.contains("|online|", regex=False)]
    on_closed_days = online[online["ds"].dt.date == date(2025, 5, 4)]  # a non-trading Sunday

    assert (on_closed_days["yhat"] > 0).all()


def test_explicit_store_open_zero_closes_any_series_but_online() -> None:
    rows = pd.DataFrame({
        "unique_id": ["1", "S1|online|K", "S1|store|K", "1"],
        "ds": pd.to_datetime(["2025-05-05"] * 4),
        "store_open": [0, 0, 0, 1],
    })

    assert closed_mask(rows, "PL").tolist() == [True, False, True, False]


def test_store_open_column_in_the_future_frame_zeroes_those_days(
    promo_history: pd.DataFrame,
) -> None:
    history = promo_history.assign(store_open=1)
    future = future_of(history, 7, promo=1, store_open=[1, 0, 1, 1, 1, 1, 1] * 2)
    forecast = make_model("lgbm", **FAST_LGBM).fit(history).predict(7, future)
    second_day = forecast.groupby("unique_id").nth(1)

    assert (second_day["yhat"] == 0).all() and (second_day["q99"] == 0).all()


def test_channel_is_read_from_node_channel_sku_ids() -> None:
    assert channel_of(["S1|store|K", "S1|online|K", "plain", "a|b"]).tolist() == [
        "store", "online", "", ""]
