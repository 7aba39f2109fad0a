"""Metrics of a performance predictor: errors, rank correlations and top-set quality.

Top-x % overlap and the mean-accuracy gap follow PEng4NN (Sec. IV-C, Tables IV and V): the
predicted best set has as many networks as the true best set, and the overlap is
``|top x % by truth ∩ top x % by prediction| / |top x % by truth|``. Regret is the true
accuracy of the best network minus that of the network predicted best.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats

MIN_NETWORKS = 10  # below this a rank or top-set metric says little: it warns


class FewNetworksWarning(UserWarning):
    """A metric computed on fewer than `MIN_NETWORKS` networks (e.g. τ = ±1 from two)."""


def _check(y_true, y_pred, metric: str = "") -> tuple[np.ndarray, np.ndarray]:
    t, p = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    if t.shape != p.shape or t.ndim != 1:
        raise ValueError(f"y_true {t.shape} and y_pred {p.shape} must be equal-length vectors")
    if len(t) < 2:
        raise ValueError(f"need at least 2 networks, got {len(t)}")
    if not (np.isfinite(t).all() and np.isfinite(p).all()):
        raise ValueError("y_true and y_pred must be finite (drop diverged networks first)")
    if metric and len(t) < MIN_NETWORKS:
        spread = _tau_interval(len(t)) if metric.startswith("Kendall τ") else ""
        warnings.warn(
            f"{metric} on {len(t)} networks (fewer than {MIN_NETWORKS}): with so few, its"
            f" value is mostly chance{spread}",
            FewNetworksWarning,
            stacklevel=3,
        )
    return t, p


def _tau_interval(n: int) -> str:
    """The spread of Kendall's τ between unrelated rankings of n items (its null 95 % range,
    normal approximation: σ² = 2(2n + 5) / (9n(n − 1)))."""
    half = 1.96 * np.sqrt(2 * (2 * n + 5) / (9 * n * (n - 1)))
    return f"; τ between unrelated rankings of {n} spans ±{min(half, 1.0):.2f}"


def mse(y_true, y_pred) -> float:
    """Mean squared error."""
    t, p = _check(y_true, y_pred)
    return float(np.mean((t - p) ** 2))


def r2(y_true, y_pred) -> float:
    """Coefficient of determination 1 - SS_res / SS_tot (NaN when the truth is constant)."""
    t, p = _check(y_true, y_pred)
    ss_tot = np.sum((t - t.mean()) ** 2)
    return float(1.0 - np.sum((t - p) ** 2) / ss_tot) if ss_tot > 0 else float("nan")


TIE_TOLERANCE = 1e-9  # predictions closer than this (relative to their range) are ties


def tied(values: np.ndarray, tolerance: float = TIE_TOLERANCE) -> np.ndarray:
    """`values` with runs of neighbours closer than `tolerance` × their range snapped to the
    run's first value, so a rank metric never orders floating-point noise."""
    values = np.asarray(values, dtype=float)
    order = np.argsort(values, kind="stable")
    ranked = values[order]
    gap = tolerance * max(float(np.ptp(values)), 1.0)
    starts = np.concatenate([[True], np.diff(ranked) > gap])
    snapped = ranked[np.flatnonzero(starts)[np.cumsum(starts) - 1]]
    out = np.empty_like(values)
    out[order] = snapped
    return out


def _constant(t: np.ndarray, p: np.ndarray) -> bool:
    """A rank correlation is undefined when either side is constant (no warning: NaN)."""
    return bool(np.ptp(t) == 0 or np.ptp(p) == 0)


def kendall_tau(y_true, y_pred) -> float:
    """Kendall's τ-b (ties counted as in scipy; NaN when either side is constant)."""
    t, p = _check(y_true, y_pred, "Kendall τ")
    t, p = tied(t), tied(p)
    return float("nan") if _constant(t, p) else float(stats.kendalltau(t, p).statistic)


def spearman_rho(y_true, y_pred) -> float:
    """Spearman's rank correlation ρ (NaN when either side is constant)."""
    t, p = _check(y_true, y_pred, "Spearman ρ")
    t, p = tied(t), tied(p)
    return float("nan") if _constant(t, p) else float(stats.spearmanr(t, p).statistic)


def top_k(values: np.ndarray, fraction: float) -> np.ndarray:
    """Positions of the best ceil(fraction * n) values (highest first, stable on ties)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction={fraction} must be in (0, 1]")
    k = max(1, int(np.ceil(fraction * len(values) - 1e-9)))
    return np.argsort(-values, kind="stable")[:k]


def top_overlap(y_true, y_pred, fraction: float = 0.1) -> float:
    """``|top x % by truth ∩ top x % by prediction| / |top x % by truth|`` (PEng4NN IV-C)."""
    t, p = _check(y_true, y_pred, "top-x overlap")
    true_top, pred_top = top_k(t, fraction), top_k(p, fraction)
    return len(np.intersect1d(true_top, pred_top)) / len(true_top)


def top_mean_gap(y_true, y_pred, fraction: float = 0.1) -> float:
    """Mean true accuracy of the true top x % minus that of the predicted top x % (Table V)."""
    t, p = _check(y_true, y_pred, "top-x mean gap")
    return float(t[top_k(t, fraction)].mean() - t[top_k(p, fraction)].mean())


def regret(y_true, y_pred) -> float:
    """Best true value minus the true value of the network ranked first by the prediction."""
    t, p = _check(y_true, y_pred, "regret")
    return float(t.max() - t[np.argmax(p)])


def all_metrics(y_true, y_pred) -> dict[str, float]:
    """Every metric of the comparison table, by column name (one `FewNetworksWarning` for
    all of them on fewer than `MIN_NETWORKS` networks)."""
    _check(y_true, y_pred, "Kendall τ (and every other metric)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FewNetworksWarning)
        return _all_metrics(y_true, y_pred)


def _all_metrics(y_true, y_pred) -> dict[str, float]:
    return {
        "kendall_tau": kendall_tau(y_true, y_pred),
        "spearman_rho": spearman_rho(y_true, y_pred),
        "r2": r2(y_true, y_pred),
        "mse": mse(y_true, y_pred),
        "top10_overlap": top_overlap(y_true, y_pred, 0.1),
        "top20_overlap": top_overlap(y_true, y_pred, 0.2),
        "top10_gap": top_mean_gap(y_true, y_pred, 0.1),
        "regret": regret(y_true, y_pred),
    }
