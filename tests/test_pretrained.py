"""Pretrained predictors shipped in ``zoos/predictors/`` (issue 18): each loads by name
with no zoo, its card names the shipped zoo it learned from (still the spec the code asks
for), and re-scoring it on that zoo's held-out networks reproduces the card's numbers."""

from __future__ import annotations

import numpy as np
import pytest

from common import compare, metrics, pretrained, zoo

SHIPPED = ["peephole-blocks-digits", "weights-smallcnn-digits"]


def _chapter(name: str):
    """(experiments module, the chapter's book-scale settings) of a shipped predictor."""
    if name.startswith("peephole"):
        from peephole import experiments
    else:
        from weights_to_acc import experiments
    return experiments, experiments.scale_of("digits", "book")


def test_every_shipped_predictor_has_a_card_and_small_safe_files():
    assert pretrained.names() == SHIPPED
    for name in SHIPPED:
        card = pretrained.card(name)
        path = pretrained.FOLDER / card["file"]
        assert path.suffix in (".pt", ".json") and path.stat().st_size < 5_000_000
        assert {"zoo", "recipe", "held_out", "summary", "predicts"} <= set(card)
        assert str(card["held_out"]["networks"]) in card["summary"]
    with pytest.raises(FileNotFoundError, match="no pretrained predictor 'nope'; shipped: "):
        pretrained.card("nope")


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_predictor_reproduces_its_card_on_the_held_out_networks(name):
    experiments, s = _chapter(name)
    card = pretrained.card(name)
    spec = experiments.zoo_spec("digits", "book")
    assert card["zoo"] == spec.to_dict(), f"{name} learned from a zoo the code no longer asks for"
    predictor = pretrained.load(name, device="cpu")
    assert predictor.is_fitted() and predictor.target == card["predicts"]
    z = zoo.load(zoo.shipped_path(spec))
    _, held = experiments.split(z, s, 0)
    view = compare.visible(held, predictor.requires, z.spec.epochs)
    pred = predictor.predict(view, z.spec.epochs)
    truth = held.target(card["predicts"])
    assert len(truth) == card["held_out"]["networks"]
    assert metrics.kendall_tau(truth, pred) == pytest.approx(
        card["held_out"]["kendall_tau"], abs=2e-3
    )
    assert metrics.r2(truth, pred) == pytest.approx(card["held_out"]["r2"], abs=2e-3)
    assert np.isfinite(pred).all()
