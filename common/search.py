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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from common.zoo import Zoo

Objective = Callable[[object, int], Iterator[float]]


@dataclass
class Trial:
    """One evaluation: a configuration run for `epochs` (of `resource` allowed)."""

    config: object
    resource: int  # epochs the search allowed
    epochs: int  # epochs actually run (fewer when stopped early)
    value: float  # the value the search used to rank it


@dataclass
class SearchResult:
    trials: list[Trial] = field(default_factory=list)

    @property
    def total_epochs(self) -> int:
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
    """The network a search selects (best signal among its full-budget trials), its regret
    against the best network of the zoo, and the epochs the search spent."""
    chosen = result.best(min_resource=max_resource).config
    return {
        "selected": chosen,
        "regret": float(np.nanmax(truth) - truth[chosen]),
        "epochs": result.total_epochs,
    }


def median_pruner_search(
    objective: ZooObjective, n_trials: int, seed: int = 0, warmup: int = 1
) -> SearchResult:
    """Optuna's MedianPruner (the practitioner's default) over a replayed zoo: configurations
    drawn at random, each stopped when its value falls below the median of earlier trials
    at the same epoch."""
    import optuna

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
    stop = np.where(np.isfinite(stop_epochs), stop_epochs, max_resource)[order]
    value = np.where(np.isfinite(estimates), estimates, -np.inf)[order]
    chosen = int(order[int(np.argmax(value))])
    return {
        "selected": chosen,
        "regret": float(np.nanmax(truth) - truth[chosen]),
        "epochs": float(np.ceil(stop).sum()),
    }


def replay_searches(
    zoo: Zoo,
    signals: dict,
    truth: np.ndarray,
    orderings: int = 10,
    eta: float = 3,
    rules: dict | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Simulated searches over a zoo, `orderings` random orders each: random search with
    full training of k = (Hyperband's epochs) / R configurations, Hyperband with every signal
    of `signals` (name -> [n, evals] values aligned with the zoo's evaluations; ``last seen
    value`` is the plain one), Optuna's MedianPruner on the validation curve over 2k trials
    (it stops most of them early), and every stopping rule of `rules` (name -> (stop epochs,
    estimates)). One row per (search, ordering): selected network, regret, epochs."""
    plain = ZooObjective(zoo)
    R, n = plain.max_epochs, len(zoo)
    rows = []
    for o in range(orderings):
        order = np.random.default_rng(seed + o).permutation(n)
        runs = {
            f"Hyperband[{name}]": hyperband(
                sampler_without_replacement(n, seed + o), ZooObjective(zoo, values=v), R, eta
            )
            for name, v in signals.items()
        }
        budget = runs[next(iter(runs))].total_epochs if runs else n * R
        k = min(n, max(1, budget // R))
        first = [int(i) for i in order[:k]]
        runs["random search (full training)"] = random_search(lambda m, c=first: c[:m], plain, k, R)
        runs["MedianPruner"] = median_pruner_search(plain, k * 2, seed + o)
        for name, result in runs.items():
            rows.append({"search": name, "ordering": o, **outcome(result, truth, R)})
        for name, (stops, estimates) in (rules or {}).items():
            rows.append(
                {"search": name, "ordering": o, **rule_search(stops, estimates, truth, R, order)}
            )
    return pd.DataFrame(rows)


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
