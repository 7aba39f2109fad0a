"""MENNDL's early-termination criterion, PEng4NN's baseline (Sec. IV-B-1).

MENNDL trains each network for at most 20 epochs and stops earlier when the minimum training
loss has not decreased for at least 10 epochs.
"""

from __future__ import annotations

import numpy as np


def menndl_stop_epoch(
    epochs, train_loss, max_epochs: float = 20.0, patience: float = 10.0
) -> float:
    """The epoch at which MENNDL stops a network, from its recorded training-loss curve.

    Args:
        epochs: evaluation epochs (increasing).
        train_loss: training loss at those epochs (NaN after a divergence: it stops there).
        max_epochs: MENNDL's cap (20).
        patience: epochs without a new minimum training loss before stopping (10).
    """
    e, loss = np.asarray(epochs, dtype=float), np.asarray(train_loss, dtype=float)
    if len(e) == 0 or e.shape != loss.shape:
        raise ValueError("need equal-length, non-empty epochs and training losses")
    best, best_epoch = np.inf, e[0]
    for epoch, value in zip(e, loss, strict=True):
        if not np.isfinite(value):  # diverged: training ends with the last finite value
            return float(epoch)
        if value < best:
            best, best_epoch = value, epoch
        if epoch - best_epoch >= patience - 1e-9 or epoch >= max_epochs - 1e-9:
            return float(epoch)
    return float(e[-1])
