"""Train the pretrained predictors shipped in ``zoos/predictors/`` (issue 18) from the
shipped book-scale zoos, and write each one's card with its held-out metrics.

Each predictor learns from the training half of its chapter's split of the zoo (the
chapter's own split and settings, seed 0) and is scored on the other half; the card records
the zoo's spec, the recipe the predictions assume and the held-out Kendall τ and R². Loading
them needs no zoo: `common.pretrained.load(name)`.

    uv run python zoos/train_predictors.py          # both (a few minutes on 2 cores)
    uv run python zoos/train_predictors.py peephole-blocks-digits
"""

from __future__ import annotations

import json
import sys
from datetime import date

from common import compare, metrics, pretrained, zoo
from common.zoospec import describe_training


def _held_out(truth, pred) -> dict:
    return {
        "networks": int(len(truth)),
        "kendall_tau": round(float(metrics.kendall_tau(truth, pred)), 4),
        "r2": round(float(metrics.r2(truth, pred)), 4),
    }


def _fit(predictor, z: zoo.Zoo, train: zoo.Zoo, held: zoo.Zoo, target: str):
    """Fit through the protocol (`common.compare.fit_predict`: the predictor sees what it
    declares) on `train`; the held-out metrics on `held`."""
    fitted, pred, _, _ = compare.fit_predict(predictor, train, held, z.spec.epochs, target)
    return fitted, _held_out(held.target(target), pred)


def peephole_blocks_digits():
    """Peephole (Sec. 5.1's network at the book's predictor epochs) on the book's blocks zoo."""
    from peephole import experiments

    s = experiments.scale_of("digits", "book")
    z = zoo.load(zoo.shipped_path(experiments.zoo_spec("digits", "book")))
    train, held = experiments.split(z, s, 0)
    predictor = experiments.peephole_predictor(s, "cpu", 0)
    return (*_fit(predictor, z, train, held, "final_val_acc"), z, ".pt")


def weights_smallcnn_digits():
    """The weights GBM on W̃_L (Unterthiner et al.'s best) on the book's Small CNN zoo."""
    from weights_to_acc import experiments
    from weights_to_acc.predictor import WeightsPredictor

    s = experiments.scale_of("digits", "book")
    z = zoo.load(zoo.shipped_path(experiments.zoo_spec("digits", "book")))
    train, held = experiments.split(z, s, 0)
    predictor = WeightsPredictor("gbm", s.n_search, 0, s.net_epochs, None, s.n_estimators)
    return (*_fit(predictor, z, train, held, experiments.TARGET), z, ".json")


BUILDERS = {
    "peephole-blocks-digits": ("peephole", peephole_blocks_digits),
    "weights-smallcnn-digits": ("weights", weights_smallcnn_digits),
}


def build(name: str, folder=None) -> dict:
    """Train predictor `name`, save it and its card in `folder`; returns the card."""
    from pathlib import Path

    method, make = BUILDERS[name]
    folder = Path(folder or pretrained.FOLDER)
    folder.mkdir(parents=True, exist_ok=True)
    predictor, held, z, suffix = make()
    predictor.save(folder / f"{name}{suffix}")
    target, recipe = predictor.target, describe_training(z.spec.to_dict())
    about = {
        "name": name,
        "method": method,
        "file": f"{name}{suffix}",
        "predicts": target,
        "zoo": z.spec.to_dict(),
        "zoo_file": zoo.shipped_path(z.spec).name,
        "recipe": recipe,
        "held_out": held,
        "trained": date.today().isoformat(),
        "summary": (
            f"{predictor.name} trained on the {len(z) - held['networks']} training networks of "
            f"the shipped zoo {zoo.shipped_path(z.spec).name} ({recipe}). It predicts "
            f"{target} for networks trained that way, and only that way. On the zoo's "
            f"{held['networks']} held-out networks: Kendall τ {held['kendall_tau']:.3f}, "
            f"R² {held['r2']:.3f}."
        ),
    }
    (folder / f"{name}.card.json").write_text(json.dumps(about, indent=1, ensure_ascii=False))
    return about


if __name__ == "__main__":
    for wanted in sys.argv[1:] or list(BUILDERS):
        print(build(wanted)["summary"], flush=True)
