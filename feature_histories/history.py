"""Feature histories (Cao, Wang, Kitani, Algorithm 1): what the proxy needs, captured during
training without an extra pass.

The penultimate features of the training images come out of the training pass itself
(`common.train.Run` hands them to ``on_train_batch``); at each evaluation the epoch's training
features, the validation features and the classifier's weights are saved as one `Snapshot`.
A bounded buffer keeps the last K snapshots (float16 features by default: half the memory,
and the proxy computes in float32). With evaluations every half epoch a snapshot holds the
features of that half epoch, so K epochs are 2K snapshots (`snapshots_for`; the ``fh`` probe
counts K in epochs, as the paper does).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Snapshot:
    """One epoch of history: training and validation features, and the classifier."""

    train_x: torch.Tensor  # [n_train_seen, D]
    train_y: torch.Tensor
    val_x: torch.Tensor  # [n_val, D]
    val_y: torch.Tensor
    weight: torch.Tensor  # [classes, D]
    bias: torch.Tensor  # [classes]


def snapshots_for(k_epochs: float, eval_every: float) -> int:
    """Snapshots that cover the last `k_epochs` epochs when one is taken every `eval_every`
    epochs (at least one)."""
    if k_epochs <= 0 or eval_every <= 0:
        raise ValueError(f"K = {k_epochs} epochs and eval_every = {eval_every} must be > 0")
    return max(1, round(k_epochs / eval_every))


class History:
    """A buffer of the last `k` snapshots (K = 10 in the paper, Appendix A.1)."""

    def __init__(self, k: int = 10, dtype: torch.dtype = torch.float16):
        if k < 1:
            raise ValueError(f"K = {k}: the history needs at least one epoch")
        self.k, self.dtype = k, dtype
        self.snapshots: deque[Snapshot] = deque(maxlen=k)
        self._x: list[torch.Tensor] = []
        self._y: list[torch.Tensor] = []

    def __len__(self) -> int:
        return len(self.snapshots)

    def on_train_batch(self, features: torch.Tensor, labels: torch.Tensor) -> None:
        """Keep a training minibatch's penultimate features (detached, in `dtype`)."""
        self._x.append(features.detach().to(self.dtype))
        self._y.append(labels.detach())

    def end_epoch(self, classifier: nn.Linear, val_x: torch.Tensor, val_y: torch.Tensor):
        """Close the epoch: save its training features, `val_x` and the classifier."""
        if not self._x:
            raise ValueError("no training features since the last epoch end")
        if val_x.shape[1] != classifier.in_features or self._x[0].shape[1] != val_x.shape[1]:
            raise ValueError(
                f"feature widths differ: training {self._x[0].shape[1]}, validation "
                f"{val_x.shape[1]}, classifier input {classifier.in_features}"
            )
        self.snapshots.append(
            Snapshot(
                torch.cat(self._x),
                torch.cat(self._y),
                val_x.detach().to(self.dtype),
                val_y.detach(),
                classifier.weight.detach().clone(),
                classifier.bias.detach().clone(),
            )
        )
        self._x, self._y = [], []
