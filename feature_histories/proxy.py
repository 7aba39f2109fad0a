"""The proxy classifiers (Cao et al., Sec. 3.1, Appendix A.1) and the estimates they give.

For each of the last K snapshots, a linear classifier starts from that epoch's saved
classifier and is optimised on that epoch's saved training features (cross-entropy, SGD with
momentum 0.9, weight decay 5e-4, lr 0.05 decaying linearly to 0, batch 1,024, 5 epochs). The
ensemble averages the K softmax outputs, each classifier applied to its own epoch's
validation features, and its accuracy is the estimate. Fig. 2's comparison curves: the
``original`` classifier (the network's own, so its accuracy is the model's) and the
``optimised`` one (the latest classifier re-fitted, no ensemble). Runs where the features are
(on the GPU when training is).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from feature_histories.history import History, Snapshot

KINDS = ("original", "optimised", "ensemble")


@dataclass(frozen=True)
class ProxySettings:
    """The proxy classifiers' optimiser settings (Cao et al., Appendix A.1)."""

    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    batch_size: int = 1024
    epochs: int = 5
    seed: int = 0


A_1 = ProxySettings()  # Appendix A.1


def refit(s: Snapshot, settings: ProxySettings = A_1) -> tuple[torch.Tensor, torch.Tensor]:
    """The snapshot's classifier optimised on its training features: (weight, bias)."""
    x, y = s.train_x.float(), s.train_y
    weight = s.weight.clone().float().requires_grad_(True)
    bias = s.bias.clone().float().requires_grad_(True)
    opt = torch.optim.SGD(
        [weight, bias],
        lr=settings.lr,
        momentum=settings.momentum,
        weight_decay=settings.weight_decay,
    )
    steps_per_epoch = -(-len(x) // settings.batch_size)
    total, step = settings.epochs * steps_per_epoch, 0
    generator = torch.Generator().manual_seed(settings.seed)
    for _ in range(settings.epochs):
        order = torch.randperm(len(x), generator=generator).to(x.device)
        for start in range(0, len(x), settings.batch_size):
            idx = order[start : start + settings.batch_size]
            for group in opt.param_groups:
                group["lr"] = settings.lr * (1 - step / total)
            loss = F.cross_entropy(F.linear(x[idx], weight, bias), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
    return weight.detach(), bias.detach()


def _probs(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    return F.softmax(F.linear(x.float(), weight.float(), bias.float()), dim=1)


@torch.no_grad()
def _correct(probs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return probs.argmax(1) == y


def predictions(history: History, settings: ProxySettings = A_1) -> dict[str, torch.Tensor]:
    """Per validation image, whether each classifier is right: original, optimised, ensemble."""
    if not len(history):
        raise ValueError("the history is empty: no epoch has ended yet")
    snaps = list(history.snapshots)
    last = snaps[-1]
    if any(s.val_x.shape[0] != last.val_x.shape[0] for s in snaps):
        raise ValueError("snapshots hold different validation sets")
    fitted = [refit(s, settings) for s in snaps]
    with torch.no_grad():
        pairs = zip(snaps, fitted, strict=True)
        ensemble = torch.stack([_probs(s.val_x, *wb) for s, wb in pairs]).mean(0)
        return {
            "original": _correct(_probs(last.val_x, last.weight, last.bias), last.val_y),
            "optimised": _correct(_probs(last.val_x, *fitted[-1]), last.val_y),
            "ensemble": _correct(ensemble, last.val_y),
        }


def estimates(history: History, settings: ProxySettings = A_1) -> dict[str, float]:
    """Accuracy of the original, optimised and ensemble classifiers on the validation set."""
    return {k: float(v.float().mean()) for k, v in predictions(history, settings).items()}
