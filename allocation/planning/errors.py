"""Domain errors of planning: bad input is refused with a message naming the bad field."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


class PlanningInputError(ValueError):
    """Planning input that cannot describe a real chain (negative stock, unknown peak...)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def require_columns(frame: pd.DataFrame, columns: Iterable[str], name: str) -> None:
    """Refuse a frame missing a column the plan needs."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise PlanningInputError(name, f"missing column(s) {', '.join(missing)}")


def require_non_negative(frame: pd.DataFrame, column: str, name: str) -> None:
    """Refuse negative or missing values in a column that counts units or money."""
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna() | (values < 0)
    if bool(bad.any()):
        first = frame.loc[bad].iloc[0].to_dict()
        raise PlanningInputError(
            f"{name}.{column}", f"{int(bad.sum())} negative or missing value(s), e.g. {first}"
        )
