"""Synthetic learning curves with architecture and hyperparameter columns, for tests and
benchmarks of the SRMs where a trained zoo is not needed: y_t = a (1 − exp(−t / b)) + noise,
a ~ U(0.3, 0.95), b ~ U(1, max_rate)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def saturating_curves(n: int, epochs: int = 10, seed: int = 0, max_rate: float = 6.0):
    """([n, epochs] curves, table with n_params, depth and lr columns)."""
    rng = np.random.default_rng(seed)
    a, b = rng.uniform(0.3, 0.95, n), rng.uniform(1, max_rate, n)
    t = np.arange(1, epochs + 1)
    curves = a[:, None] * (1 - np.exp(-t / b[:, None])) + rng.normal(0, 0.01, (n, epochs))
    table = pd.DataFrame(
        {
            "n_params": rng.integers(1_000, 1_000_000, n),
            "depth": rng.integers(2, 12, n),
            "lr": 10 ** rng.uniform(-4, -1, n),
        }
    )
    return curves, table
