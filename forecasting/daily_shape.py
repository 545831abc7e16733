"""The daily shape of aggregate sums (stores, the chain), carried down to item-store forecasts.

Why: item-store series sell about one unit a day, so a model fitted on them learns their level
well but the day-to-day proportions of their sums (weekday, SNAP days, events, the day of the
month) poorly; at the store and total levels most of the error is that shape, not the 28-day
level. A store's sum is far less noisy, and the chain's total (years of history) shows each
calendar event several times. So the shape is modelled on the aggregates and the item-store
forecasts are rescaled day by day to it, every series keeping its own horizon sum (its level
stays the item-store model's).

`aggregate_shares` forecasts each group's daily shares of its horizon sum as the mean of two
models of "sales / centred 28-day mean" (the ratio to the moving average, which takes the level
out): a pooled LightGBM over the groups and the reference series on calendar features, and the
group's own weekday profile of the last year times calendar effects fitted on the reference.
`blend` mixes those shares with the forecast's own; `reshape` applies them.

Frames: `history` is wide (index days, one column per group, e.g. a store's summed sales);
`calendar` is indexed by day with an `event` column (name, "" when none) and known-future
columns, numeric (e.g. SNAP flags) or text (categories, e.g. the event's type), covering the
history and the horizon.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

MA_DAYS = 28  # the centred moving average that the daily ratio is taken to
PROFILE_WEEKS = 52  # weeks of a group's history behind its weekday profile
CLOSED_RATIO = 0.05  # days below this ratio to the moving average are closures, not shape
DAY_OF_MONTH_EDGES = (0, 3, 7, 10, 15, 20, 25, 31)  # pay days and SNAP issuance cluster early
REFERENCE = "__reference__"  # the reference series' group name among the features
SUM = "__sum__"  # the groups' sum, pooled with them


def horizon_shares(frame: pd.DataFrame, group_of: pd.Series, value: str = "yhat") -> pd.DataFrame:
    """Each group's daily share of its horizon sum of `value` in `frame` (`unique_id, ds,
    value`); `group_of` maps unique_id to group. Index ds, one column per group."""
    sums = (frame.assign(group=frame["unique_id"].map(group_of).to_numpy())
            .pivot_table(index="ds", columns="group", values=value, aggfunc="sum")
            .fillna(0.0))
    total = sums.sum()
    return sums / total.where(total > 0, 1.0)


def blend(own: pd.DataFrame, model: pd.DataFrame, model_weight: float) -> pd.DataFrame:
    """Weighted mean of two share frames (same days and groups), each column summing to 1.
    The forecast's own shape carries its trend over the horizon and what its item-store model
    knows; the aggregate model's carries the calendar better: neither is better everywhere."""
    if not 0.0 <= model_weight <= 1.0:
        raise ValueError(f"model_weight must be in [0, 1], got {model_weight}")
    mixed = model_weight * model.reindex_like(own) + (1.0 - model_weight) * own
    return mixed / mixed.sum()


def reshape(frame: pd.DataFrame, group_of: pd.Series, shares: pd.DataFrame,
            value: str = "yhat", iterations: int = 50) -> np.ndarray:
    """`value` rescaled so that every group's daily sums take `shares` (index ds, columns
    groups) while each series keeps its own horizon sum: alternately scaling each group-day to
    its share of the group's sum and each series back to its own sum (iterative proportional
    fitting; it ends on the series, so their sums hold exactly and the groups' shares to a
    close approximation). A day on which the group's forecast is zero (a closed store) stays
    zero: the shares are renormalised over the group's open days, so nothing is moved onto a
    closed day. A group the shares leave no open day keeps its own shape. Returned in the
    order of `frame`'s rows."""
    own = horizon_shares(frame, group_of, value)
    target = shares.reindex(index=own.index, columns=own.columns).fillna(0.0)
    target = target.where(own > 0, 0.0)
    open_total = target.sum()
    target = target / open_total.where(open_total > 0, 1.0)
    unshaped = open_total.index[open_total <= 0]
    target[unshaped] = own[unshaped]

    values = frame[value].to_numpy(float).copy()
    group = frame["unique_id"].map(group_of)
    cell = pd.MultiIndex.from_arrays([frame["ds"], group])
    cell_codes, cells = pd.factorize(cell)
    series_codes, _ = pd.factorize(frame["unique_id"])
    group_codes, groups = pd.factorize(group)
    series_sum = np.bincount(series_codes, weights=values)
    group_sum = np.bincount(group_codes, weights=values)
    wanted_share = target.stack().reindex(cells).fillna(0.0).to_numpy(float)
    cell_group = pd.Index(groups).get_indexer(cells.get_level_values(1))
    wanted = wanted_share * group_sum[cell_group]
    for _ in range(iterations):
        now = np.bincount(cell_codes, weights=values, minlength=len(cells))
        values *= np.divide(wanted, now, out=np.zeros_like(now), where=now > 0)[cell_codes]
        now_series = np.bincount(series_codes, weights=values, minlength=len(series_sum))
        ratio = np.divide(series_sum, now_series, out=np.ones_like(now_series),
                          where=now_series > 0)
        values *= ratio[series_codes]
    return values


def ratio_to_moving_average(values: pd.Series, days: int = MA_DAYS) -> pd.Series:
    """Each day's value over the centred `days`-day mean around it: the shape without the
    level. NaN at the ends, where the window is incomplete."""
    return values / values.rolling(days, center=True, min_periods=days).mean()


def _event_flags(calendar: pd.DataFrame) -> pd.DataFrame:
    event = calendar["event"].fillna("").astype(str)
    on = (event != "").astype(float)
    return pd.DataFrame({"event_next": on.shift(-1).fillna(0.0),
                         "event_prev": on.shift(1).fillna(0.0)}, index=calendar.index)


def _numeric(calendar: pd.DataFrame) -> list[str]:
    return [c for c in calendar.columns if c != "event" and calendar[c].dtype != object]


def _categorical(calendar: pd.DataFrame) -> list[str]:
    return [c for c in calendar.columns if c == "event" or calendar[c].dtype == object]


def _features(days: pd.DatetimeIndex, group: str, calendar: pd.DataFrame,
              own: pd.Series | None) -> pd.DataFrame:
    flags = _event_flags(calendar)
    cal = calendar.reindex(days)
    out = pd.DataFrame({"group": group, "dow": days.dayofweek, "dom": days.day}, index=days)
    for column in _categorical(calendar):
        out[column] = cal[column].fillna("").astype(str).to_numpy()
    for column in _numeric(calendar):
        out[column] = cal[column].astype(float).to_numpy()
    if own is not None:
        out["own"] = own.reindex(days).fillna(0.0).astype(float).to_numpy()
    return pd.concat([out, flags.reindex(days).fillna(0.0)], axis=1)


def _normalised(values: np.ndarray, days: pd.DatetimeIndex, groups: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(values, index=days, columns=groups).clip(lower=1e-6)
    return frame / frame.sum()


def lgbm_shares(history: pd.DataFrame, calendar: pd.DataFrame, days: pd.DatetimeIndex,
                reference: pd.Series | None = None,
                own_columns: Mapping[str, str] | None = None,
                seeds: tuple[int, ...] = (0, 1, 2), rounds: int = 300) -> pd.DataFrame:
    """Daily shares over `days` per group from one LightGBM of the ratio to the moving average,
    pooled over the groups, their sum and the reference (its long history teaches the rare
    events); the group is a feature, so each keeps its own weekday pattern. `own_columns` names
    each group's own calendar column (its state's SNAP flag): a feature `own`, which the sum
    and the reference see as the mean over the groups."""
    import lightgbm as lgb

    groups = [str(g) for g in history.columns]
    series = {g: history[g] for g in groups}
    series[SUM] = history.sum(axis=1)
    if reference is not None:
        series[REFERENCE] = reference
    own: dict[str, pd.Series | None] = dict.fromkeys(series)
    if own_columns:
        mapped = {g: calendar[own_columns[g]].astype(float) for g in groups if g in own_columns}
        pooled = pd.concat(mapped.values(), axis=1).mean(axis=1) if mapped else None
        own = {name: mapped.get(name, pooled) for name in series}
    frames, targets = [], []
    for name, values in series.items():
        ratio = ratio_to_moving_average(values.astype(float))
        usable = ratio.notna() & (ratio >= CLOSED_RATIO)
        frames.append(_features(pd.DatetimeIndex(values.index[usable]), name, calendar,
                                own[name]))
        targets.append(ratio[usable].to_numpy(float))
    x, y = pd.concat(frames), np.concatenate(targets)
    future = pd.concat([_features(days, g, calendar, own[g]) for g in groups])
    coded = ["group", *_categorical(calendar)]
    names = sorted({*series, *(v for c in coded[1:] for f in (x, future) for v in f[c])})

    def encode(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        for column in coded:
            out[column] = pd.Categorical(out[column], categories=names)
        return out

    params = {"objective": "l2", "learning_rate": 0.03, "num_leaves": 16,
              "min_data_in_leaf": 20, "feature_fraction": 0.8, "bagging_fraction": 0.8,
              "bagging_freq": 1, "cat_smooth": 10, "min_data_per_group": 10,
              "num_threads": 1, "deterministic": True, "verbose": -1}
    prediction = np.zeros(len(future))
    for seed in seeds:
        booster = lgb.train({**params, "seed": seed}, lgb.Dataset(encode(x), y), rounds)
        prediction += np.asarray(booster.predict(encode(future)), dtype=float) / len(seeds)
    return _normalised(prediction.reshape(len(groups), len(days)).T, days, groups)


def _effect_design(days: pd.DatetimeIndex, calendar: pd.DataFrame,
                   events: list[str]) -> np.ndarray:
    cal = calendar.reindex(days)
    event = cal["event"].fillna("").astype(str).to_numpy()
    columns: list[np.ndarray] = [np.ones(len(days))]
    columns += [(event == name).astype(float) for name in events]
    columns += [cal[c].fillna(0.0).astype(float).to_numpy() for c in _numeric(calendar)]
    flags = _event_flags(calendar).reindex(days).fillna(0.0)
    columns += [flags[c].to_numpy(float) for c in flags.columns]
    bucket = np.digitize(days.day, DAY_OF_MONTH_EDGES[1:-1], right=True)
    columns += [(bucket == b).astype(float) for b in range(1, len(DAY_OF_MONTH_EDGES) - 1)]
    return np.column_stack(columns)


def profile_shares(history: pd.DataFrame, calendar: pd.DataFrame, days: pd.DatetimeIndex,
                   reference: pd.Series | None = None, weeks: int = PROFILE_WEEKS,
                   ridge: float = 1.0) -> pd.DataFrame:
    """Daily shares over `days` per group: the group's mean weekday profile of the last
    `weeks` weeks times calendar effects (events, numeric calendar columns, the day after and
    before an event, the day of the month) from a ridge fit of the reference's log ratio to
    the moving average, its weekday means removed. Without a reference, the groups' sum."""
    source = history.sum(axis=1) if reference is None else reference
    ratio = ratio_to_moving_average(source.astype(float))
    usable = ratio.notna() & (ratio >= CLOSED_RATIO)
    log_ratio = np.log(ratio[usable])
    dow = pd.DatetimeIndex(log_ratio.index).dayofweek
    log_ratio = log_ratio - log_ratio.groupby(dow).transform("mean")
    train_days = pd.DatetimeIndex(log_ratio.index)
    events = sorted(set(calendar["event"].fillna("").astype(str)) - {""})
    a = _effect_design(train_days, calendar, events)
    penalty = ridge * np.eye(a.shape[1])
    penalty[0, 0] = 0.0
    coef = np.linalg.solve(a.T @ a + penalty, a.T @ log_ratio.to_numpy(float))
    effect = np.exp(_effect_design(days, calendar, events) @ coef)

    recent = history.loc[history.index > history.index.max() - pd.Timedelta(weeks=weeks)]
    profile = recent.groupby(pd.DatetimeIndex(recent.index).dayofweek).mean()
    profile = profile.reindex(range(7)).fillna(profile.mean())
    values = profile.loc[days.dayofweek].to_numpy(float) * effect[:, None]
    return _normalised(values, days, [str(g) for g in history.columns])


def aggregate_shares(history: pd.DataFrame, calendar: pd.DataFrame, days: pd.DatetimeIndex,
                     reference: pd.Series | None = None,
                     own_columns: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Forecast daily shares of each group's horizon sum over `days`: the mean of
    `lgbm_shares` and `profile_shares` (on the M5 validation folds each, blended with the
    forecast's own shape, was worse than that shape alone on one fold; their mean was better on
    every fold)."""
    a = lgbm_shares(history, calendar, days, reference, own_columns)
    b = profile_shares(history, calendar, days, reference)
    mean = (a + b) / 2.0
    return mean / mean.sum()
