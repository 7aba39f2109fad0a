"""The evaluator: splits, truncation (no peeking), timing columns, and the two baselines."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from common import compare, metrics
from common.compare import Predictor, Requirements


class Spy(Predictor):
    """Records what it was shown; predicts the number of visible evaluations plus noise."""

    requires = Requirements(curve=True)
    seen: list = []

    def fit(self, zoo, budget):
        self.fit_size_ = len(zoo)
        return self

    def predict(self, zoo, budget):
        with pytest.raises(ValueError, match="hidden"):
            zoo.target("test_acc")
        Spy.seen.append((budget, self.fit_size_, zoo.eval_epochs.copy(), zoo.curve("val_acc")))
        return np.random.default_rng(0).random(len(zoo))


def test_last_seen_value_at_full_budget_is_exact_and_table_is_flat(tiny_zoo):
    table = compare.evaluate(
        [compare.LastSeenValue(), compare.ParamDepthRegression()],
        tiny_zoo,
        budgets=[0, 1.0, 2.0],
        train_size=[4, 6],
        seed=[0, 1],
    )
    full = table[(table.method == "LastSeenValue") & (table.budget == 2.0)]
    assert len(full) == 2  # one per seed, train size 0: it learns from no networks
    assert (full.train_size == 0).all()
    assert full.kendall_tau.to_numpy() == pytest.approx(1.0)
    assert full.mse.to_numpy() == pytest.approx(0.0)
    assert not ((table.method == "LastSeenValue") & (table.budget == 0)).any()  # nothing seen
    pdr = table[table.method == "ParamDepthRegression"]
    assert sorted(set(pdr.train_size)) == [4, 6] and len(pdr) == 2 * 2 * 3
    assert (table.n_test == len(tiny_zoo) - 6).all()  # one held-out set per seed
    for column in (
        "fit_seconds",
        "query_seconds_per_network",
        "epochs_per_network",
        "init_epochs",
        "top10_overlap",
        "spearman_rho",
        "r2",
    ):
        assert column in table
    assert (pdr.init_epochs == pdr.train_size * tiny_zoo.spec.epochs).all()


def test_param_depth_regression_matches_a_direct_fit(tiny_zoo):
    table = compare.evaluate(
        [compare.ParamDepthRegression()], tiny_zoo, budgets=[0], train_size=8, seed=5
    )
    assert np.isfinite(tiny_zoo.target("final_val_acc")).all()  # so the evaluator keeps all
    order = np.random.default_rng(5).permutation(len(tiny_zoo))
    train, held = tiny_zoo.subset(order[:8]), tiny_zoo.subset(order[8:])

    def x(z):
        return np.column_stack([np.log(z.table.n_params.to_numpy(float)), z.table.depth])

    expected = LinearRegression().fit(x(train), train.target("final_val_acc")).predict(x(held))
    truth = held.target("final_val_acc")
    assert table.mse.item() == pytest.approx(metrics.mse(truth, expected))
    assert table.kendall_tau.item() == pytest.approx(metrics.kendall_tau(truth, expected))


def test_evaluator_truncates_held_out_zoo_before_predict(tiny_zoo):
    Spy.seen.clear()
    compare.evaluate([Spy()], tiny_zoo, budgets=[0.5, 1.5], train_size=5)
    (b1, fit1, epochs1, curve1), (b2, _, epochs2, curve2) = Spy.seen
    assert fit1 == 0  # needs no training networks: it is given none
    assert epochs1.tolist() == [0.5] and curve1.shape[1] == 1
    assert epochs2.tolist() == [0.5, 1.0, 1.5] and curve2.shape[1] == 3


def test_requirements_are_checked(tiny_zoo):
    class NeedsProbe(Spy):
        requires = Requirements(probes=("fh",))

    with pytest.raises(ValueError, match=r"needs probes \['fh'\]"):
        compare.evaluate([NeedsProbe()], tiny_zoo, budgets=[1.0], train_size=2)
    with pytest.raises(ValueError, match="too few"):
        compare.evaluate([compare.LastSeenValue()], tiny_zoo, budgets=[1.0], train_size=100)
    with pytest.raises(ValueError, match="unknown target"):
        compare.evaluate([compare.LastSeenValue()], tiny_zoo, budgets=[1.0], target="acc")


def test_a_predictor_without_fit_cannot_be_made():
    class Incomplete(Predictor):
        def predict(self, zoo, budget):
            return np.zeros(len(zoo))

    with pytest.raises(TypeError, match="fit"):
        Incomplete()


def test_evaluate_in_worker_processes_gives_the_sequential_table(tiny_zoo):
    """The same splits, fits and metrics with 2 workers as in one process, row for row (the
    timing columns aside)."""
    from common import compare

    methods = [compare.LastSeenValue(), compare.ParamDepthRegression()]
    kw = {"budgets": [1.0, 0.5, 0], "train_size": [4, 6], "seed": [0, 1]}
    one = compare.evaluate(methods, tiny_zoo, **kw)
    two = compare.evaluate(methods, tiny_zoo, **kw, n_jobs=2)
    timing = ["fit_seconds", "query_seconds_per_network"]
    pd.testing.assert_frame_equal(one.drop(columns=timing), two.drop(columns=timing))
    assert len(one) == 2 * (3 * 2 + 2)  # per seed: 3 budgets × 2 sizes, LSV at 2 budgets


def test_evaluate_many_in_one_pool_gives_each_calls_own_table(tiny_zoo):
    """Several grids (other methods, budgets and splits) in one pool of 2 workers, tasks
    reordered costliest first: each table equals its own `evaluate` in one process."""
    from common import compare

    calls = [
        {"predictors": [compare.LastSeenValue()], "budgets": [1.0, 0.5], "seed": [0, 1]},
        {"predictors": [compare.ParamDepthRegression()], "budgets": [0], "train_size": [4, 6]},
        {"predictors": [compare.LastSeenValue(), compare.ParamDepthRegression()], "budgets": [1]},
    ]
    calls = [{"zoo": tiny_zoo, "train_size": 5, **call} for call in calls]
    pooled = compare.evaluate_many(calls, n_jobs=2)
    timing = ["fit_seconds", "query_seconds_per_network"]
    for call, table in zip(calls, pooled, strict=True):
        alone = compare.evaluate(**call)
        pd.testing.assert_frame_equal(alone.drop(columns=timing), table.drop(columns=timing))
    assert [len(t) for t in pooled] == [4, 2, 2]


class _CountingRegression(compare.ParamDepthRegression):
    fits = 0

    def fit(self, zoo, budget):
        type(self).fits += 1
        return super().fit(zoo, budget)


def test_a_budget_free_fit_is_done_once_per_split_and_size_with_the_same_table(tiny_zoo):
    kw = {"budgets": [0, 0.5, 1.0, 2.0], "train_size": [4, 6], "seed": [0, 1]}
    timing = ["fit_seconds", "query_seconds_per_network"]
    _CountingRegression.fits, _CountingRegression.budget_free_fit = 0, False
    refit = compare.evaluate([_CountingRegression()], tiny_zoo, **kw)
    assert _CountingRegression.fits == 4 * 2 * 2  # every budget, size and seed
    _CountingRegression.fits, _CountingRegression.budget_free_fit = 0, True
    reused = compare.evaluate([_CountingRegression()], tiny_zoo, **kw)
    assert _CountingRegression.fits == 2 * 2  # once per size and seed
    pd.testing.assert_frame_equal(refit.drop(columns=timing), reused.drop(columns=timing))


def test_a_task_sent_to_a_worker_holds_only_what_its_method_may_read(tiny_zoo):
    """A worker receives the method's `visible` view of its split (the targets kept for
    scoring): the weight statistics and final weights, most of a zoo's bytes, travel only
    with the tasks of a method that declares them."""

    class WeightReader(compare.ParamDepthRegression):
        requires = Requirements(training_networks=True, probes=("weight_stats",))

    plan = compare._plan([compare.LastSeenValue(), WeightReader()], tiny_zoo, [1.0], train_size=4)
    sent = {}
    for _, (p, learn, held, _, target) in plan["tasks"]:
        sent[type(p).__name__] = {k for z in (learn, held) for a in z.arrays for k in a}
        assert np.isfinite(held.target(target)).all() and len(held) == len(tiny_zoo) - 4
    assert "probe/weight_stats" in {k for a in tiny_zoo.arrays for k in a}  # there to drop
    curves = {"curve/train_loss", "curve/train_acc", "curve/val_loss", "curve/val_acc"}
    assert sent["LastSeenValue"] == curves
    assert sent["WeightReader"] == {"probe/weight_stats"}
