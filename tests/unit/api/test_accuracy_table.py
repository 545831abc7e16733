"""The realised-accuracy table a planner reads (CLI and console): a figure that does not exist
reads n/a, not nan."""

from __future__ import annotations

import pandas as pd

from api.services.forecast_accuracy import summary_table


def test_a_segment_that_sold_nothing_shows_no_wape_or_bias_instead_of_nan() -> None:
    nothing_sold = {"series": 3, "days": 12, "actual_units": 0, "forecast_units": 4.0,
                    "bias_pct": float("nan"), "wape": float("nan"), "mae": 0.33,
                    "naive_wape": float("nan"), "value_added_pct": float("nan"),
                    "coverage_q90": 1.0}
    sold = {**nothing_sold, "actual_units": 5, "bias_pct": -20.0, "wape": 0.2,
            "naive_wape": 0.4, "value_added_pct": 50.0}
    summary = pd.DataFrame([sold, nothing_sold], index=["all", "online"])

    segments, rows = summary_table(summary)

    assert segments == ["all", "online"]
    figures = dict(rows)
    assert figures["WAPE"] == ["0.200", "n/a"] and figures["bias %"] == ["-20.0", "n/a"]
    assert figures["MAE per day"] == ["0.33", "0.33"]
    assert not any("nan" in value for values in figures.values() for value in values)
