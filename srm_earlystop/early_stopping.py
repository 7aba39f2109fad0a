"""Baker et al.'s early-stopping rule (Sec. 4).

With ŷ_T ~ N(y_T, σ), stop a configuration at τ when the probability that it ends below the
best value so far (minus a margin δ) reaches Δ: Φ(y_best − δ; ŷ_T, σ) ≥ Δ. The "n-th best"
variant compares against the n-th best value instead, so that with high probability the top
n configurations are fully trained.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm


def stop_probability(y_best: float, mean, sigma, delta: float = 0.0) -> np.ndarray:
    """Φ(y_best − δ; ŷ, σ): probability that the final value is below y_best − δ."""
    sigma = np.asarray(sigma, dtype=float)
    if np.any(sigma < 0):
        raise ValueError("σ must be non-negative")
    return norm.cdf(y_best - delta, loc=mean, scale=np.maximum(sigma, 1e-12))


def should_stop(y_best, mean, sigma, threshold: float = 0.99, delta: float = 0.0):
    """The stopping decision: Φ(y_best − δ; ŷ, σ) ≥ Δ (never stops while y_best is −∞)."""
    if not 0 < threshold <= 1:
        raise ValueError(f"Δ = {threshold} must be in (0, 1]")
    return stop_probability(y_best, mean, sigma, delta) >= threshold


def kth_best(values, k: int) -> float:
    """The k-th largest value, or −∞ with fewer than k values (Appendix C's max_k)."""
    if k < 1:
        raise ValueError(f"k = {k} must be >= 1")
    ordered = np.sort(np.asarray(values, dtype=float))[::-1]
    return float(ordered[k - 1]) if len(ordered) >= k else -np.inf
