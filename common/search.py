"""Hyperparameter and architecture search written once against one interface.

An *objective* runs a configuration for up to ``epochs`` epochs and yields its validation
value after each whole epoch (higher is better); whoever consumes the iterator decides how
far training goes, so early-stopping rules can stop it part-way. `ZooObjective` replays a
zoo's recorded curves; `common.train.Run` serves live training the same way. Successive
halving and Hyperband follow Li et al. (2018, Algorithm 1); random search trains every
sampled configuration fully. Every evaluation trains from scratch and is charged the epochs
it ran, as in Li et al. and Baker et al. (Appendix C, Algorithm 2).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from common import compare
from common.parallel import delayed, parallel
from common.zoo import Zoo
from common.zoospec import is_whole

Objective = Callable[[object, int], Iterator[float]]


def _is_count(value, low: int) -> bool:
    """An integer (not a bool, not a float) of at least `low`."""
    return is_whole(value) and value >= low


@dataclass
class Trial:
    """One evaluation: a configuration run for `epochs` (of `resource` allowed)."""

    config: object
    resource: int  # epochs the search allowed
    epochs: int  # epochs actually run (fewer when stopped early)
    value: float  # the value the search used to rank it


@dataclass
class SearchResult:
    """The trials of one search, in the order they ran."""

    trials: list[Trial] = field(default_factory=list)

    @property
    def total_epochs(self) -> int:
        """Epochs the search spent over all its trials."""
        return sum(t.epochs for t in self.trials)

    def best(self, min_resource: int | None = None) -> Trial:
        """The best trial (optionally among those allowed at least `min_resource` epochs)."""
        pool = [t for t in self.trials if min_resource is None or t.resource >= min_resource]
        return max(pool, key=lambda t: t.value)

    def best_so_far(self) -> tuple[np.ndarray, np.ndarray]:
        """(cumulative epochs, best value so far) after each trial: the trajectory plots."""
        epochs = np.cumsum([t.epochs for t in self.trials])
        return epochs, np.maximum.accumulate([t.value for t in self.trials])


class ZooObjective:
    """Replays a zoo: configuration = network position, values from its recorded curve.

    Args:
        zoo: a zoo evaluated at every whole epoch (eval_every dividing 1).
        curve: the curve to replay (``val_acc`` by default).
        values: instead of a curve, any [n_networks, n_evals] signal aligned with the zoo's
            evaluations (e.g. a probe's estimate: Cao et al.'s proxy).
    """

    def __init__(self, zoo: Zoo, curve: str = "val_acc", values: np.ndarray | None = None):
        whole = np.isclose(zoo.eval_epochs, np.round(zoo.eval_epochs))
        self.epochs = np.round(zoo.eval_epochs[whole]).astype(int)
        if len(self.epochs) == 0 or not np.array_equal(
            self.epochs, np.arange(1, len(self.epochs) + 1)
        ):
            raise ValueError("the zoo must be evaluated at every whole epoch to be replayed")
        values = zoo.curve(curve) if values is None else np.asarray(values, dtype=float)
        if values.shape != (len(zoo), len(zoo.eval_epochs)):
            expected = (len(zoo), len(zoo.eval_epochs))
            raise ValueError(
                f"values of shape {values.shape}; expected {expected} (networks × evaluations)"
            )
        self.values = values[:, whole]
        self.max_epochs = int(self.epochs[-1])

    def __call__(self, config: int, epochs: int) -> Iterator[float]:
        """Replay `config`'s recorded values for its first `epochs` epochs."""
        if not 1 <= epochs <= self.max_epochs:
            raise ValueError(f"epochs={epochs} outside the recorded 1..{self.max_epochs}")
        for value in self.values[config, :epochs]:
            yield float(value) if np.isfinite(value) else -np.inf  # diverged: worst


def run_fully(objective: Objective, config, epochs: int) -> Trial:
    """Run `config` for `epochs`; its value is the last one observed."""
    values = list(objective(config, epochs))
    return Trial(config, epochs, len(values), values[-1] if values else -np.inf)


def top_k(trials: list[Trial], k: int) -> list:
    """Configurations of the k best trials (stable on ties)."""
    order = sorted(range(len(trials)), key=lambda i: -trials[i].value)
    return [trials[i].config for i in order[:k]]


def random_search(sample: Callable[[int], list], objective: Objective, n: int, epochs: int):
    """Train `n` sampled configurations fully."""
    return SearchResult([run_fully(objective, c, epochs) for c in sample(n)])


