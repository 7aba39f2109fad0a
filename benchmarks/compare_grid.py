"""The comparison chapter's evaluation grid in one process and in worker processes, in one
run (issue 16, item 4): `comparison.experiments.evaluate_spaces` on the book's two shipped
zoos with ``n_jobs=1`` and ``n_jobs=-1`` (one worker per core), the seconds of each, their
ratio, and a check that the two tables are equal (timing columns aside).

``uv run python benchmarks/compare_grid.py [--seeds 1] [--no-threads] [--repeat 1]``: the
book's grid with its first `--seeds` split seeds (all budgets, training sizes and methods; 1
seed is about a third of the chapter's grid, ``--seeds 3`` all of it); ``--no-threads``
skips the one-process run with the libraries' own threads (the target is against one core);
``--repeat N`` runs the pair N times, every other pair the workers first, and gives each
pair's ratio, their median and the ratio of the totals: this machine's speed drifts by
10-30 % between minutes (the same one-core grid took 287 s and 327 s within the hour, 264 s
and 341 s within 15 minutes), so one pair is not a measurement, and alternating the order
keeps a drift that lasts the run from favouring one side.
"""

from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import torch
from joblib.externals.loky import get_reusable_executor
from threadpoolctl import threadpool_limits

import comparison
from common import zoo
from comparison import experiments


def timed(zoos, s, predictors, budgets, n_jobs: int) -> tuple[pd.DataFrame, float]:
    """The grid's table and its wall-clock seconds with `n_jobs` workers."""
    start = time.perf_counter()
    table = experiments.evaluate_spaces(zoos, s, predictors, budgets, n_jobs=n_jobs)
    return table, time.perf_counter() - start


def main() -> None:
    """Run the grid both ways (`--repeat` times) and print the times, the ratios and whether
    the tables agree."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--no-threads", action="store_true")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    s = comparison.scale_of("book")
    s = replace(s, seeds=s.seeds[: args.seeds])
    zoos = {k: zoo.build_cached(v) for k, v in comparison.zoo_specs(s).items()}
    predictors = comparison.methods(s)
    budgets = comparison.budgets(s.epochs)
    threads = torch.get_num_threads()
    cores, workers = [], []  # each pair's seconds
    for i in range(args.repeat):
        # every other pair runs the workers first, so that a drift of the machine's speed
        # over the run favours neither side of the ratio of the totals
        workers_first = i % 2 == 1
        if workers_first:
            many, many_seconds = timed_workers(zoos, s, predictors, budgets)
        with threadpool_limits(1):
            torch.set_num_threads(1)
            core, core_seconds = timed(zoos, s, predictors, budgets, 1)
            torch.set_num_threads(threads)
        one, one_seconds = (
            (core, None) if args.no_threads else timed(zoos, s, predictors, budgets, 1)
        )
        if not workers_first:
            many, many_seconds = timed_workers(zoos, s, predictors, budgets)
        same = equal(core, many) and equal(one, many)
        cores.append(core_seconds)
        workers.append(many_seconds)
        print(f"cores: {os.cpu_count()}; {len(one)} rows (seeds {list(s.seeds)})")
        print("(the workers ran first)" if workers_first else "(one core ran first)")
        print(f"one core (1 thread)     : {core_seconds:7.1f} s")
        if one_seconds is not None:
            print(f"one process ({threads} threads) : {one_seconds:7.1f} s")
        print(f"{os.cpu_count()} workers               : {many_seconds:7.1f} s")
        print(f"speed-up over one core: {core_seconds / many_seconds:.2f}x", end="")
        if one_seconds is not None:
            print(f", over one process: {one_seconds / many_seconds:.2f}x", end="")
        print(f"; tables equal (within 1e-9): {same}", flush=True)
    if len(cores) > 1:
        ratios = [c / w for c, w in zip(cores, workers, strict=True)]
        shown = ", ".join(f"{r:.2f}" for r in ratios)
        print(f"speed-ups over one core: {shown}; median {np.median(ratios):.2f}x")
        print(
            f"all pairs: one core {sum(cores):.1f} s, {os.cpu_count()} workers"
            f" {sum(workers):.1f} s: {sum(cores) / sum(workers):.2f}x"
        )


def timed_workers(zoos, s, predictors, budgets) -> tuple[pd.DataFrame, float]:
    """`timed` with one worker per core, started afresh as the chapter's grid starts them."""
    get_reusable_executor().shutdown(wait=True)
    return timed(zoos, s, predictors, budgets, -1)


def equal(one: pd.DataFrame, other: pd.DataFrame) -> bool:
    """The two grids' tables agree (timing columns aside; numbers within 1e-9)."""
    timing = ["fit_seconds", "query_seconds_per_network"]
    a, b = one.drop(columns=timing), other.drop(columns=timing)
    numbers = a.select_dtypes("number").columns
    return a.drop(columns=numbers).equals(b.drop(columns=numbers)) and np.allclose(
        a[numbers], b[numbers], rtol=0, atol=1e-9, equal_nan=True
    )


if __name__ == "__main__":
    main()
