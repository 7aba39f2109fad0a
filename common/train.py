"""The device-agnostic trainer shared by every package ("GPU trainer": CUDA when present).

Data sits on the device as tensors and minibatches are index slices. Training is seeded
(same seed, same curves on CPU). The network is evaluated on the validation split every
`eval_every` epochs (fractions allowed: PEng4NN validates every 0.5 epoch, Sec. III), where
train and validation loss/accuracy are recorded and the probes are called; the test split is
evaluated once at the end. A non-finite loss or weight ends the run as ``diverged`` with the
curves recorded so far.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from common.archs import Architecture, build
from common.data import Splits
from common.probes import Probe

log = logging.getLogger(__name__)

OPTIMIZERS = ("sgd", "adam", "rmsprop")
SCHEDULES = ("constant", "step", "linear", "cosine")
INITS = ("default", "he_normal", "xavier_normal", "orthogonal", "normal", "truncated_normal")
CURVES = ("train_loss", "train_acc", "val_loss", "val_acc")


@dataclass(frozen=True)
class Recipe:
    """How a network is trained. Field names are the zoo table's column names."""

    optimizer: str = "sgd"  # sgd | adam | rmsprop
    lr: float = 0.05  # initial learning rate
    momentum: float = 0.9  # SGD momentum (Adam and RMSProp keep torch's defaults)
    nesterov: bool = False  # SGD Nesterov momentum
    schedule: str = "constant"  # constant | step | linear (to 0) | cosine (to 0)
    milestones: tuple[float, ...] = ()  # step schedule: epochs at which lr is multiplied...
    gamma: float = 0.1  # ...by gamma
    weight_decay: float = 0.0  # L2 coefficient, added to the gradient by the optimiser
    batch_size: int = 64
    epochs: float = 10.0
    train_fraction: float = 1.0  # seeded random fraction of the training split used
    init: str = "default"  # weight initialiser, see INITS; biases zero unless "default"
    init_variance: float = 1.0  # variance of "normal" / "truncated_normal" initialisers

    def __post_init__(self):
        checks = {
            "optimizer": (self.optimizer in OPTIMIZERS, f"one of {OPTIMIZERS}"),
            "schedule": (self.schedule in SCHEDULES, f"one of {SCHEDULES}"),
            "init": (self.init in INITS, f"one of {INITS}"),
            "lr": (self.lr > 0, "> 0"),
            "batch_size": (self.batch_size >= 1, ">= 1"),
            "epochs": (self.epochs > 0, "> 0"),
            "train_fraction": (0 < self.train_fraction <= 1, "in (0, 1]"),
            "init_variance": (self.init_variance > 0, "> 0"),
        }
        for name, (ok, expected) in checks.items():
            if not ok:
                raise ValueError(f"Recipe.{name}={getattr(self, name)!r}: expected {expected}")
        object.__setattr__(self, "milestones", tuple(float(m) for m in self.milestones))

    def to_dict(self) -> dict:
        return asdict(self) | {"milestones": list(self.milestones)}

    @classmethod
    def from_dict(cls, d: Mapping) -> Recipe:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown recipe fields {sorted(unknown)}; expected {sorted(known)}")
        return cls(**d)


