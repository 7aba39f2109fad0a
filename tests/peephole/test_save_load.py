"""A fitted Peephole saved and loaded (issue 18): the same predictions, the zoo it learned
from shown, and a damaged file named."""

import numpy as np
import pytest

from common import compare
from peephole.model import PeepholeConfig
from peephole.predictor import PeepholePredictor


def test_a_saved_peephole_predicts_as_the_fitted_one_and_shows_its_recipe(probe_zoo, tmp_path):
    z = probe_zoo.finished()
    config = PeepholeConfig(epochs=3, embed_dim=8, hidden=16, mlp_hidden=16, max_epoch=10)
    p, pred, _, _ = compare.fit_predict(
        PeepholePredictor(config, "cpu", ("dropout",)), z, z, z.spec.epochs
    )
    path = p.save(tmp_path / "peephole.pt")
    loaded = PeepholePredictor.load(path, device="cpu")
    view = compare.visible(z, loaded.requires, z.spec.epochs)
    np.testing.assert_allclose(loaded.predict(view, z.spec.epochs), pred, rtol=1e-6)
    assert loaded.card() == p.card()
    assert f"trained on {len(z)} 'blocks' networks on 'digits'" in p.card()
    assert f"each trained {z.spec.epochs:g} epochs" in p.card()
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match=rf"{path}: not a saved Peephole"):
        PeepholePredictor.load(path)
    with pytest.raises(FileNotFoundError, match="no saved Peephole at"):
        PeepholePredictor.load(tmp_path / "absent.pt")
    with pytest.raises(compare.NotFittedError, match="before save"):
        PeepholePredictor(config).save(tmp_path / "x.pt")
