"""`WeightsPredictor`: a weights-to-accuracy model as a `common.compare.Predictor`.

It learns from the final per-layer weight statistics (the ``weight_stats`` probe at the last
evaluation, W̃_L of Sec. 4.2) of fully trained networks; at budget b it reads each network's
probe at the last evaluation visible at b, so it also answers how well the weights after b
epochs predict the final accuracy, on any family whose zoo recorded the probe. Where the
networks of a zoo have different numbers of weight layers (architecture families), the
input is the statistics of the first and the last layer, W̃_L^{1,4} (Sec. 4.4), which every
network has.
"""

from __future__ import annotations

import numpy as np

from common.compare import Predictor, Requirements
from common.probes import STATS_PER_TENSOR
from common.zoo import Zoo
from weights_to_acc import predictors

LAYER = 2 * STATS_PER_TENSOR  # kernel and bias statistics of one layer


def last_visible(zoo: Zoo, name: str = "weight_stats") -> list[np.ndarray | None]:
    """Each network's probe output at its last visible evaluation (None if there is none)."""
    return [rows[-1] if len(rows) else None for rows in zoo.probe_list(name)]


def stats_matrix(rows: list[np.ndarray | None], first_last: bool) -> np.ndarray:
    """[n, d] of W̃_L rows (all layers, or first and last layer); NaN rows for missing."""
    picked = [
        None
        if r is None
        else np.concatenate([r[:LAYER], r[-LAYER:]])
        if first_last
        else np.asarray(r)
        for r in rows
    ]
    width = {len(r) for r in picked if r is not None}
    if len(width) > 1:
        raise ValueError(f"weight statistics of different widths {sorted(width)}")
    d = width.pop() if width else 2 * LAYER
    return np.stack([np.full(d, np.nan) if r is None else r for r in picked])


class WeightsPredictor(Predictor):
    """Predicts the target from weight statistics with a logit-linear, GBM or DNN model."""

    requires = Requirements(training_networks=True, probes=("weight_stats",), min_evals=1)

    def __init__(self, kind: str = "gbm", n_search: int = 20, seed: int = 0, epochs: int = 100):
        if kind not in predictors.PREDICTORS:
            raise ValueError(f"unknown predictor {kind!r}; expected one of {predictors.PREDICTORS}")
        self.kind, self.n_search, self.seed, self.epochs = kind, n_search, seed, epochs

    @property
    def name(self) -> str:
        """``Weights[kind]``."""
        return f"Weights[{self.kind}]"

    def fit(self, zoo: Zoo, budget: float) -> WeightsPredictor:
        """Fit the model on the training networks' final W̃_L (first and last layer where
        depths differ)."""
        rows = last_visible(zoo)
        self.first_last_ = len({len(r) for r in rows if r is not None}) > 1
        x, y = stats_matrix(rows, self.first_last_), zoo.target(self.target)
        ok = np.isfinite(x).all(1) & np.isfinite(y)
        self.model_ = predictors.fit(
            self.kind, x[ok], y[ok], self.n_search, seed=self.seed, epochs=self.epochs
        )
        return self

    def predict(self, zoo: Zoo, budget: float) -> np.ndarray:
        """The model's prediction from each network's last visible W̃_L (NaN where none)."""
        x = stats_matrix(last_visible(zoo), self.first_last_)
        out = np.full(len(x), np.nan)
        ok = np.isfinite(x).all(1)
        if ok.any():
            out[ok] = self.model_.predict(x[ok])
        return out
