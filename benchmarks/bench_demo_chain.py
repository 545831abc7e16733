"""Time the demo-chain generator and print row counts.

Run: ``nice -n 10 .venv/bin/python benchmarks/bench_demo_chain.py [--big-history-days N]``.
Sizes: the default demo chain, and the scale target 120 stores x 5,000 SKUs with a short
history (the full 3-year history at that size is ~10^9 store x channel x SKU x day cells).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd

from data.catalogue import catalogue
from data.demo_chain import (
    DEFAULT_FUTURE_DAYS,
    DEFAULT_HISTORY_DAYS,
    DEFAULT_SKUS,
    DEMO_AS_OF,
    chain_fingerprint,
    generate_chain,
)
from data.network import nodes
from data.sales import iter_sales_blocks


def run(label: str, **kwargs: int) -> None:
    start, cpu_start = time.perf_counter(), time.process_time()
    chain = generate_chain(**kwargs)  # type: ignore[arg-type]
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    days = chain.sales["date"].nunique()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label}: {seconds:.1f} s wall, {cpu:.1f} s CPU, {len(chain.nodes)} nodes, "
          f"{len(chain.skus)} SKUs, "
          f"{days} history days, sales {len(chain.sales):,} rows, future_sales "
          f"{len(chain.future_sales):,} rows, stock {len(chain.stock):,} rows, "
          f"peak RSS {peak_mb:,.0f} MB")


def stream_full(n_stores: int, n_skus: int) -> None:
    """Stream the full 3-year history block by block (as a loader would), counting rows."""
    start, cpu_start = time.perf_counter(), time.process_time()
    days = pd.date_range(DEMO_AS_OF - pd.Timedelta(days=DEFAULT_HISTORY_DAYS - 1),
                         DEMO_AS_OF + pd.Timedelta(days=DEFAULT_FUTURE_DAYS))
    stores = nodes(np.random.default_rng(0), n_stores).query("kind == 'store'")
    skus = catalogue(np.random.default_rng(1), n_skus, days[0].date(), DEMO_AS_OF)
    rows = blocks = 0
    for block in iter_sales_blocks(7, stores.reset_index(drop=True), skus, days,
                                   DEFAULT_HISTORY_DAYS):
        rows += len(block.codes["units"])
        blocks += 1
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"streamed {n_stores} stores x {n_skus} SKUs x {len(days)} days in {blocks} blocks: "
          f"{time.perf_counter() - start:.1f} s wall, {time.process_time() - cpu_start:.1f} s "
          f"CPU, {rows:,} non-zero rows, peak RSS {peak_mb:,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big-history-days", type=int, default=91)
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--stream-full", action="store_true",
                        help="only stream 120 x 5000 over the full history")
    args = parser.parse_args()
    if args.stream_full:
        stream_full(120, 5000)
        return
    run(f"default (100 stores x {DEFAULT_SKUS} SKUs, 3+ years)")
    start = time.perf_counter()
    chain_fingerprint(generate_chain())
    print(f"default generate + fingerprint: {time.perf_counter() - start:.1f} s")
    if not args.skip_big:
        run(f"120 stores x 5000 SKUs, {args.big_history_days} days + 28 future",
            n_stores=120, n_skus=5000, history_days=args.big_history_days, future_days=28)


if __name__ == "__main__":
    main()
