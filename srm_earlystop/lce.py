"""Learning-curve extrapolation in the manner of Domhan et al. (2015), without MCMC.

Domhan et al. combine eleven parametric curve families and sample their weights and
parameters by MCMC. Here each family is fitted to the observed points by least squares
(`scipy.optimize.curve_fit`), the families that fit are combined with non-negative weights
fitted by least squares on the observed points (`scipy.optimize.nnls`, normalised to sum to
one), and the combination is read at the final epoch. It is labelled "LCE (least squares,
no MCMC)" wherever it is reported. Baker et al. use LCE as a baseline (Sec. 4.1, Fig. 3).
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit, nnls

from common.compare import Predictor, Requirements
from common.zoo import Zoo

LABEL = "LCE (least squares, no MCMC)"

# name -> (function of x and parameters, initial parameters); Domhan et al., Table 1
FAMILIES = {
    "vap": (lambda x, a, b, c: np.exp(a + b / x + c * np.log(x)), (-0.6, -0.5, 0.01)),
    "pow3": (lambda x, c, a, alpha: c - a * x ** (-alpha), (0.8, 0.5, 0.5)),
    "loglog_linear": (lambda x, a, b: np.log(a * np.log(x) + b), (0.5, 1.5)),
    "hill3": (lambda x, ymax, eta, kappa: ymax * x**eta / (kappa**eta + x**eta), (0.8, 1.0, 1.0)),
    "log_power": (lambda x, a, b, c: a / (1 + (x / np.exp(b)) ** c), (0.8, 1.0, -1.0)),
    "pow4": (lambda x, c, a, b, alpha: c - (a * x + b) ** (-alpha), (0.8, 1.0, 1.0, 0.5)),
    "mmf": (
        lambda x, alpha, beta, kappa, delta: alpha - (alpha - beta) / (1 + (kappa * x) ** delta),
        (0.8, 0.1, 1.0, 1.0),
    ),
    "exp3": (lambda x, c, a, b: c - np.exp(-a * x + b), (0.8, 0.5, 0.0)),
    "exp4": (lambda x, c, a, b, alpha: c - np.exp(-a * x**alpha + b), (0.8, 0.5, 0.0, 1.0)),
    "janoschek": (
        lambda x, alpha, beta, kappa, delta: alpha - (alpha - beta) * np.exp(-kappa * x**delta),
        (0.8, 0.1, 0.5, 1.0),
    ),
    "weibull": (
        lambda x, alpha, beta, kappa, delta: (
            alpha - (alpha - beta) * np.exp(-((kappa * x) ** delta))
        ),
        (0.8, 0.1, 0.5, 1.0),
    ),
    "ilog2": (lambda x, c, a: c - a / np.log(x + 1), (0.8, 0.5)),
}


def _fit_family(f, p0, x, y):
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", OptimizeWarning)
            params, _ = curve_fit(f, x, y, p0=p0, maxfev=2000)
    except (RuntimeError, ValueError, TypeError):
        return None
    with np.errstate(all="ignore"):
        fitted = f(x, *params)
    return params if np.isfinite(params).all() and np.isfinite(fitted).all() else None


def extrapolate(epochs, values, target_epoch: float) -> float:
    """The least-squares LCE combination's value at `target_epoch` (NaN if nothing fits).

    Needs at least 3 observed points; the value is clipped to [0, 1].
    """
    x, y = np.asarray(epochs, dtype=float), np.asarray(values, dtype=float)
    ok = np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 3:
        return float("nan")
    columns, finals = [], []
    for f, p0 in FAMILIES.values():
        params = _fit_family(f, p0, x, y)
        if params is None:
            continue
        with np.errstate(all="ignore"):
            final = f(np.array([float(target_epoch)]), *params)[0]
        if np.isfinite(final):
            columns.append(f(x, *params))
            finals.append(final)
    if not columns:
        return float("nan")
    weights, _ = nnls(np.column_stack(columns), y)
    if weights.sum() <= 0:
        weights = np.ones(len(columns))
    return float(np.clip(np.dot(weights / weights.sum(), finals), 0.0, 1.0))


class LCEPredictor(Predictor):
    """Each network's visible curve extrapolated to the zoo's final epoch."""

    requires = Requirements(curve=True, min_evals=3)
    query_cost = 0.75  # a curve fit per network and budget (`common.compare._cost`)

    @property
    def name(self) -> str:
        """The baseline's label."""
        return LABEL

    def fit(self, zoo: Zoo, budget: float) -> LCEPredictor:
        """Nothing to learn: each curve is extrapolated on its own."""
        self.budget_ = budget
        return self

    def predict(self, zoo: Zoo, budget: float) -> np.ndarray:
        """Each visible curve extrapolated to the zoo's final epoch."""
        curves = zoo.curve("val_acc")
        return np.array([extrapolate(zoo.eval_epochs, c, zoo.spec.epochs) for c in curves])
