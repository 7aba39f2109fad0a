"""Pretrained predictors shipped in the repository (issue 18), loadable by name.

Each lives in ``zoos/predictors/`` as the method's own safe file (a Peephole through torch's
``weights_only`` loader; a weights GBM as LightGBM's text model in JSON, no pickle) beside a
card, ``NAME.card.json``: which shipped zoo it learned from (its spec), the recipe its
predictions assume, and how well it did on the zoo's held-out networks (Kendall τ, R²,
measured by ``zoos/train_predictors.py``, which writes both files).

>>> from common import archs, pretrained
>>> from weights_to_acc import smallcnn
>>> pretrained.names()
['peephole-blocks-digits', 'weights-smallcnn-digits']
>>> gbm = pretrained.load("weights-smallcnn-digits")
>>> net = archs.build(smallcnn.architecture((1, 8, 8), 10))  # the zoo's Small CNN, untrained
>>> isinstance(gbm.score(net), float)  # its predicted test accuracy (a fraction)
True
>>> pretrained.card("weights-smallcnn-digits")["held_out"]["networks"]
256
>>> peephole = pretrained.load("peephole-blocks-digits", device="cpu")
>>> peephole.card().startswith("Peephole trained on 80 'blocks' networks on 'digits'")
True
"""

from __future__ import annotations

import json
from pathlib import Path

from common.zoo import SHIPPED

FOLDER = SHIPPED / "predictors"


def names(folder: str | Path | None = None) -> list[str]:
    """The shipped predictors' names (each has a card)."""
    return sorted(p.name[: -len(".card.json")] for p in Path(folder or FOLDER).glob("*.card.json"))


def card(name: str, folder: str | Path | None = None) -> dict:
    """The card of predictor `name`: method, file, zoo spec, recipe, held-out metrics and a
    one-paragraph ``summary``; FileNotFoundError listing the shipped names."""
    path = Path(folder or FOLDER) / f"{name}.card.json"
    if not path.exists():
        raise FileNotFoundError(
            f"no pretrained predictor {name!r}; shipped: {names(folder) or 'none'}"
        )
    return json.loads(path.read_text())


def load(name: str, folder: str | Path | None = None, device: str = "auto"):
    """Predictor `name`, fitted, as its method's class (`PeepholePredictor` or
    `WeightsPredictor`); the card's summary says what its predictions assume."""
    about = card(name, folder)
    path = Path(folder or FOLDER) / about["file"]
    if about["method"] == "peephole":
        from peephole.predictor import PeepholePredictor

        return PeepholePredictor.load(path, device)
    if about["method"] == "weights":
        from weights_to_acc.predictor import WeightsPredictor

        return WeightsPredictor.load(path)
    raise ValueError(f"{name}: unknown method {about['method']!r} in its card")
