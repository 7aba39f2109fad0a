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
"""

from __future__ import annotations

import warnings

from joblib import Parallel, delayed

warnings.filterwarnings(
    "ignore", message="A worker stopped while some jobs were given to the executor"
)

__all__ = ["LEAK_ALLOWANCE", "delayed", "parallel"]

LEAK_ALLOWANCE = 4 * 2**30  # bytes a worker may grow by before loky replaces it


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
    without the setting just replaces workers as before), then run the task. Returns its
    result and the warnings it raised (as the worker's filters let them through), for
    `parallel` to raise in the calling process."""
    from joblib.externals.loky import process_executor

    if hasattr(process_executor, "_MAX_MEMORY_LEAK_SIZE"):
        process_executor._MAX_MEMORY_LEAK_SIZE = LEAK_ALLOWANCE
    with warnings.catch_warnings(record=True) as caught:
        result = function(*args, **kwargs)
    return result, [(str(w.message), w.category, w.filename, w.lineno) for w in caught]
