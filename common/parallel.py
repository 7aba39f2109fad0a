"""joblib's `Parallel`, the one way the library runs independent tasks on every core.

joblib's process backend (loky) replaces a worker that stopped while it was idle between
calls and says so with a ``UserWarning`` ("A worker stopped while some jobs were given to
the executor"): nothing is lost or re-run wrongly (the tests compare tables from workers
with tables from one process), so the notice is silenced here rather than printed on the
book's pages.
"""

from __future__ import annotations

import warnings

from joblib import Parallel, delayed

warnings.filterwarnings(
    "ignore", message="A worker stopped while some jobs were given to the executor"
)

__all__ = ["delayed", "parallel"]


def parallel(tasks, n_jobs: int = 1) -> list:
    """The results of joblib `delayed` `tasks`, in order, in `n_jobs` worker processes
    (-1: one per core; 1: here, one after another)."""
    return Parallel(n_jobs=n_jobs)(tasks)
