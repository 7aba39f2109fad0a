"""PEng4NN's core accuracy predictive function (Sec. III-B, Algorithm 1).

f(x) = a − b^(c − x) is fitted with `scipy.optimize.curve_fit` to the validation accuracy
history (in percent), epochs rescaled so that the first observation is x = 1. The bounds and
initial values are the paper's (Sec. III-B-2): 0.5 ≤ a ≤ 102.5 (init 10), 1 ≤ b < ∞ (init
1.001), 0 ≤ c < ∞ (init 100). The maximum accuracy prediction a_P is the fitted a. A fit that
does not converge or yields non-finite values is reported as no prediction (None).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

A_BOUNDS = (0.5, 102.5)  # Sec. III-B-2: a slightly above 100 flags unreasonable growth
B_BOUNDS = (1.0, np.inf)  # b < 1 would decrease to -inf
C_BOUNDS = (0.0, np.inf)  # left shifts are not needed once x starts at 1
INITIAL = (10.0, 1.001, 100.0)  # (a, b, c) initial values, Sec. III-B-2
C_MIN = 3  # minimum number of points to fit (Algorithm 1, line 4)
# Departure (issue 17): a fit that does not describe the curve is not used as a prediction:
# one worse than the curve's mean (R² < 0), or one that misses the last observation by more
# than LAST_TOLERANCE points (a falling curve, which a − b^(c − x) with b ≥ 1 cannot follow:
# its best fit is flat at the mean, "predicting" 51 for a curve falling from 90 to 10).
LAST_TOLERANCE = 5.0


def f(x, a, b, c):
    """The predictive function a − b^(c − x)."""
    return a - np.power(b, c - x)


def jacobian(x, a, b, c):
    """∂f/∂(a, b, c): analytic derivatives spare curve_fit its finite differences."""
    power = np.power(b, c - x)
    return np.column_stack([np.ones_like(x), -(c - x) * power / b, -np.log(b) * power])


@dataclass(frozen=True)
class CurveFit:
    """Fitted parameters; a is the maximum accuracy prediction a_P (percent)."""

    a: float
    b: float
    c: float
    r2: float = 1.0  # of the fit on the history it was fitted to (1 for a constant history)
    last_error: float = 0.0  # |fitted − observed| at the last observation, points

    @property
    def describes_curve(self) -> bool:
        """Whether the fit is usable as a prediction (see `LAST_TOLERANCE`)."""
        return self.r2 >= -1e-6 and self.last_error <= LAST_TOLERANCE  # R² 0: flat at the mean

    def __call__(self, x):
        """The fitted curve at `x`."""
        return f(np.asarray(x, dtype=float), self.a, self.b, self.c)


def check_history(epochs, val_acc) -> tuple[np.ndarray, np.ndarray]:
    """Validate an accuracy history in percent; ValueError saying what is wrong."""
    e, acc = np.asarray(epochs, dtype=float), np.asarray(val_acc, dtype=float)
    if e.ndim != 1 or e.shape != acc.shape:
        raise ValueError(f"epochs {e.shape} and accuracies {acc.shape} must be equal-length 1-d")
    if len(e) == 0:
        raise ValueError("empty history: at least one (epoch, accuracy) observation is needed")
    if not (np.isfinite(e).all() and np.isfinite(acc).all()):
        raise ValueError("history contains NaN or infinite epochs or accuracies")
    if e[0] <= 0 or np.any(np.diff(e) <= 0):
        raise ValueError(f"epochs must be positive and strictly increasing, got {e.tolist()}")
    if acc.min() < 0 or acc.max() > 100:
        raise ValueError(
            f"accuracies must be percentages in [0, 100], got range [{acc.min()}, {acc.max()}]"
        )
    return e, acc


def rescale(epochs: np.ndarray) -> np.ndarray:
    """Epochs rescaled so the first observation is x = 1 (validated every 0.5 epoch: ×2)."""
    return epochs / epochs[0]


def fit(epochs, val_acc, *, max_evaluations: int | None = None) -> CurveFit | None:
    """Fit f to an accuracy history (percent). None when there are fewer than C_MIN points
    or the fit fails (no convergence, non-finite parameters): "no prediction this iteration".

    `max_evaluations` caps function evaluations; None keeps SciPy's default for bounded fits
    (100 per parameter), as the paper used `curve_fit` without further options.
    """
    e, acc = check_history(epochs, val_acc)
    if len(e) < C_MIN:
        return None
    lower, upper = zip(A_BOUNDS, B_BOUNDS, C_BOUNDS, strict=True)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", OptimizeWarning)
            params, _ = curve_fit(
                f,
                rescale(e),
                acc,
                p0=INITIAL,
                bounds=(lower, upper),
                jac=jacobian,
                max_nfev=max_evaluations,
            )
    except (RuntimeError, ValueError):  # no convergence, or non-finite residuals
        return None
    if not np.isfinite(params).all():
        return None
    fitted = f(rescale(e), *params)
    ss_tot, sse = float(np.sum((acc - acc.mean()) ** 2)), float(np.sum((acc - fitted) ** 2))
    tiny = 1e-9 * len(acc)  # a constant history, up to rounding: any near-exact fit is R² 1
    r2 = 1.0 - sse / ss_tot if ss_tot > tiny else (1.0 if sse <= 1e3 * tiny else -np.inf)
    return CurveFit(*map(float, params), r2=r2, last_error=float(abs(fitted[-1] - acc[-1])))
