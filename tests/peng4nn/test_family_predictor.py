"""The generator, the predictor (against a replay written out by hand), the experiment
helpers, and the replication notebook at smoke scale."""

import numpy as np
import pandas as pd
import pytest

from common import archs, compare, zoo
from peng4nn import experiments, family
from peng4nn.engine import Engine
from peng4nn.predictor import PEng4NNPredictor
from tests.conftest import build_in_process


@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 28, 28), (3, 32, 32)])
def test_generator_follows_the_papers_ranges(shape):
    rng = np.random.default_rng(0)
    attempts = 0
    for _ in range(40):
        arch, recipe, extra = family.sample(rng, input_shape=shape, num_classes=10, max_filters=24)
        attempts += extra["attempts"]
        archs.build(arch)  # valid
        layers = arch.layers
        convs = [layer for layer in layers if layer["type"] == "conv"]
        pools = [layer for layer in layers if layer["type"] == "maxpool"]
        assert 1 <= len(convs) <= 10 and len(pools) == len(convs)
        for conv in convs:
            assert 1 <= conv["kernel"] <= 5 and 1 <= conv["stride"] <= 5
            assert 0 <= conv["padding"] <= 5 and 1 <= conv["out_channels"] <= 24
        for pool in pools:
            assert 1 <= pool["kernel"] <= 5 and 1 <= pool["stride"] <= pool["kernel"]
            assert 0 <= pool["padding"] <= pool["kernel"] // 2
        assert [layer["type"] for layer in layers[-4:]] == ["flatten", "linear", "relu", "linear"]
        assert 1e-6 <= recipe.lr <= 1
    assert attempts > 40  # collapsing samples were drawn and resampled


def test_param_cap_and_registration():
    rng = np.random.default_rng(1)
    for _ in range(20):
        arch, _, _ = family.sample(
            rng, input_shape=(1, 28, 28), num_classes=10, max_params=5000, max_filters=24
        )
        assert archs.num_params(arch) <= 5000
    assert zoo.get_family("peng4nn") is family.sample


@pytest.fixture(scope="module")
def peng_zoo(tmp_path_factory):
    spec = experiments.zoo_spec("digits", "smoke", seed=2)
    return build_in_process(spec, tmp_path_factory.mktemp("peng") / "zoo.sqlite")


def test_predictor_equals_a_replay_written_out_by_hand(peng_zoo):
    budget = 2.5
    view = peng_zoo.truncate(budget)
    predictor = PEng4NNPredictor().fit(peng_zoo.subset([]), budget)
    predicted = predictor.predict(view, budget)
    for i in range(len(view)):
        engine, decision = Engine(), None
        for e, a, lo in zip(
            view.eval_epochs, view.curve("val_acc")[i], view.curve("val_loss")[i], strict=True
        ):
            decision = engine.observe(e, 100 * a, lo)
            if decision.stop:
                break
        assert predicted[i] == pytest.approx(decision.estimate / 100)
        assert (
            (predictor.stop_epochs_[i] == decision.epoch)
            if decision.stop
            else np.isnan(predictor.stop_epochs_[i])
        )


def test_predictor_runs_through_the_common_evaluator(peng_zoo):
    table = compare.evaluate([PEng4NNPredictor()], peng_zoo, budgets=[0, 1.0, 4.0], train_size=2)
    assert table.budget.tolist() == [1.0, 4.0]  # nothing to see at budget 0
    assert (table.train_size == 0).all() and (table.n_predicted == table.n_test).all()


def test_savings_follow_menndl_and_the_engine(peng_zoo):
    settings = experiments.settings_for("digits", max_epochs=peng_zoo.spec.epochs)
    table = experiments.savings(peng_zoo, settings)
    assert (table.peng4nn_epochs <= peng_zoo.spec.epochs).all()
    expected = 100 * (1 - table.peng4nn_epochs / table.menndl_epochs)
    assert np.allclose(table.epochs_saved_percent, expected)
    assert np.allclose(table.truth, 100 * peng_zoo.target("max_val_acc"))


def test_top_sets_throughput_and_membership_by_hand():
    table = pd.DataFrame(
        {
            "truth": np.arange(10.0),
            "estimate": [0, 1, 2, 3, 4, 5, 6, 9, 8.5, 7],
            "peng4nn_epochs": [2.0] * 10,
            "menndl_epochs": [10.0] * 10,
        }
    )
    top = experiments.top_sets(table, fractions=(0.2,))
    assert top.overlap.item() == 0.5 and top.gap_points.item() == pytest.approx(1.0)
    assert experiments.throughput_gain(table) == 5.0
    labels = experiments.membership(table, 0.2)
    assert labels[9] == "truth only" and labels[8] == "both" and labels[7] == "predicted only"
    assert labels[0] == "neither"


def test_unknown_scale_is_named():
    with pytest.raises(ValueError, match="unknown scale 'huge'"):
        experiments.zoo_spec("digits", "huge")


def test_default_datasets_skip_what_is_not_present(tmp_path):
    assert experiments.default_datasets("book", root=tmp_path) == ["digits"]
    assert experiments.default_datasets("smoke", root=tmp_path) == ["digits"]


def test_settings_are_a_keyword_dataclass_and_overrides_are_checked():
    from peng4nn import experiments

    book = experiments.SCALES["book"]["digits"]
    with pytest.raises(TypeError):
        experiments.Scale(120, 20.0)  # keywords only
    spec = experiments.zoo_spec("digits", "book", n_networks=7)
    assert spec.n_networks == 7 and spec.family_options["lr_range"] == list(book.lr_range)
    assert "min_filters" not in experiments.zoo_spec("digits", "smoke").family_options
    with pytest.raises(ValueError, match="unknown settings \\['n_nets'\\]"):
        experiments.zoo_spec("digits", "book", n_nets=7)


def test_the_live_demo_draws_a_network_of_the_zoos_own_scale_outside_the_zoo():
    """The chapter's live run trains a network the way the zoo trains its own (the scale's
    sampler, optimiser and epochs: a chapter's ``epochs`` override reaches it) and one the
    zoo does not hold."""
    from common.zoospec import sample_network

    spec = experiments.zoo_spec("digits", "book", epochs=2.0, n_networks=3)
    demo = experiments.live_demo(spec, device="cpu", tries=2)
    assert demo["network"] in (3, 4)  # past the zoo's networks 0..2
    assert demo["full epochs"] == 2.0  # e_max is the zoo's, not the paper's 20
    assert 0 < demo["engine epochs"] <= 2.0
    _, recipe, _ = sample_network(spec, demo["network"], (1, 8, 8), 10)
    assert recipe.optimizer == "adam" and 3e-4 <= recipe.lr <= 3e-3  # the book's range
    with pytest.raises(ValueError, match="tries=0"):
        experiments.live_demo(spec, tries=0)
