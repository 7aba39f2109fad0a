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
from common.zoo import TARGETS, Zoo, ZooSpec

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


def _order(valid: np.ndarray, seed: int) -> np.ndarray:
    """The seed's shuffle of the valid networks: a prefix trains, the rest is held out."""
    return np.random.default_rng(seed).permutation(valid)


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
        order = _order(valid, s)
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
                        {
                            "method": p.name,
                            "budget": float(budget),
                            "train_size": size,
                            "seed": s,
                            "n_test": len(truth),
                            **result,
                        }
                    )
    return pd.DataFrame(rows)


def predictions(
    predictors: Sequence[Predictor],
    zoo: Zoo,
    budget: float,
    target: str = "final_val_acc",
    train_size: int = 100,
    seed: int = 0,
) -> pd.DataFrame:
    """Predicted against true values on the held-out networks of `evaluate`'s split for
    `seed` (the scatter plots): one row per (method, network)."""
    valid = np.flatnonzero(np.isfinite(zoo.target(target)))
    order = _order(valid, seed)
    train, held = zoo.subset(order[:train_size]), zoo.subset(order[train_size:])
    parts = []
    for p in predictors:
        if _skip_reason(p, zoo, budget):
            continue
        fitting = train if p.requires.training_networks else zoo.subset([])
        _, pred, _, _ = fit_predict(p, fitting, held, budget, target)
        parts.append(
            pd.DataFrame({"method": p.name, "actual": held.target(target), "predicted": pred})
        )
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------- the cross-comparison chapter


@dataclass(frozen=True)
class ComparisonScale:
    """Zoos and protocol of the cross-comparison at one scale."""

    dataset: str
    blocks: int  # networks of the architecture zoo (Peephole's generator, one recipe)
    smallcnn: int  # networks of the hyperparameter zoo (Unterthiner's Small CNN)
    epochs: float
    train_sizes: tuple[int, ...]
    seeds: tuple[int, ...]
    base_width: int  # blocks family width
    max_params: int | None  # blocks family weight cap
    orderings: int = 10  # random orderings of the simulated searches
    n_search: int = 10  # random-search configurations of the learned predictors
    predictor_epochs: int = 60  # training epochs of neural predictors (Peephole)
    # the blocks recipe's lr and optimiser, and each zoo's minibatch (None: the family's)
    blocks_lr: float = 0.1
    blocks_optimizer: str = "sgd"
    blocks_batch: int | None = None
    smallcnn_batch: int | None = None
    blocks_copies: int = 2  # block copies per stage


# Book scale, calibrated (issue 14; the reasoning is in peephole.experiments and
# weights_to_acc.experiments): the blocks zoo is the Peephole chapter's own (the same spec,
# one build serves both), 15 epochs at batch 16 with Adam; the Small CNNs at batch 8.
COMPARISON_SCALES = {
    "smoke": ComparisonScale(
        "digits", 20, 20, 2.0, (8,), (0,), 4, 4_000, orderings=2, n_search=2, predictor_epochs=5
    ),
    "book": ComparisonScale(
        "digits",
        160,
        240,
        15.0,
        (25, 50, 100),
        (0, 1, 2),
        16,
        150_000,
        blocks_lr=1e-3,
        blocks_optimizer="adam",
        blocks_batch=16,
        smallcnn_batch=8,
        blocks_copies=1,
    ),
    "paper": ComparisonScale(
        "cifar10",
        1000,
        1000,
        200.0,
        (50, 100, 200),
        tuple(range(5)),
        16,
        None,
        n_search=100,
        predictor_epochs=300,
    ),
}
COMPARISON_PROBES = ("weight_stats", "fh")  # W̃_L for the weights GBM, Cao's estimate


def comparison_scale(scale: str) -> ComparisonScale:
    if scale not in COMPARISON_SCALES:
        raise ValueError(f"unknown scale {scale!r}; expected one of {sorted(COMPARISON_SCALES)}")
    return COMPARISON_SCALES[scale]


