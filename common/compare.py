"""The one measurement protocol: the `Predictor` contract and the evaluator every chapter uses.

Every method exposes an adapter in the style of scikit-learn's estimators and NASLib's
predictors: it declares what it needs (`Requirements`), learns from fully trained networks in
`fit` (which returns the predictor, its fitted state in attributes ending in ``_``) and
predicts from a zoo truncated at a budget (epochs of training observed per network; 0 =
architecture only). `predict` before `fit` raises `NotFittedError`.

The protocol, not the method, decides what a method sees: `visible` hands it a view of the
zoo holding only what its `Requirements` declare (curves, architecture columns,
hyperparameter columns, named probes, weights), and at predict time nothing after the budget
and no target or test result. `evaluate` splits the networks by a named strategy (`SPLITS`:
seeded random splits, or the zoo's stored order where a paper does that; `held_out=` tests
on another zoo, for transfer), fits and queries every predictor the same way, and returns
one flat table; `summarise` gives means with Student-t intervals over the splits, beside a
noise ceiling. Two baselines prove it: the last seen validation accuracy and a linear
regression on (log parameter count, depth).
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

from common.metrics import all_metrics
from common.parallel import delayed, parallel
from common.scaling import summary
from common.train import Recipe
from common.zoo import TARGETS, Zoo
from common.zoospec import is_whole

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Requirements:
    """What a method needs to see; `visible` hands it exactly this and nothing else."""

    training_networks: bool = False  # learns from fully trained networks in `fit`
    curve: bool = False  # learning curves up to the budget
    architecture: bool = False  # the arch JSON, n_params, depth and the family's extras
    hyperparameters: bool = False  # the training recipe's columns and the family's extras
    probes: tuple[str, ...] = ()  # probe names the zoo must have recorded
    weights: bool = False  # final weights (only visible at the full budget)
    min_evals: int = 0  # evaluations that must be visible before it can predict


class NotFittedError(RuntimeError):
    """`predict` was called on a predictor that has not been fitted."""


class Predictor(ABC):
    """A performance predictor. `target` is set by the evaluator before `fit`.

    Subclasses implement `fit` (returning ``self``; fitted state in attributes ending in
    ``_``, as in scikit-learn) and `predict`; the base class makes `predict` raise
    `NotFittedError` until `fit` has run.
    """

    requires: Requirements = Requirements()
    target: str = "final_val_acc"
    # True where `fit` learns the same at every budget (it reads only fully trained
    # networks): `evaluate` then fits once per split and training set and reuses the fit
    budget_free_fit: bool = False
    # rough cost of predicting one network from one epoch of its curve, in units of a fit's
    # cost per training network: only orders `evaluate`'s tasks (costliest first), so that
    # a long task does not start last; high for methods that fit a curve per network
    query_cost: float = 0.01

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        predict = cls.__dict__.get("predict")
        if predict is None or getattr(predict, "checks_fitted", False):
            return

        @functools.wraps(predict)
        def checked(self, zoo, budget):
            if not self.is_fitted():
                raise NotFittedError(
                    f"{self.name} is not fitted: call fit(zoo, budget) before predict"
                )
            return predict(self, zoo, budget)

        checked.checks_fitted = True
        cls.predict = checked

    @property
    def name(self) -> str:
        """The method's label in tables (the class name unless overridden)."""
        return type(self).__name__

    def is_fitted(self) -> bool:
        """Whether `fit` has run: some public attribute ends in ``_`` (scikit-learn's test)."""
        return any(k.endswith("_") and not k.startswith("_") for k in vars(self))

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
        """Nothing to learn."""
        self.budget_ = budget
        return self

    def predict(self, zoo: Zoo, budget: float) -> np.ndarray:
        """Each network's last finite validation accuracy within the budget."""
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
        """Least squares on the training networks."""
        self.model_ = LinearRegression().fit(self._features(zoo), zoo.target(self.target))
        return self

    def predict(self, zoo: Zoo, budget: float) -> np.ndarray:
        """The fitted line at each network's (log parameters, depth)."""
        return self.model_.predict(self._features(zoo))


# ------------------------------------------------------------------- what a method may see

