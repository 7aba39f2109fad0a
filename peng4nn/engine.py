"""The PEng4NN engine: follows one network, decoupled from any search method (Sec. III).

`Engine.observe(epoch, val_acc, val_loss)` appends an observation (accuracy in percent),
refits the curve (Algorithm 1) and asks the analyzer (Algorithm 2) whether to stop. `run`
drives a training callable one iteration (E = 0.5 epoch) at a time; `replay` runs the same
logic over a recorded curve; `train_live` trains a real network with `common.train.Run` and
stops it when the engine says so. The zoo stores accuracies as fractions: `to_percent` and
`to_fraction` are the one place where they are converted.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from peng4nn import curve
from peng4nn.analyzer import TABLE_II, AnalyzerSettings, Decision, analyze

UNITS = ("percent", "fraction")


def to_percent(fraction) -> np.ndarray:
    """Zoo accuracies (fractions in [0, 1]) as the engine's percentages."""
    values = np.asarray(fraction, dtype=float)
    finite = values[np.isfinite(values)]
    if len(finite) and (finite.min() < 0 or finite.max() > 1):
        raise ValueError(
            f"expected accuracies as fractions in [0, 1], got range [{finite.min()},"
            f" {finite.max()}] (already percent?)"
        )
    return values * 100.0


def to_fraction(percent) -> np.ndarray:
    """The engine's percentages back in the zoo's unit (fractions)."""
    return np.asarray(percent, dtype=float) / 100.0


class Engine:
    """Follows one network: its history H and the latest decision."""

    def __init__(self, settings: AnalyzerSettings = TABLE_II, unit: str = "percent"):
        """`unit`: how `observe` receives accuracies: ``percent`` (the paper's) or
        ``fraction``; values outside the unit's range are refused, and percent values that
        all look like fractions after a whole epoch draw a warning."""
        if unit not in UNITS:
            raise ValueError(f"unit={unit!r}: expected one of {UNITS}")
        self.settings, self.unit = settings, unit
        self.epochs: list[float] = []
        self.val_acc: list[float] = []
        self.val_loss: list[float] = []
        self.predictions: list[float] = []  # a_P per observation, NaN where the fit failed
        self.fits: list[curve.CurveFit | None] = []
        self.decision: Decision | None = None
        self._warned = False

    def observe(self, epoch: float, val_acc: float, val_loss: float | None = None) -> Decision:
        """Record one validation (accuracy in the engine's unit) and decide (Algorithms 1
        and 2). Decisions and estimates are in percent. `val_loss` is needed only where the
        settings use it (LOSS on, condition 3).

        >>> engine = Engine(unit="fraction")  # your own loop: one report per half epoch
        >>> for epoch in (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0):
        ...     if engine.observe(epoch, 0.9 - 0.5 * 0.3**epoch).stop:
        ...         break
        >>> engine.decision.epoch, round(engine.ceiling(), 3), round(engine.expected_at(4.0), 3)
        (2.5, 0.9, 0.896)
        """
        if self.decision is not None and self.decision.stop:
            raise RuntimeError(f"the engine already stopped at epoch {self.decision.epoch}")
        if val_loss is None:
            if self.settings.loss_check:
                raise ValueError(
                    f"epoch {epoch}: these settings check the validation loss (LOSS on):"
                    " pass val_loss"
                )
            val_loss = 0.0  # unused with LOSS off
        if not np.isfinite(val_loss):
            raise ValueError(f"validation loss at epoch {epoch} is not finite ({val_loss})")
        val_acc = self._percent(val_acc, epoch)
        epochs, acc = curve.check_history([*self.epochs, epoch], [*self.val_acc, val_acc])
        self.epochs.append(float(epoch))
        self.val_acc.append(float(val_acc))
        self.val_loss.append(float(val_loss))
        fitted = curve.fit(epochs, acc)
        self.fits.append(fitted)
        usable = fitted is not None and fitted.describes_curve
        self.predictions.append(fitted.a if usable else np.nan)
        decision = analyze(
            epochs, acc, np.array(self.val_loss), np.array(self.predictions), self.settings
        )
        if fitted is not None and not usable and not decision.stop:
            decision = replace(decision, estimate=float(acc[-1]), described=False)
        self.decision = decision
        return self.decision

    def _unit(self, percent: float) -> float:
        return percent / 100.0 if self.unit == "fraction" else percent

    def ceiling(self) -> float:
        """The current estimate of the accuracy the network will end with (the decision's
        estimate: the fitted asymptote a_P once it is stable), in the engine's unit."""
        if self.decision is None:
            raise ValueError("no observation yet: call observe first")
        return self._unit(self.decision.estimate)

    def expected_at(self, epoch: float) -> float:
        """The accuracy the latest fit expects after `epoch` epochs of training (the user's
        budget), in the engine's unit, bounded to the feasible range; the last observed
        value when no fit describes the curve (`curve.CurveFit.describes_curve`)."""
        if not self.val_acc:
            raise ValueError("no observation yet: call observe first")
        if not epoch >= self.epochs[-1]:
            raise ValueError(f"epoch={epoch!r}: expected an epoch at or after the last observed")
        fitted = self.fits[-1]
        if fitted is None or not fitted.describes_curve:
            return self._unit(self.val_acc[-1])
        x = curve.rescale(np.array([self.epochs[0], epoch]))[1]  # the fit's x (first: 1)
        return self._unit(float(np.clip(fitted(x), 0.0, 100.0)))

    def _percent(self, value: float, epoch: float) -> float:
        if self.unit == "fraction":
            if not 0 <= value <= 1:
                raise ValueError(f"accuracy {value} at epoch {epoch}: expected a fraction (0..1)")
            return 100.0 * value
        if not 0 <= value <= 100:
            raise ValueError(f"accuracy {value} at epoch {epoch}: expected percent in [0, 100]")
        if epoch >= 1 and max([*self.val_acc, value]) <= 1 and not self._warned:
            self._warned = True
            warnings.warn(
                "every accuracy so far is at most 1 %: fractions given as percent? "
                "Use Engine(unit='fraction')",
                stacklevel=3,
            )
        return float(value)

    def run(self, step: Callable[[], tuple[float, float, float] | None]) -> Decision | None:
        """Call `step()` (train E more epochs, return (epoch, val_acc %, val_loss), or None when
        training can go no further) until the decision says stop; the last decision."""
        while self.decision is None or not self.decision.stop:
            observation = step()
            if observation is None:
                break
            self.observe(*observation)
        return self.decision


