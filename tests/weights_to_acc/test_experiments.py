import numpy as np
import pytest

from common import compare, zoo
from tests.conftest import build_in_process
from weights_to_acc import experiments, predictors
from weights_to_acc.predictor import WeightsPredictor

SMOKE = experiments.scale_of("digits", "smoke")


@pytest.fixture(scope="module")
def small_zoo(tmp_path_factory):
    spec = zoo.ZooSpec(
        "smallcnn",
        "digits",
        n_networks=16,
        seed=4,
        epochs=1.0,
        eval_every=0.5,
        probes=("weight_stats",),
        keep_weights=True,
        scaling="symmetric",
        family_options={"subset": 0.5},
    )
    return build_in_process(spec, tmp_path_factory.mktemp("w2a") / "z.sqlite")


def test_diverged_networks_are_left_out(small_zoo):
    z = small_zoo.subset(np.arange(len(small_zoo)))
    z.table.loc[3, "status"] = "diverged"
    kept = experiments.finished(z)
    assert len(kept) == 15 and 3 not in set(kept.table.idx)
    train, test = experiments.split(z, SMOKE)
    assert len(train) + len(test) == 15 and set(train.table.idx).isdisjoint(test.table.idx)


def test_a_zoo_of_another_family_is_rejected(tiny_zoo):
    with pytest.raises(ValueError, match="need the smallcnn family"):
        experiments.finished(tiny_zoo)


def test_inputs_come_from_the_stored_weights(small_zoo):
    wl = experiments.inputs(small_zoo, "WL")
    final_probe = np.stack([rows[-1] for rows in small_zoo.probe_list("weight_stats")])
    assert np.allclose(wl, final_probe, atol=1e-5)  # W̃_L of the weights = the probe
    assert experiments.inputs(small_zoo, "hp").shape == (16, 15)
    ranges = experiments.bias_ranges(small_zoo)
    assert len(ranges) == 16 and set(ranges.optimizer) <= {"SGD", "Adam / RMSProp"}


def test_sensitivity_of_a_constant_model_is_zero(small_zoo):
    class Constant:
        def predict(self, x):
            return np.full(len(x), 0.5)

    from types import SimpleNamespace

    table = experiments.sensitivity(SimpleNamespace(model_=Constant()), small_zoo)
    assert len(table) == 12 and (table.MAD == 0).all()


def test_weights_predictor_reads_the_probe_at_the_budget(small_zoo):
    predictor = WeightsPredictor("gbm", n_search=2)
    table = compare.evaluate(
        [predictor], small_zoo, budgets=[0, 0.5, 1.0], target="test_acc", train_size=10
    )
    assert list(table.budget) == [0.5, 1.0]  # budget 0: no evaluation visible, skipped
    assert (table.n_predicted == table.n_test).all()
    fitted, pred, _, _ = compare.fit_predict(predictor, small_zoo, small_zoo, 0.5, "test_acc")
    half = experiments.finished(small_zoo).truncate(0.5).probe_list("weight_stats")
    assert np.allclose(pred, fitted.model_.predict(np.stack([r[-1] for r in half])))


@pytest.mark.parametrize("feature_set", ["hp+W", "WL4", "lr"])
def test_feature_set_predictors_keep_the_contract(small_zoo, feature_set):
    """The chapter's predictors go through the protocol: poisoning what they do not declare
    (and the targets) changes nothing, and the fit equals one written out by hand."""
    from tests.common.test_contract import poison

    z = experiments.finished(small_zoo)
    train, held = z.subset(np.arange(10)), z.subset(np.arange(10, len(z)))
    p = WeightsPredictor("gbm", n_search=2, features=feature_set, n_estimators=20)
    full = z.spec.epochs
    _, honest, _, _ = compare.fit_predict(p, train, held, full, "test_acc")
    poisoned = (poison(train, p.requires, None), poison(held, p.requires, full))
    _, got, _, _ = compare.fit_predict(p, *poisoned, full, "test_acc")
    np.testing.assert_allclose(got, honest)
    by_hand = predictors.fit(
        "gbm",
        experiments.inputs(train, feature_set),
        train.target("test_acc"),
        2,
        high_dimensional=feature_set == "hp+W",
        n_estimators=20,
    )
    np.testing.assert_allclose(honest, by_hand.predict(experiments.inputs(held, feature_set)))
