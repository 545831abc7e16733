"""`omni forecast` from the outside: files in, files out, clear refusals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from forecasting_samples import future_of, make_history
from typer.testing import CliRunner

from api.cli import app

QUANTILES = ["q50", "q80", "q90", "q95", "q99"]
FAST = ["--model", "seasonal_naive"]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    history = make_history(days=70, skus=1)
    history.assign(ds=history["ds"].dt.strftime("%Y-%m-%d")).to_csv(tmp_path / "h.csv",
                                                                     index=False)
    history.to_parquet(tmp_path / "h.parquet")
    with_promo = history.assign(promo=(history["ds"].dt.day % 3 == 0).astype(int))
    with_promo.to_csv(tmp_path / "hx.csv", index=False)
    future_of(history, 5, promo=1).to_csv(tmp_path / "fx.csv", index=False)
    return tmp_path


def _run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["forecast", *map(str, args)])
    return result.exit_code, result.output


def test_csv_round_trip_writes_every_series_and_day(files: Path) -> None:
    code, output = _run("--history", files / "h.csv", "--horizon", "7", "--out",
                        files / "o.csv", *FAST)

    assert code == 0, output
    out = pd.read_csv(files / "o.csv")
    assert list(out.columns) == ["unique_id", "ds", "yhat", *QUANTILES]
    assert len(out) == 4 * 7
    assert out["ds"].min() == "2025-03-12"


def test_parquet_in_and_out_with_the_gradient_boosting_model(files: Path) -> None:
    code, output = _run("--history", files / "h.parquet", "--horizon", "3", "--out",
                        files / "o.parquet", "--country", "PL")

    assert code == 0, output
    out = pd.read_parquet(files / "o.parquet")
    assert len(out) == 4 * 3 and (out[QUANTILES].diff(axis=1).iloc[:, 1:] >= 0).all().all()


def test_exogenous_history_with_its_future_file_is_forecast(files: Path) -> None:
    code, output = _run("--history", files / "hx.csv", "--future", files / "fx.csv",
                        "--horizon", "5", "--out", files / "o.csv", *FAST)

    assert code == 0, output
    assert len(pd.read_csv(files / "o.csv")) == 4 * 5


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["dask", "ray"])
def test_a_distributed_engine_writes_the_local_engines_forecast(files: Path, engine: str) -> None:
    code, output = _run("--history", files / "h.csv", "--horizon", "7", "--out",
                        files / "local.csv", *FAST)
    assert code == 0, output
    code, output = _run("--history", files / "h.csv", "--horizon", "7", "--out",
                        files / f"{engine}.csv", *FAST, "--engine", engine)

    assert code == 0, output
    pd.testing.assert_frame_equal(pd.read_csv(files / f"{engine}.csv"),
                                  pd.read_csv(files / "local.csv"))


@pytest.mark.slow
def test_the_ray_engine_prints_the_forecasts_summary_and_no_start_up_notices(
    files: Path,
) -> None:
    omni = Path(sys.executable).with_name("omni")
    done = subprocess.run(
        [str(omni), "forecast", "--history", str(files / "h.csv"), "--horizon", "7", "--out",
         str(files / "ray.csv"), *FAST, "--engine", "ray"],
        capture_output=True, text=True, timeout=300, check=False)

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("wrote 28 rows")
    assert "Token authentication" not in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--horizon", "0"], "horizon must be a positive"),
        (["--horizon", "100000"], "too long for a daily forecast"),
        (["--horizon", "3", "--model", "prophet"], "unknown model 'prophet'"),
        (["--horizon", "3", "--history-file-swap", "hx"], "future frame is required"),
        (["--horizon", "3", "--history-file-swap", "missing"], "file not found"),
        (["--horizon", "3", "--history-file-swap", "bad_y"], "column 'y', row 2"),
        (["--horizon", "3", "--history-file-swap", "dup"], "duplicate unique_id+ds"),
        (["--horizon", "9", "--future-file", "fx"], "gap: no row"),
        (["--horizon", "3", "--future-file", "fx", "--history-file-swap", "gap_exog"],
         "column 'ds': gap: no row for unique_id"),
        (["--horizon", "3", "--engine", "ray", "--model", "combo"],
         "combo runs on the local engine only"),
    ],
)
def test_bad_input_exits_non_zero_names_the_problem_and_writes_nothing(
    files: Path, args: list[str], message: str
) -> None:
    history = files / "h.csv"
    extra: list[str | Path] = []
    if "--history-file-swap" in args:
        kind = args[args.index("--history-file-swap") + 1]
        args = args[:args.index("--history-file-swap")]
        history = _bad_history(files, kind)
    if "--future-file" in args:
        args = args[:args.index("--future-file")]
        history = files / "hx.csv" if history == files / "h.csv" else history
        extra = ["--future", files / "fx.csv"]
    code, output = _run("--history", history, "--out", files / "out.csv", *FAST, *args, *extra)

    assert code != 0
    assert message in output
    assert not (files / "out.csv").exists()
    assert not [p for p in files.iterdir() if p.name.startswith(".out.csv")]


def test_a_sales_export_without_its_zero_rows_is_forecast_saying_what_was_added(
    files: Path,
) -> None:
    dense = pd.read_csv(files / "h.csv")
    dense.loc[dense["y"] > 0].to_csv(files / "sparse.csv", index=False)
    code, output = _run("--history", files / "h.csv", "--horizon", "7", "--out",
                        files / "dense_out.csv", *FAST)
    assert code == 0, output

    code, output = _run("--history", files / "sparse.csv", "--horizon", "7", "--out",
                        files / "sparse_out.csv", *FAST)

    assert code == 0, output
    selling = dense.groupby("unique_id")["y"].transform(lambda y: (y > 0).cummax())
    zeros = int(((dense["y"] == 0) & selling).sum())  # days before a first sale stay out
    assert zeros > 0 and f"note: {zeros:,} days without a row" in output
    pd.testing.assert_frame_equal(pd.read_csv(files / "sparse_out.csv"),
                                  pd.read_csv(files / "dense_out.csv"))


def _bad_history(files: Path, kind: str) -> Path:
    if kind in ("hx", "missing"):
        return files / f"{kind}.csv"
    if kind == "gap_exog":
        frame = pd.read_csv(files / "hx.csv").drop(index=10)
        frame.to_csv(files / "gap.csv", index=False)
        return files / "gap.csv"
    frame = pd.read_csv(files / "h.csv")
    if kind == "bad_y":
        frame["y"] = frame["y"].astype(object)
        frame.loc[1, "y"] = "many"
    if kind == "dup":
        frame = pd.concat([frame, frame.iloc[[5]]])
    path = files / f"{kind}.csv"
    frame.to_csv(path, index=False)
    return path


def test_sold_out_days_named_by_censored_column_are_fitted_as_estimated_demand(
    files: Path,
) -> None:
    """The last week of every series sold out (y 0, flag 1). Seasonal naive repeats the last
    week: fitted as recorded it forecasts 0; with `--censored-column` it forecasts the level
    around the stock-out. The flag is not an exogenous column, so no future file is needed."""
    history = pd.read_csv(files / "h.csv", parse_dates=["ds"])
    last_week = history["ds"] > history["ds"].max() - pd.Timedelta(days=7)
    level = history.loc[~last_week & (history["ds"] > history["ds"].max()
                                      - pd.Timedelta(days=35))].groupby("unique_id")["y"].mean()
    history.loc[last_week, "y"] = 0
    history.assign(sold_out=last_week.astype(int)).to_csv(files / "hs.csv", index=False)

    code, output = _run("--history", files / "hs.csv", "--horizon", "7", "--out",
                        files / "o.csv", "--country", "none", "--censored-column", "sold_out",
                        *FAST)

    assert code == 0, output
    mean = pd.read_csv(files / "o.csv").groupby("unique_id")["yhat"].mean()
    assert (level > 1).all()
    assert mean.to_numpy() == pytest.approx(level.reindex(mean.index).to_numpy(), rel=0.25)


@pytest.mark.parametrize(("column", "value", "message"), [
    ("absent", None, "the sold-out flag column 'absent' is missing"),
    ("y", None, "'y' is a key or the target, not a 0/1 sold-out flag"),
    ("sold_out", 2, "column 'sold_out', row 3: must be 0 or 1 (1 = the day sold out), got 2"),
    ("sold_out", "yes", "column 'sold_out', row 3: must be 0 or 1 (1 = the day sold out), "
                        "got 'yes'"),
])
def test_a_bad_censored_column_is_refused_naming_it_and_nothing_is_written(
    files: Path, column: str, value: object, message: str
) -> None:
    history = pd.read_csv(files / "h.csv").assign(sold_out=0)
    history["sold_out"] = history["sold_out"].astype(object)
    if value is not None:
        history.loc[2, "sold_out"] = value
    history.to_csv(files / "hs.csv", index=False)

    code, output = _run("--history", files / "hs.csv", "--horizon", "7", "--out",
                        files / "o.csv", "--censored-column", column, *FAST)

    assert code == 2
    assert message in output
    assert not (files / "o.csv").exists()
