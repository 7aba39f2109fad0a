"""`CurveRegressor`: Baker et al.'s sequential regression models on plain arrays, in
scikit-learn's style (issue 18), for a researcher's own loop: no zoo.

``fit(curves, y=None, meta=None)`` trains one model per number of observed points τ (all
of 1..T−1 unless `taus` restricts them) on fully observed curves; ``y`` defaults to each
curve's last value and ``meta`` (a table of ``n_params`` / ``depth`` and hyperparameter
columns, `srm_earlystop.features`) adds the AP and HP features. ``predict(partial)`` reads τ
from the partial curves' length; ``should_stop`` applies Baker's rule to one curve
(Sec. 4: stop when Φ(y_best − δ; ŷ, σ) ≥ Δ).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> final = rng.uniform(0.3, 0.9, 40)
>>> curves = final[:, None] * (1 - np.exp(-0.5 * np.arange(1, 9)))  # 40 curves, 8 points
>>> model = CurveRegressor(n_search=5, taus=[3]).fit(curves)
>>> partial = 0.6 * (1 - np.exp(-0.5 * np.arange(1, 4)))  # a new curve, 3 points seen
>>> mean, std = model.predict(partial[None], return_std=True)
>>> bool(abs(mean[0] - 0.6 * (1 - np.exp(-4.0))) < 0.05), model.should_stop(partial, best=0.95)
(True, True)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from srm_earlystop.early_stopping import should_stop
from srm_earlystop.features import AP_COLUMNS, HP_CATEGORICAL, HP_NUMERIC, check_curves
from srm_earlystop.srm import SRM


class CurveRegressor:
    """Predicts a curve's final value (and σ) from its first τ points.

    Args:
        regressor: a key of `srm_earlystop.regressors.REGRESSORS` (ν-SVR: the paper's best).
        n_search: random-search configurations per τ (paper: 1,000; each τ is a search).
        taus: the τ to fit (default: every τ from 1 to T−1).
        seed: seeds the searches.
    """

    def __init__(self, regressor: str = "nu_svr_rbf", n_search: int = 100, taus=None, seed=0):
        self.regressor, self.n_search, self.taus, self.seed = regressor, n_search, taus, seed

    def fit(self, curves, y=None, meta: pd.DataFrame | None = None) -> CurveRegressor:
        """Fit on fully observed `curves` [n, T]; `y` [n] defaults to their last values."""
        full = check_curves(curves)
        target = full[:, -1] if y is None else np.asarray(y, dtype=float)
        if target.shape != (len(full),):
            raise ValueError(f"y of shape {target.shape}; expected ({len(full)},), one per curve")
        taus = list(range(1, full.shape[1])) if self.taus is None else list(self.taus)
        bad = [t for t in taus if not (isinstance(t, int | np.integer) and 1 <= t < full.shape[1])]
        if not taus or bad:
            raise ValueError(f"taus {bad or taus}: expected integers in 1..{full.shape[1] - 1}")
        sets = ("TS", *_meta_sets(meta))
        self.srm_ = SRM(self.regressor, self.n_search, sets, seed=self.seed)
        self.srm_.fit(full, meta, target, taus)
        # accuracies (curves and targets in [0, 1]): predictions stay in [0, 1]
        self.bounded_ = bool(
            0 <= min(full.min(), target.min()) <= max(full.max(), target.max()) <= 1
        )
        return self

    def predict(self, partial, meta: pd.DataFrame | None = None, return_std: bool = False):
        """ŷ (and σ with `return_std`) for curves observed for their first τ points, τ read
        from `partial`'s width [m, τ]."""
        if not hasattr(self, "srm_"):
            raise ValueError("CurveRegressor is not fitted: call fit(curves) first")
        seen = check_curves(partial)
        tau = seen.shape[1]
        if tau not in self.srm_.models:
            raise ValueError(f"no model for τ = {tau} points; fitted for τ in {self.fitted_taus}")
        mean, std = self.srm_.predict(seen, meta, tau)
        if self.bounded_:
            mean = np.clip(mean, 0.0, 1.0)
        return (mean, std) if return_std else mean

    @property
    def fitted_taus(self) -> list[int]:
        """The τ this estimator has a model for."""
        return sorted(self.srm_.models)

    def should_stop(self, partial, best: float, threshold: float = 0.95, delta: float = 0.0):
        """Baker's rule on one partial curve [τ]: True when it will end below `best` − δ
        with probability at least Δ = `threshold`."""
        row = np.asarray(partial, dtype=float)[None, :]
        mean, std = self.predict(row, return_std=True)
        return bool(should_stop(best, mean, std, threshold, delta)[0])


def _meta_sets(meta: pd.DataFrame | None) -> tuple[str, ...]:
    """AP where `meta` has ``n_params`` and ``depth``; HP where it has hyperparameter
    columns (`srm_earlystop.features`); a `meta` with neither is refused."""
    if meta is None:
        return ()
    sets = ("AP",) if set(AP_COLUMNS) <= set(meta) else ()
    sets += ("HP",) if set(meta) & {*HP_NUMERIC, *HP_CATEGORICAL} else ()
    if not sets:
        raise ValueError(
            f"meta has none of the AP columns {AP_COLUMNS} or hyperparameter columns"
            f" {HP_NUMERIC + HP_CATEGORICAL}; columns: {list(meta)}"
        )
    return sets