ALWAYS = ("idx", "status")  # every view keeps the network's identity and whether it diverged
ARCHITECTURE = ("arch", "n_params", "depth")
RECIPE = tuple(f.name for f in dataclasses.fields(Recipe))
RESULTS = ("test_acc", "test_loss", "wall_time", "device", "host", "seed", *TARGETS)


def visible(zoo: Zoo, requires: Requirements, budget: float | None = None) -> Zoo:
    """The view of `zoo` a method with `requires` may read.

    With ``budget=None`` (fitting on fully trained networks) the targets stay; with a
    budget (predicting) the zoo is truncated there and the targets, test results, seeds,
    wall times and devices are dropped even at the full budget. Undeclared parts are removed
    wherever the budget is: curves unless ``curve``; architecture columns unless
    ``architecture``; training-recipe columns unless ``hyperparameters``; a family's extra
    columns unless either; probes not named; final weights unless ``weights``. Reading a
    removed part raises the zoo's usual error (KeyError / ValueError naming it).
    """
    view = zoo if budget is None else zoo.truncate(budget)
    table = view.table
    extras = [c for c in table if c not in (*ALWAYS, *ARCHITECTURE, *RECIPE, *RESULTS)]
    drop = [] if budget is None else [c for c in RESULTS if c in table]
    drop += [] if requires.architecture else [c for c in ARCHITECTURE if c in table]
    drop += [] if requires.hyperparameters else [c for c in RECIPE if c in table]
    drop += [] if requires.architecture or requires.hyperparameters else extras

    def keep(name: str) -> bool:
        if name.startswith("curve/"):
            return requires.curve
        if name.startswith("probe/"):
            return name.removeprefix("probe/") in requires.probes
        return name == "weights" and requires.weights

    names = {k for a in view.arrays for k in a} | {"weights"}
    hidden = view.hidden | {k for k in names if not keep(k)}
    arrays = [{k: v for k, v in a.items() if keep(k)} for a in view.arrays]
    return replace(view, table=table.drop(columns=drop), arrays=arrays, hidden=frozenset(hidden))


def _skip_reason(p: Predictor, zoo: Zoo, budget: float) -> str | None:
    missing = [name for name in p.requires.probes if name not in zoo.spec.probes]
    if missing:
        raise ValueError(f"{p.name} needs probes {missing}, which the zoo did not record")
    visible_evals = zoo.visible_evals(budget)
    if visible_evals < p.requires.min_evals:
        return f"needs {p.requires.min_evals} evaluation(s), {visible_evals} visible at {budget}"
    if p.requires.weights and budget < zoo.spec.epochs:
        return f"needs final weights, visible only at budget {zoo.spec.epochs}"
    return None


def fit(p: Predictor, train: Zoo, budget: float, target: str = "final_val_acc"):
    """A copy of `p` fitted on the view of `train` its requirements allow, and the seconds
    the fit took. TypeError if `fit` does not return the predictor."""
    _check_arguments([1], [0], [budget])
    p = copy.deepcopy(p)  # every fit starts from the user's unfitted predictor
    p.target = target
    start = time.perf_counter()
    fitted = p.fit(visible(train, p.requires), budget)
    seconds = time.perf_counter() - start
    if fitted is not p:
        raise TypeError(f"{p.name}.fit must return self (scikit-learn's convention)")
    return p, seconds


def fit_predict(p: Predictor, train: Zoo, held: Zoo, budget: float, target="final_val_acc"):
    """Fit a copy of `p` on the view of `train` its requirements allow, and query it on the
    view of `held` truncated at `budget`.

    Returns (the fitted copy, predictions [len(held)], fit seconds, query seconds)."""
    p, fit_seconds = fit(p, train, budget, target)
    view = visible(held, p.requires, budget)
    start = time.perf_counter()
    pred = np.asarray(p.predict(view, budget), dtype=float)
    query_seconds = time.perf_counter() - start
    if pred.shape != (len(held),):
        raise ValueError(f"{p.name}.predict returned shape {pred.shape}, expected {(len(held),)}")
    return p, pred, fit_seconds, query_seconds


# ------------------------------------------------------------------------ split strategies


