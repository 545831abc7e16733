"""Input checks for forecasting frames, so bad data is refused with a message a planner can act on.

The core raises `ForecastInputError` naming the source (file or frame), the column and the first
offending row; the CLI and the HTTP layer only map it to an exit code or a problem document.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecasting.errors import ForecastInputError

KEY_COLUMNS: tuple[str, str] = ("unique_id", "ds")
TARGET = "y"


MAX_HORIZON_DAYS = 3660  # ten years of days: past it a daily forecast means nothing


def validate_horizon(horizon: int) -> None:
    if horizon <= 0:
        raise ForecastInputError(f"horizon must be a positive number of days, got {horizon}",
                                 source="horizon")
    if horizon > MAX_HORIZON_DAYS:
        raise ForecastInputError(
            f"horizon of {horizon:,} days is too long for a daily forecast: at most "
            f"{MAX_HORIZON_DAYS:,} (ten years)", source="horizon")


def _require_columns(df: pd.DataFrame, columns: Sequence[str], source: str) -> None:
    for column in columns:
        if column not in df.columns:
            raise ForecastInputError(
                f"missing column {column!r} (columns present: {', '.join(map(str, df.columns))})",
                source=source,
                column=column,
            )


def _first_row(mask: np.ndarray | pd.Series) -> int:
    """1-based data row number of the first True, as a spreadsheet user counts rows."""
    return int(np.flatnonzero(np.asarray(mask))[0]) + 1


def _as_id_strings(ids: pd.Series) -> pd.Series:
    """Series ids as Python strings without copying strings that already are (fast on 10^8)."""
    if isinstance(ids.dtype, pd.CategoricalDtype):
        ids = ids.astype(object)
    if pd.api.types.infer_dtype(ids, skipna=False) == "string":
        return ids
    return ids.astype(str)


def _check_keys(df: pd.DataFrame, source: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Keys as strings and days, and the row order that sorts them by id then day."""
    ids = df["unique_id"]
    if ids.isna().any():
        raise ForecastInputError("empty unique_id", source, "unique_id", _first_row(ids.isna()))
    ds = pd.to_datetime(df["ds"], errors="coerce")
    if isinstance(ds.dtype, pd.DatetimeTZDtype):  # a day is the date where it was recorded
        ds = ds.dt.tz_localize(None)
    if ds.isna().any():
        raise ForecastInputError("not a date", source, "ds", _first_row(ds.isna()))
    keyed = pd.DataFrame({"unique_id": _as_id_strings(ids).to_numpy(),
                          "ds": ds.dt.normalize().to_numpy()})
    codes, _ = pd.factorize(keyed["unique_id"], sort=True)
    order = np.lexsort((keyed["ds"].to_numpy().view(np.int64), codes))
    same = (np.diff(codes[order]) == 0) & (np.diff(keyed["ds"].to_numpy()[order].view(np.int64))
                                           == 0)
    if same.any():
        row = int(order[1:][same].min()) + 1
        raise ForecastInputError(
            f"duplicate unique_id+ds ({keyed['unique_id'].iloc[row - 1]}, "
            f"{keyed['ds'].iloc[row - 1].date()})", source, "ds", row)
    return keyed, order


def _check_numeric(df: pd.DataFrame, column: str, source: str, allow_nan: bool) -> pd.Series:
    values = pd.to_numeric(df[column], errors="coerce")
    bad = values.isna() & df[column].notna() if allow_nan else values.isna()
    if bad.any():
        row = _first_row(bad)
        value = df[column].iloc[row - 1]
        problem = "missing value" if pd.isna(value) else f"not a number: {value!r}"
        raise ForecastInputError(problem, source, column, row)
    if not np.isfinite(values.dropna().to_numpy(dtype=float)).all():
        raise ForecastInputError("infinite value", source, column,
                                 _first_row(~np.isfinite(values.to_numpy(dtype=float))))
    return values.astype(float)


