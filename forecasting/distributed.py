"""Where distributed work runs.

Dask: the caller's distributed client if one is active (the CLI starts a local cluster of
processes for `--engine dask`), otherwise a small in-process cluster that lives for one call.
Ray: the caller's Ray runtime if one is initialised (the CLI starts a local one for
`--engine ray`), otherwise a local runtime that lives for one call. Either way the core never
leaves worker processes behind.

Series are independent once a model is fitted (statsforecast fits each one alone; the global
LightGBM is trained once and its recursion only reads a series' own lags), so both engines
split the series into chunks, run the same local code on each, and concatenate: the result
equals the local one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd


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


@contextmanager
def ray_runtime(num_cpus: int | None = None) -> Iterator[None]:
    """The active Ray runtime, or a quiet local one (no dashboard, workers' logs kept out of
    the caller's output) started for the block and shut down after it."""
    import ray

    if ray.is_initialized():
        yield
        return
    # Ray announces on every start that its (default, kept) token authentication is on; the
    # forecast's own output is what the caller reads.
    notice = logging.getLogger("ray._private.authentication.authentication_token_setup")
    level = notice.level
    notice.setLevel(logging.ERROR)
    try:
        ray.init(num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False,
                 log_to_driver=False, logging_level=logging.WARNING)
    finally:
        notice.setLevel(level)
    try:
        yield
    finally:
        ray.shutdown()


def series_chunks(frame: pd.DataFrame, chunks: int) -> list[pd.DataFrame]:
    """`frame` split into at most `chunks` frames of whole series (rows of a series stay
    together and in order), for engines that hand each chunk to a worker."""
    ids = frame["unique_id"].to_numpy()
    unique = pd.unique(ids)
    count = max(1, min(chunks, len(unique)))
    if count == 1:
        return [frame]
    group = pd.Series(np.arange(len(unique)) % count, index=unique)
    labels = group.reindex(ids).to_numpy()
    return [frame.loc[labels == k] for k in range(count)]


def map_series_on_ray(
    function: Callable[..., pd.DataFrame], frame: pd.DataFrame, *args: Any
) -> pd.DataFrame:
    """`function(chunk, *args)` for chunks of whole series of `frame`, each a Ray task, the
    results concatenated in `unique_id, ds` order. `args` (a fitted model, the future grid)
    go to the object store once and are shared by every task."""
    import ray

    with ray_runtime():
        workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        shared = [ray.put(arg) for arg in args]
        task = ray.remote(function)
        parts = ray.get([task.remote(chunk, *shared)
                         for chunk in series_chunks(frame, 2 * workers)])
    result = pd.concat(parts, ignore_index=True)
    return result.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