def comparison_zoos(scale: str, seed: int = 0, dataset: str | None = None) -> dict[str, ZooSpec]:
    """The two zoos of the chapter, with the validation curve every half epoch and the probes
    every method needs: architectures vary (``blocks``) or hyperparameters do (``smallcnn``).
    `dataset` replaces the scale's own (digits at book scale, CIFAR-10 at paper scale)."""
    s = comparison_scale(scale)
    dataset = dataset or s.dataset
    common = {"seed": seed, "epochs": s.epochs, "eval_every": 0.5, "probes": COMPARISON_PROBES}
    options = {"base_width": s.base_width, "max_params": s.max_params}
    if (s.blocks_lr, s.blocks_optimizer) != (0.1, "sgd"):
        options |= {"lr": s.blocks_lr, "optimizer": s.blocks_optimizer}
    options |= {"copies": s.blocks_copies} if s.blocks_copies != 2 else {}
    return {
        "architectures": ZooSpec(
            "blocks", dataset, s.blocks, family_options=options, batch_size=s.blocks_batch, **common
        ),
        "hyperparameters": ZooSpec(
            "smallcnn",
            dataset,
            s.smallcnn,
            scaling="symmetric",
            batch_size=s.smallcnn_batch,
            **common,
        ),
    }


def comparison_budgets(epochs: float) -> list[float]:
    """0, 1 and 2 epochs and 10 / 25 / 50 % of the full training (within it)."""
    points = {0.0, 1.0, 2.0, 0.1 * epochs, 0.25 * epochs, 0.5 * epochs}
    return sorted(b for b in points if b <= epochs)


def cost_map(table: pd.DataFrame, metric: str = "kendall_tau") -> pd.DataFrame:
    """White et al.'s cost map: per method and budget, the initialisation cost (epochs of
    fully trained networks consumed, at the largest training size), the query cost (epochs
    per network plus predictor seconds) and the mean `metric`."""
    largest = table[table.train_size.isin([0, table.train_size.max()])]
    out = largest.groupby(["method", "budget"]).agg(
        init_epochs=("init_epochs", "mean"),
        query_epochs=("epochs_per_network", "mean"),
        query_seconds=("query_seconds_per_network", "mean"),
        fit_seconds=("fit_seconds", "mean"),
        score=(metric, "mean"),
    )
    return out.rename(columns={"score": metric}).reset_index()


def decision_table(tables: dict[str, pd.DataFrame], metric: str = "kendall_tau"):
    """For each search space and budget: the best method by mean `metric` (over seeds, at
    the largest training size), the runner-up, and the margin between them."""
    rows = []
    for space, table in tables.items():
        largest = table[table.train_size.isin([0, table.train_size.max()])]
        means = largest.groupby(["budget", "method"])[metric].mean().dropna()
        for budget, group in means.groupby(level=0):
            ranked = group.droplevel(0).sort_values(ascending=False)
            second = ranked.index[1] if len(ranked) > 1 else "-"
            rows.append(
                {
                    "search space": space,
                    "budget": budget,
                    "use": ranked.index[0],
                    metric: ranked.iloc[0],
                    "runner-up": second,
                    "margin": ranked.iloc[0] - ranked.iloc[1] if len(ranked) > 1 else np.nan,
                }
            )
    return pd.DataFrame(rows)


CLAIMS = (  # (paper, claim, method, baseline or None, budget: "zero" or "quarter")
    ("Peephole", "architecture alone ranks networks (τ at budget 0)", "Peephole", None, "zero"),
    (
        "Baker et al.",
        "SRM beats the last seen value (Δτ at 25 %)",
        "SRM[nu_svr_rbf]",
        "LastSeenValue",
        "quarter",
    ),
    (
        "PEng4NN",
        "its estimate beats the last seen value (Δτ at 25 %)",
        "PEng4NNPredictor",
        "LastSeenValue",
        "quarter",
    ),
    (
        "Cao et al.",
        "the ensemble beats the last seen value (Δτ at 25 %)",
        "FeatureHistory",
        "LastSeenValue",
        "quarter",
    ),
    (
        "Unterthiner et al.",
        "weights GBM beats the last seen value (Δτ at 25 %)",
        "Weights[gbm]",
        "LastSeenValue",
        "quarter",
    ),
)


def claims(table: pd.DataFrame, quarter: float, metric: str = "kendall_tau") -> pd.DataFrame:
    """Each paper's central claim checked per search space (columns) in the shared setting:
    Peephole's τ at budget 0, the others' τ minus the last seen value's at budget `quarter`
    (positive: the method ranks better than reading the curve). `table` has a ``space``
    column; a method missing from it gives NaN."""
    mean = table.groupby(["space", "method", "budget"])[metric].mean()
    rows = []
    for paper, claim, method, baseline, at in CLAIMS:
        budget = 0.0 if at == "zero" else quarter
        row = {"paper": paper, "claim": claim}
        for space in table.space.unique():
            value = mean.get((space, method, budget), np.nan)
            row[space] = value - mean.get((space, baseline, budget), np.nan) if baseline else value
        rows.append(row)
    return pd.DataFrame(rows)
