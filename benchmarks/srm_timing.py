"""SRM cost: ν-SVR SRM fit time on 100 training curves and query time per network, beside
the paper's 0.006 s and 0.00006 s (Baker et al., Sec. 3.3, one core of an Intel 6700k), with
an OLS SRM run side by side as the baseline. Synthetic saturating curves (20 epochs, τ = 5) with
architecture and hyperparameter columns stand in for a zoo.
Run: ``uv run python benchmarks/srm_timing.py``.
"""

from __future__ import annotations

import time

from srm_earlystop.srm import SRM
from srm_earlystop.synthetic import saturating_curves

PAPER_FIT_S, PAPER_QUERY_S = 0.006, 0.00006


def synthetic(n: int, seed: int = 0):
    """`n` saturating synthetic curves of 20 epochs and their table."""
    return saturating_curves(n, epochs=20, seed=seed, max_rate=8.0)


def timed(regressor: str, curves, table, query_curves, query_table, repeats: int = 20):
    """(search + LOOCV seconds, fit seconds with the chosen hyperparameters, query s/network)."""
    start = time.perf_counter()
    srm = SRM(regressor, n_search=100).fit(curves, table, curves[:, -1], taus=[5])
    search = time.perf_counter() - start
    model, features = srm.models[5], None
    from srm_earlystop.features import feature_matrix

    features, _ = feature_matrix(curves[:, :5], table)
    start = time.perf_counter()
    for _ in range(repeats):
        model.fit(features, curves[:, -1])
    fit = (time.perf_counter() - start) / repeats
    start = time.perf_counter()
    for _ in range(repeats):
        srm.predict(query_curves[:, :5], query_table, 5)
    query = (time.perf_counter() - start) / repeats / len(query_curves)
    return search, fit, query


def main() -> None:
    """Print ν-SVR against OLS fit and query times in the same run."""
    curves, table = synthetic(100)
    query_curves, query_table = synthetic(1000, seed=1)
    results = {
        r: timed(r, curves, table, query_curves, query_table) for r in ("nu_svr_rbf", "ols_linear")
    }
    for name, (search, fit, query) in results.items():
        print(
            f"{name:11s} search+LOOCV {search:7.2f} s | fit {fit * 1e3:7.2f} ms | "
            f"query {query * 1e6:7.2f} µs/network"
        )
    svr, ols = results["nu_svr_rbf"], results["ols_linear"]
    print(f"ν-SVR / OLS: fit ×{svr[1] / ols[1]:.2f}, query ×{svr[2] / ols[2]:.2f}")
    print(
        f"ν-SVR vs the paper: fit {svr[1]:.4f} s (paper {PAPER_FIT_S} s), "
        f"query {svr[2]:.6f} s (paper {PAPER_QUERY_S} s)"
    )


if __name__ == "__main__":
    main()
