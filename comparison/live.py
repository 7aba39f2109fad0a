"""A live Optuna study under each pruner (issue 18; the chapter "Using the methods in your
own search"): real training, not a replayed zoo.

A researcher's own loop: a plain ``torch.nn.Sequential`` CNN whose depth, width and SGD
learning rate Optuna's TPE sampler suggests, trained on a real dataset and validated every
half epoch (PEng4NN's E = 0.5, Table II), each validation accuracy reported with
``trial.report`` and ``trial.should_prune`` asked after it, exactly as with Optuna's own
pruners. The same sampler and seed run under no pruning, Optuna's MedianPruner and
HyperbandPruner, `peng4nn.PEng4NNPruner` and `srm_earlystop.SRMPruner`; per (pruner, seed)
we record the best validation accuracy found, its test accuracy, the epochs trained and the
wall time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import pandas as pd
import torch
from torch import nn

from common import data, scales
from common.search import import_optuna
from common.train import resolve_device

optuna = import_optuna()


@dataclass(frozen=True, kw_only=True)
class Scale:
    """Sizes of the live study at one scale."""

    n_trials: int  # trials per study
    epochs: int  # a trial's full budget (e_max)
    seeds: tuple[int, ...]  # studies per pruner (the sampler's and the training's seeds)
    srm_min_trials: int  # completed trials before the SRM pruner's first model
    batch_size: int = 32


SCALES = {
    "smoke": {"digits": Scale(n_trials=6, epochs=3, seeds=(0,), srm_min_trials=4)},
    # digits at batch 32: 36 steps an epoch, 288 in a trial's 8 epochs, where most suggested
    # networks converge (issue 14's calibration); 16 trials leave the SRMs 6 to learn from
    "book": {"digits": Scale(n_trials=16, epochs=8, seeds=(0, 1, 2), srm_min_trials=6)},
    "paper": {
        name: Scale(n_trials=100, epochs=20, seeds=tuple(range(5)), srm_min_trials=10)
        for name in ("mnist", "fashion_mnist", "cifar10")
    },
}
PRUNERS = ("none", "median", "hyperband", "PEng4NN", "SRM")


def scale_of(dataset: str, scale: str, **overrides) -> Scale:
    """The settings of `dataset` at `scale` (``n_trials``, ``epochs`` ... overridable; a
    trial's budget is whole epochs)."""
    s = scales.settings(SCALES, dataset, scale, **overrides)
    if s.epochs != int(s.epochs):
        raise ValueError(f"epochs={s.epochs!r}: expected a whole number of epochs >= 1")
    return s


def default_datasets(scale: str, root=None) -> list[str]:
    """The scale's datasets present under the data root."""
    return scales.datasets(SCALES, scale, root)


def network(trial, input_shape, num_classes: int) -> nn.Sequential:
    """The search space: 1–3 conv layers of one width, then a linear head on the flattened
    feature map."""
    depth = trial.suggest_int("depth", 1, 3)
    width = trial.suggest_categorical("width", [4, 8, 16])
    layers, channels = [], input_shape[0]
    for _ in range(depth):
        layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
        channels = width
    features = width * input_shape[1] * input_shape[2]
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(features, num_classes))


@torch.no_grad()
def accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """The share of `x` that `net` classifies as `y` (a fraction)."""
    net.eval()
    correct = (net(x).argmax(1) == y).sum().item()
    net.train()
    return correct / len(y)


