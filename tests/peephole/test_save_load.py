"""A fitted Peephole saved and loaded (issue 18): the same predictions, the zoo it learned
from shown, and a damaged file named."""

import numpy as np
import pandas as pd
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


def test_peephole_in_worker_processes_equals_peephole_here(probe_zoo):
    """Peephole trains on one thread wherever it runs, so `evaluate` with workers gives the
    table of one process (on the book's zoos a two-thread fit here differed from the
    one-thread fit in a worker by up to 0.19 in τ: benchmarks/compare_grid.py checks that)."""
    config = PeepholeConfig(epochs=20, max_epoch=10)  # the paper's layer sizes
    p = PeepholePredictor(config, "cpu", ("dropout",))
    kw = {"budgets": [0], "train_size": [8], "seed": [0, 1]}
    one = compare.evaluate([p], probe_zoo, **kw)
    two = compare.evaluate([p], probe_zoo, **kw, n_jobs=2)
    timing = ["fit_seconds", "query_seconds_per_network"]
    pd.testing.assert_frame_equal(one.drop(columns=timing), two.drop(columns=timing))
