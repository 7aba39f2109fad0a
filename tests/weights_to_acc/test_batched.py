import numpy as np
import pytest

from common import archs, data, probes, train, zoo
from tests.conftest import build_in_process
from weights_to_acc import batched, family


@pytest.fixture(scope="module")
def digits_pm1():
    return data.load("digits", scaling="symmetric")


def one_per_kind(splits, epochs=0.5):
    """A sampled network for every optimiser × activation (all train fractions occur)."""
    rng, nets = np.random.default_rng(1), {}
    while len(nets) < 6:
        arch, recipe, extra = family.sample(
            rng, input_shape=splits.input_shape, num_classes=10, epochs=epochs
        )
        nets.setdefault((recipe.optimizer, extra["activation"]), (arch, recipe, len(nets)))
    return nets


def test_the_small_cnn_has_4970_weights():
    arch = family.architecture((1, 28, 28), 10, "tanh", 0.3)
    assert archs.num_params(arch) == 4970  # Unterthiner et al., Sec. 4.1
    assert sum(p.numel() for p in archs.build(arch).parameters()) == 4970
    assert family.describe(arch) == ("tanh", 0.3)


def test_batched_equals_one_at_a_time_for_every_optimiser_and_activation(digits_pm1):
    nets = one_per_kind(digits_pm1)
    assert {r.train_fraction for _, r, _ in nets.values()} != {1.0}  # several groups
    factories = {"weight_stats": lambda: probes.weight_stats_probe}
    together = batched.train_batched(
        list(nets.values()),
        digits_pm1,
        eval_every=0.25,
        probes=factories,
        device="cpu",
        keep_weights=True,
    )
    for ((opt, act), (arch, recipe, seed)), b in zip(nets.items(), together, strict=True):
        stats = {"weight_stats": probes.weight_stats_probe}
        alone = train.train(
            arch,
            recipe,
            digits_pm1,
            seed=seed,
            eval_every=0.25,
            device="cpu",
            keep_weights=True,
            probes=stats,
        )
        assert b.status == alone.status == "ok", (opt, act)
        # float-level differences (grouped vs single convolutions) stay ~1e-7 for SGD and
        # Adam; RMSProp's g / (√v + ε) amplifies them for tiny gradients: ~4e-5 of the
        # largest weight on one machine, 1.1e-4 on another AMD EPYC (2026-12-03); a wrong
        # update (optimiser, group, step) moves weights by 1e-2 and more
        assert np.abs(b.weights - alone.weights).max() < 5e-4 * np.abs(alone.weights).max()
        assert np.array_equal(b.eval_epochs, alone.eval_epochs)
        for name in train.CURVES:
            assert np.allclose(b.curves[name], alone.curves[name], atol=1e-4), (opt, act, name)
        assert np.isclose(b.test_acc, alone.test_acc) and np.isclose(b.test_loss, alone.test_loss)
        assert np.allclose(b.probes["weight_stats"], alone.probes["weight_stats"], atol=1e-4)


def test_a_diverging_network_is_kept_as_diverged_in_both(digits_pm1):
    arch = family.architecture(digits_pm1.input_shape, 10, "relu", 0.2)
    wild = train.Recipe(optimizer="sgd", lr=1e6, momentum=0.0, batch_size=32, epochs=1.0)
    calm = train.Recipe(optimizer="adam", lr=1e-3, batch_size=32, epochs=1.0)
    out = batched.train_batched(
        [(arch, wild, 0), (arch, calm, 1)],
        digits_pm1,
        eval_every=0.5,
        device="cpu",
        keep_weights=True,
    )
    alone = train.train(arch, wild, digits_pm1, seed=0, eval_every=0.5, device="cpu")
    assert out[0].status == alone.status == "diverged" and out[0].weights is None
    assert len(out[0].eval_epochs) == len(alone.eval_epochs) and np.isnan(out[0].test_acc)
    assert out[1].status == "ok" and np.isfinite(out[1].weights).all()


def test_other_architectures_are_rejected(digits_pm1):
    other = archs.Architecture(
        (1, 8, 8), 10, [{"type": "flatten"}, {"type": "linear", "out_features": 10}]
    )
    with pytest.raises(ValueError, match="not a smallcnn architecture"):
        batched.train_batched([(other, train.Recipe(), 0)], digits_pm1)
    mixed = family.architecture((1, 8, 8), 10, "relu", 0.1)
    layers = list(mixed.layers)
    layers[4] = {"type": "tanh"}
    with pytest.raises(ValueError, match="one activation"):
        family.describe(archs.Architecture((1, 8, 8), 10, layers))


def test_zoo_build_trains_the_family_in_batches(tmp_path):
    spec = zoo.ZooSpec(
        "smallcnn",
        "digits",
        n_networks=5,
        seed=2,
        epochs=0.5,
        eval_every=0.25,
        probes=("weight_stats",),
        keep_weights=True,
        scaling="symmetric",
    )
    assert zoo._batchable(spec)
    z = build_in_process(spec, tmp_path / "z.sqlite")
    assert list(z.table.idx) == list(range(5)) and (z.table.n_params == 4970).all()
    alone = zoo.train_network({"spec": spec.to_dict(), "index": 3})  # one at a time
    weights = z.weights_list()[3]
    assert np.abs(weights - alone["arrays"]["weights"]).max() < 1e-4 * np.abs(weights).max()
    assert np.allclose(z.curve("val_acc")[3], alone["arrays"]["curve/val_acc"], atol=1e-4)
