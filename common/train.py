"""The device-agnostic trainer shared by every package ("GPU trainer": CUDA when present).

Data sits on the device as tensors and minibatches are index slices. Training is seeded
(same seed, same curves on CPU). The network is evaluated on the validation split every
`eval_every` epochs (fractions allowed: PEng4NN validates every 0.5 epoch, Sec. III), where
train and validation loss/accuracy are recorded and the probes are called; the test split is
evaluated once at the end. A non-finite loss or weight ends the run as ``diverged`` with the
curves recorded so far. `Run` trains evaluation by evaluation so that a caller can stop a
network early (PEng4NN's engine, Sec. III; Baker et al.'s early stopping); `train` runs to the
end.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator, Mapping
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
        """The recipe as JSON-able data (the zoo table's columns)."""
        return asdict(self) | {"milestones": list(self.milestones)}

    @classmethod
    def from_dict(cls, d: Mapping) -> Recipe:
        """The recipe `to_dict` wrote; ValueError naming unknown fields."""
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

    @classmethod
    def from_evaluations(cls, evaluations, probe_names, **rest) -> RunResult:
        """A result whose curves and probes stack the `Evaluation`s of a run (the one record
        both trainers, `Run` and the batched Small CNN trainer, produce)."""
        return cls(
            eval_epochs=np.array([e.epoch for e in evaluations], dtype=np.float64),
            curves={
                k: np.array([getattr(e, k) for e in evaluations], dtype=np.float64) for k in CURVES
            },
            probes={
                k: np.stack([e.probes[k] for e in evaluations]) if evaluations else np.empty((0,))
                for k in probe_names
            },
            **rest,
        )


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
    """The recipe's torch optimiser over `params`."""
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


def eval_steps(epochs: float, eval_every: float, steps_per_epoch: int):
    """(evaluation epochs, the optimiser steps after which each evaluation happens)."""
    at = eval_schedule(epochs, eval_every)
    steps = np.round(at * steps_per_epoch).astype(int)
    if steps[0] < 1 or np.any(np.diff(steps) < 1):
        raise ValueError(
            f"eval_every={eval_every} is finer than one step ({steps_per_epoch} steps"
            " per epoch); use a smaller batch size or a coarser eval_every"
        )
    return at, steps


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


def epoch_order(subset: torch.Tensor, n_train: int, shuffle: torch.Generator) -> torch.Tensor:
    """One epoch's order of the training images: `subset` (a run's seeded train-fraction
    sample) shuffled by the run's own generator; both trainers draw their minibatches so."""
    return subset[torch.randperm(n_train, generator=shuffle).to(subset.device)]


@dataclass
class Evaluation:
    """What one evaluation measured (yielded by `Run` while it trains)."""

    epoch: float
    train_loss: float  # mean over the minibatches since the previous evaluation
    train_acc: float
    val_loss: float
    val_acc: float
    probes: dict[str, np.ndarray]


class Run:
    """One network in training; iterating it trains until the next evaluation and yields it.

    A caller may stop iterating at any point (PEng4NN's engine, early-stopping rules) and
    still ask for `result()`, which evaluates the test split on the network as it is then.
    `train` iterates a run to the end. Arguments are those of `train`.
    """

    def __init__(
        self,
        arch,
        recipe,
        splits,
        *,
        seed=0,
        eval_every=1.0,
        probes=None,
        device="auto",
        keep_weights=False,
    ):
        if tuple(arch.input_shape) != tuple(splits.input_shape):
            raise ValueError(f"architecture input {arch.input_shape} != data {splits.input_shape}")
        if arch.num_classes != splits.num_classes:
            raise ValueError(
                f"architecture has {arch.num_classes} classes, data {splits.num_classes}"
            )
        self.recipe, self.seed, self.keep_weights = recipe, seed, keep_weights
        self.device = resolve_device(device)
        self.data = splits.to(self.device)
        self.probes = dict(probes or {})
        for probe in self.probes.values():  # probes that count in epochs learn the cadence
            if hasattr(probe, "configure"):
                probe.configure(eval_every=eval_every)
        self.start = time.perf_counter()
        torch.manual_seed(seed)
        self.model = build(arch)
        initialize(self.model, recipe.init, recipe.init_variance)
        self.model.to(self.device).train()
        self.n_train = max(1, round(recipe.train_fraction * len(self.data.train_y)))
        self.steps_per_epoch = math.ceil(self.n_train / recipe.batch_size)
        self.eval_epochs, self.eval_steps = eval_steps(
            recipe.epochs, eval_every, self.steps_per_epoch
        )
        self.status = "ok"
        self.evaluations: list[Evaluation] = []

    def __iter__(self) -> Iterator[Evaluation]:
        model, data, recipe, dev = self.model, self.data, self.recipe, self.device
        optimizer = make_optimizer(recipe, model.parameters())
        batch_hooks = [
            p.on_train_batch for p in self.probes.values() if hasattr(p, "on_train_batch")
        ]
        n_all = len(data.train_y)
        subset = torch.from_numpy(
            np.random.default_rng(self.seed).permutation(n_all)[: self.n_train]
        )
        subset = subset.to(dev)
        shuffle = torch.Generator().manual_seed(self.seed)
        eval_at = set(self.eval_steps.tolist())
        loss_sum = torch.zeros((), device=dev)
        correct = torch.zeros((), device=dev)
        nonfinite = torch.zeros((), dtype=torch.bool, device=dev)
        seen, order, per_epoch = 0, None, self.steps_per_epoch
        for step in range(int(self.eval_steps[-1])):
            if step % per_epoch == 0:
                order = epoch_order(subset, self.n_train, shuffle)
            for group in optimizer.param_groups:
                group["lr"] = recipe.lr * lr_factor(recipe, step / per_epoch)
            lo = (step % per_epoch) * recipe.batch_size
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
                self.status = "diverged"
                log.info("run diverged at step %d (epoch %.2f)", step + 1, (step + 1) / per_epoch)
                return
            val_loss, val_acc, val_feats = evaluate(model, data.val_x, data.val_y)
            evaluation = Evaluation(
                epoch=float(self.eval_epochs[len(self.evaluations)]),
                train_loss=loss_sum.item() / seen,
                train_acc=correct.item() / seen,
                val_loss=val_loss,
                val_acc=val_acc,
                probes={
                    k: np.asarray(p(model, val_feats, data.val_y)) for k, p in self.probes.items()
                },
            )
            self.evaluations.append(evaluation)
            yield evaluation
            loss_sum.zero_(), correct.zero_()
            seen = 0

    def result(self) -> RunResult:
        """The run so far as a `RunResult` (test split evaluated unless it diverged)."""
        test_loss, test_acc = float("nan"), float("nan")
        if self.status == "ok":
            test_loss, test_acc, _ = evaluate(self.model, self.data.test_x, self.data.test_y)
        return RunResult.from_evaluations(
            self.evaluations,
            self.probes,
            status=self.status,
            test_loss=test_loss,
            test_acc=test_acc,
            wall_time=time.perf_counter() - self.start,
            weights=flat_weights(self.model) if self.keep_weights and self.status == "ok" else None,
        )


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
    """Train one network to the end and record its curves.

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
    run = Run(
        arch,
        recipe,
        splits,
        seed=seed,
        eval_every=eval_every,
        probes=probes,
        device=device,
        keep_weights=keep_weights,
    )
    for _ in run:
        pass
    return run.result()
