"""The command line starts without the scientific stack: `omni --help` or a typo in an option
took 12-14 s on the 2-core machine while it imported scipy, numba and pandas for commands that
were not run."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from api.cli import app

HEAVY = ("pandas", "numpy", "scipy", "numba", "statsforecast", "lightgbm", "ortools",
         "holidays", "mlflow")


def test_loading_the_command_line_imports_no_scientific_package() -> None:
    probe = ("import sys, api.cli; "
             f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == ""


def test_an_unknown_peak_is_refused_naming_the_peaks() -> None:
    result = CliRunner().invoke(app, ["plan", "rebalance", "--peak", "xmas", "--year", "2026"])
    assert result.exit_code == 2
    assert ("unknown peak 'xmas': expected one of back_to_school, black_week, christmas"
            in result.stderr)