def objective(splits: data.Splits, s: Scale, device: torch.device):
    """Optuna's objective: train a suggested network and report its validation accuracy
    every half epoch; returns the last one (its test accuracy is the trial's ``test_acc``)."""

    def run(trial):
        torch.manual_seed(trial.number)
        net = network(trial, splits.input_shape, splits.num_classes).to(device)
        lr = trial.suggest_float("lr", 1e-3, 0.3, log=True)
        optimiser = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
        n, half = len(splits.train_y), len(splits.train_y) // 2
        step = 0
        for _ in range(int(s.epochs)):
            order = torch.randperm(n, device=device)
            for part in (order[:half], order[half:]):  # two halves: a report each half epoch
                for batch in part.split(s.batch_size):
                    loss = nn.functional.cross_entropy(
                        net(splits.train_x[batch]), splits.train_y[batch]
                    )
                    optimiser.zero_grad()
                    loss.backward()
                    optimiser.step()
                step += 1
                value = accuracy(net, splits.val_x, splits.val_y)
                trial.report(value, step)
                if trial.should_prune():
                    raise optuna.TrialPruned()
        trial.set_user_attr("test_acc", accuracy(net, splits.test_x, splits.test_y))
        return value

    return run


def make_pruner(name: str, s: Scale, dataset: str, class_freq) -> optuna.pruners.BasePruner:
    """Pruner `name` of `PRUNERS`, set for a trial of ``2 × epochs`` half-epoch steps."""
    from peng4nn import PEng4NNPruner
    from peng4nn.experiments import settings_for
    from srm_earlystop import SRMPruner

    steps = 2 * int(s.epochs)
    if name == "none":
        return optuna.pruners.NopPruner()
    if name == "median":  # Optuna's default pruner, with its documented defaults
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=steps)
    if name == "PEng4NN":  # Table II, e_max the trial's budget, never-learn at the majority
        settings = replace(settings_for(dataset, class_freq, float(s.epochs)), loss_check=False)
        return PEng4NNPruner(settings, epochs_per_step=0.5)
    if name == "SRM":
        return SRMPruner(min_trials=s.srm_min_trials, n_search=10)
    raise ValueError(f"unknown pruner {name!r}; expected one of {PRUNERS}")


def study(dataset: str, s: Scale, pruner: str, seed: int = 0, device="auto") -> dict:
    """One study: `s.n_trials` trials under `pruner`, TPE seeded with `seed`. Returns the best
    validation accuracy found, that trial's test accuracy, epochs trained, wall seconds and
    trials pruned."""
    device = resolve_device(device)
    splits = data.load(dataset, seed=0).to(device)
    sampler = optuna.samplers.TPESampler(seed=seed)
    pruning = make_pruner(pruner, s, dataset, splits.class_freq)
    # named, so that a re-run repeats itself: Hyperband puts a trial in a bracket by a hash
    # of the study's name and the trial's number (a random name otherwise)
    name = f"{dataset}-{pruner}-{seed}"
    made = optuna.create_study(
        study_name=name, direction="maximize", sampler=sampler, pruner=pruning
    )
    start = time.perf_counter()
    made.optimize(objective(splits, s, device), n_trials=s.n_trials)
    seconds = time.perf_counter() - start
    states = [t.state for t in made.trials]
    reports = sum(len(t.intermediate_values) for t in made.trials)
    best = made.best_trial
    return {
        "pruner": pruner,
        "seed": seed,
        "best val acc": best.value,
        "its test acc": best.user_attrs["test_acc"],
        "epochs trained": 0.5 * reports,  # a report every half epoch trained
        "wall seconds": seconds,
        "pruned": states.count(optuna.trial.TrialState.PRUNED),
    }


def studies(dataset: str, s: Scale, pruners=PRUNERS, seed: int = 0, device="auto") -> pd.DataFrame:
    """Every pruner under every seed of `s`, offset by `seed` (one row per study)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    runs = [(p, seed + k) for p in pruners for k in s.seeds]
    return pd.DataFrame([study(dataset, s, p, k, device) for p, k in runs])


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and standard error over seeds per pruner (the chapter's table)."""
    columns = ["best val acc", "its test acc", "epochs trained", "wall seconds", "pruned"]
    grouped = table.groupby("pruner", sort=False)[columns]
    mean, sem = grouped.mean(), grouped.sem(ddof=1).fillna(0.0)
    return pd.concat({"mean": mean, "s.e.": sem}, axis=1).swaplevel(axis=1)[columns]
