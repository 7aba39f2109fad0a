"""`FeatureHistoryCallback`: Cao et al.'s feature histories in a plain PyTorch training loop
(issue 18), with no zoo and no change to the model.

A forward hook on the classifier head (a module named by the user, or the model's last
``nn.Linear``) captures its input, the penultimate features, on every forward pass. After
each training step the loop hands the batch's labels to `on_train_batch`; at the end of an
epoch `end_epoch` runs the validation data through the model and returns the accuracies of
the network's own classifier (``original``), the latest classifier re-fitted on that epoch's
features (``optimised``) and the ensemble of the last K re-fitted classifiers (``ensemble``).

The ensemble is an estimate of the accuracy the network has *now*, read from the features of
its last K epochs, which tends to settle sooner than the network's own classifier (Sec. 3);
it is not an extrapolation to the end of training.

>>> import torch
>>> from torch import nn
>>> from torch.nn import functional as F
>>> from common import data
>>> digits = data.load("digits")
>>> _ = torch.manual_seed(0)
>>> model = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
>>> optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
>>> fh = FeatureHistoryCallback(model, k=2)  # hooks the last nn.Linear
>>> for epoch in range(3):
...     for i in range(0, len(digits.train_y), 64):
...         x, y = digits.train_x[i : i + 64], digits.train_y[i : i + 64]
...         loss = F.cross_entropy(model(x), y)
...         optimizer.zero_grad()
...         loss.backward()
...         optimizer.step()
...         fh.on_train_batch(y)
...     accuracies = fh.end_epoch(model, digits.val_x, digits.val_y)
>>> sorted(accuracies), 0.8 < accuracies["ensemble"] <= 1
(['ensemble', 'optimised', 'original'], True)
"""

from __future__ import annotations

import torch
from torch import nn

from feature_histories.history import History
from feature_histories.proxy import A_1, KINDS, ProxySettings, predictions


def find_head(model: nn.Module, head: str | None = None) -> nn.Linear:
    """The classifier head: the submodule named `head`, or the model's last ``nn.Linear``."""
    if head is not None:
        module = model.get_submodule(head)  # AttributeError naming the path if absent
        if not isinstance(module, nn.Linear):
            raise ValueError(f"head {head!r} is a {type(module).__name__}; expected nn.Linear")
        return module
    linear = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linear:
        raise ValueError("the model has no nn.Linear head: name the classifier with head=")
    return linear[-1]


class FeatureHistoryCallback:
    """Keeps a `History` of one network through hooks on its classifier head.

    Args:
        model: the network being trained.
        head: the name of its classifier module (default: the last ``nn.Linear``).
        k: epochs kept (the paper's K = 10; one snapshot per `end_epoch`).
        settings: the proxy's optimisation (Appendix A.1).
    """

    def __init__(
        self, model: nn.Module, head: str | None = None, k: int = 10, settings: ProxySettings = A_1
    ):
        self.head = find_head(model, head)
        self.history, self.settings = History(k), settings
        self._seen: torch.Tensor | None = None
        self._handle = self.head.register_forward_hook(self._capture)

    def _capture(self, module, inputs, output) -> None:
        self._seen = inputs[0].detach().flatten(1)

    def on_train_batch(self, labels: torch.Tensor) -> None:
        """After a training step: keep the features of the batch just passed forward."""
        if self._seen is None:
            raise ValueError("no forward pass through the head since the last batch")
        if len(self._seen) != len(labels):
            raise ValueError(f"{len(labels)} labels for a batch of {len(self._seen)} features")
        self.history.on_train_batch(self._seen, labels)
        self._seen = None

    def end_epoch(
        self, model: nn.Module, val_x: torch.Tensor, val_y: torch.Tensor, batch_size: int = 2048
    ) -> dict[str, float]:
        """Close the epoch on the validation data: the accuracy of each classifier
        (`proxy.KINDS`: original, optimised, ensemble), as fractions."""
        was_training = model.training
        model.eval()
        features = []
        with torch.no_grad():  # the re-fits below need gradients: only this pass is without
            for i in range(0, len(val_x), batch_size):
                model(val_x[i : i + batch_size])
                features.append(self._seen)
        model.train(was_training)
        self._seen = None
        self.history.end_epoch(self.head, torch.cat(features), val_y)
        right = predictions(self.history, self.settings)
        return {kind: float(right[kind].float().mean()) for kind in KINDS}

    def remove(self) -> None:
        """Detach the hook from the model."""
        self._handle.remove()
