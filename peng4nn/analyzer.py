"""PEng4NN's prediction analyzer (Sec. III-C, Algorithm 2) with Table II's parameters.

Given the history H of (epoch, a_V, l_V, a_P) tuples, decide whether the predictions have
converged to a stable estimate A_P:

- too early (e ≤ N·E): keep training (line 3);
- at e_max: stop, not converged, estimate = the maximum observed a_V (line 4);
- condition 1: the latest prediction A_P ≤ 100 (line 6);
- condition 2: the N most recent *predictions* all lie within t of their mean. The text
  (Sec. III-C-2) says predictions; Algorithm 2's line 7 says "a_V". We follow the text. An
  iteration whose fit failed has no prediction, so it breaks the run of N;
- condition 3 (LOSS on and A_P a never-learn prediction, i.e. no better than always guessing
  the majority class): the minimum validation loss has not improved during the last L epochs.

A never-learn prediction is read on the fitted function, not on a_P alone: with b ≥ 1 a flat
curve at level y is fitted by b = 1 and a = y + 1 (or, with a huge b, by a = y), so a network
stuck at the majority share m predicts between m and m + 1. `is_never_learn` therefore asks
a_P ≤ m + 1 + `never_learn_margin` (2 points, for validation noise), the paper's "not
performing better than guessing" (Sec. III-C-1); comparing a_P with m itself never fires.

Accuracies are percentages, as in the paper.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AnalyzerSettings:
    """The analyzer's parameters; defaults from PEng4NN Table II."""

    n_recent: int = 3  # N: most recent predictions compared
    epochs_per_iteration: float = 0.5  # E: epochs trained between validations
    max_epochs: float = 20.0  # e_max
    threshold: float = 0.5  # t: percentage points around the mean of the N predictions
    loss_check: bool = False  # LOSS: on for unbalanced datasets (SVHN in the paper)
    loss_epochs: float = 5.0  # L: epochs without a new minimum validation loss
    never_learn: float = 10.0  # 100 × majority share (%): the accuracy of guessing
    never_learn_margin: float = 2.0  # points above a flat fit at that level still never-learn

    def __post_init__(self):
        if self.n_recent < 1 or self.epochs_per_iteration <= 0 or self.max_epochs <= 0:
            raise ValueError("n_recent >= 1, epochs_per_iteration > 0 and max_epochs > 0 needed")
        if self.threshold < 0 or self.loss_epochs <= 0 or self.never_learn_margin < 0:
            raise ValueError("threshold and never_learn_margin must be >= 0, loss_epochs > 0")


FLAT_OFFSET = 1.0  # a − b^(c − x) with b = 1: a flat curve at y is fitted with a = y + 1


def is_never_learn(a_p: float, settings: AnalyzerSettings) -> bool:
    """Whether prediction `a_p` (%) says the network does no better than guessing the
    majority class: at most the flat-curve fit at that level plus the noise margin."""
    return a_p <= settings.never_learn + FLAT_OFFSET + settings.never_learn_margin


TABLE_II = AnalyzerSettings()  # the paper's settings (LOSS off: balanced datasets)


@dataclass(frozen=True)
class Decision:
    """The engine's answer after an observation. `estimate` is in percent."""

    stop: bool  # stop training this network
    converged: bool  # the estimate is a converged prediction A_P (not the e_max fallback)
    estimate: float  # A_P if converged; max a_V at e_max; else the latest a_P (or a_V)
    epoch: float  # epoch of the observation that produced this decision
    # False: the latest fit did not describe the curve (`curve.CurveFit.describes_curve`), so
    # the estimate is the last observed accuracy, not an invented extrapolation (issue 17)
    described: bool = True


def latest_estimate(val_acc: np.ndarray, predictions: np.ndarray) -> float:
    """The most recent successful prediction within the feasible [0, 100] %, else the last
    observed accuracy (a prediction above 100, which condition 1 rejects, is never an
    estimate: issue 17)."""
    fitted = predictions[np.isfinite(predictions) & (predictions >= 0) & (predictions <= 100)]
    return float(fitted[-1]) if len(fitted) else float(val_acc[-1])


def loss_stalled(epochs: np.ndarray, val_loss: np.ndarray, loss_epochs: float) -> bool:
    """Condition 3: no new minimum validation loss within the last `loss_epochs` epochs."""
    recent = epochs > epochs[-1] - loss_epochs
    if recent.all():  # fewer than L epochs observed: it cannot have stalled for L yet
        return False
    return bool(np.min(val_loss[recent]) >= np.min(val_loss[~recent]))


def analyze(
    epochs: np.ndarray,
    val_acc: np.ndarray,
    val_loss: np.ndarray,
    predictions: np.ndarray,
    settings: AnalyzerSettings = TABLE_II,
) -> Decision:
    """Algorithm 2 on a history (arrays aligned by observation; NaN = no prediction)."""
    s, e = settings, float(epochs[-1])
    keep_going = Decision(False, False, latest_estimate(val_acc, predictions), e)
    if e >= s.max_epochs - 1e-9:  # line 4
        return Decision(True, False, float(np.max(val_acc)), e)
    if e <= s.n_recent * s.epochs_per_iteration + 1e-9:  # line 3
        return keep_going
    a_p = predictions[-1]
    if not np.isfinite(a_p) or a_p > 100:  # no prediction this iteration; condition 1
        return keep_going
    recent = predictions[-s.n_recent :]
    if len(recent) < s.n_recent or not np.isfinite(recent).all():
        return keep_going
    if np.any(np.abs(recent - recent.mean()) > s.threshold):  # condition 2
        return keep_going
    if s.loss_check and is_never_learn(a_p, s):  # condition 3
        if not loss_stalled(epochs, val_loss, s.loss_epochs):
            return keep_going
    return Decision(True, True, float(a_p), e)