def _finished(zoo: Zoo, target: str) -> np.ndarray:
    """Positions of the networks whose `target` is known (`Zoo.finished`'s filter)."""
    return np.flatnonzero(np.isfinite(zoo.target(target)))


def random_order(n: int, seed: int) -> np.ndarray:
    """The seed's shuffle of the networks: a prefix trains, the rest is held out."""
    if not (is_whole(n) and n >= 0):
        raise ValueError(f"n={n!r}: expected a number of networks >= 0")
    return np.random.default_rng(seed).permutation(n)


def stored_order(n: int, seed: int) -> np.ndarray:
    """The zoo's own order (the seed is ignored): the first networks train. Only where a
    paper does this (e.g. the first networks of a search train its predictor)."""
    return np.arange(n)


SPLITS = {"random": random_order, "stored order": stored_order}


def _run_one(
    p: Predictor, train: Zoo, held: Zoo, truth: np.ndarray, budget: float, target, fitted=None
):
    """One row of `evaluate`; `fitted`: (the fitted copy, its fit seconds) to reuse, for a
    predictor whose fit does not depend on the budget."""
    if fitted is None:
        _, pred, fit_seconds, query_seconds = fit_predict(p, train, held, budget, target)
    else:
        (p, fit_seconds), start = fitted, time.perf_counter()
        pred = np.asarray(p.predict(visible(held, p.requires, budget), budget), dtype=float)
        query_seconds = time.perf_counter() - start
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


def _check_arguments(sizes: list, seeds: list, budgets) -> None:
    """ValueError naming any training size, seed or budget outside its domain."""
    bad = [n for n in sizes if not is_whole(n) or n < 1]
    if not sizes or bad:
        raise ValueError(f"train_size {bad or sizes}: expected integers >= 1")
    bad = [s for s in seeds if not is_whole(s) or s < 0]
    if not seeds or bad:
        raise ValueError(f"seed {bad or seeds}: expected integers >= 0")
    bad = [b for b in budgets if not np.isfinite(b) or b < 0]
    if bad:
        raise ValueError(f"budgets {bad}: expected finite epochs >= 0")