def validate_history(
    history: pd.DataFrame, source: str = "history", censored_column: str | None = None,
) -> pd.DataFrame:
    """Check and normalise a long history frame; returns a clean copy sorted by id and day.

    Required: `unique_id`, `ds` (dates), `y` (numeric, no gaps in value). Every other column is an
    exogenous regressor and must be numeric, except `censored_column`, a 0/1 flag (1 = the day
    sold out), which must be present.
    """
    _require_columns(history, (*KEY_COLUMNS, TARGET), source)
    if censored_column is not None:
        if censored_column in (*KEY_COLUMNS, TARGET):
            raise ForecastInputError(f"{censored_column!r} is a key or the target, not a 0/1 "
                                     "sold-out flag", source, censored_column)
        if censored_column not in history.columns:
            raise ForecastInputError(
                f"the sold-out flag column {censored_column!r} is missing (columns present: "
                f"{', '.join(map(str, history.columns))})", source, censored_column)
    if history.empty:
        raise ForecastInputError("no rows", source)
    clean, order = _check_keys(history, source)
    clean["y"] = _check_numeric(history, TARGET, source, allow_nan=False).to_numpy()
    if (clean["y"] < 0).any():
        raise ForecastInputError("negative demand", source, TARGET, _first_row(clean["y"] < 0))
    for column in exog_columns(history):
        clean[column] = (check_flags(history[column], column, source)
                         if column == censored_column
                         else _check_numeric(history, column, source, allow_nan=False).to_numpy())
    if not (order[1:] > order[:-1]).all():  # already sorted (the usual case): no 10^8-row copy
        clean = clean.take(order)
        clean.index = pd.RangeIndex(len(clean))
    return clean


def check_flags(values: pd.Series, column: str, source: str = "history") -> np.ndarray:
    """`values` as int8 when every one is 0 or 1 (a sold-out flag); else the first bad row is
    named. Both the history check and `censoring.restore_censored_demand` use it."""
    flags = pd.to_numeric(values, errors="coerce").to_numpy(float)
    bad = ~np.isin(flags, (0.0, 1.0))
    if bad.any():
        row = _first_row(bad)
        value = values.iloc[row - 1]
        shown = value.item() if isinstance(value, np.generic) else value
        raise ForecastInputError(f"must be 0 or 1 (1 = the day sold out), got {shown!r}",
                                 source, column, row)
    return flags.astype(np.int8)


def exog_columns(frame: pd.DataFrame) -> list[str]:
    """Exogenous columns: every column that is not a key or the target."""
    return [str(c) for c in frame.columns if c not in (*KEY_COLUMNS, TARGET)]


def validate_future(
    future: pd.DataFrame | None,
    history: pd.DataFrame,
    horizon: int,
    source: str = "future",
) -> pd.DataFrame | None:
    """Check the known-future exogenous frame: every series, every day of the horizon, the same
    exogenous columns as the history. Returns it trimmed to the horizon and sorted, or None when
    the history has no exogenous columns and no future frame was given."""
    validate_horizon(horizon)
    exog = exog_columns(history)
    if future is None:
        if exog:
            raise ForecastInputError(
                f"a future frame is required because the history has exogenous columns "
                f"{', '.join(exog)}", source)
        return None
    _require_columns(future, (*KEY_COLUMNS, *exog), source)
    keyed, _ = _check_keys(future, source)
    for column in exog:
        keyed[column] = _check_numeric(future, column, source, allow_nan=False).to_numpy()
    last = history.groupby("unique_id", sort=True)["ds"].max()
    expected = _future_grid(last, horizon)
    merged = expected.merge(keyed, on=["unique_id", "ds"], how="left", indicator=True)
    missing = merged["_merge"].eq("left_only").to_numpy()
    if missing.any():
        first = merged.loc[missing].iloc[0]
        raise ForecastInputError(
            f"gap: no row for unique_id {first['unique_id']!r} on {first['ds'].date()} "
            f"(every series needs every day of the {horizon}-day horizon)", source, "ds")
    return merged.drop(columns="_merge").reset_index(drop=True)


def _future_grid(last_day: pd.Series, horizon: int) -> pd.DataFrame:
    steps = np.arange(1, horizon + 1)
    ids = np.repeat(last_day.index.to_numpy(), horizon)
    days = np.repeat(last_day.to_numpy(), horizon) + np.tile(steps, len(last_day)).astype(
        "timedelta64[D]")
    return pd.DataFrame({"unique_id": ids, "ds": pd.to_datetime(days)})
