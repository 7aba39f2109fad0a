"""The methods without a zoo (issue 18, item 1): each plain entry point gives what the
zoo-based path gives on the same data, and the docstring examples run."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

EXAMPLES = (  # modules whose docstrings carry runnable examples
    "peng4nn.engine",
    "srm_earlystop.estimator",
    "common.archs",
    "feature_histories.callback",
    "common.pretrained",  # WeightsPredictor.score and PeepholePredictor.card, shipped
)


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


def test_the_hooked_callback_equals_a_history_fed_the_features_by_hand():
    """A plain loop with `FeatureHistoryCallback` (features found by a hook on the last
    Linear) gives the accuracies of a `History` fed ``model[:-1](x)`` and ``model[-1]``
    explicitly, epoch by epoch."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    from common import data
    from feature_histories import FeatureHistoryCallback, History
    from feature_histories.proxy import KINDS, predictions

    digits = data.load("digits")
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    fh, by_hand = FeatureHistoryCallback(model, k=2), History(2)
    for _ in range(3):
        for i in range(0, 512, 64):
            x, y = digits.train_x[i : i + 64], digits.train_y[i : i + 64]
            by_hand.on_train_batch(model[:-1](x), y)  # before the step, as the hook sees it
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            fh.on_train_batch(y)
        got = fh.end_epoch(model, digits.val_x, digits.val_y)
        with torch.no_grad():
            by_hand.end_epoch(model[-1], model[:-1](digits.val_x), digits.val_y)
        right = predictions(by_hand)
        assert got == {k: float(right[k].float().mean()) for k in KINDS}
    assert got["original"] > 0.3  # it learned: the comparison is not of chance
    fh.remove()
    with pytest.raises(ValueError, match="no nn.Linear head"):
        FeatureHistoryCallback(nn.Sequential(nn.ReLU()))
    with pytest.raises(ValueError, match="head '1' is a ReLU; expected nn.Linear"):
        FeatureHistoryCallback(nn.Sequential(nn.Linear(2, 2), nn.ReLU()), head="1")


def test_an_architecture_from_a_sequential_builds_the_same_network():
    """`common.archs.from_sequential` of a torch model: the built `Network`, given the
    model's parameters in order, computes the model's logits; its size is the model's."""
    import torch
    from torch import nn

    from common import archs

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, (3, 2), stride=(1, 2), padding=(1, 0)),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.Sequential(nn.MaxPool2d(2), nn.Dropout(0.1)),
        nn.Conv2d(4, 6, 3, padding=1, groups=2),
        nn.Tanh(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(6, 10),
    ).eval()
    arch = archs.from_sequential(model, (1, 8, 8))
    assert archs.num_params(arch) == sum(p.numel() for p in model.parameters())
    assert [layer["type"] for layer in arch.layers][-2:] == ["global_avg_pool", "linear"]
    built = archs.build(arch).eval()
    with torch.no_grad():
        for mine, theirs in zip(built.parameters(), model.parameters(), strict=True):
            mine.copy_(theirs)
        x = torch.randn(5, 1, 8, 8)
        torch.testing.assert_close(built(x), model(x))
    with pytest.raises(ValueError, match=r"layer 1 \(LSTM\) is not supported; supported: Conv2d"):
        archs.from_sequential(
            nn.Sequential(nn.Flatten(), nn.LSTM(4, 4), nn.Linear(4, 2)), (1, 2, 2)
        )
    with pytest.raises(ValueError, match="the last layer must be the nn.Linear classifier"):
        archs.from_sequential(nn.Sequential(nn.Flatten()), (1, 2, 2))
    with pytest.raises(ValueError, match="expected a torch.nn.Sequential"):
        archs.from_sequential(nn.Linear(2, 2), (1, 1, 2))