def evaluate(
    predictors: Sequence[Predictor],
    zoo: Zoo,
    budgets: Sequence[float],
    target: str = "final_val_acc",
    train_size: int | Sequence[int] = 100,
    seed: int | Sequence[int] = 0,
    split: str = "random",
    held_out: Zoo | None = None,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Fit and query every predictor at every budget, the same way for all.

    Networks whose target is not finite (diverged) are dropped. For each seed the remaining
    networks are ordered by the `split` strategy (`SPLITS`); the first `train_size` train
    the methods that need trained networks, and the networks after the largest training
    size are the held-out set, the same for every method, size and budget of that seed.
    With `held_out` (another zoo: a held-out family or dataset, for transfer) every finished
    network of it is the held-out set instead. Methods that need no trained networks fit on
    an empty zoo and are reported once per seed with ``train_size`` 0.

    Args:
        predictors: unfitted predictors (copied before each fit).
        zoo: a fully visible zoo.
        budgets: epochs observed per held-out network.
        target: one of `common.zoo.TARGETS`.
        train_size: training-set size(s).
        seed: split seed(s).
        split: a name of `SPLITS` (``random`` or ``stored order``).
        held_out: a zoo to test on instead of the rest of `zoo`.
        n_jobs: worker processes (joblib; -1: one per core). Each (predictor, seed,
            training size) is one task, and each budget too where the fit depends on it;
            the table is the same as with 1, except the timing columns (methods that train
            a torch model train it on one thread everywhere).

    Returns:
        One row per (method, budget, train_size, seed): the metrics of
        `common.metrics.all_metrics` on the held-out networks, ``split``, ``n_test``,
        ``n_predicted``, ``fit_seconds``, ``query_seconds_per_network``,
        ``epochs_per_network`` and ``init_epochs`` (epochs of fully trained networks
        consumed by fitting).
    """
    call = {"predictors": predictors, "zoo": zoo, "budgets": budgets, "target": target}
    call |= {"train_size": train_size, "seed": seed, "split": split, "held_out": held_out}
    return evaluate_many([call], n_jobs)[0]


def evaluate_many(calls: Sequence[dict], n_jobs: int = 1) -> list[pd.DataFrame]:
    """The table of `evaluate` for each of `calls` (dicts of its keyword arguments but
    ``n_jobs``), with every call's tasks in one pool of `n_jobs` workers, the costliest first
    (`_cost`), so no worker waits at the end of one call while another finishes it."""
    plans = [_plan(**call) for call in calls]
    tasks = [task for plan in plans for task in plan["tasks"]]
    order = list(range(len(tasks)))  # in one process: in the given order
    if n_jobs != 1:  # in workers: the costliest first, so that none starts last
        order.sort(key=lambda i: -_cost(*tasks[i][1]))
    done = parallel([delayed(_run_many)(*tasks[i][1]) for i in order], n_jobs)
    results = [None] * len(tasks)
    for i, result in zip(order, done, strict=True):
        results[i] = result
    tables, first = [], 0
    for plan in plans:
        count = len(plan["tasks"])
        tables.append(_assemble(plan, results[first : first + count]))
        first += count
    return tables


def _plan(
    predictors: Sequence[Predictor],
    zoo: Zoo,
    budgets: Sequence[float],
    target: str = "final_val_acc",
    train_size: int | Sequence[int] = 100,
    seed: int | Sequence[int] = 0,
    split: str = "random",
    held_out: Zoo | None = None,
) -> dict:
    """The checked arguments of `evaluate` and its tasks: ((method, seed, held-out size),
    the arguments of `_run_many`), one per (predictor, seed, training size), and one per
    budget as well where the fit depends on the budget."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; expected one of {TARGETS}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {sorted(SPLITS)}")
    sizes = [train_size] if np.isscalar(train_size) else list(train_size)
    seeds = [seed] if np.isscalar(seed) else list(seed)
    _check_arguments(sizes, seeds, budgets)
    valid = _finished(zoo, target)
    spare = 0 if held_out is not None else 2
    if len(valid) < max(sizes) + spare:
        raise ValueError(
            f"{len(valid)} networks with a finite {target}: too few for train_size"
            f" {max(sizes)}" + (" plus at least 2 held out" if spare else "")
        )
    if held_out is not None:
        held_out = held_out.finished(target)
        if len(held_out) < 2:
            raise ValueError(f"held_out has {len(held_out)} finished networks; need at least 2")
    if split == "stored order" and len(seeds) > 1:
        log.warning("split 'stored order' ignores the seed: %d identical splits", len(seeds))
    tasks = []
    for s in seeds:
        order = valid[SPLITS[split](len(valid), s)]
        held = held_out if held_out is not None else zoo.subset(order[max(sizes) :])
        pool = zoo.subset(order[: max(sizes)])  # its first n networks: training size n
        empty = pool.subset(np.arange(0))  # for methods that learn from no network
        for p in predictors:
            kept = []
            for budget in budgets:
                reason = _skip_reason(p, held, budget)
                if reason:
                    log.info("skipping %s at budget %s: %s", p.name, budget, reason)
                    continue
                kept.append(float(budget))
            if not kept:
                continue
            # a worker receives only what the method may read (`visible`, the targets kept
            # for scoring): the weight statistics, most of a zoo's bytes, go to the methods
            # that read them, not with every task (2 cores: the book grid's tasks were 1.8 GB
            # pickled, their dispatch 7.5 s of the calling process's CPU beside the workers)
            learn = visible(pool if p.requires.training_networks else empty, p.requires)
            seen = visible(held, p.requires)
            for n in sizes if p.requires.training_networks else [0]:
                runs = [(budget, n) for budget in kept]
                # one task per size; per budget too where each budget is a fit of its own
                for part in [runs] if p.budget_free_fit else [[r] for r in runs]:
                    tasks.append(((p.name, s, len(held)), (p, learn, seen, part, target)))
    label = "held-out zoo" if held_out is not None else split
    return {"tasks": tasks, "seeds": seeds, "budgets": list(budgets), "label": label}


def _cost(p: Predictor, pool: Zoo, held: Zoo, runs, target) -> float:
    """A task's rough cost, for ordering only: the fits it makes times the networks they
    learn from, plus the held-out networks' visible epochs times `Predictor.query_cost`."""
    fits = 1 if p.budget_free_fit else len(runs)
    epochs = sum(budget for budget, _ in runs) * len(held)
    return fits * (1 + max(n for _, n in runs)) + epochs * p.query_cost


