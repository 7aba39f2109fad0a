import math

import numpy as np
import pytest
import torch

from common import archs, probes, train

ARCH = archs.Architecture(
    (1, 8, 8),
    10,
    [
        {"type": "conv", "kernel": 3, "out_channels": 8, "padding": 1},
        {"type": "relu"},
        {"type": "maxpool", "kernel": 2},
        {"type": "flatten"},
        {"type": "linear", "out_features": 10},
    ],
)
RECIPE = train.Recipe(lr=0.05, epochs=2, batch_size=64)


@pytest.fixture(scope="module")
def run(digits):
    return train.train(ARCH, RECIPE, digits, seed=7, eval_every=0.5)


def test_same_seed_same_curves_other_seed_other_curves(digits, run):
    again = train.train(ARCH, RECIPE, digits, seed=7, eval_every=0.5)
    other = train.train(ARCH, RECIPE, digits, seed=8, eval_every=0.5)
    for name in train.CURVES:
        assert np.array_equal(run.curves[name], again.curves[name])
    assert not np.array_equal(run.curves["val_loss"], other.curves["val_loss"])
    assert run.test_acc == again.test_acc


def test_half_epoch_evaluations_and_recorded_curves(run, digits):
    assert run.status == "ok"
    assert run.eval_epochs.tolist() == [0.5, 1.0, 1.5, 2.0]
    assert all(len(run.curves[name]) == 4 for name in train.CURVES)
    assert 0 <= run.test_acc <= 1 and math.isfinite(run.test_loss)
    # the recorded final val accuracy is the model's: re-evaluating reproduces it
    assert run.curves["val_acc"][-1] > 0.1  # above chance after 2 epochs of a small CNN


def test_a_small_cnn_learns_digits(digits):
    result = train.train(ARCH, train.Recipe(lr=0.1, epochs=6, batch_size=32), digits, seed=0)
    assert result.curves["val_acc"][-1] > 0.8
    assert result.curves["train_loss"][-1] < result.curves["train_loss"][0]


def test_eval_schedule():
    assert train.eval_schedule(2, 0.5).tolist() == [0.5, 1.0, 1.5, 2.0]
    assert train.eval_schedule(2.2, 1).tolist() == [1.0, 2.0, 2.2]
    assert train.eval_schedule(0.3, 1).tolist() == [0.3]
    with pytest.raises(ValueError, match="eval_every"):
        train.eval_schedule(2, 0)


def test_learning_rate_schedules_by_hand():
    step = train.Recipe(schedule="step", milestones=(2, 4), gamma=0.1, epochs=6)
    assert [train.lr_factor(step, e) for e in (0, 1.9, 2, 4.5)] == pytest.approx([1, 1, 0.1, 0.01])
    linear = train.Recipe(schedule="linear", epochs=4)
    assert train.lr_factor(linear, 1) == pytest.approx(0.75)
    cosine = train.Recipe(schedule="cosine", epochs=4)
    assert train.lr_factor(cosine, 2) == pytest.approx(0.5)
    assert train.lr_factor(cosine, 4) == pytest.approx(0.0)


def test_huge_learning_rate_gives_diverged_run_not_exception(digits):
    result = train.train(ARCH, train.Recipe(lr=1e12, epochs=2), digits, seed=0, eval_every=0.5)
    assert result.status == "diverged"
    assert len(result.curves["val_acc"]) < 4
    assert len(result.eval_epochs) == len(result.curves["val_acc"])
    assert math.isnan(result.test_acc)


class Recorder:
    """A probe that records what the trainer hands it."""

    def __init__(self):
        self.batch_samples = 0
        self.calls = []

    def on_train_batch(self, features, labels):
        self.batch_samples += len(labels)
        assert features.shape[0] == len(labels)

    def __call__(self, model, features, labels):
        self.calls.append((tuple(features.shape), len(labels)))
        return np.array([len(self.calls)])


def test_probes_see_penultimate_features_and_train_fraction_is_respected(digits):
    recorder = Recorder()
    result = train.train(
        ARCH, train.Recipe(epochs=2, train_fraction=0.5), digits, seed=0, probes={"r": recorder}
    )
    n_val = len(digits.val_y)
    assert recorder.calls == [((n_val, 8 * 4 * 4), n_val)] * 2  # flatten of 8x4x4 features
    assert recorder.batch_samples == 2 * round(0.5 * len(digits.train_y))
    assert result.probes["r"].tolist() == [[1], [2]]


def test_weight_statistics_by_hand():
    stats = probes.tensor_statistics(torch.tensor([4.0, 1.0, 3.0, 2.0]))
    # mean 2.5, population variance 1.25, quantiles (linear interpolation) 1, 1.75, 2.5, 3.25, 4
    assert stats.numpy() == pytest.approx([2.5, 1.25, 1, 1.75, 2.5, 3.25, 4])


def test_layer_statistics_order_and_size():
    model = archs.build(ARCH)
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.arange(p.numel(), dtype=p.dtype).reshape(p.shape) + 100 * i)
    stats = probes.layer_statistics(model).reshape(-1, probes.STATS_PER_TENSOR)
    assert stats.shape == (4, 7)  # conv kernel, conv bias, linear kernel, linear bias
    for row, p in zip(stats, model.parameters(), strict=True):
        values = p.detach().flatten().double().numpy()
        expected = [values.mean(), values.var(), *np.quantile(values, [0, 0.25, 0.5, 0.75, 1])]
        assert row == pytest.approx(expected)


def test_initialisers():
    model = archs.build(ARCH)
    torch.manual_seed(0)
    train.initialize(model, "normal", variance=0.04)
    linear = model.classifier
    assert linear.weight.std().item() == pytest.approx(0.2, rel=0.1)
    assert torch.count_nonzero(linear.bias) == 0
    train.initialize(model, "he_normal")
    conv = model.body[0]
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2 / 9), rel=0.25)
    train.initialize(model, "truncated_normal", variance=1.0)
    assert conv.weight.abs().max().item() <= 2.0


@pytest.mark.parametrize(
    ("field", "value"), [("optimizer", "lbfgs"), ("lr", 0), ("train_fraction", 1.5), ("init", "x")]
)
def test_recipe_rejects_bad_values(field, value):
    with pytest.raises(ValueError, match=f"Recipe.{field}"):
        train.Recipe(**{field: value})


def test_mismatched_data_is_an_error(digits):
    wrong = archs.Architecture((3, 8, 8), 10, ARCH.layers)
    with pytest.raises(ValueError, match="input"):
        train.train(wrong, RECIPE, digits)


@pytest.mark.parametrize("optimizer", train.OPTIMIZERS)
def test_every_optimizer_trains(digits, optimizer):
    recipe = train.Recipe(optimizer=optimizer, lr=0.01, epochs=1, schedule="cosine")
    result = train.train(ARCH, recipe, digits, keep_weights=True)
    assert result.status == "ok"
    assert result.weights.shape == (archs.num_params(ARCH),)


def test_unknown_probe_names_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown probe 'nope'; known: \[.*'weight_stats'"):
        probes.make_probe("nope")


def test_a_run_stopped_early_matches_the_start_of_a_full_run(digits, run):
    partial = train.Run(ARCH, RECIPE, digits, seed=7, eval_every=0.5)
    for evaluation in partial:
        if evaluation.epoch == 1.0:
            break
    result = partial.result()
    assert result.eval_epochs.tolist() == [0.5, 1.0]
    assert np.array_equal(result.curves["val_acc"], run.curves["val_acc"][:2])
    assert np.array_equal(result.curves["train_loss"], run.curves["train_loss"][:2])
    assert math.isfinite(result.test_acc)
