"""`SRMPredictor`: a sequential regression model as a `common.compare.Predictor`."""

from __future__ import annotations

import numpy as np

from common.compare import Predictor, Requirements
from common.zoo import Zoo
from srm_earlystop.features import FEATURE_SETS
from srm_earlystop.srm import SRM


class SRMPredictor(Predictor):
    """Baker et al.'s SRM for one regressor, trained at the budget's τ."""

    def __init__(self, regressor="nu_svr_rbf", n_search=100, feature_sets=FEATURE_SETS, seed=0):
        self.regressor, self.n_search, self.seed = regressor, n_search, seed
        self.feature_sets = tuple(feature_sets)
        self.requires = Requirements(  # only the columns its feature sets read
            training_networks=True,
            curve=True,
            architecture="AP" in self.feature_sets,
            hyperparameters="HP" in self.feature_sets,
        )

    @property
    def name(self) -> str:
        """``SRM[regressor]``."""
        return f"SRM[{self.regressor}]"

    def fit(self, zoo: Zoo, budget: float) -> SRMPredictor:
        """Fit the SRM on the training curves' first τ points (τ = evaluations visible at
        `budget`)."""
        self.tau_ = zoo.visible_evals(budget)
        self.srm_ = SRM(self.regressor, self.n_search, self.feature_sets, seed=self.seed)
        curves, target = zoo.curve("val_acc"), zoo.target(self.target)
        self.srm_.fit(curves, zoo.table, target, [self.tau_], with_sigma=False)
        return self

    def predict(self, zoo: Zoo, budget: float) -> np.ndarray:
        """The SRM's mean prediction from each network's first τ points, bounded to the
        feasible accuracies [0, 1] (a regressor can step outside them; issue 17)."""
        mean, _ = self.srm_.predict(zoo.curve("val_acc"), zoo.table, self.tau_)
        return np.clip(mean, 0.0, 1.0)
