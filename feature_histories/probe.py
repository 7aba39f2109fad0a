"""The zoo probe ``fh`` and `FeatureHistoryPredictor`.

The probe keeps a `History` of one network while it trains and, at every evaluation, records
[original, optimised, ensemble] validation accuracies (`proxy.KINDS`), so any zoo built with
it serves this method. The predictor needs no trained networks: its estimate at budget b is
the probe's ensemble value at the last evaluation visible at b.
"""

from __future__ import annotations

import time

import numpy as np

from common.compare import Predictor, Requirements
from common.probes import register_probe
from common.zoo import Zoo
from feature_histories.history import History, snapshots_for
from feature_histories.proxy import A_1, KINDS, ProxySettings, predictions


class FeatureHistoryProbe:
    """Probe ``fh``: captures the history through ``on_train_batch`` and the evaluations.

    Args:
        k: epochs kept (Appendix A.1: 10). The trainer tells the probe its evaluation
            cadence (`configure`); with evaluations every half epoch the buffer holds 2K
            snapshots, so the ensemble always spans K epochs of training, as in the paper.
        settings: the proxy's optimisation.
        keep_predictions: also keep, per evaluation, which validation images each classifier
            gets right (Figs. 3 and 4), in ``per_image``.
    """

    def __init__(self, k: float = 10, settings: ProxySettings = A_1, keep_predictions=False):
        self.k = k
        self.history, self.settings = History(snapshots_for(k, 1.0)), settings
        self.per_image: list[dict[str, np.ndarray]] | None = [] if keep_predictions else None
        self.times: list[float] = []  # seconds per evaluation: closing the epoch, the proxy

    @property
    def seconds(self) -> float:
        """Seconds spent in the probe so far (its overhead)."""
        return sum(self.times)

    def configure(self, eval_every: float) -> None:
        """Size the buffer to K epochs at this evaluation cadence (before training)."""
        if len(self.history):
            raise ValueError("configure the probe before its first evaluation")
        self.history = History(snapshots_for(self.k, eval_every), self.history.dtype)

    def on_train_batch(self, features, labels) -> None:
        """Collect one training batch's penultimate features."""
        self.history.on_train_batch(features, labels)

    def __call__(self, model, features, labels) -> np.ndarray:
        """End an epoch: store the snapshot and return the three estimates' accuracies."""
        start = time.perf_counter()
        self.history.end_epoch(model.classifier, features, labels)
        right = predictions(self.history, self.settings)
        self.times.append(time.perf_counter() - start)
        if self.per_image is not None:
            self.per_image.append({k: v.cpu().numpy() for k, v in right.items()})
        return np.array([float(right[k].float().mean()) for k in KINDS])


register_probe("fh", FeatureHistoryProbe)


class FeatureHistoryPredictor(Predictor):
    """The feature-history estimate (``ensemble`` by default) at the budget; no training."""

    requires = Requirements(probes=("fh",), min_evals=1)

    def __init__(self, kind: str = "ensemble"):
        if kind not in KINDS:
            raise ValueError(f"unknown estimate {kind!r}; expected one of {KINDS}")
        self.kind = kind

    @property
    def name(self) -> str:
        """``FeatureHistory`` (the ensemble) or ``FeatureHistory[kind]``."""
        return "FeatureHistory" if self.kind == "ensemble" else f"FeatureHistory[{self.kind}]"

    def fit(self, zoo: Zoo, budget: float) -> FeatureHistoryPredictor:
        """Nothing to learn: the estimate is the probe's own."""
        self.budget_ = budget
        return self

    def predict(self, zoo: Zoo, budget: float) -> np.ndarray:
        """The estimate at each network's last visible evaluation (NaN if none)."""
        column = KINDS.index(self.kind)
        return np.array(
            [rows[-1][column] if len(rows) else np.nan for rows in zoo.probe_list("fh")]
        )
