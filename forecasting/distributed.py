"""Where Dask work runs: the caller's distributed client if one is active (the CLI starts a
local cluster of processes for `--engine dask`), otherwise a small in-process cluster that lives
for one call, so the core never leaves worker processes behind."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def dask_client() -> Iterator[Any]:
    from distributed import Client, LocalCluster

    try:
        from distributed import get_client

        yield get_client()
        return
    except ValueError:
        pass
    with LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client
