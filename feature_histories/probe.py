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

# K as a share of the run (issue 14): the paper keeps 10 epochs of 200 (Appendix A.1), 5 %.
# Below 40 epochs that share is under two epochs, and one snapshot is no ensemble (it equals
# the "optimised" estimate), so a run keeps max(5 % of its epochs, 2) epochs, in whole epochs:
# 10 of 200 (the paper's), 2 of the book's 10-epoch nb201 zoo (20 %) and 12-epoch live runs.
K_SHARE, MIN_K = 10 / 200, 2


def k_epochs(run_epochs: float) -> int:
    """Epochs of features a run of `run_epochs` keeps: max(5 % of the run, 2), whole."""
    if not run_epochs > 0:
        raise ValueError(f"run_epochs={run_epochs!r}: expected epochs > 0")
    return max(MIN_K, round(K_SHARE * run_epochs))


def probe_name(k: float) -> str:
    """The registered ``fh`` probe keeping `k` epochs: ``fh`` (K = 10, the paper's) or
    ``fh_k<K>``."""
    name = "fh" if k == 10 else f"fh_k{k:g}"
    if name not in PROBE_KS:
        raise ValueError(f"no fh probe keeps K = {k} epochs; registered: {PROBE_KS}")
    return name


def fh_k2() -> FeatureHistoryProbe:
    """Probe ``fh_k2``: the feature history of the last 2 epochs (short runs, see K_SHARE)."""
    return FeatureHistoryProbe(k=2)


PROBE_KS = {"fh": 10, "fh_k2": 2}  # probe name -> K (epochs); the names are in zoo specs
register_probe("fh_k2", fh_k2)


def fh_probe(probes) -> str:
    """The feature-history probe among a zoo spec's `probes` (ValueError if there is none)."""
    found = [p for p in probes if p in PROBE_KS]
    if not found:
        raise ValueError(f"the zoo recorded no fh probe ({sorted(PROBE_KS)}); it has {probes}")
    return found[0]


class FeatureHistoryPredictor(Predictor):
    """The feature-history estimate (``ensemble`` by default) at the budget; no training."""

    def __init__(self, kind: str = "ensemble", probe: str = "fh"):
        if kind not in KINDS:
            raise ValueError(f"unknown estimate {kind!r}; expected one of {KINDS}")
        if probe not in PROBE_KS:
            raise ValueError(f"unknown fh probe {probe!r}; expected one of {sorted(PROBE_KS)}")
        self.kind, self.probe = kind, probe
        self.requires = Requirements(probes=(probe,), min_evals=1)

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
            [rows[-1][column] if len(rows) else np.nan for rows in zoo.probe_list(self.probe)]
        )
