"""Property tests (issue 17, item 5): over random learning curves, every estimate of the
curve models (PEng4NN's engine, the SRM predictor, the LCE baseline) stays within the
feasible accuracies: [0, 100] % for PEng4NN's percent core, [0, 1] for the others."""

from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from peng4nn import replay
from srm_earlystop.lce import extrapolate
from srm_earlystop.predictor import SRMPredictor

PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)


def curves(low: float, high: float, min_size: int = 3, max_size: int = 24):
    """Any curve: rising, falling, flat, jagged, at the edges of the range."""
    value = st.floats(low, high, allow_nan=False, allow_infinity=False)
    return st.lists(value, min_size=min_size, max_size=max_size).map(np.array)


@PROPERTY
@given(acc=curves(0.0, 100.0), loss_scale=st.floats(0.01, 10.0))
def test_peng4nn_estimates_stay_within_0_and_100_percent(acc, loss_scale):
    epochs = 0.5 * np.arange(1, len(acc) + 1)
    loss = loss_scale * (1.0 - acc / 100.0) + 1e-3  # any loss; condition 3 reads it
    decision = replay(epochs, acc, loss).decision
    assert 0.0 <= decision.estimate <= 100.0


@PROPERTY
@given(acc=curves(0.0, 1.0), target=st.floats(1.0, 400.0))
def test_lce_extrapolations_stay_within_0_and_1(acc, target):
    epochs = np.arange(1, len(acc) + 1, dtype=float)
    value = extrapolate(epochs, acc, max(target, epochs[-1]))
    assert np.isnan(value) or 0.0 <= value <= 1.0


@functools.cache
def _fitted_srm() -> tuple[SRMPredictor, int]:
    """An SRM with an unbounded (ordinary least squares) regressor on curve features only,
    fitted on synthetic saturating curves: extreme new curves push its raw output past 0 and
    1, which the predictor must bound."""
    rng = np.random.default_rng(0)
    n, evals = 40, 12
    x = np.arange(1, evals + 1)
    final = rng.uniform(0.1, 0.99, n)
    rate = rng.uniform(0.1, 1.0, n)
    train = final[:, None] * (1 - np.exp(-rate[:, None] * x)) + rng.normal(0, 0.01, (n, evals))
    zoo = SimpleNamespace(
        curve=lambda name: train, table=None, target=lambda name: final, visible_evals=None
    )
    predictor = SRMPredictor("ols_linear", n_search=1, feature_sets=("TS",))
    tau = evals // 2
    zoo.visible_evals = lambda budget: tau
    predictor.fit(zoo, budget=float(tau))
    return predictor, tau


@PROPERTY
@given(acc=curves(0.0, 1.0, min_size=6, max_size=6))
def test_srm_predictions_stay_within_0_and_1(acc):
    predictor, tau = _fitted_srm()
    partial = acc[None, :tau]  # the visible curve: its first τ evaluations
    predicted = predictor.predict(SimpleNamespace(curve=lambda name: partial, table=None), tau)
    assert predicted.shape == (1,) and 0.0 <= predicted[0] <= 1.0
