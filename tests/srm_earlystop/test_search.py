"""Hyperband on a replayed zoo, and f-Hyperband against it."""

import numpy as np
import pytest

from common.search import (
    ZooObjective,
    hyperband,
    hyperband_brackets,
    random_search,
    sampler_without_replacement,
)
from srm_earlystop.fhyperband import FHyperband, FHyperbandSettings


class CurveObjective:
    """Synthetic saturating curves: config i has asymptote a_i and rate b_i."""

    def __init__(self, n=400, seed=0):
        rng = np.random.default_rng(seed)
        self.a, self.b = rng.uniform(0.2, 0.95, n), rng.uniform(1, 8, n)
        self.noise = rng.normal(0, 0.005, (n, 27))
        self.calls = []

    def __call__(self, config, epochs):
        self.calls.append((config, epochs))
        for t in range(1, epochs + 1):
            yield self.a[config] * (1 - np.exp(-t / self.b[config])) + self.noise[config, t - 1]


def test_brackets_follow_li_et_al():
    # R = 27, η = 3: s_max = 3; n = ⌈4·3^s/(s+1)⌉ = 27, 12, 6, 4; r = 27/3^s = 1, 3, 9, 27
    assert hyperband_brackets(27, 3) == [(3, 27, 1), (2, 12, 3), (1, 6, 9), (0, 4, 27)]


def test_rungs_end_at_r_when_r_is_not_a_power_of_eta():
    objective = CurveObjective()
    result = hyperband(sampler_without_replacement(400), objective, 20, 3)
    resources = sorted({t.resource for t in result.trials})
    assert resources == [2, 7, 20] and max(r for _, r in objective.calls) == 20


def test_hyperband_halves_rungs_and_charges_epochs():
    objective = CurveObjective()
    result = hyperband(sampler_without_replacement(400), objective, 27, 3)
    rungs = [(t.resource) for t in result.trials]
    # first bracket: 27 configs at 1 epoch, 9 at 3, 3 at 9, 1 at 27
    assert rungs[:40] == [1] * 27 + [3] * 9 + [9] * 3 + [27]
    assert result.total_epochs == sum(r for _, r in objective.calls)
    best = result.best(min_resource=27)
    assert best.value > np.quantile(objective.a, 0.5)  # it finds a good configuration


def test_f_hyperband_that_never_stops_equals_hyperband():
    plain = hyperband(sampler_without_replacement(400, 1), CurveObjective(), 27, 3)
    settings = FHyperbandSettings(threshold=0.99, delta=10.0, min_curves=4, n_search=3)
    fast = FHyperband(CurveObjective(), settings).run(sampler_without_replacement(400, 1), 27)
    assert [(t.config, t.epochs, t.value) for t in fast.trials] == [
        (t.config, t.epochs, t.value) for t in plain.trials
    ]


def test_f_hyperband_saves_epochs_and_keeps_a_good_model():
    plain = hyperband(sampler_without_replacement(400, 2), CurveObjective(), 27, 3)
    settings = FHyperbandSettings(threshold=0.9, min_curves=6, n_search=5, regressor="blr")
    fast = FHyperband(CurveObjective(), settings).run(sampler_without_replacement(400, 2), 27)
    assert fast.total_epochs < plain.total_epochs
    assert any(t.epochs < t.resource for t in fast.trials)  # some runs were stopped early
    assert fast.best(27).value >= plain.best(27).value - 0.05


def test_zoo_objective_replays_recorded_curves(tiny_zoo):
    with pytest.raises(ValueError, match="whole epoch"):
        ZooObjective(tiny_zoo.truncate(0.5))
    objective = ZooObjective(tiny_zoo)
    values = list(objective(3, 2))
    assert values == pytest.approx(tiny_zoo.curve("val_acc")[3, [1, 3]])  # epochs 1.0, 2.0
    result = random_search(lambda n: list(range(n)), objective, 5, 2)
    assert result.total_epochs == 10 and len(result.trials) == 5


def test_the_early_stopping_rule_as_a_search(tiny_zoo):
    from srm_earlystop.experiments import rule_search

    ok = tiny_zoo.subset(np.flatnonzero(np.isfinite(tiny_zoo.target("final_val_acc"))))
    never = rule_search(ok, 5, 2, ordering=0, threshold=1.0)  # Φ never reaches 1: no stop
    assert never["epochs"] == len(ok) * ok.spec.epochs
    assert never["regret"] == 0  # every network trained fully: the best is found
    eager = rule_search(ok, 5, 2, ordering=0, threshold=1e-9)  # stops every later network
    assert eager["epochs"] == 5 * ok.spec.epochs + (len(ok) - 5) * ok.eval_epochs[0]
    order = np.random.default_rng(0).permutation(len(ok))[:5]
    assert eager["selected"] in set(order.tolist())
