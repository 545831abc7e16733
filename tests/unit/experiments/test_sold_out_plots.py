"""The weekly batch's plots show planners where sold-out days were filled in with estimates."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from experiments.batch_logging import most_sold_out_series  # noqa: E402
from experiments.plots import _mark_sold_out  # noqa: E402


def _history(uid: str, y: list[float], start: str = "2026-10-01") -> pd.DataFrame:
    return pd.DataFrame({"unique_id": uid, "ds": pd.date_range(start, periods=len(y)),
                         "y": np.asarray(y, float)})


def test_sold_out_days_are_marked_at_the_estimate_and_at_what_they_sold() -> None:
    past = _history("S1|store|A", [5.0, 6.0, 7.5, 8.0])  # days 3-4 restored to 7.5 and 8
    recorded = pd.DataFrame({"unique_id": "S1|store|A",
                             "ds": pd.to_datetime(["2026-10-03", "2026-10-04", "2026-09-01"]),
                             "y": [2.0, 0.0, 0.0]})  # 09-01 is outside the plotted days
    fig, ax = plt.subplots()
    _mark_sold_out(ax, past, recorded)
    estimated, sold = ax.collections
    assert estimated.get_offsets()[:, 1].tolist() == [7.5, 8.0]
    assert sold.get_offsets()[:, 1].tolist() == [2.0, 0.0]
    plt.close(fig)


def test_no_sold_out_day_in_view_draws_nothing() -> None:
    fig, ax = plt.subplots()
    _mark_sold_out(ax, _history("A", [1.0, 2.0]),
                   pd.DataFrame({"unique_id": "A", "ds": pd.to_datetime(["2025-01-01"]),
                                 "y": [0.0]}))
    assert len(ax.collections) == 0
    plt.close(fig)


def test_the_series_sold_out_most_often_lately_are_plotted_ties_by_units() -> None:
    history = pd.concat([_history("A", [1.0] * 200), _history("B", [3.0] * 200),
                         _history("C", [2.0] * 200), _history("D", [9.0] * 200)])
    last = history["ds"].max()

    def days(uid: str, n: int, ago: int = 0) -> pd.DataFrame:
        return pd.DataFrame({"unique_id": uid, "y": 0.0,
                             "ds": pd.date_range(end=last - pd.Timedelta(days=ago), periods=n)})

    sold_out = pd.concat([days("A", 5), days("B", 3), days("C", 3), days("D", 30, ago=150)])
    # D sold out longest, but not within the plotted 120 days; B and C tie, B sold more
    assert most_sold_out_series(sold_out, history, count=2) == ["A", "B"]
    assert most_sold_out_series(sold_out.iloc[:0], history) == []
