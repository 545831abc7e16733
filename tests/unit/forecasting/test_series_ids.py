from __future__ import annotations

import re

import pandas as pd
import pytest

from forecasting.series_ids import series_id, series_parts


def test_ids_are_written_and_read_back_part_by_part() -> None:
    ids = series_id(pd.Series(["S1", "DC-1"]), pd.Series(["store", "online"]),
                    pd.Series(["K-1", "K-2"]))
    assert ids.tolist() == ["S1|store|K-1", "DC-1|online|K-2"]
    parts = series_parts(pd.concat([ids, ids], ignore_index=True))
    assert parts.to_dict("list") == {"node": ["S1", "DC-1"] * 2,
                                     "channel": ["store", "online"] * 2,
                                     "sku": ["K-1", "K-2"] * 2}


def test_an_id_of_another_shape_has_empty_parts_or_is_refused_when_strict() -> None:
    parts = series_parts(["plain", "a|b", "a|b|c|d", "S1|store|K"], only=("node", "sku"))
    assert parts.to_dict("list") == {"node": ["", "", "", "S1"], "sku": ["", "", "", "K"]}
    with pytest.raises(ValueError, match=re.escape("'a|b' is not of the form node|channel|sku")):
        series_parts(["S1|store|K", "a|b"], strict=True)
