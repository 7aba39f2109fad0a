"""Search with and without the proxy as the performance signal (Cao et al., Sec. 3.2, 4.2.1).

Random search, Hyperband (both from `common.search`, shared with ``srm_earlystop``) and BOHB
(Optuna's TPE sampler with its Hyperband pruner, not written by hand) replay a zoo of the
``nb201`` family: a configuration trained for r epochs is worth the signal at epoch r, either
the network's own validation accuracy or the feature-history ensemble estimate recorded by
the ``fh`` probe. The zoo was trained with the linear schedule fixed to the maximal budget,
so a run stopped at r is the prefix of the full run. The outcome of a search is the true
final accuracy of the network it selects, its regret against the best network of the zoo,
and the epochs it spent.

BOHB's TPE proposes a cell edge by edge; the replay evaluates the zoo's network whose cell
matches the most edges (the lowest index on ties), since a replayed zoo holds a sample of
the 15,625 cells. `OnDemand` instead trains each requested cell through the zoo store the
first time it is asked for (so nothing is trained twice), for searches beyond a built zoo.
"""

from __future__ import annotations

import numpy as np

from common import search, zoo
from common.zoo import Zoo
from feature_histories.nb201 import EDGES, OPS, cell_of
from feature_histories.probe import fh_probe, k_epochs, probe_name
from feature_histories.proxy import KINDS

optuna = search.import_optuna()


def signal(zoo: Zoo, proxy: bool) -> np.ndarray:
    """[n, evals] search signal: the fh ensemble estimate, or the validation accuracy."""
    if not proxy:
        return zoo.curve("val_acc")
    return zoo.probe(fh_probe(zoo.spec.probes))[..., KINDS.index("ensemble")]


def objective(zoo: Zoo, proxy: bool) -> search.ZooObjective:
    """The zoo replayed with the proxy's estimate (or the plain curve) as its value."""
    return search.ZooObjective(zoo, values=signal(zoo, proxy))


def random_search(zoo: Zoo, n: int, epochs: int, proxy: bool, seed: int = 0):
    """Random search over the replayed zoo, with or without the proxy."""
    sample = search.sampler_without_replacement(len(zoo), seed)
    return search.random_search(sample, objective(zoo, proxy), n, epochs)


def hyperband(
    zoo: Zoo, max_resource: int, proxy: bool, eta: float = 3, seed: int = 0, repeats: int = 1
):
    """Hyperband over the replayed zoo, with or without the proxy."""
    sample = search.sampler_without_replacement(len(zoo), seed)
    return search.hyperband(sample, objective(zoo, proxy), max_resource, eta, repeats=repeats)


def nearest(cells: np.ndarray, ops) -> int:
    """Index of the stored cell (rows of op indices) matching the most edges of `ops`."""
    wanted = np.array([OPS.index(op) for op in ops])
    return int(np.argmax((cells == wanted).sum(1)))


def bohb(
    zoo: Zoo, n_trials: int, max_resource: int, proxy: bool, eta: float = 3, seed: int = 0
) -> search.SearchResult:
    """BOHB over a replayed zoo (each proposal mapped to its nearest stored cell)."""
    from common.archs import Architecture

    cells = np.array(
        [[OPS.index(op) for op in cell_of(Architecture.from_json(a))] for a in zoo.table.arch]
    )
    return bohb_search(
        objective(zoo, proxy), lambda ops: nearest(cells, ops), n_trials, max_resource, eta, seed
    )


def bohb_search(
    run, to_config, n_trials: int, max_resource: int, eta: float = 3, seed: int = 0
) -> search.SearchResult:
    """BOHB: TPE over the 6 edges with Optuna's Hyperband pruner; `to_config` maps proposed
    ops to what `run(config, epochs)` evaluates. Each trial is charged the epochs it ran
    before it completed or was pruned."""
    result = search.SearchResult()

    def trial_fn(trial: optuna.Trial) -> float:
        ops = [trial.suggest_categorical(f"edge_{i}{j}", OPS) for i, j in EDGES]
        config, value, epochs = to_config(ops), -np.inf, 0
        for epochs, value in enumerate(run(config, max_resource), 1):
            trial.report(value, epochs)
            if trial.should_prune():
                result.trials.append(search.Trial(config, epochs, epochs, value))
                raise optuna.TrialPruned()
        result.trials.append(search.Trial(config, max_resource, epochs, value))
        return value

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # named, so that the same seed repeats the search: Hyperband puts a trial in a bracket by
    # a hash of the study's name and the trial's number, and an unnamed study gets a random
    # name (two builds of the chapter gave BOHB rows 1.1 points apart)
    study = optuna.create_study(
        study_name=f"bohb-{seed}",
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.HyperbandPruner(1, max_resource, eta),
    )
    study.optimize(trial_fn, n_trials=n_trials)
    return result


def outcome(
    result: search.SearchResult, zoo: Zoo, max_resource: int, target: str = "test_acc"
) -> dict:
    """The selected network (best signal among full-budget trials), its true final
    accuracy, its regret against the zoo's best, and the epochs spent."""
    truth = zoo.target(target)
    chosen = result.best(min_resource=max_resource).config
    return {
        "selected": chosen,
        "accuracy": truth[chosen],
        "regret": np.nanmax(truth) - truth[chosen],
        "epochs": result.total_epochs,
    }


class OnDemand:
    """An objective that trains a cell the first time a search asks for it, through the zoo
    store: each cell is a one-network ``nb201`` zoo (family option ``cell``) cached by its
    spec, trained to the maximal budget (the linear schedule makes a shorter run its prefix),
    so no configuration is ever trained twice; later requests replay it. Configurations are
    op tuples; `trained` counts the networks actually trained.
    """

    def __init__(
        self,
        dataset: str,
        max_epochs: int,
        proxy: bool,
        channels: int = 16,
        cells: int = 5,
        seed: int = 0,
        cache=None,
        device="auto",
    ):
        self.dataset, self.max_epochs, self.proxy = dataset, int(max_epochs), proxy
        self.options = {"channels": channels, "cells": cells}
        self.seed, self.cache, self.device, self.trained = seed, cache, device, 0

    def spec(self, ops) -> zoo.ZooSpec:
        """The one-network zoo spec of cell `ops`."""
        options = self.options | {"cell": "|".join(ops)}
        return zoo.ZooSpec(
            "nb201",
            self.dataset,
            n_networks=1,
            seed=self.seed,
            epochs=float(self.max_epochs),
            eval_every=1.0,
            probes=(probe_name(k_epochs(self.max_epochs)),),  # K as a share of the run
            family_options=options,
        )

    def load(self, ops) -> Zoo:
        """The zoo of cell `ops`, trained now if it was not yet."""
        from concurrent.futures import ThreadPoolExecutor

        spec = self.spec(ops)
        path = zoo.cache_path(spec, self.cache)
        if not path.exists() or len(zoo.load(path)) < 1:
            self.trained += 1
            with ThreadPoolExecutor(1) as executor:  # in this process: no worker start-up
                zoo.build(spec, path, executor, progress=False, device=self.device)
        return zoo.load(path)

    def __call__(self, ops, epochs: int):
        """Train (or load) cell `ops` and yield its values for `epochs` epochs."""
        if not 1 <= epochs <= self.max_epochs:
            raise ValueError(f"epochs={epochs} outside 1..{self.max_epochs}")
        yield from objective(self.load(tuple(ops)), self.proxy)(0, epochs)
