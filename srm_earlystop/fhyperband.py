"""f-Hyperband (Baker et al., Sec. 4.2.1 and Appendix C, Algorithms 1 and 2).

Hyperband whose rungs stop configurations early: once `d` configurations have been trained
fully to r epochs, sequential regression models M[r][i] predict y_r from the first i + 1
values, and a configuration is stopped at i when Φ(max_k(L, κ·n) − δ; ŷ_r, σ) ≥ Δ, where L
holds the values of the rung so far and n is the number of configurations the next rung
keeps; a stopped configuration is ranked by its prediction ŷ_r. Written on `common.search`,
so a replayed zoo or a live trainer serves it. The SRMs here use time-series features only
(Hyperband's configurations carry no architecture table); the algorithm listing leaves a
configuration that was not stopped at its last epoch without a value, which we read as
"its last observed value".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from common.search import Objective, SearchResult, Trial, hyperband
from srm_earlystop.early_stopping import kth_best, should_stop
from srm_earlystop.srm import SRM


@dataclass
class FHyperbandSettings:
    """f-Hyperband's parameters beyond Hyperband's R and η (Appendix C)."""

    threshold: float = 0.99  # Δ, probability threshold for early termination
    delta: float = 0.0  # δ, performance offset
    min_curves: int = 100  # d, fully observed curves needed to train the predictors
    kappa: float = 0.5  # κ, proportion of the next rung's models that must run fully
    regressor: str = "nu_svr_rbf"
    n_search: int = 20  # random-search configurations per SRM (paper: 1,000)
    seed: int = 0


@dataclass
class _Rung:
    """D[r] and M[r]: training curves and the per-i SRMs of one resource level r."""

    curves: list[np.ndarray] = field(default_factory=list)
    srm: SRM | None = None


class FHyperband:
    """Hyperband whose rungs stop configurations early with an SRM (Baker et al., Sec. 5)."""

    def __init__(self, objective: Objective, settings: FHyperbandSettings | None = None):
        self.objective, self.settings = objective, settings or FHyperbandSettings()
        self.rungs: dict[int, _Rung] = {}

    def _train(self, rung: _Rung, r: int) -> None:
        curves = np.stack(rung.curves)
        s = self.settings
        rung.srm = SRM(s.regressor, s.n_search, feature_sets=("TS",), seed=s.seed)
        rung.srm.fit(curves, _empty_table(len(curves)), curves[:, -1], taus=range(1, r))

    def _run_one(self, config, r: int, bar: float) -> Trial:
        """Algorithm 2's inner loop for one configuration."""
        rung, values = self.rungs[r], []
        for value in self.objective(config, r):
            values.append(value)
            tau = len(values)
            if rung.srm is not None and tau < r and np.isfinite(values).all():
                mean, sigma = rung.srm.predict(np.array([values]), _empty_table(1), tau)
                if should_stop(
                    bar, mean[0], sigma[0], self.settings.threshold, self.settings.delta
                ):
                    return Trial(config, r, tau, float(mean[0]))
        if rung.srm is None and len(values) == r and np.isfinite(values).all():
            rung.curves.append(np.array(values))
            if len(rung.curves) == self.settings.min_curves:
                self._train(rung, r)
        return Trial(config, r, len(values), values[-1] if values else -np.inf)

    def evaluate(self, configs: list, r: int, n_next: int) -> list[Trial]:
        """Run one rung (Algorithm 2) for `configs` at `r` epochs."""
        self.rungs.setdefault(r, _Rung())
        k = max(1, math.floor(self.settings.kappa * n_next))
        trials: list[Trial] = []
        for config in configs:
            bar = kth_best([t.value for t in trials], k)
            trials.append(self._run_one(config, r, bar))
        return trials

    def run(self, sample, max_resource: int, eta: float = 3, repeats: int = 1) -> SearchResult:
        """f-Hyperband over `sample(n)` configurations with R = `max_resource`; consecutive
        `repeats` share the training curves and predictors (D and M of Algorithm 1)."""
        return hyperband(sample, self.objective, max_resource, eta, self.evaluate, repeats)


def _empty_table(n: int):
    import pandas as pd

    return pd.DataFrame(index=range(n))
