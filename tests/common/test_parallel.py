"""`common.parallel`: results in order, workers that grow are kept, not replaced, and their
warnings are raised in the calling process."""

import os
import resource
import sys
import time
import warnings

import pytest

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


def _warn(i: int) -> int:
    """Task `i`: warns (the same text from every even task, its own from the odd ones)."""
    warnings.warn("few networks" if i % 2 == 0 else f"task {i}", UserWarning, stacklevel=1)
    return i


def test_a_workers_warnings_are_raised_here_once_each():
    with pytest.warns(UserWarning) as caught:
        assert parallel([delayed(_warn)(i) for i in range(6)], n_jobs=2) == list(range(6))
    # the six tasks' warnings, the three equal ones once
    assert [str(w.message) for w in caught] == ["few networks", "task 1", "task 3", "task 5"]
    assert {w.filename for w in caught} == {__file__}


def _faults_of_a_second_allocation(megabytes: int) -> tuple[bool, int, int]:
    """Allocate `megabytes` (zero-filled: every page written), free it, allocate it again:
    whether this process keeps freed memory, and the page faults of each allocation."""
    from common import parallel

    faults = []
    for _ in range(2):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        block = bytearray(megabytes * 2**20)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
        del block
    return parallel._kept is True, *faults


def test_a_worker_reuses_the_memory_it_freed_instead_of_faulting_it_in_again():
    results = parallel([delayed(_faults_of_a_second_allocation)(200) for _ in range(2)], 2)
    for kept, first, second in results:
        if not kept:
            pytest.skip("this C library has no mallopt: workers keep its defaults")
        # glibc's defaults map a 200 MB block anew each time: 51,200 4-KiB pages faulted in
        assert second < 0.05 * 200 * 2**20 / resource.getpagesize(), (first, second)
