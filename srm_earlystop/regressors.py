"""The SRM regressors and their random-search spaces (Baker et al., Appendix B).

Each entry builds a scikit-learn pipeline (standardised features, then the regressor) and
the distributions searched with 3-fold cross-validation: ν-SVR with C ~ LogU(1e-5, 10),
ν ~ U(0, 1), γ ~ LogU(1e-5, 10) for the RBF kernel; random forests with 10–800 trees and
max-features 0.1–0.5; Bayesian linear regression with its gamma priors over noise and
weights in [1e-7, 1e-5]. OLS with an RBF kernel is kernel ridge regression with a vanishing
ridge (the paper gives no range: we search γ as for ν-SVR and α ~ LogU(1e-8, 1e-3)).
"""

from __future__ import annotations

from collections.abc import Callable

from scipy.stats import loguniform, randint, uniform
from sklearn.ensemble import RandomForestRegressor
from sklearn.kernel_ridge import KernelRidge
from sklearn.linear_model import BayesianRidge, LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import NuSVR

GAMMA_PRIOR = loguniform(1e-7, 1e-5)  # Appendix B, BLR
SVR_SPACE = {"C": loguniform(1e-5, 10), "nu": uniform(1e-3, 1 - 1e-3)}  # ν in (0, 1]
GAMMA = loguniform(1e-5, 10)


def _pipe(model):
    return make_pipeline(StandardScaler(), model)


def _prefixed(space: dict) -> dict:
    return {f"model__{k}": v for k, v in space.items()}


# name -> (factory of an unfitted pipeline, search space over its parameters)
REGRESSORS: dict[str, tuple[Callable, dict]] = {
    "nu_svr_linear": (lambda: _pipe(NuSVR(kernel="linear")), SVR_SPACE),
    "nu_svr_rbf": (lambda: _pipe(NuSVR(kernel="rbf")), SVR_SPACE | {"gamma": GAMMA}),
    "ols_linear": (lambda: _pipe(LinearRegression()), {}),
    "ols_rbf": (
        lambda: _pipe(KernelRidge(kernel="rbf")),
        {"gamma": GAMMA, "alpha": loguniform(1e-8, 1e-3)},
    ),
    "blr": (
        lambda: _pipe(BayesianRidge()),
        {
            "alpha_1": GAMMA_PRIOR,
            "alpha_2": GAMMA_PRIOR,
            "lambda_1": GAMMA_PRIOR,
            "lambda_2": GAMMA_PRIOR,
        },
    ),
    "random_forest": (
        lambda: _pipe(RandomForestRegressor(n_jobs=1)),
        {"n_estimators": randint(10, 801), "max_features": uniform(0.1, 0.4)},
    ),
}


def make(name: str):
    """(pipeline, search space with ``model__`` prefixes) of regressor `name`."""
    if name not in REGRESSORS:
        raise ValueError(f"unknown regressor {name!r}; expected one of {sorted(REGRESSORS)}")
    factory, space = REGRESSORS[name]
    pipe = factory()
    pipe.steps[-1] = ("model", pipe.steps[-1][1])
    return pipe, _prefixed(space)
