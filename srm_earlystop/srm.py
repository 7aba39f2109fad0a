"""Sequential regression models (Baker et al., Sec. 3.1 and 4; Appendices B and E).

One regressor per number of observed points τ, each trained on fully observed curves to
predict the final value y_T from the features of the first τ points (plus architecture and
hyperparameter features). Hyperparameters are chosen by random search with 3-fold
cross-validation; the paper searches 1,000 configurations, `n_search` sets the count. The
uncertainty σ(τ) is the standard deviation of leave-one-out residuals (the Gaussian error
assumption of Sec. 4 and Appendix E); Bayesian linear regression uses its own predictive σ.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import KFold, LeaveOneOut, RandomizedSearchCV, cross_val_predict

from srm_earlystop import regressors
from srm_earlystop.features import FEATURE_SETS, check_curves, feature_matrix


class SRM:
    """Sequential regression models for one regressor family.

    Args:
        regressor: a key of `regressors.REGRESSORS`.
        n_search: random-search configurations per τ (paper: 1,000).
        feature_sets: any of TS, AP, HP (TS is dropped at τ = 0).
        cv_folds: folds of the search (paper: 3).
        seed: seeds the search and its folds.
        sigma_folds: None for leave-one-out residuals (the paper), or a number of folds, which
            is much cheaper for random forests of hundreds of trees.
    """

    def __init__(
        self,
        regressor="nu_svr_rbf",
        n_search=100,
        feature_sets=FEATURE_SETS,
        cv_folds=3,
        seed=0,
        sigma_folds=None,
    ):
        regressors.make(regressor)  # validate the name now
        self.regressor, self.n_search, self.cv_folds, self.seed = (
            regressor,
            n_search,
            cv_folds,
            seed,
        )
        self.feature_sets, self.sigma_folds = tuple(feature_sets), sigma_folds
        self.models, self.sigmas, self.residuals, self.categories = {}, {}, {}, None

    def _sets(self, tau: int) -> tuple[str, ...]:
        sets = tuple(s for s in self.feature_sets if tau > 0 or s != "TS")
        if not sets:
            raise ValueError("at τ = 0 there is no curve: add AP or HP features")
        return sets

    def _search(self, x: np.ndarray, y: np.ndarray):
        pipe, space = regressors.make(self.regressor)
        if not space:
            return pipe.fit(x, y)
        search = RandomizedSearchCV(
            pipe,
            space,
            n_iter=self.n_search,
            scoring="neg_mean_squared_error",
            cv=KFold(self.cv_folds, shuffle=True, random_state=self.seed),
            random_state=self.seed,
            n_jobs=1,
            error_score=np.nan,
        )
        return search.fit(x, y).best_estimator_

    def fit(self, curves, table, target, taus, with_sigma: bool = True) -> SRM:
        """Train one model per τ in `taus` on fully observed curves.

        Args:
            curves: [n, T] validation curves of fully trained networks.
            table: their zoo table rows (AP and HP columns).
            target: [n] the value to predict (y_T or another final target).
            taus: numbers of observed points to train for (each < T, >= 0).
            with_sigma: also estimate σ(τ) (refits the model n times for leave-one-out);
                off where only the mean prediction is used.
        """
        y_all, target = check_curves(curves), np.asarray(target, dtype=float)
        if len(y_all) < max(self.cv_folds, 2) + 1:
            raise ValueError(
                f"{len(y_all)} training curves: need more than the {self.cv_folds} folds"
            )
        if target.shape != (len(y_all),) or not np.isfinite(target).all():
            raise ValueError("target must be one finite value per training curve")
        for tau in taus:
            if not 0 <= tau <= y_all.shape[1]:
                raise ValueError(f"τ = {tau} outside the observed 0..{y_all.shape[1]} points")
            x, self.categories = feature_matrix(y_all[:, :tau], table, self._sets(tau))
            self.models[tau] = self._search(x, target)
            if with_sigma and self.regressor != "blr":
                cv = (
                    LeaveOneOut()
                    if self.sigma_folds is None
                    else KFold(self.sigma_folds, shuffle=True, random_state=self.seed)
                )
                predicted = cross_val_predict(clone(self.models[tau]), x, target, cv=cv)
                self.residuals[tau] = target - predicted  # Appendix E's error sample
                self.sigmas[tau] = float(np.std(self.residuals[tau]))
        return self

    def predict(self, curves, table, tau: int) -> tuple[np.ndarray, np.ndarray]:
        """(ŷ_T, σ) for networks observed for their first `tau` points."""
        if tau not in self.models:
            raise ValueError(f"no model for τ = {tau}; trained for {sorted(self.models)}")
        y = check_curves(curves)[:, :tau] if tau else np.zeros((len(table), 0))
        x, _ = feature_matrix(y, table, self._sets(tau), self.categories)
        model = self.models[tau]
        if self.regressor == "blr":
            scaled = model[:-1].transform(x)
            mean, std = model[-1].predict(scaled, return_std=True)
            return mean, std
        return model.predict(x), np.full(len(x), self.sigmas.get(tau, np.nan))
