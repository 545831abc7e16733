"""The committed notebooks run top to bottom on small data, with no hidden state."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
# A guard against a hung kernel, not a speed target: 120 s failed CI once on a loaded 2-core
# machine (03's cell fitting AutoETS three times on 300 series).
CELL_TIMEOUT_S = 900

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["01_compare_forecasting_models.ipynb",
                                  "02_compare_allocation_policies.ipynb",
                                  "03_sold_out_days.ipynb"])
def test_the_notebook_runs_top_to_bottom(name: str, tmp_path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    for cell in book.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    NotebookClient(book, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in book.cells if c.cell_type == "code" for o in c.outputs
              if o.get("output_type") == "error"]
    assert not errors
    assert all(c.execution_count for c in book.cells if c.cell_type == "code")
