"""`common.parallel`: results in order, and workers that grow are kept, not replaced."""

import os
import sys
import time

from common.parallel import delayed, parallel


def _grow(megabytes: int, i: int) -> tuple[int, int]:
    """Keep `megabytes` more in this process (as a first torch fit does), wait past loky's
    one-second check, and say which process ran task `i`."""
    kept = getattr(sys, "_nnperf_ballast", [])
    kept.append(bytearray(megabytes * 2**20))  # zero-filled: really allocated on write
    kept[-1][::4096] = b"\1" * len(kept[-1][::4096])
    sys._nnperf_ballast = kept
    time.sleep(1.2)
    return i, os.getpid()


def test_results_come_in_order_and_growing_workers_are_kept():
    results = parallel([delayed(_grow)(350, i) for i in range(6)], n_jobs=2)
    assert [i for i, _ in results] == list(range(6))
    # loky alone replaces a worker grown by 300 MB after its first task: 3+ processes here
    assert len({pid for _, pid in results}) <= 2, results


def test_one_job_runs_here():
    assert parallel([delayed(os.getpid)() for _ in range(3)]) == [os.getpid()] * 3