def hyperband_brackets(max_resource: int, eta: float = 3) -> list[tuple[int, int, int]]:
    """(s, n, r) of each bracket: s_max = ⌊log_η R⌋, n = ⌈(s_max + 1) η^s / (s + 1)⌉,
    r = R η^−s (Li et al., Algorithm 1; r is left unrounded so that the last rung is R)."""
    if max_resource < 1 or eta <= 1:
        raise ValueError(f"need R >= 1 and η > 1, got R={max_resource}, η={eta}")
    s_max = int(math.floor(math.log(max_resource, eta) + 1e-9))
    return [
        (s, math.ceil((s_max + 1) * eta**s / (s + 1)), max_resource * eta**-s)
        for s in range(s_max, -1, -1)
    ]


Evaluate = Callable[[list, int, int], list[Trial]]  # (configs, resource, n_next) -> trials


def successive_halving(configs: list, r: float, s: int, eta: float, evaluate: Evaluate):
    """One bracket: run n_i configurations for r_i = r η^i epochs (rounded, at least 1), keep
    the top ⌊n_i / η⌋."""
    trials = []
    for i in range(s + 1):
        n_i = len(configs)
        r_i = max(1, round(r * eta**i))
        n_next = int(n_i // eta) if i != s else 1
        rung = evaluate(configs, r_i, n_next)
        trials += rung
        configs = top_k(rung, max(1, n_next))
    return trials


def hyperband(
    sample: Callable[[int], list],
    objective: Objective,
    max_resource: int,
    eta: float = 3,
    evaluate: Evaluate | None = None,
    repeats: int = 1,
) -> SearchResult:
    """Hyperband (Li et al., Algorithm 1) over `sample(n)` configurations, `repeats` times in
    a row (Baker et al. run 40 consecutive Hyperband iterations, Fig. 6).

    Args:
        sample: draws n new configurations.
        objective: runs a configuration epoch by epoch.
        max_resource: R, the most epochs any configuration gets.
        eta: η, the halving rate.
        evaluate: how a rung is run; default trains every configuration fully (f-Hyperband
            passes its early-stopping version).
    """
    evaluate = evaluate or (lambda cs, r, _: [run_fully(objective, c, r) for c in cs])
    result = SearchResult()
    for _ in range(repeats):
        for s, n, r in hyperband_brackets(max_resource, eta):
            result.trials += successive_halving(sample(n), r, s, eta, evaluate)
    return result


def sampler_without_replacement(n_configs: int, seed: int = 0) -> Callable[[int], list]:
    """Draws configuration indices 0..n_configs−1 in a seeded random order, reshuffling
    when exhausted (for replayed zoos)."""
    if not _is_count(n_configs, 1):
        raise ValueError(f"n_configs={n_configs!r}: expected an integer >= 1")
    rng = np.random.default_rng(seed)
    pool: list[int] = []

    def sample(n: int) -> list:
        out = []
        while len(out) < n:
            if not pool:
                pool.extend(rng.permutation(n_configs).tolist())
            out.append(pool.pop())
        return out

    return sample


# ------------------------------------------------------------- simulated searches over a zoo


def outcome(result: SearchResult, truth: np.ndarray, max_resource: int) -> dict:
    """The network a search selects (best signal among its full-budget trials, which include
    any networks trained fully to fit a predictor), its regret against the best network of
    the zoo, and the epochs the search spent."""
    chosen = result.best(min_resource=max_resource).config
    return {
        "selected": chosen,
        "regret": float(np.nanmax(truth) - truth[chosen]),
        "epochs": result.total_epochs,
    }


def import_optuna():
    """Optuna, imported without tqdm's "IProgress not found" warning: Optuna imports
    ``tqdm.auto``, which in a kernel without ipywidgets would print it on the book's pages."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import optuna
    return optuna


def median_pruner_search(
    objective: ZooObjective, n_trials: int, seed: int = 0, warmup: int = 1
) -> SearchResult:
    """Optuna's MedianPruner (the practitioner's default) over a replayed zoo: configurations
    drawn at random, each stopped when its value falls below the median of earlier trials
    at the same epoch."""
    optuna = import_optuna()
    n, R = len(objective.values), objective.max_epochs
    sample = sampler_without_replacement(n, seed)
    result = SearchResult()

    def trial_fn(trial):
        config, value, epochs = sample(1)[0], -np.inf, 0
        for epochs, value in enumerate(objective(config, R), 1):
            trial.report(value, epochs)
            if trial.should_prune():
                result.trials.append(Trial(config, epochs, epochs, value))
                raise optuna.TrialPruned()
        result.trials.append(Trial(config, R, epochs, value))
        return value

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    pruner = optuna.pruners.MedianPruner(n_warmup_steps=warmup)
    study = optuna.create_study(direction="maximize", pruner=pruner)
    study.optimize(trial_fn, n_trials=n_trials)
    return result


def rule_search(
    stop_epochs: np.ndarray,
    estimates: np.ndarray,
    truth: np.ndarray,
    max_resource: int,
    order: np.ndarray,
) -> dict:
    """A search whose every configuration trains until its own stopping rule fires (NaN:
    never, so to `max_resource`) and is valued by its estimate; the best estimate wins
    (PEng4NN's engine). `order` only fixes which configurations are searched."""
    if not (np.shape(stop_epochs) == np.shape(estimates) == np.shape(truth)):
        raise ValueError(
            f"stop_epochs {np.shape(stop_epochs)}, estimates {np.shape(estimates)} and truth"
            f" {np.shape(truth)} must have one value per configuration"
        )
    if len(order) == 0:
        raise ValueError("order is empty: no configuration to search")
    stop = np.where(np.isfinite(stop_epochs), stop_epochs, max_resource)[order]
    value = np.where(np.isfinite(estimates), estimates, -np.inf)[order]
    chosen = int(order[int(np.argmax(value))])
    return {
        "selected": chosen,
        "regret": float(np.nanmax(truth) - truth[chosen]),
        "epochs": float(np.ceil(stop).sum()),
    }


@dataclass(frozen=True)
class Fitted:
    """A search signal from a `common.compare.Predictor` fitted inside the replay.

    In each ordering the first `fit_size` networks train fully, are charged their epochs,
    and are the predictor's training set (seen through `compare.visible`, as in
    `evaluate`); the search then runs over the other networks only, with the predictor's
    prediction at each whole epoch (from the networks truncated there) as its signal, so no
    network is ever scored by a predictor fitted on it. The training networks stay
    candidates with their observed final validation accuracy. `fit_budget` is the budget
    passed to `fit` (default: the zoo's full training, one fit per ordering)."""

    predictor: object
    fit_size: int
    fit_budget: float | None = None

    def __post_init__(self):
        if not _is_count(self.fit_size, 1):
            raise ValueError(f"Fitted.fit_size={self.fit_size!r}: expected an integer >= 1")
        if self.fit_budget is not None and not (
            np.isfinite(self.fit_budget) and self.fit_budget > 0
        ):
            raise ValueError(f"Fitted.fit_budget={self.fit_budget!r}: expected epochs > 0")


def fitted_signal(signal: Fitted, fit: Zoo, pool: Zoo) -> np.ndarray:
    """[len(pool), n_evals] predictions of `signal.predictor` fitted on `fit`, queried at
    every whole epoch on `pool` truncated there (NaN at the other evaluations)."""
    budget = signal.fit_budget if signal.fit_budget is not None else pool.spec.epochs
    p = compare.fit(signal.predictor, fit, budget)[0]
    values = np.full((len(pool), len(pool.eval_epochs)), np.nan)
    for j, e in enumerate(pool.eval_epochs):
        if np.isclose(e, round(e)):
            values[:, j] = p.predict(compare.visible(pool, p.requires, float(e)), float(e))
    return values


def _check_replay(n, signals, truth, orderings, eta, rules, seed) -> None:
    """ValueError naming the first argument of `replay_searches` outside its domain."""
    if not _is_count(orderings, 1):
        raise ValueError(f"orderings={orderings!r}: expected an integer >= 1")
    if not _is_count(seed, 0):
        raise ValueError(f"seed={seed!r}: expected an integer >= 0")
    if not (np.isfinite(eta) and eta > 1):
        raise ValueError(f"eta={eta!r}: expected a finite number > 1 (Hyperband's η)")
    if np.shape(truth) != (n,):
        raise ValueError(f"truth of shape {np.shape(truth)}; expected ({n},), one per network")
    for name, signal in signals.items():
        if isinstance(signal, Fitted) and not 1 <= signal.fit_size <= n - 2:
            raise ValueError(
                f"signal {name!r}: fit_size={signal.fit_size}; expected 1..{n - 2} (a zoo of"
                f" {n} networks, at least 2 left to search)"
            )
    for name, (stops, estimates) in (rules or {}).items():
        if np.shape(stops) != (n,) or np.shape(estimates) != (n,):
            raise ValueError(
                f"rule {name!r}: stop epochs {np.shape(stops)} and estimates"
                f" {np.shape(estimates)}; expected ({n},) each, one per network"
            )


def replay_searches(
    zoo: Zoo,
    signals: dict,
    truth: np.ndarray,
    orderings: int = 10,
    eta: float = 3,
    rules: dict | None = None,
    seed: int = 0,
    n_jobs: int = 1,
) -> pd.DataFrame:
    """Simulated searches over a zoo, each charged every epoch it causes, in `orderings`
    random orders (one joblib task per ordering, `n_jobs` workers; -1: one per core).

    Searches: Hyperband with every signal of `signals` (name -> an [n, evals] array aligned
    with the zoo's evaluations, e.g. ``last seen value``, or a `Fitted` predictor, whose
    training networks are charged in full and never scored by it); random search with full
    training of k = (the first Hyperband's epochs) / R configurations; Optuna's
    MedianPruner on the validation curve over 2k trials; every stopping rule of `rules`
    (name -> (stop epochs, estimates)). One row per (search, ordering): ``selected``,
    ``regret`` against the zoo's best network, ``epochs`` (all charged), ``fit_epochs``
    (the part spent training a predictor's networks)."""
    ZooObjective(zoo)  # refuses a zoo not evaluated at every whole epoch, before any work
    _check_replay(len(zoo), signals, truth, orderings, eta, rules, seed)
    parts = parallel(
        (
            delayed(_replay_ordering)(zoo, signals, truth, o, eta, rules, seed)
            for o in range(orderings)
        ),
        n_jobs,
    )
    return pd.DataFrame([row for part in parts for row in part])


def _replay_ordering(zoo: Zoo, signals: dict, truth, o: int, eta: float, rules, seed: int):
    """The rows of `replay_searches` for ordering `o` (the unit of work of a worker)."""
    plain = ZooObjective(zoo)
    R, n = plain.max_epochs, len(zoo)
    rows = []
    order = np.random.default_rng(seed + o).permutation(n)
    runs = {}
    for name, signal in signals.items():
        if isinstance(signal, Fitted):
            fit, pool = order[: signal.fit_size], np.sort(order[signal.fit_size :])
            values = fitted_signal(signal, zoo.subset(fit), zoo.subset(pool))
            result = hyperband(
                sampler_without_replacement(len(pool), seed + o),
                ZooObjective(zoo.subset(pool), values=values),
                R,
                eta,
            )
            result = SearchResult(
                [Trial(int(fit[i]), R, R, truth[fit[i]]) for i in range(len(fit))]
                + [replace(t, config=int(pool[t.config])) for t in result.trials]
            )
            fit_epochs = R * len(fit)
        else:
            result = hyperband(
                sampler_without_replacement(n, seed + o),
                ZooObjective(zoo, values=signal),
                R,
                eta,
            )
            fit_epochs = 0
        runs[f"Hyperband[{name}]"] = (result, fit_epochs)
    budget = next(iter(runs.values()))[0].total_epochs if runs else n * R
    k = min(n, max(1, budget // R))
    first = [int(i) for i in order[:k]]
    full = random_search(lambda m, c=first: c[:m], plain, k, R)
    runs["random search (full training)"] = (full, 0)
    runs["MedianPruner"] = (median_pruner_search(plain, k * 2, seed + o), 0)
    for name, (result, fit_epochs) in runs.items():
        rows.append(
            {
                "search": name,
                "ordering": o,
                **outcome(result, truth, R),
                "fit_epochs": fit_epochs,
            }
        )
    for name, (stops, estimates) in (rules or {}).items():
        got = rule_search(stops, estimates, truth, R, order)
        rows.append({"search": name, "ordering": o, **got, "fit_epochs": 0})
    return rows


def search_summary(runs: pd.DataFrame, n_networks: int, max_resource: int) -> pd.DataFrame:
    """Per search: mean regret and epochs, how often it found the best network, and its
    speed-up over training every network fully where it did (regret 0)."""
    full = n_networks * max_resource
    out = runs.groupby("search").agg(
        regret=("regret", "mean"),
        epochs=("epochs", "mean"),
        zero_regret=("regret", lambda r: float(np.mean(r <= 0))),
    )
    found = runs[runs.regret <= 0].groupby("search").epochs.mean()
    out["speed-up at zero regret"] = full / found.reindex(out.index)
    return out.reset_index()
