"""LCE (least squares) and the MetaQNN family's transition rules."""

import numpy as np
import pytest

from common import archs, compare, zoo
from srm_earlystop import lce, metaqnn


def test_lce_extrapolates_a_saturating_curve():
    epochs = np.arange(1, 21.0)
    curve = 0.9 - 0.6 * epochs**-0.7  # pow3 exactly
    estimate = lce.extrapolate(epochs[:8], curve[:8], 20)
    assert estimate == pytest.approx(curve[-1], abs=0.02)
    assert np.isnan(lce.extrapolate(epochs[:2], curve[:2], 20))  # too few points


def test_lce_predictor_in_the_evaluator(tiny_zoo):
    table = compare.evaluate([lce.LCEPredictor()], tiny_zoo, budgets=[1.0, 1.5], train_size=2)
    assert table.budget.tolist() == [1.5]  # needs three evaluations: none at epoch 1.0
    assert table.method.item() == lce.LABEL


@pytest.mark.parametrize(("size", "max_layers"), [(8, 12), (28, 18), (32, 18)])
def test_metaqnn_sampler_never_breaks_a_transition_rule(size, max_layers):
    rng = np.random.default_rng(size)
    for _ in range(300):
        sequence = metaqnn.sample_sequence(rng, size, max_layers)
        assert 1 <= len(sequence) <= max_layers
        kinds = [k for k, _, _ in sequence]
        for (kind, options, rep), following in zip(sequence, kinds[1:] + ["end"], strict=True):
            if kind == "pool":
                assert (
                    following != "pool" and (options["field"], options["stride"]) in metaqnn.POOLS
                )
                assert options["field"] <= rep
            if kind == "fc":
                assert following in ("fc", "end")
            if kind in ("conv", "pool") and following == "fc":
                rep_after = (
                    rep if kind == "conv" else (rep - options["field"]) // options["stride"] + 1
                )
                assert rep_after < 8
            if kind == "conv":
                assert options["field"] in metaqnn.CONV_FIELDS
        fc_runs = "".join("f" if k == "fc" else "." for k in kinds)
        assert "fff" not in fc_runs


def test_every_sampled_network_builds_and_is_registered():
    rng = np.random.default_rng(0)
    for shape in [(1, 8, 8), (1, 28, 28)]:
        for _ in range(50):
            arch, recipe, extra = metaqnn.sample(
                rng, input_shape=shape, num_classes=10, width=1 / 16, max_layers=12
            )
            archs.build(arch)
            assert recipe.optimizer == "adam" and 1 <= extra["n_layers"] <= 12
    assert zoo.get_family("metaqnn") is metaqnn.sample


def test_early_stopping_simulation_accounting(tiny_zoo):
    from srm_earlystop.experiments import Scale, simulate_early_stopping

    s = Scale(
        n_networks=14,
        epochs=2.0,
        width=1.0,
        max_layers=6,
        train_size=6,
        draws=1,
        n_search=2,
        orderings=2,
    )
    never = simulate_early_stopping(tiny_zoo, s, thresholds=(0.5,), regressor="blr", nth=100)
    assert (never.speedup == 1.0).all() and never["kept best"].all()  # no 100th best: no stop
    eager = simulate_early_stopping(tiny_zoo, s, thresholds=(0.01,), regressor="blr")
    assert (eager.speedup > 1.0).all()  # Δ = 0.01 stops nearly everything after one epoch