@dataclass
class RunResult:
    """What one training run produced. Curves are [n_evals] arrays aligned with eval_epochs."""

    status: str  # "ok" | "diverged"
    eval_epochs: np.ndarray
    curves: dict[str, np.ndarray]  # CURVES
    probes: dict[str, np.ndarray]  # name -> [n_evals, ...]
    test_loss: float
    test_acc: float
    wall_time: float
    weights: np.ndarray | None = None  # all parameters flattened, if kept
    extra: dict = field(default_factory=dict)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` is CUDA when available, else CPU."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def initialize(model: nn.Module, init: str, variance: float = 1.0) -> None:
    """Initialise conv and linear kernels with `init`; biases zero (torch's own if default)."""
    if init == "default":
        return
    for m in model.modules():
        if not isinstance(m, nn.Conv2d | nn.Linear):
            continue
        if init == "he_normal":
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        elif init == "xavier_normal":
            nn.init.xavier_normal_(m.weight)
        elif init == "orthogonal":
            nn.init.orthogonal_(m.weight)
        elif init == "normal":
            nn.init.normal_(m.weight, std=math.sqrt(variance))
        else:  # truncated normal at two standard deviations, as tf.truncated_normal
            std = math.sqrt(variance)
            nn.init.trunc_normal_(m.weight, std=std, a=-2 * std, b=2 * std)
        nn.init.zeros_(m.bias)


def lr_factor(recipe: Recipe, epoch: float) -> float:
    """Multiplier of the initial learning rate after `epoch` (fractional) epochs."""
    if recipe.schedule == "step":
        return recipe.gamma ** sum(epoch >= m for m in recipe.milestones)
    if recipe.schedule == "linear":
        return max(0.0, 1.0 - epoch / recipe.epochs)
    if recipe.schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * min(epoch, recipe.epochs) / recipe.epochs))
    return 1.0


def make_optimizer(recipe: Recipe, params) -> torch.optim.Optimizer:
    common = {"lr": recipe.lr, "weight_decay": recipe.weight_decay}
    if recipe.optimizer == "sgd":
        return torch.optim.SGD(params, momentum=recipe.momentum, nesterov=recipe.nesterov, **common)
    if recipe.optimizer == "adam":
        return torch.optim.Adam(params, **common)
    return torch.optim.RMSprop(params, **common)


def eval_schedule(epochs: float, eval_every: float) -> np.ndarray:
    """Evaluation epochs: multiples of `eval_every` up to `epochs`, and `epochs` itself."""
    if eval_every <= 0:
        raise ValueError(f"eval_every={eval_every} must be > 0 (epochs between evaluations)")
    n = int(math.floor(epochs / eval_every + 1e-9))
    points = [round(eval_every * k, 10) for k in range(1, n + 1)]
    if not points or points[-1] < epochs - 1e-9:
        points.append(float(epochs))
    return np.array(points, dtype=np.float64)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 2048):
    """Mean cross-entropy, accuracy and penultimate features [N, D] of `model` on (x, y)."""
    was_training = model.training
    model.eval()
    feats = torch.cat([model.features(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
    logits = model.classifier(feats)
    loss = F.cross_entropy(logits, y).item()
    acc = (logits.argmax(1) == y).float().mean().item()
    model.train(was_training)
    return loss, acc, feats


def _finite(model: nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in model.parameters())


def flat_weights(model: nn.Module) -> np.ndarray:
    """All parameters, in `model.parameters()` order, as one float32 vector."""
    return torch.cat([p.detach().flatten().cpu() for p in model.parameters()]).float().numpy()


def train(
    arch: Architecture,
    recipe: Recipe,
    splits: Splits,
    *,
    seed: int = 0,
    eval_every: float = 1.0,
    probes: Mapping[str, Probe] | None = None,
    device: str | torch.device = "auto",
    keep_weights: bool = False,
) -> RunResult:
    """Train one network and record its curves.

    Args:
        arch: the architecture (its input shape and class count must match `splits`).
        recipe: optimiser, schedule, epochs, ...
        splits: the data; moved to `device` here (a no-op if it is there already).
        seed: seeds initialisation, the train-fraction subset, shuffling and dropout.
        eval_every: epochs between evaluations (fractions allowed).
        probes: name -> probe, called at each evaluation (see `common.probes`).
        device: ``auto`` (CUDA when available), ``cpu``, ``cuda``, ...
        keep_weights: also return the final weights as one flat vector.

    Returns:
        A `RunResult`; its status is ``diverged`` if a loss or weight became non-finite.
    """
    if tuple(arch.input_shape) != tuple(splits.input_shape):
        raise ValueError(f"architecture input {arch.input_shape} != data {splits.input_shape}")
    if arch.num_classes != splits.num_classes:
        raise ValueError(f"architecture has {arch.num_classes} classes, data {splits.num_classes}")
    dev = resolve_device(device)
    data = splits.to(dev)
    probes = dict(probes or {})
    batch_hooks = [p.on_train_batch for p in probes.values() if hasattr(p, "on_train_batch")]
    start = time.perf_counter()

    torch.manual_seed(seed)
    model = build(arch)
    initialize(model, recipe.init, recipe.init_variance)
    model.to(dev).train()
    optimizer = make_optimizer(recipe, model.parameters())
    n_all = len(data.train_y)
    n_train = max(1, round(recipe.train_fraction * n_all))
    subset = torch.from_numpy(np.random.default_rng(seed).permutation(n_all)[:n_train]).to(dev)
    shuffle = torch.Generator().manual_seed(seed)
    steps_per_epoch = math.ceil(n_train / recipe.batch_size)
    eval_epochs = eval_schedule(recipe.epochs, eval_every)
    eval_steps = np.round(eval_epochs * steps_per_epoch).astype(int)
    if eval_steps[0] < 1 or np.any(np.diff(eval_steps) < 1):
        raise ValueError(
            f"eval_every={eval_every} is finer than one step ({steps_per_epoch} steps per epoch);"
            " use a smaller batch size or a coarser eval_every"
        )
    eval_at = set(eval_steps.tolist())

    curves = {name: [] for name in CURVES}
    probe_values = {name: [] for name in probes}
    loss_sum = torch.zeros((), device=dev)
    correct = torch.zeros((), device=dev)
    seen, nonfinite, status, order = 0, torch.zeros((), dtype=torch.bool, device=dev), "ok", None
    for step in range(int(eval_steps[-1])):
        if step % steps_per_epoch == 0:
            order = subset[torch.randperm(n_train, generator=shuffle).to(dev)]
        for group in optimizer.param_groups:
            group["lr"] = recipe.lr * lr_factor(recipe, step / steps_per_epoch)
        lo = (step % steps_per_epoch) * recipe.batch_size
        idx = order[lo : lo + recipe.batch_size]
        x, y = data.train_x[idx], data.train_y[idx]
        feats = model.features(x)
        logits = model.classifier(feats)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        for hook in batch_hooks:
            hook(feats.detach(), y)
        nonfinite |= ~torch.isfinite(loss.detach())
        loss_sum += loss.detach() * len(y)
        correct += (logits.detach().argmax(1) == y).sum()
        seen += len(y)
        if step + 1 not in eval_at:
            continue
        if bool(nonfinite) or not _finite(model):
            status = "diverged"
            log.info("run diverged at step %d (epoch %.2f)", step + 1, (step + 1) / steps_per_epoch)
            break
        val_loss, val_acc, val_feats = evaluate(model, data.val_x, data.val_y)
        curves["train_loss"].append(loss_sum.item() / seen)
        curves["train_acc"].append(correct.item() / seen)
        curves["val_loss"].append(val_loss)
        curves["val_acc"].append(val_acc)
        for name, probe in probes.items():
            probe_values[name].append(np.asarray(probe(model, val_feats, data.val_y)))
        loss_sum.zero_(), correct.zero_()
        seen = 0

    n_done = len(curves["val_acc"])
    test_loss, test_acc = (float("nan"), float("nan"))
    if status == "ok":
        test_loss, test_acc, _ = evaluate(model, data.test_x, data.test_y)
    return RunResult(
        status=status,
        eval_epochs=eval_epochs[:n_done],
        curves={k: np.array(v, dtype=np.float64) for k, v in curves.items()},
        probes={k: np.stack(v) if v else np.empty((0,)) for k, v in probe_values.items()},
        test_loss=test_loss,
        test_acc=test_acc,
        wall_time=time.perf_counter() - start,
        weights=flat_weights(model) if keep_weights and status == "ok" else None,
    )
