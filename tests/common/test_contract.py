"""The `Predictor` contract, run over every predictor the packages define (scikit-learn's
estimator checks, in miniature): `fit` returns self and leaves its state in attributes
ending in ``_``; `predict` before `fit` is a clear error; and no peeking: with the zoo's
values past the budget, its targets and every part a predictor does not declare replaced by
poison, the predictions do not change."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from common import compare
from common.compare import NotFittedError, Predictor, Requirements
from common.zoo import Zoo
from feature_histories.probe import FeatureHistoryPredictor
from peephole.model import PeepholeConfig
from peephole.predictor import PeepholePredictor
from peng4nn.predictor import PEng4NNPredictor
from srm_earlystop.lce import LCEPredictor
from srm_earlystop.predictor import SRMPredictor
from weights_to_acc.predictor import WeightsPredictor

# every predictor class of the packages, as a cheap instance
FACTORIES = {
    "LastSeenValue": compare.LastSeenValue,
    "ParamDepthRegression": compare.ParamDepthRegression,
    "SRMPredictor": lambda: SRMPredictor("blr", n_search=2),
    "LCEPredictor": LCEPredictor,
    "PEng4NNPredictor": PEng4NNPredictor,
    "FeatureHistoryPredictor": FeatureHistoryPredictor,
    "WeightsPredictor": lambda: WeightsPredictor("gbm", n_search=2),
    "PeepholePredictor": lambda: PeepholePredictor(PeepholeConfig(epochs=3), "cpu", ("dropout",)),
}
BUDGET = 1.5  # of 2 epochs: 3 of the 4 evaluations visible
RESULTS = ("final_val_acc", "max_val_acc", "test_acc", "test_loss", "wall_time")


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_predictor_of_the_packages_is_checked():
    defined = {c.__name__ for c in _subclasses(Predictor) if not c.__module__.startswith("tests")}
    assert defined == set(FACTORIES)


def _noise(value: np.ndarray, rng) -> np.ndarray:
    return rng.normal(size=value.shape) if value.dtype.kind == "f" else value


def poison(zoo: Zoo, requires: Requirements, budget: float | None, seed: int = 1) -> Zoo:
    """`zoo` with what a predictor with `requires` may not read replaced by noise: values
    after `budget` (None: none), the targets and test results (when predicting), and every
    undeclared curve, probe, weight vector and table column (shuffled across networks)."""
    rng = np.random.default_rng(seed)
    seen = len(zoo.eval_epochs) if budget is None else zoo.visible_evals(budget)

    def declared(name: str) -> bool:
        if name.startswith("curve/"):
            return requires.curve
        if name.startswith("probe/"):
            return name.removeprefix("probe/") in requires.probes
        return requires.weights

    arrays = []
    for a in zoo.arrays:
        out = {}
        for name, value in a.items():
            value = np.array(value, dtype=float)
            if not declared(name):
                value = _noise(value, rng)
            elif name != "weights":
                value[seen:] = _noise(value[seen:], rng)
            out[name] = value
        arrays.append(out)
    table = zoo.table.copy()
    shuffle = [] if budget is None else [c for c in RESULTS if c in table]
    shuffle += [] if requires.architecture else list(compare.ARCHITECTURE)
    shuffle += [] if requires.hyperparameters else [c for c in compare.RECIPE if c in table]
    for column in shuffle:
        table[column] = rng.permutation(table[column].to_numpy())
    return replace(zoo, table=table, arrays=arrays)


@pytest.fixture(scope="module")
def halves(probe_zoo):
    ok = probe_zoo.finished()
    return ok.subset(np.arange(6)), ok.subset(np.arange(6, len(ok)))


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_fit_returns_self_with_state_in_underscored_attributes(halves, name):
    train, held = halves
    p = FACTORIES[name]()
    assert not p.is_fitted()
    with pytest.raises(NotFittedError, match="not fitted: call fit"):
        p.predict(compare.visible(held, p.requires, BUDGET), BUDGET)
    before = set(vars(p))
    assert p.fit(compare.visible(train, p.requires), BUDGET) is p
    new = set(vars(p)) - before
    assert new and all(k.endswith("_") for k in new), new  # fitted state only, named so


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_no_peeking_past_the_budget_or_at_undeclared_data(halves, name):
    train, held = halves
    p = FACTORIES[name]()
    budget = 0.0 if not (p.requires.curve or p.requires.probes) else BUDGET
    _, honest, _, _ = compare.fit_predict(p, train, held, budget)
    poisoned_train = poison(train, p.requires, None)
    poisoned_held = poison(held, p.requires, budget)
    assert not np.allclose(poisoned_held.target(), held.target())  # the poison is real
    _, got, _, _ = compare.fit_predict(p, poisoned_train, poisoned_held, budget)
    np.testing.assert_allclose(got, honest, equal_nan=True)
    assert np.isfinite(honest).sum() >= len(held) // 2


class Cheater(Predictor):
    """Declares only curves, then reads something else or past the budget."""

    requires = Requirements(curve=True)

    def __init__(self, how):
        self.how = how

    def fit(self, zoo, budget):
        self.budget_ = budget
        return self

    def predict(self, zoo, budget):
        if self.how == "probe":
            return zoo.probe("weight_stats")[:, -1, 0]
        if self.how == "architecture":
            return zoo.table["n_params"].to_numpy(float)
        if self.how == "weights":
            return zoo.weights()[:, 0]
        if self.how == "late curve":
            return zoo.curve("val_acc")[:, 3]  # the 4th evaluation: epoch 2, past 1.5
        return zoo.target("final_val_acc")


@pytest.mark.parametrize(
    ("how", "error", "match"),
    [
        ("probe", KeyError, "hidden: the predictor's Requirements do not declare it"),
        ("architecture", KeyError, "n_params"),
        ("weights", KeyError, "hidden"),
        ("target", ValueError, "hidden"),
    ],
)
def test_undeclared_reads_fail_loudly(halves, how, error, match):
    train, held = halves
    with pytest.raises(error, match=match):
        compare.fit_predict(Cheater(how), train, held, 2.0)  # even at the full budget


def test_reads_past_the_budget_fail(halves):
    with pytest.raises(IndexError):
        compare.evaluate([Cheater("late curve")], halves[0], budgets=[1.5], train_size=2)
    compare.evaluate([Cheater("late curve")], halves[0], budgets=[2.0], train_size=2)


class NoSelf(compare.LastSeenValue):
    def fit(self, zoo, budget):
        self.budget_ = budget


def test_fit_must_return_self(halves):
    with pytest.raises(TypeError, match="must return self"):
        compare.fit_predict(NoSelf(), *halves, BUDGET)
