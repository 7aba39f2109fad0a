"""The cross-comparison protocol: one `Predictor` interface and one evaluator for all methods.

Every method exposes an adapter in the style of scikit-learn and NASLib's predictors: it
declares what it needs (`Requirements`), learns from fully trained networks in `fit` when it
needs them, and predicts from a zoo truncated at a budget (epochs of training observed per
network; 0 = architecture only). `evaluate` owns the protocol: it splits networks into
training and held-out sets, truncates the held-out zoo itself (so no method can peek past its
budget), times fit and query, and returns one flat table. Two baselines prove it: the last
seen validation accuracy and a linear regression on (log parameter count, depth).
"""

from __future__ import annotations

import copy
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

from common.metrics import all_metrics
from common.zoo import TARGETS, Zoo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Requirements:
    """What a method needs to see (declared, so the evaluator can check and report costs)."""

    training_networks: bool = False  # learns from fully trained networks in `fit`
    curve: bool = False  # learning curves up to the budget
    architecture: bool = False
    hyperparameters: bool = False
    probes: tuple[str, ...] = ()  # probe names the zoo must have recorded
    weights: bool = False  # final weights (only visible at the full budget)
    min_evals: int = 0  # evaluations that must be visible before it can predict


class Predictor(ABC):
    """A performance predictor. `target` is set by the evaluator before `fit`."""

    requires: Requirements = Requirements()
    target: str = "final_val_acc"

    @property
    def name(self) -> str:
        return type(self).__name__

    @abstractmethod
    def fit(self, zoo: Zoo, budget: float) -> Predictor:
        """Learn from fully trained networks (an empty zoo if none are required)."""

    @abstractmethod
    def predict(self, zoo: Zoo, budget: float) -> np.ndarray:
        """One prediction per network of `zoo`, which is truncated at `budget` epochs."""


class LastSeenValue(Predictor):
    """The last validation accuracy observed within the budget (Baker et al.'s baseline)."""

    requires = Requirements(curve=True, min_evals=1)

    def fit(self, zoo: Zoo, budget: float) -> LastSeenValue:
        return self

    def predict(self, zoo: Zoo, budget: float) -> np.ndarray:
        val_acc = zoo.curve("val_acc")  # [n, visible evals]
        if val_acc.shape[1] == 0:
            raise ValueError(f"no evaluation is visible at budget {budget}")
        seen = np.isfinite(val_acc)
        last = np.where(seen.any(1), seen.shape[1] - 1 - np.argmax(seen[:, ::-1], axis=1), 0)
        return val_acc[np.arange(len(val_acc)), last]


class ParamDepthRegression(Predictor):
    """Linear regression of the target on (log parameter count, depth): budget 0."""

    requires = Requirements(training_networks=True, architecture=True)

    @staticmethod
    def _features(zoo: Zoo) -> np.ndarray:
        return np.column_stack([np.log(zoo.table["n_params"].to_numpy(float)), zoo.table["depth"]])

    def fit(self, zoo: Zoo, budget: float) -> ParamDepthRegression:
        self.model = LinearRegression().fit(self._features(zoo), zoo.target(self.target))
        return self

    def predict(self, zoo: Zoo, budget: float) -> np.ndarray:
        return self.model.predict(self._features(zoo))


def _skip_reason(p: Predictor, zoo: Zoo, budget: float) -> str | None:
    missing = [name for name in p.requires.probes if name not in zoo.spec.probes]
    if missing:
        raise ValueError(f"{p.name} needs probes {missing}, which the zoo did not record")
    visible = zoo.visible_evals(budget)
    if visible < p.requires.min_evals:
        return f"needs {p.requires.min_evals} evaluation(s), {visible} visible at {budget}"
    if p.requires.weights and budget < zoo.spec.epochs:
        return f"needs final weights, visible only at budget {zoo.spec.epochs}"
    return None


