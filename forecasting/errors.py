"""Errors of the forecasting core that the edges report to people (CLI messages, 4xx).

Kept apart from `forecasting.validation` (numpy, pandas) so that a command line can name them
without importing the scientific stack.
"""

from __future__ import annotations


class ForecastInputError(ValueError):
    """A forecasting input is unusable; `source`, `column` and `row` say where (row is 1-based
    over data rows, header excluded)."""

    def __init__(
        self, problem: str, source: str = "history", column: str | None = None,
        row: int | None = None,
    ) -> None:
        self.problem, self.source, self.column, self.row = problem, source, column, row
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [self.source]
        if self.column is not None:
            where.append(f"column {self.column!r}")
        if self.row is not None:
            where.append(f"row {self.row}")
        return f"{', '.join(where)}: {self.problem}"