def _assemble(plan: dict, results: list) -> pd.DataFrame:
    """`evaluate`'s table from its plan and the results of the plan's tasks."""
    rows = []
    keys = [key for key, _ in plan["tasks"]]
    for (name, s, n_test), result in zip(keys, results, strict=True):
        for (budget, size), row in result:
            rows.append(
                {
                    "method": name,
                    "budget": budget,
                    "train_size": size,
                    "seed": s,
                    "split": plan["label"],
                    "n_test": n_test,
                    **row,
                }
            )
    # rows by seed, then budget, then method (in the given order), then training size
    seeds, budgets = plan["seeds"], plan["budgets"]
    rank = {name: i for i, (name, _, _) in enumerate(keys)}
    when = {float(b): i for i, b in reversed(list(enumerate(budgets)))}
    rows.sort(key=lambda r: (seeds.index(r["seed"]), when[r["budget"]], rank[r["method"]]))
    return pd.DataFrame(rows)


def _run_many(p: Predictor, pool: Zoo, held: Zoo, runs, target) -> list:
    """`_run_one` for each (budget, training size) of one predictor and split: the unit of
    work `evaluate` hands to a worker."""
    truth = held.target(target)
    fits: dict[int, tuple] = {}  # size -> (fitted copy, seconds), where the fit is budget-free
    rows = []
    for budget, n in runs:
        train = pool.subset(np.arange(n))
        if p.budget_free_fit and n not in fits:
            fits[n] = fit(p, train, budget, target)
        rows.append(((budget, n), _run_one(p, train, held, truth, budget, target, fits.get(n))))
    return rows


def summarise(
    table: pd.DataFrame,
    metric: str = "kendall_tau",
    by: Sequence[str] = ("method", "budget", "train_size"),
    ceiling: float | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Mean of `metric` over the splits of `evaluate`'s table with a `level` Student-t
    interval (``lo``/``hi``; equal to the mean with one split), the number of splits, and
    the noise ceiling beside them (``ceiling``: no predictor can rank better than the
    networks' own re-training; NaN if not given)."""
    if metric not in table:
        raise ValueError(f"no column {metric!r} in the table; columns: {list(table.columns)}")
    parts = []
    for key, group in table.groupby(list(by), sort=True):
        stats = summary(group.assign(size=0, value=group[metric]), level).iloc[0]
        parts.append(
            {
                **dict(zip(by, key if isinstance(key, tuple) else (key,), strict=True)),
                metric: stats["mean"],
                "lo": stats["lo"],
                "hi": stats["hi"],
                "splits": int(stats["splits"]),
                "ceiling": np.nan if ceiling is None else ceiling,
            }
        )
    return pd.DataFrame(parts)


def predictions(
    predictors: Sequence[Predictor],
    zoo: Zoo,
    budget: float,
    target: str = "final_val_acc",
    train_size: int = 100,
    seed: int = 0,
    split: str = "random",
) -> pd.DataFrame:
    """Predicted against true values on the held-out networks of `evaluate`'s split for
    `seed` (the scatter plots): one row per (method, network)."""
    _check_arguments([train_size], [seed], [budget])
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; expected one of {sorted(SPLITS)}")
    valid = _finished(zoo, target)
    if len(valid) < train_size + 2:
        raise ValueError(
            f"{len(valid)} networks with a finite {target}: too few for train_size"
            f" {train_size} plus at least 2 held out"
        )
    order = valid[SPLITS[split](len(valid), seed)]
    train, held = zoo.subset(order[:train_size]), zoo.subset(order[train_size:])
    parts = []
    for p in predictors:
        if _skip_reason(p, held, budget):
            continue
        fitting = train if p.requires.training_networks else zoo.subset([])
        _, pred, _, _ = fit_predict(p, fitting, held, budget, target)
        parts.append(
            pd.DataFrame({"method": p.name, "actual": held.target(target), "predicted": pred})
        )
    return pd.concat(parts, ignore_index=True)
