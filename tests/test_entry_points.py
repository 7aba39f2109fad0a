"""The methods without a zoo (issue 18, item 1): each plain entry point gives what the
zoo-based path gives on the same data, and the docstring examples run."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

EXAMPLES = (
    "peng4nn.engine",
    "srm_earlystop.estimator",
)  # modules whose docstrings carry runnable examples


@pytest.mark.parametrize("module", EXAMPLES)
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


def test_following_one_network_in_fractions_gives_the_zoo_replays_estimate(tiny_zoo):
    """An `Engine(unit="fraction")` fed one network's curve as it arrives, without a loss
    (LOSS is off in Table II), ends on the estimate `replay_zoo` gives that network."""
    from peng4nn import Engine
    from peng4nn.predictor import replay_zoo

    z = tiny_zoo.finished()
    expected = replay_zoo(z)
    for i, curve in enumerate(z.curve("val_acc")):
        engine = Engine(unit="fraction")
        for epoch, value in zip(z.eval_epochs, curve, strict=True):
            if engine.observe(epoch, value).stop:
                break
        assert engine.ceiling() == pytest.approx(expected["estimate"].iloc[i])
        assert 0 <= engine.expected_at(z.spec.epochs) <= 1


def test_an_engine_that_checks_the_loss_asks_for_it():
    from dataclasses import replace

    from peng4nn import TABLE_II, Engine

    with pytest.raises(ValueError, match="LOSS on\\): pass val_loss"):
        Engine(replace(TABLE_II, loss_check=True), unit="fraction").observe(0.5, 0.3)
    with pytest.raises(ValueError, match="no observation yet"):
        Engine().expected_at(3.0)
    engine = Engine(unit="fraction")
    engine.observe(1.0, 0.5)
    with pytest.raises(ValueError, match="at or after the last observed"):
        engine.expected_at(0.5)
    assert engine.expected_at(2.0) == 0.5  # no fit yet (3 points needed): the last value
    assert np.isfinite(engine.ceiling())


def test_the_curve_regressor_predicts_what_the_zoo_predictor_predicts(tiny_zoo):
    """`CurveRegressor` on a zoo's arrays equals `SRMPredictor` on the zoo (same training
    networks, τ, search and seed; curve features, plus AP and HP from the table)."""
    from common import compare
    from srm_earlystop import CurveRegressor, SRMPredictor

    z = tiny_zoo.finished()
    train, held, budget = z.subset(np.arange(9)), z.subset(np.arange(9, len(z))), 1.0
    for sets, meta in [(("TS",), None), (("TS", "AP", "HP"), train.table)]:
        zoo_path = SRMPredictor("ols_linear", 2, feature_sets=sets, seed=3)
        _, expected, _, _ = compare.fit_predict(zoo_path, train, held, budget)
        tau = held.visible_evals(budget)
        model = CurveRegressor("ols_linear", 2, taus=[tau], seed=3)
        model.fit(train.curve("val_acc"), train.target("final_val_acc"), meta)
        got = model.predict(held.curve("val_acc")[:, :tau], None if meta is None else held.table)
        np.testing.assert_allclose(got, expected)


def test_the_curve_regressor_says_what_it_was_not_fitted_for():
    from srm_earlystop import CurveRegressor

    curves = np.linspace(0.1, 0.9, 40)[:, None] * np.linspace(0.5, 1, 6)
    model = CurveRegressor("ols_linear", 1, taus=[2, 3]).fit(curves)
    assert model.fitted_taus == [2, 3]
    with pytest.raises(ValueError, match=r"no model for τ = 4 points; fitted for τ in \[2, 3\]"):
        model.predict(curves[:, :4])
    with pytest.raises(ValueError, match=r"taus \[6\]: expected integers in 1..5"):
        CurveRegressor(taus=[6]).fit(curves)
    with pytest.raises(ValueError, match="meta has none of the AP columns"):
        CurveRegressor(taus=[2]).fit(curves, meta=__import__("pandas").DataFrame({"x": [0] * 40}))
    assert CurveRegressor("ols_linear", 1).fit(curves).fitted_taus == [1, 2, 3, 4, 5]
