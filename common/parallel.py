"""joblib's `Parallel`, the one way the library runs independent tasks on every core.

joblib's process backend (loky) guards against leaking tasks: a worker whose memory grew by
more than 300 MB since its first task is replaced by a new process. The methods' first fit
in a worker (torch, LightGBM, scipy's solvers) grows it by more than that, so the
comparison's grid had its two workers replaced five times, each new one importing torch
again: 7 processes and 118 s for the book grid's first split, against 2 processes and 97 s
with the allowance below (`LEAK_ALLOWANCE`, set in each worker by `parallel`). The notice
of a replaced worker ("A worker stopped while some jobs were given to the executor") is
silenced: nothing is lost or re-run wrongly (the tests compare tables from workers with
tables from one process).

A warning raised in a worker is sent back with the result and raised again here, once per
distinct warning of a `parallel` call: as it would be in one process, it reaches the
notebook cell that asked (and its filters), not the terminal that started the kernel, once
per task.

Tried and rejected (2026-12-03): forked workers (``multiprocessing``'s "fork") start in
milliseconds with this process's modules and read their tasks from the inherited memory;
the comparison's book grid ran 1.90x faster than one core against 1.65x with loky. But a
forked child hangs in its first OpenMP region of more than one thread once this process has
run one (GNU libgomp's thread pool does not survive a fork): a LightGBM model left at its
default ``n_jobs`` in a task hung. A user's own predictor may do that, so the workers stay
loky's fresh processes; a task's arguments are kept small instead (`common.compare` sends
each method only its `visible` view of the zoo).

A worker keeps the memory it frees (`KEPT_FREE`, glibc's ``mallopt``, set by `parallel` in
each worker). With glibc's defaults a fresh process hands a large freed block straight back
to the kernel and takes it again, page by page, at the next allocation: LightGBM's histogram
pool (up to 512 MB a fit; 31 fits in a weights-GBM task's search: 10 configurations, 3
folds and the refit) did so in every fit. In the comparison's book grid the 18 weights-GBM
tasks were 64-70 % slower in workers than in one process (38.5 and 39.8 s of worker time
against 23.4 s) and 2-7 % with the memory kept (23.9 and 25.2 s), in two interleaved pairs
(2026-12-03); one process, whose allocator has long been warm, was unchanged by the setting
(24.0 s). The user's own joblib tasks that run in the same (reused) workers keep their freed
memory too, up to `KEPT_FREE` a worker.
"""

from __future__ import annotations

import ctypes
import warnings

from joblib import Parallel, delayed

warnings.filterwarnings(
    "ignore", message="A worker stopped while some jobs were given to the executor"
)

__all__ = ["KEPT_FREE", "LEAK_ALLOWANCE", "delayed", "keep_freed_memory", "parallel"]

LEAK_ALLOWANCE = 4 * 2**30  # bytes a worker may grow by before loky replaces it
KEPT_FREE = 2**30  # freed bytes a worker keeps for its next allocations (glibc only)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h


def parallel(tasks, n_jobs: int = 1) -> list:
    """The results of joblib `delayed` `tasks`, in order, in `n_jobs` worker processes
    (-1: one per core; 1: here, one after another), each worker kept for the whole run
    unless it grows by more than `LEAK_ALLOWANCE`."""
    if n_jobs == 1:
        return Parallel(n_jobs=1)(tasks)
    done = Parallel(n_jobs=n_jobs)(delayed(_in_worker)(f, a, k) for f, a, k in tasks)
    relayed = dict.fromkeys(w for _, caught in done for w in caught)  # distinct, in order
    for message, category, filename, lineno in relayed:
        warnings.warn_explicit(message, category, filename, lineno)
    return [result for result, _ in done]


def _in_worker(function, args, kwargs):
    """Raise this worker's leak allowance (read by loky after each task; a later loky
    without the setting just replaces workers as before) and have it keep the memory it
    frees (`keep_freed_memory`), then run the task. Returns its result and the warnings it
    raised (as the worker's filters let them through), for `parallel` to raise in the
    calling process."""
    from joblib.externals.loky import process_executor

    if hasattr(process_executor, "_MAX_MEMORY_LEAK_SIZE"):
        process_executor._MAX_MEMORY_LEAK_SIZE = LEAK_ALLOWANCE
    keep_freed_memory()
    with warnings.catch_warnings(record=True) as caught:
        result = function(*args, **kwargs)
    return result, [(str(w.message), w.category, w.filename, w.lineno) for w in caught]


_kept: bool | None = None  # whether this process keeps its freed memory (None: not asked)


def keep_freed_memory() -> bool:
    """Have this process's allocator keep up to `KEPT_FREE` freed bytes for reuse, allocating
    blocks under that size from its heap instead of mapping each from the kernel (glibc's
    ``M_TRIM_THRESHOLD`` and ``M_MMAP_THRESHOLD``; the module's docstring says why). Returns
    whether the settings hold: False where the C library has no ``mallopt`` (macOS, Windows),
    which changes nothing but speed. Asks once per process."""
    global _kept
    if _kept is None:
        try:
            mallopt = getattr(ctypes.CDLL(None), "mallopt", None)  # the process's own symbols
        except (OSError, TypeError):  # Windows: no such handle
            mallopt = None
        options = (_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD)
        _kept = mallopt is not None and all(mallopt(o, KEPT_FREE) == 1 for o in options)
    return _kept
