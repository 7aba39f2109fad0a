"""Features of Baker et al.'s sequential regression models (Sec. 3.1). Pure functions.

- TS: the observed validation values y_1..y_τ, their first differences y'_t = y_t − y_{t−1},
  second differences y''_t = y'_t − y'_{t−1}, and their mean and standard deviation;
- AP: number of weights and number of layers;
- HP: the recipe's numeric hyperparameters, categoricals one-hot encoded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FEATURE_SETS = ("TS", "AP", "HP")
AP_COLUMNS = ("n_params", "depth")
# recipe fields that are hyperparameters of a run (not bookkeeping or constant by design)
HP_NUMERIC = ("lr", "momentum", "weight_decay", "batch_size", "train_fraction", "init_variance")
HP_CATEGORICAL = ("optimizer", "schedule", "init")


def check_curves(curves) -> np.ndarray:
    """[n, τ] partial curves of equal length, finite; ValueError otherwise."""
    try:
        y = np.asarray(curves, dtype=float)
    except ValueError as ragged:
        raise ValueError("curves have unequal lengths; SRM features need equal τ") from ragged
    if y.ndim != 2 or y.shape[1] < 1:
        raise ValueError(f"expected curves as [n_networks, τ >= 1], got shape {y.shape}")
    if not np.isfinite(y).all():
        raise ValueError("curves contain NaN or infinite values (drop diverged networks)")
    return y


def ts_features(curves) -> np.ndarray:
    """TS features of [n, τ] curves: [y (τ), y' (τ−1), y'' (τ−2), mean, std] per row."""
    y = check_curves(curves)
    d1 = np.diff(y, axis=1)
    d2 = np.diff(y, n=2, axis=1)
    return np.hstack([y, d1, d2, y.mean(1, keepdims=True), y.std(1, keepdims=True)])


def ap_features(table: pd.DataFrame) -> np.ndarray:
    """AP features: [n_params, depth] per network."""
    missing = [c for c in AP_COLUMNS if c not in table]
    if missing:
        raise ValueError(f"zoo table lacks architecture columns {missing}")
    return table[list(AP_COLUMNS)].to_numpy(float)


def hp_features(table: pd.DataFrame, categories: dict[str, list] | None = None):
    """HP features: numeric hyperparameters, then one-hot categoricals.

    Args:
        table: zoo table (recipe fields are columns).
        categories: the levels of each categorical (from the training zoo), so that the
            columns of a held-out zoo line up; default: the levels present in `table`.

    Returns:
        (matrix [n, k], categories).
    """
    numeric = [c for c in HP_NUMERIC if c in table]
    present = [c for c in HP_CATEGORICAL if c in table]
    categories = categories or {c: sorted(table[c].astype(str).unique()) for c in present}
    blocks = [table[numeric].to_numpy(float)]
    for column, levels in categories.items():
        values = table[column].astype(str).to_numpy()
        blocks.append(np.stack([values == level for level in levels], axis=1).astype(float))
    return np.hstack(blocks), categories


def feature_matrix(curves, table: pd.DataFrame, sets=FEATURE_SETS, categories=None):
    """The concatenated features of `sets` (any of TS, AP, HP); returns (X, categories)."""
    unknown = set(sets) - set(FEATURE_SETS)
    if unknown or not sets:
        raise ValueError(f"feature sets {sorted(unknown) or sets} unknown; use {FEATURE_SETS}")
    blocks = []
    if "TS" in sets:
        blocks.append(ts_features(curves))
    if "AP" in sets:
        blocks.append(ap_features(table))
    if "HP" in sets:
        hp, categories = hp_features(table, categories)
        blocks.append(hp)
    return np.hstack(blocks), categories
