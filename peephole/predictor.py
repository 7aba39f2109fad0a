"""`PeepholePredictor`: Peephole as a `common.compare.Predictor` (budget 0, architecture only,
learns from fully trained networks)."""

from __future__ import annotations

import numpy as np

from common.archs import Architecture
from common.compare import Predictor, Requirements
from common.zoo import Zoo
from peephole import model
from peephole.ulc import encode


def zoo_codes(zoo: Zoo, skip: tuple[str, ...] = ()) -> list[np.ndarray]:
    """ULC codes of every network of a zoo (ValueError naming a layer ULC cannot encode,
    unless its type is in `skip`)."""
    return [encode(Architecture.from_json(text), skip=skip) for text in zoo.table["arch"]]


class PeepholePredictor(Predictor):
    """Predicts the target from the architecture alone, at the zoo's final epoch."""

    requires = Requirements(training_networks=True, architecture=True)

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
        """Train Peephole on the training networks' codes and final accuracies."""
        if "arch" not in zoo.table:
            raise ValueError("the zoo table has no 'arch' column to encode")
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
