"""Days without a row in a daily history: read as 0 sales, or refused when they cannot be.

The models count positions, not dates: statsforecast's season of 7 and mlforecast's lags are
rows back. A history missing its Sundays (or every day without a sale, as sales exports often
are) would put last week's Monday where last Sunday belongs, silently. So before fitting, each
series gets every day from its first row on:
- with no exogenous column, a day without a row sold nothing (and did not sell out), through
  the history's last day, as the chain's own sales are read; a series that stopped selling
  early is then forecast from the same day as the others, not from its last sale;
- with exogenous columns their values on a missing day are unknown, so a gap between a
  series' first and last row is refused, naming it; each series still ends on its own last day
  (the future frame starts after it).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecasting.validation import ForecastInputError, exog_columns

_DAY = np.timedelta64(1, "D")


def fill_missing_days(
    clean: pd.DataFrame, censored_column: str | None = None, source: str = "history",
    through: pd.Timestamp | None = None,
) -> tuple[pd.DataFrame, int]:
    """`clean` (validated: sorted by id then day, one row per day) with every missing day
    added as 0 sales (`censored_column`, a 0/1 sold-out flag, as 0), and how many days were
    added. Each series runs through `through`, by default the history's last day. Unchanged
    when nothing is missing, so complete histories cost one pass."""
    ids = clean["unique_id"].to_numpy()
    days = clean["ds"].to_numpy().astype("datetime64[D]")
    if len(ids) == 0:
        return clean, 0
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    counts = np.diff(np.r_[starts, len(ids)])
    first, last = days[starts], days[starts + counts - 1]
    exogenous = [c for c in exog_columns(clean) if c != censored_column]
    if exogenous:
        _refuse_inner_gaps(ids, days, starts, counts, first, last, exogenous, source)
        return clean, 0
    end = days.max() if through is None else pd.Timestamp(through).to_datetime64()
    span = ((np.asarray(end, dtype="datetime64[D]") - first) // _DAY).astype(np.int64) + 1
    missing = int((span - counts).sum())
    if missing == 0:
        return clean, 0
    grid_starts = np.cumsum(span) - span
    offsets = np.arange(span.sum()) - np.repeat(grid_starts, span)
    filled = pd.DataFrame({
        "unique_id": np.repeat(ids[starts], span),
        "ds": (np.repeat(first, span) + offsets.astype("timedelta64[D]")).astype(
            clean["ds"].dtype)})
    # each recorded day lands at its series' start in the grid plus its days since the first
    at = np.repeat(grid_starts, counts) + ((days - np.repeat(first, counts)) // _DAY)
    for column in clean.columns.drop(["unique_id", "ds"]):  # y and the sold-out flag: 0 if added
        recorded = clean[column].to_numpy()
        values = np.zeros(len(filled), dtype=recorded.dtype)
        values[at] = recorded
        filled[column] = values
    return filled, missing


def _refuse_inner_gaps(
    ids: np.ndarray, days: np.ndarray, starts: np.ndarray, counts: np.ndarray,
    first: np.ndarray, last: np.ndarray, exogenous: Sequence[str], source: str,
) -> None:
    span = ((last - first) // _DAY).astype(np.int64) + 1
    gapped = np.flatnonzero(span != counts)
    if len(gapped) == 0:
        return
    series = int(gapped[0])
    own = days[starts[series]: starts[series] + counts[series]]
    jump = int(np.flatnonzero(np.diff(own) > _DAY)[0])
    missing_day = pd.Timestamp(own[jump] + _DAY).date()
    raise ForecastInputError(
        f"gap: no row for unique_id {ids[starts[series]]!r} on {missing_day} (with exogenous "
        f"columns {', '.join(exogenous)} every day between a series' first and last row needs "
        "one; without them a missing day is read as 0 sales)", source, "ds")
