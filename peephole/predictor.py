"""`PeepholePredictor`: Peephole as a `common.compare.Predictor` (budget 0, architecture only,
learns from fully trained networks)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from common.archs import Architecture
from common.compare import NotFittedError, Predictor, Requirements
from common.train import resolve_device
from common.zoo import Zoo
from common.zoospec import describe_training
from peephole import model
from peephole.ulc import encode


def zoo_codes(zoo: Zoo, skip: tuple[str, ...] = ()) -> list[np.ndarray]:
    """ULC codes of every network of a zoo (ValueError naming a layer ULC cannot encode,
    unless its type is in `skip`)."""
    return [encode(Architecture.from_json(text), skip=skip) for text in zoo.table["arch"]]


class PeepholePredictor(Predictor):
    """Predicts the target from the architecture alone, at the zoo's final epoch."""

    requires = Requirements(training_networks=True, architecture=True)
    budget_free_fit = True  # it learns final accuracies from architectures: any budget

    def __init__(
        self,
        config: model.PeepholeConfig = model.SEC_5_1,
        device="auto",
        skip: tuple[str, ...] = (),
    ):
        """`skip`: layer types left out of the codes (e.g. ``("dropout",)`` for families
        with dropout, which ULC has no code for); by default every layer must be encodable."""
        self.config, self.device, self.skip = config, device, tuple(skip)

    @property
    def name(self) -> str:
        """``Peephole``."""
        return "Peephole"

    def epoch(self, zoo: Zoo) -> int:
        """The epoch index Peephole predicts at: the zoo's final epoch."""
        return min(int(round(zoo.spec.epochs)), self.config.max_epoch)

    def fit(self, zoo: Zoo, budget: float) -> PeepholePredictor:
        """Train Peephole on the training networks' codes and final accuracies; the zoo's
        training recipe is kept with it (`card`): its predictions hold for networks trained
        that way."""
        if "arch" not in zoo.table:
            raise ValueError("the zoo table has no 'arch' column to encode")
        self.trained_on_ = {"networks": len(zoo), "zoo": zoo.spec.to_dict()}
        self.model_ = model.fit(
            zoo_codes(zoo, self.skip),
            self.epoch(zoo),
            zoo.target(self.target),
            self.config,
            self.device,
        )
        return self

    def predict(self, zoo: Zoo, budget: float) -> np.ndarray:
        """Peephole's prediction for each network's code at the zoo's final epoch."""
        return model.predict(self.model_, zoo_codes(zoo, self.skip), self.epoch(zoo))

    def card(self) -> str:
        """What a fitted Peephole learned from: the zoo, and so the training its predicted
        accuracies assume."""
        if not self.is_fitted():
            raise NotFittedError("Peephole is not fitted: call fit(zoo, budget) first")
        return (
            f"Peephole trained on {self.trained_on_['networks']}"
            f" {describe_training(self.trained_on_['zoo'])}. It predicts the"
            " final validation accuracy a network reaches when trained that way."
        )

    def save(self, path: str | os.PathLike) -> Path:
        """Write a fitted Peephole to one file: its weights, settings and the zoo it learned
        from, loaded back by `load` with torch's safe loader (tensors and plain data only)."""
        if not self.is_fitted():
            raise NotFittedError("Peephole is not fitted: call fit(zoo, budget) before save")
        path = Path(path)
        torch.save(
            {
                "format": SAVE_FORMAT,
                "config": asdict(self.config),
                "skip": list(self.skip),
                "target": self.target,
                "trained_on": json.dumps(self.trained_on_),
                "state_dict": {k: v.cpu() for k, v in self.model_.state_dict().items()},
            },
            path,
        )
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, device="auto") -> PeepholePredictor:
        """A Peephole saved by `save`; a truncated, damaged or foreign file raises a
        ValueError naming the file."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"no saved Peephole at {path}")
        try:
            doc = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as bad:  # noqa: BLE001 - torch raises many kinds on a bad file
            raise ValueError(
                f"{path}: not a saved Peephole ({type(bad).__name__}: {bad})"
            ) from None
        keys = {"format", "config", "skip", "target", "trained_on", "state_dict"}
        if not isinstance(doc, dict) or keys - set(doc):
            raise ValueError(
                f"{path}: not a saved Peephole (missing {sorted(keys - set(doc or {}))})"
            )
        if doc["format"] > SAVE_FORMAT:
            raise ValueError(f"{path}: saved by a newer nnperf (format {doc['format']}); upgrade")
        p = cls(model.PeepholeConfig(**doc["config"]), device, tuple(doc["skip"]))
        p.target, p.trained_on_ = doc["target"], json.loads(doc["trained_on"])
        net = model.Peephole(p.config)
        net.load_state_dict(doc["state_dict"])
        p.model_ = net.to(resolve_device(device)).eval()
        return p


SAVE_FORMAT = 1  # version of the saved-Peephole file; a newer one is refused by name