def fit_predict(p: Predictor, train: Zoo, held: Zoo, budget: float, target="final_val_acc"):
    """Fit a copy of `p` on `train` and query it on `held` truncated at `budget`.

    Returns (the fitted copy, predictions [len(held)], fit seconds, query seconds)."""
    p = copy.deepcopy(p)  # every fit starts from the user's unfitted predictor
    p.target = target
    start = time.perf_counter()
    p.fit(train, budget)
    fit_seconds = time.perf_counter() - start
    view = held.truncate(budget)
    start = time.perf_counter()
    pred = np.asarray(p.predict(view, budget), dtype=float)
    query_seconds = time.perf_counter() - start
    if pred.shape != (len(held),):
        raise ValueError(f"{p.name}.predict returned shape {pred.shape}, expected {(len(held),)}")
    return p, pred, fit_seconds, query_seconds


def _run_one(p: Predictor, train: Zoo, held: Zoo, truth: np.ndarray, budget: float, target):
    _, pred, fit_seconds, query_seconds = fit_predict(p, train, held, budget, target)
    ok = np.isfinite(pred)
    metrics = all_metrics(truth[ok], pred[ok]) if ok.sum() >= 2 else {}
    return {
        "n_predicted": int(ok.sum()),
        **metrics,
        "fit_seconds": fit_seconds,
        "query_seconds_per_network": query_seconds / max(1, len(truth)),
        "epochs_per_network": min(budget, held.spec.epochs),
        "init_epochs": len(train) * train.spec.epochs,
    }


def evaluate(
    predictors: Sequence[Predictor],
    zoo: Zoo,
    budgets: Sequence[float],
    target: str = "final_val_acc",
    train_size: int | Sequence[int] = 100,
    seed: int | Sequence[int] = 0,
) -> pd.DataFrame:
    """Fit and query every predictor at every budget, the same way for all.

    Networks whose target is not finite (diverged) are dropped. For each seed the remaining
    networks are shuffled once; the first `train_size` train the methods that need trained
    networks, and the networks after the largest training size are the held-out set, the
    same for every method, size and budget of that seed. Methods that need no trained
    networks fit on an empty zoo and are reported once per seed with ``train_size`` 0.

    Args:
        predictors: unfitted predictors (copied before each fit).
        zoo: a fully visible zoo.
        budgets: epochs observed per held-out network.
        target: one of `common.zoo.TARGETS`.
        train_size: training-set size(s).
        seed: split seed(s).

    Returns:
        One row per (method, budget, train_size, seed): the metrics of
        `common.metrics.all_metrics` on the held-out networks, ``n_test``, ``n_predicted``,
        ``fit_seconds``, ``query_seconds_per_network``, ``epochs_per_network`` and
        ``init_epochs`` (epochs of fully trained networks consumed by fitting).
    """
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; expected one of {TARGETS}")
    sizes = [train_size] if np.isscalar(train_size) else list(train_size)
    seeds = [seed] if np.isscalar(seed) else list(seed)
    valid = np.flatnonzero(np.isfinite(zoo.target(target)))
    if len(valid) < max(sizes) + 2:
        raise ValueError(
            f"{len(valid)} networks with a finite {target}: too few for train_size"
            f" {max(sizes)} plus at least 2 held out"
        )
    rows = []
    for s in seeds:
        order = np.random.default_rng(s).permutation(valid)
        held = zoo.subset(order[max(sizes) :])
        truth = held.target(target)
        for budget in budgets:
            for p in predictors:
                reason = _skip_reason(p, zoo, budget)
                if reason:
                    log.info("skipping %s at budget %s: %s", p.name, budget, reason)
                    continue
                for size in sizes if p.requires.training_networks else [0]:
                    result = _run_one(p, zoo.subset(order[:size]), held, truth, budget, target)
                    rows.append(
                        {"method": p.name, "budget": float(budget), "train_size": size,
                         "seed": s, "n_test": len(truth), **result}
                    )  # fmt: skip
    return pd.DataFrame(rows)