def replay(epochs, val_acc, val_loss, settings: AnalyzerSettings = TABLE_II) -> Engine:
    """Run the engine over a recorded curve (percent) until it stops or the curve ends."""
    engine = Engine(settings)
    observations = iter(zip(epochs, val_acc, val_loss, strict=True))
    engine.run(lambda: next(observations, None))
    return engine


@dataclass
class LiveResult:
    """A real training run stopped by the engine."""

    engine: Engine
    epochs_trained: float
    wall_time: float  # seconds, training and engine together
    test_acc: float  # of the network as it was when training stopped (fraction)


def train_live(arch, recipe, splits, settings: AnalyzerSettings = TABLE_II, **kw):
    """Train `arch` with `common.train.Run`, validating every E epochs, until the engine stops.

    Keyword arguments go to `common.train.Run` (seed, device, ...). The recipe's epochs are
    set to e_max. Returns a `LiveResult`.
    """
    from common.train import Run  # torch: imported only when training live

    start = time.perf_counter()
    recipe = replace(recipe, epochs=settings.max_epochs)
    run = Run(arch, recipe, splits, eval_every=settings.epochs_per_iteration, **kw)
    evaluations = iter(run)

    def step():
        e = next(evaluations, None)
        return None if e is None else (e.epoch, float(to_percent(e.val_acc)), e.val_loss)

    engine = Engine(settings)
    engine.run(step)
    result = run.result()
    trained = float(result.eval_epochs[-1]) if len(result.eval_epochs) else 0.0
    return LiveResult(engine, trained, time.perf_counter() - start, result.test_acc)
