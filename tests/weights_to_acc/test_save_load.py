"""Saving and loading a fitted weights GBM (issue 17 item 4, issue 18): safe formats only,
the same predictions after a round trip, and a damaged file named with what is wrong."""

from __future__ import annotations

import json

import numpy as np
import pytest

from common import compare
from weights_to_acc import WeightsPredictor


@pytest.fixture(scope="module")
def fitted(tiny_zoo):
    z = tiny_zoo.finished()
    p = compare.fit(WeightsPredictor("gbm", n_search=1, n_estimators=20), z, z.spec.epochs)[0]
    return p, compare.visible(z, p.requires, z.spec.epochs)


def test_a_saved_gbm_predicts_as_the_fitted_one(fitted, tmp_path):
    p, z = fitted
    path = p.save(tmp_path / "gbm.json")
    loaded = WeightsPredictor.load(path)
    assert loaded.name == p.name and loaded.first_last_ == p.first_last_
    np.testing.assert_allclose(loaded.predict(z, z.spec.epochs), p.predict(z, z.spec.epochs))
    assert b"pickle" not in path.read_bytes() and json.loads(path.read_text())["format"] == 1
    loaded.save(tmp_path / "again.json")  # a loaded predictor saves the same model
    assert (
        json.loads((tmp_path / "again.json").read_text())["lightgbm"]
        == json.loads(path.read_text())["lightgbm"]
    )


def test_the_saved_form_computes_what_the_pipeline_computes():
    """On data where the GBM's predictions vary (14 tiny-zoo networks are too few for
    LightGBM to split), standardisation then the booster re-read from its text equals the
    fitted scikit-learn pipeline."""
    from lightgbm import Booster

    from weights_to_acc import predictors
    from weights_to_acc.predictor import SavedGBM

    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, (200, 6))
    y = 1 / (1 + np.exp(-x[:, 0] + 0.5 * x[:, 1]))
    pipe = predictors.fit("gbm", x, y, n_search=1, n_estimators=30)
    saved = SavedGBM.from_pipeline(pipe)
    saved.booster = Booster(model_str=saved.booster.model_to_string())
    expected = pipe.predict(x)
    assert np.ptp(expected) > 0.1
    np.testing.assert_allclose(saved.predict(x), expected)
    with pytest.raises(ValueError, match="inputs of 5 features; this predictor was trained on 6"):
        saved.predict(x[:, :5])


def test_a_damaged_saved_predictor_is_named_with_what_is_wrong(fitted, tmp_path):
    p, _ = fitted
    good = p.save(tmp_path / "gbm.json").read_text()
    path = tmp_path / "bad.json"
    path.write_text(good[: len(good) // 2])
    with pytest.raises(ValueError, match=rf"{path}: not a saved WeightsPredictor \(truncated"):
        WeightsPredictor.load(path)
    doc = json.loads(good)
    at = doc["lightgbm"].index("tree_sizes") + 20  # flip one digit inside the model text
    digit = doc["lightgbm"][at]
    flipped = "1" if digit != "1" else "2"
    doc["lightgbm"] = doc["lightgbm"][:at] + flipped + doc["lightgbm"][at + 1 :]
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=rf"{path}: the LightGBM model does not match its SHA"):
        WeightsPredictor.load(path)
    path.write_text(json.dumps(json.loads(good) | {"format": 7}))
    with pytest.raises(ValueError, match=r"saved by a newer nnperf \(format 7\); upgrade"):
        WeightsPredictor.load(path)
    path.write_text(json.dumps({"lightgbm": ""}))
    with pytest.raises(ValueError, match=r"missing \['first_last', 'format'"):
        WeightsPredictor.load(path)
    with pytest.raises(FileNotFoundError, match="no saved predictor at"):
        WeightsPredictor.load(tmp_path / "absent.json")


def test_only_a_fitted_gbm_saves(tmp_path):
    with pytest.raises(compare.NotFittedError, match="before save"):
        WeightsPredictor("gbm").save(tmp_path / "x.json")
    with pytest.raises(ValueError, match="only the 'gbm' predictor can be saved"):
        WeightsPredictor("dnn").save(tmp_path / "x.json")


def test_scoring_trained_modules_equals_predicting_from_the_zoo(fitted, tiny_zoo):
    """Each zoo network rebuilt as a torch module from its stored weights: its W̃_L equals
    the probe's last record, and `score` (module or state_dict) equals `predict` on the
    zoo."""
    import torch

    from common import archs
    from weights_to_acc.predictor import last_visible, module_statistics

    p, view = fitted
    z = tiny_zoo.finished()
    expected = p.predict(view, z.spec.epochs)
    probe = last_visible(z)
    for i, (arch, weights) in enumerate(zip(z.table.arch, z.weights_list(), strict=True)):
        net = archs.build(archs.Architecture.from_json(arch))
        torch.nn.utils.vector_to_parameters(torch.as_tensor(weights), net.parameters())
        np.testing.assert_allclose(module_statistics(net), probe[i], rtol=1e-6)
        assert p.score(net) == pytest.approx(expected[i])
        assert p.score(net.state_dict()) == pytest.approx(expected[i])
    nets = [archs.build(archs.Architecture.from_json(a)) for a in z.table.arch[:2]]
    assert p.score(nets).shape == (2,)
    one_layer = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
    message = (
        r"network 0 has 1 weight layer\(s\); .* the first and the last"
        if p.first_last_
        else (r"network 0 has 1 weight layers .* trained on \d+ weight layers")
    )
    with pytest.raises(ValueError, match=message):
        p.score(one_layer)
    with pytest.raises(ValueError, match="feature set 'W'"):
        WeightsPredictor("gbm", features="W").score(net)


def test_a_network_of_another_depth_is_refused_by_a_fixed_depth_predictor():
    import torch

    from weights_to_acc.predictor import LAYER, SavedGBM

    p = WeightsPredictor("gbm")
    p.first_last_ = False  # trained on networks of 2 weight layers
    p.model_ = SavedGBM(np.zeros(2 * LAYER), np.ones(2 * LAYER), booster=None)
    one_layer = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
    with pytest.raises(ValueError, match=r"network 0 has 1 weight layers \(W̃_L of 14 numbers\)"):
        p.score(one_layer)


def test_a_gbm_fitted_on_one_depth_gives_other_depths_no_prediction_not_an_error():
    """The comparison's searches fit the weights GBM on a few `blocks` networks, which may
    all have one depth; the networks of other depths then get NaN (no input), as a network
    without a probe does, and the rest their prediction."""
    from common import compare, zoo
    from peephole import experiments
    from weights_to_acc.predictor import WeightsPredictor

    z = zoo.load(zoo.shipped_path(experiments.zoo_spec("digits", "book"))).finished()
    widths = np.array([len(r[-1]) for r in z.probe_list("weight_stats")])
    common_width = np.bincount(widths).argmax()
    same = np.flatnonzero(widths == common_width)[:12]
    fitted, pred, _, _ = compare.fit_predict(
        WeightsPredictor("gbm", n_search=1, n_estimators=10), z.subset(same), z, z.spec.epochs
    )
    assert not fitted.first_last_ and (widths != common_width).any()
    assert np.isnan(pred[widths != common_width]).all()
    assert np.isfinite(pred[widths == common_width]).all()
