"""Small PNG plots for MLflow artifacts (matplotlib, Agg backend, modest size)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from forecasting.accuracy import SCORED_DAYS


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def forecast_vs_actual(forecasts: pd.DataFrame, history: pd.DataFrame, series: list[str],
                       path: Path, title: str, context_days: int = 56) -> Path:
    """Actuals (recent history and the test days) against the forecast and its q50-q90 band,
    for a few series of the last fold."""
    plt = _pyplot()
    fig, axes = _series_grid(plt, len(series))
    for ax, uid in zip(axes[:, 0], series, strict=True):
        fc = forecasts.loc[forecasts["unique_id"] == uid].sort_values("ds")
        start = fc["ds"].min() - pd.Timedelta(days=context_days)
        past = history.loc[(history["unique_id"] == uid) & (history["ds"] >= start)
                           & (history["ds"] < fc["ds"].min())]
        ax.plot(past["ds"], past["y"], color="0.5", lw=0.8, label="history")
        ax.plot(fc["ds"], fc["y"], color="black", lw=1.0, label="actual")
        ax.plot(fc["ds"], fc["yhat"], color="tab:blue", lw=1.2, label="forecast")
        if {"q50", "q90"} <= set(fc.columns):
            ax.fill_between(fc["ds"], fc["q50"], fc["q90"], color="tab:blue", alpha=0.2,
                            label="q50-q90")
        _label_series(ax, uid)
    return _save_grid(plt, fig, axes, title, path, dpi=70)


def forecast_vs_history(history: pd.DataFrame, forecast: pd.DataFrame, series: list[str],
                        path: Path, title: str, history_days: int = 120,
                        sold_out: pd.DataFrame | None = None) -> Path:
    """Last `history_days` of sales, then the forecast mean with its q80 and q95 bands.

    `sold_out` (`unique_id, ds, y`: what sold-out days recorded) marks those days: the line
    there is the estimated demand the model learnt from, a cross what the shelf actually sold,
    so a planner sees where the history was filled in and by how much."""
    plt = _pyplot()
    fig, axes = _series_grid(plt, len(series))
    for ax, uid in zip(axes[:, 0], series, strict=True):
        past = history.loc[history["unique_id"] == uid].sort_values("ds")
        past = past.loc[past["ds"] > past["ds"].max() - pd.Timedelta(days=history_days)]
        ahead = forecast.loc[forecast["unique_id"] == uid].sort_values("ds")
        ax.plot(past["ds"], past["y"], color="0.4", lw=0.8, label="sales")
        if sold_out is not None:
            _mark_sold_out(ax, past, sold_out.loc[sold_out["unique_id"] == uid])
        ax.plot(ahead["ds"], ahead["yhat"], color="tab:blue", lw=1.2, label="forecast")
        if "q95" in ahead.columns:
            ax.fill_between(ahead["ds"], 0, ahead["q95"], color="tab:blue", alpha=0.12,
                            label="q95")
        if "q80" in ahead.columns:
            ax.fill_between(ahead["ds"], 0, ahead["q80"], color="tab:blue", alpha=0.2,
                            label="q80")
        _label_series(ax, uid)
    return _save_grid(plt, fig, axes, title, path, dpi=80)


def _mark_sold_out(ax, past: pd.DataFrame, recorded: pd.DataFrame) -> None:  # type: ignore[no-untyped-def]
    """Dots at the estimated demand of the plotted sold-out days, crosses at what they sold."""
    days = past[["ds", "y"]].merge(recorded[["ds", "y"]], on="ds", suffixes=("", "_sold"))
    if days.empty:
        return
    ax.scatter(days["ds"], days["y"], s=9, color="tab:orange", zorder=3,
               label="sold out: estimated demand")
    ax.scatter(days["ds"], days["y_sold"], s=12, marker="x", color="tab:red", lw=0.8, zorder=3,
               label="sold out: units sold")


def _series_grid(plt, n: int):  # type: ignore[no-untyped-def]
    """One row of axes per series, stacked."""
    return plt.subplots(n, 1, figsize=(8, 1.9 * n), squeeze=False)


def _label_series(ax, uid: str) -> None:  # type: ignore[no-untyped-def]
    ax.set_title(uid, fontsize=8)
    ax.tick_params(labelsize=7)


def _save_grid(plt, fig, axes, title: str, path: Path, dpi: int) -> Path:  # type: ignore[no-untyped-def]
    """Legend beside the first panel (short panels have no room for it inside), the title,
    then the PNG; the figure is closed."""
    axes[0, 0].legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path


def policy_comparison(results: pd.DataFrame, path: Path) -> Path:
    """Bars per policy: cost per order, walk-in lost margin, margin and on-time rate."""
    plt = _pyplot()
    panels = [("cost_per_order_pln", "fulfilment cost per order (PLN)"),
              ("walkin_lost_units", "walk-in units lost"),
              ("cost_plus_lost_margin_pln", "fulfilment cost + lost walk-in margin (PLN)"),
              ("margin_pln", "margin (PLN)"),
              ("on_time_rate", "on-time rate"),
              ("parcels_per_order", "parcels per order")]
    panels = [p for p in panels if p[0] in results.columns]
    fig, axes = plt.subplots(2, 3, figsize=(10, 5.2))
    colors = ["tab:gray", "tab:olive", "tab:blue", "tab:green"]
    for ax, (column, label) in zip(axes.ravel(), panels, strict=False):
        ax.bar(results["policy"], results[column], color=colors[: len(results)])
        ax.set_title(label, fontsize=8)
        ax.tick_params(axis="x", labelsize=7, rotation=20)
        ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=70)
    plt.close(fig)
    return path


def realised_daily_totals(daily: pd.DataFrame, path: Path, title: str) -> Path:
    """One panel per channel: the chain's units sold each scored day against the forecast's
    (`daily`: ds, channel, actual_units, forecast_units), so a planner sees where it drifted."""
    plt = _pyplot()
    channels = [c for c in SCORED_DAYS if c in set(daily["channel"])]
    fig, axes = plt.subplots(len(channels), 1, figsize=(7.5, 2.2 * len(channels)),
                             squeeze=False)
    for ax, channel in zip(axes[:, 0], channels, strict=True):
        rows = daily.loc[daily["channel"] == channel].sort_values("ds")
        ax.plot(rows["ds"], rows["actual_units"], color="black", lw=1.0, marker=".",
                label="sold")
        ax.plot(rows["ds"], rows["forecast_units"], color="tab:blue", lw=1.2, label="forecast")
        ax.set_title(SCORED_DAYS[channel], fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_ylim(bottom=0)
    return _save_grid(plt, fig, axes, title, path, dpi=80)


def markdown_table(frame: pd.DataFrame, digits: int = 4) -> str:
    """A GitHub-style markdown table (no tabulate dependency)."""
    def cell(v: object) -> str:
        return f"{v:.{digits}g}" if isinstance(v, float) else str(v)

    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    rows = ["| " + " | ".join(cell(v) for v in row) + " |"
            for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *rows]) + "\n"
